"""The YAML reader: values as ruamel's safe loader reads them, positions as its round-trip loader marks them,
refusals as located one-line errors, and no models imported."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from reconciler.config import reader
from tests.factories import FIXTURES, REPO_ROOT

EXAMPLE = REPO_ROOT / "senders.yaml.example"
READER_MODULES = [REPO_ROOT / "reconciler" / "config" / name for name in ("reader.py", "events.py")]


@pytest.mark.parametrize(
    "scalar",
    ["1", "-1", "+1", "010", "0o17", "0x1F", "1_000", "1.5", "1e3", ".inf", "-.inf", ".nan", "true", "False", "~",
     "null", "", "yes", "no", "on", "2020-01-02", "2020-01-02T03:04:05Z", "12:30", "0b101", "=", "<<x", "a: b"],
)
def test_fast_parser_reads_scalars_as_ruamel_does(scalar: str) -> None:
    text = f"- {scalar}\n- '{scalar}'\n" if scalar != "a: b" else "- {a: b}\n"
    try:
        slow = YAML(typ="safe", pure=True).load(text)
    except Exception:
        # The builder refuses the value itself (not libyaml the text): what ruamel's constructor cannot read.
        with pytest.raises(reader.InputError, match=r"^cannot read the value "):
            reader.parse(text, fast=True)
        return
    document = reader.parse(text, fast=True)
    assert document.fast
    fast = document.data
    if slow[0] != slow[0]:  # nan
        assert fast[0] != fast[0]
    else:
        assert fast == slow and [type(v) for v in fast] == [type(v) for v in slow]


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@pytest.mark.parametrize(
    "text",
    [
        (FIXTURES / "config" / "split" / "10-stores.yaml").read_text(encoding="utf-8"),
        EXAMPLE.read_text(encoding="utf-8").replace("[https://northsidecycles.example.net]", "['https://x.example']"),
        "a: {b: [1, {c: ~}], d: ''}\ne:\n  - f:\n    g: |\n      text\n  - - 1\n    - x: 'y'\nh: &h {i: 1}\nm: null\nn:\n"
        "? o\n: p\n'q': \"r\"\n1: 2\n",
    ],
)
def test_positions_from_events_match_the_round_trip_loader(text: str) -> None:
    """Errors are placed from parser events; both parsers must agree with ruamel's round-trip marks."""
    data = reader.parse(text, fast=True).data
    tree = YAML().load(text)
    for fast in (True, False):
        positions = reader.positions(text, fast=fast)
        assert positions is not None
        for path in [*_paths(data), ("nowhere",), ("a", "b", 5, "x")]:
            for key in (False, True):
                got = reader.locate(positions, path, key)
                assert got == _round_trip_location(tree, path, key), (fast, path, key)


def _round_trip_location(tree: object, path: tuple, key: bool) -> tuple[int, int]:
    """Where ruamel's round-trip loader puts ``path`` (nearest ancestor; an empty value at its key)."""
    node = tree
    line, column = tree.lc.line + 1, tree.lc.col + 1
    for depth, step in enumerate(path):
        last = depth == len(path) - 1
        if isinstance(node, dict) and step in node:
            pos = node.lc.key(step) if (key and last) or node[step] is None else node.lc.value(step)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            pos = node.lc.item(step)
        else:
            break
        node = node[step]
        line, column = pos[0] + 1, pos[1] + 1
    return line, column


# --------------------------------------------------------------------------- the public API


def test_parse_uses_the_c_parser_and_falls_back_to_the_pure_one() -> None:
    assert reader.parse("ignore: [whatsapp:+15017122669]\n") == ({"ignore": ["whatsapp:+15017122669"]}, False)
    assert reader.parse("ignore: ['whatsapp:+15017122669']\n") == ({"ignore": ["whatsapp:+15017122669"]}, True)


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("a: 1\nb: [\n", "invalid YAML: expected the node content, but found '<stream end>'", 3, 1),
        ("x: [a:b]\na: 1\na: 2\n", "duplicate key 'a' (first at line 2)", 3, 1),
        ("a: 1\nb: !!binary aGk=\n", "tag '!!binary' is not allowed: only plain YAML values are read", 2, 4),
    ],
    ids=["invalid", "pure parser", "C parser"],
)
def test_parse_refuses_with_a_located_one_line_error(text: str, message: str, line: int, column: int) -> None:
    with pytest.raises(reader.InputError) as info:
        reader.parse(text)
    assert (info.value.message, info.value.line, info.value.column) == (message, line, column)


