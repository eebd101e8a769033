"""The YAML reader: values as ruamel's safe loader reads them, positions as its round-trip loader marks them."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from reconciler.config import reader

from .conftest import FIXTURES, REPO_ROOT

EXAMPLE = REPO_ROOT / "senders.yaml.example"


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