def test_aliases_are_shared_objects_and_bombs_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "a: &a [1, 2]\nb: [*a, *a]\n"
    data = reader.parse(text).data
    assert data == {"a": [1, 2], "b": [[1, 2], [1, 2]]} and data["b"][0] is data["a"]
    reader.check_aliases(data, text)  # 1 + 2 + ... values: well under the limit
    monkeypatch.setattr(reader, "MAX_EXPANDED_VALUES", 10)
    with pytest.raises(reader.InputError) as info:
        reader.check_aliases(data, text)
    assert (info.value.message, info.value.line, info.value.column) == (
        "aliases expand to more than 10 values; refusing a possible alias bomb", 2, 5)


def test_read_text_refuses_what_is_not_yaml_text(tmp_path: Path) -> None:
    path = tmp_path / "senders.yaml"
    path.write_bytes(b"\xef\xbb\xbfsenders: []\n")
    assert reader.read_text(path) == "senders: []\n"
    path.write_bytes(b"senders:\n  x: \x00\n")
    with pytest.raises(reader.InputError) as info:
        reader.read_text(path)
    assert (info.value.message, info.value.line, info.value.column) == (
        "this is a binary file (it holds NUL bytes), not YAML", 2, 6)
    with pytest.raises(reader.InputError, match=r"^cannot read the file: "):
        reader.read_text(tmp_path / "absent.yaml")


def test_read_text_of_none_reads_stdin_with_the_same_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbfsenders: []\n")))
    assert reader.read_text(None) == "senders: []\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"senders:\n  x: \xff\n")))
    with pytest.raises(reader.InputError) as info:
        reader.read_text(None)
    assert (info.value.message, info.value.line, info.value.column) == (
        "the file is not UTF-8 (byte 0xff at offset 14)", 2, 6)


def test_read_text_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    # A FIFO is tried through the real CLI (tests/integration/test_validate_cli.py), where blocking ends in a timeout.
    with pytest.raises(reader.InputError) as info:
        reader.read_text(tmp_path)
    assert info.value.message.startswith("a directory, not a regular file: only regular files are read")
    if Path("/dev/null").exists():
        with pytest.raises(reader.InputError, match=r"^a character device, not a regular file: "):
            reader.read_text(Path("/dev/null"))


def test_locate_falls_back_to_the_nearest_ancestor() -> None:
    text = "senders:\n  - sender_id: x\n    profile: {}\n"
    marks = reader.positions(text)
    assert marks is not None
    assert reader.locate(marks, ("senders", 0, "profile"), key=True) == (3, 5)
    assert reader.locate(marks, ("senders", 0, "profile")) == (3, 14)
    assert reader.locate(marks, ("senders", 0, "profile", "name")) == (3, 14)
    assert reader.locate(marks, ("senders", 7)) == (2, 3)
    assert reader.positions("a: [\n") is None


@pytest.mark.parametrize("module", READER_MODULES, ids=lambda p: p.name)
def test_the_reader_imports_no_models(module: Path) -> None:
    """Only the standard library, ruamel.yaml, the reader's own parts and the file reader of ``fs``: what values
    mean is the loader's."""
    ours = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            ours.add(node.module)
        elif isinstance(node, ast.Import):
            ours.update(alias.name for alias in node.names)
    outside = {name for name in ours if name.startswith(("reconciler", "pydantic"))}
    assert outside <= {"reconciler.errors", "reconciler.config.events", "reconciler.fs"}, outside
