"""YAML files → plain values, and where each node of the text stands; hostile input refused.

    text = read_text(path)                      # InputError: too big, binary, not UTF-8, empty
    document = parse(text)                      # InputError: invalid YAML, tags, duplicate keys, nesting
    check_aliases(document.data, text)          # InputError: aliases that expand too far
    marks = positions(text, fast=document.fast)
    line, column = locate(marks, ("senders", 0, "profile"))

Values are built straight from parser events, as ruamel's safe loader reads them under YAML 1.2: from
the C parser (libyaml, through ruamel.yaml.clib) when it can read the text, else from ruamel's
pure-Python parser. Positions come from the same parser's events, read again only when a message
needs one. Every refusal is an :class:`InputError`: one line, at its line and column when known.
What the values mean is not known here: this module imports no models.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from reconciler.config.events import HAS_C_PARSER, DataPath, InputError, Position, build, event_source, positions, short
from reconciler.fs import FileTooLarge, NotRegularFile, read_regular, read_stdin

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPANDED_VALUES",
    "MAX_FILE_BYTES",
    "DataPath",
    "Document",
    "InputError",
    "Position",
    "check_aliases",
    "decode",
    "first_content",
    "locate",
    "parse",
    "positions",
    "read_text",
    "short",
]

#: Files larger than this are refused before parsing (10,000 senders take about 4 MB).
MAX_FILE_BYTES = 32 * 1024 * 1024
#: At most this many values once aliases are expanded; more is an alias bomb ("billion laughs").
MAX_EXPANDED_VALUES = 5_000_000
#: Deeper nesting than this is refused: the file needs six levels.
MAX_DEPTH = 64


class Document(NamedTuple):
    data: Any
    #: True when the C parser read the text: :func:`positions` can then read it again cheaply.
    fast: bool


# --------------------------------------------------------------------------- bytes → text


def read_text(path: Path | None) -> str:
    """The file's text (``None``: standard input's), refused when it is not a regular file, too large, binary,
    not UTF-8 or empty.

    A FIFO, a device or a socket is refused without waiting on it (it is opened without blocking); standard
    input is read to its end, whatever it is.
    """
    too_big = f"at most {MAX_FILE_BYTES:,} bytes ({MAX_FILE_BYTES / 2**20:g} MiB) are read"
    try:
        if path is None:
            raw = read_stdin(limit=MAX_FILE_BYTES)
        else:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES and path.is_file():
                raise InputError(f"the file is {size:,} bytes; {too_big}")
            raw = read_regular(path, limit=MAX_FILE_BYTES)  # bounded even for a growing file
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}") from None
    except FileTooLarge:
        raise InputError(f"the file is larger than {MAX_FILE_BYTES:,} bytes; {too_big}") from None
    except NotRegularFile as exc:
        raise InputError(f"{exc}: only regular files are read (a FIFO or a device could block or never end)") from None
    return decode(raw)


def decode(raw: bytes) -> str:
    """A file's bytes as text, refused when binary, not UTF-8 or empty (a byte-order mark is dropped)."""
    if b"\0" in raw:
        raise InputError("this is a binary file (it holds NUL bytes), not YAML", *_byte_position(raw, raw.index(b"\0")))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        raise InputError(message, *_byte_position(raw, exc.start)) from None
    if not text.strip():
        raise InputError("the file is empty; expected a mapping with 'senders:'", 1, 1)
    return text


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, len(raw[line_start:offset].decode("utf-8", "replace")) + 1


def first_content(text: str) -> tuple[int, int]:
    """Line and column of the first thing in the file that is not blank or a comment."""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if stripped and not stripped.startswith("#"):
            return number, len(line) - len(stripped) + 1
    return 1, 1


# --------------------------------------------------------------------------- text → values


def parse(text: str, *, fast: bool | None = None) -> Document:
    """Plain values (dicts, lists, scalars) with safe loading only: no tags that build objects.

    ``fast=None`` reads with the C parser when it can. libyaml is stricter than ruamel's own YAML 1.2
    parser in a few places (``[whatsapp:+15017122661]``: a ``:`` inside a plain scalar in flow style),
    so when it rejects the text, ruamel's pure-Python parser (several times slower) decides and its
    verdict is the one reported. ``fast=True`` or ``False``: that parser only.
    """
    if fast is None:
        if HAS_C_PARSER:
            try:
                return Document(_values(text, fast=True), True)
            except InputError:
                raise
            except Exception:  # retried below; the pure parser's verdict is the one reported
                pass
        fast = False
    try:
        return Document(_values(text, fast=fast), fast)
    except InputError:
        raise
    except Exception as exc:  # the parser is foreign code: no input may crash the tool
        raise _refusal(exc, text) from None


def _values(text: str, *, fast: bool) -> Any:
    return build(event_source(text, fast=fast), max_depth=MAX_DEPTH, max_values=MAX_EXPANDED_VALUES)


def _refusal(exc: Exception, text: str) -> InputError:
    """A parser's exception as one line, at its place."""
    if isinstance(exc, MarkedYAMLError):
        return InputError.at(_yaml_message(exc), exc.problem_mark or exc.context_mark)
    if isinstance(exc, ReaderError):  # a character YAML does not allow; it carries an offset, not a mark
        position = exc.position if isinstance(exc.position, int) else 0
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        return InputError(f"invalid YAML: the character U+{char:04X} is not allowed in YAML", line, column)
    if isinstance(exc, YAMLError):
        return InputError(f"invalid YAML: {_first_line(str(exc))}", 1, 1)
    if isinstance(exc, RecursionError):
        return InputError(f"the file is nested more than {MAX_DEPTH} levels deep", 1, 1)
    return InputError(f"cannot parse the file: {_first_line(str(exc)) or type(exc).__name__}", 1, 1)


def _yaml_message(exc: MarkedYAMLError) -> str:
    problem = _first_line(exc.problem or str(exc))
    tag = re.search(r"constructor for the tag '([^']*)'", problem)
    if tag:
        shown = tag.group(1).replace("tag:yaml.org,2002:", "!!")
        return f"tag {shown!r} is not allowed: only standard YAML types (no tags) are read"
    dup = re.match(r'found duplicate key "(.*)" with value', problem)
    if dup:
        where = f" (first at line {exc.context_mark.line + 1})" if exc.context_mark is not None else ""
        return f"duplicate key {dup.group(1)!r}{where}"
    context = f" {exc.context}" if exc.context and not exc.context.startswith("while") else ""
    return f"invalid YAML: {problem}{context}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# --------------------------------------------------------------------------- aliases


def check_aliases(data: Any, text: str) -> None:
    """Refuse alias bombs ("billion laughs") without expanding them.

    :func:`parse` makes aliases shared objects, so the data is a graph without cycles: its expanded
    size is computed once per distinct object, which costs as much as the file, not its expansion.
    """
    if "&" not in text:
        return
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, done = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if done:
            # Keys count too: the validator looks at every one.
            total = 1 + sum(sizes.get(id(c), 1) for c in children) + (len(node) if isinstance(node, dict) else 0)
            sizes[id(node)] = total
            if total > MAX_EXPANDED_VALUES:
                raise InputError(
                    f"aliases expand to more than {MAX_EXPANDED_VALUES:,} values; refusing a possible alias bomb",
                    *_first_alias(text),
                )
        elif id(node) not in sizes:
            stack.append((node, True))
            stack.extend((c, False) for c in children if isinstance(c, (dict, list)) and id(c) not in sizes)


def _first_alias(text: str) -> tuple[int | None, int | None]:
    match = re.search(r"(?<![^\s\[{,:-])\*[^\s,\[\]{}]+", text)
    if match is None:
        return None, None
    line = text.count("\n", 0, match.start()) + 1
    return line, match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1


# --------------------------------------------------------------------------- positions → line and column


def locate(marks: dict[DataPath, Position], path: DataPath, key: bool = False) -> tuple[int | None, int | None]:
    """Line and column (1-based) of ``path`` (of its key when ``key``) in :func:`positions`; of its
    nearest ancestor when it has no place of its own."""
    for n in range(len(path), -1, -1):
        found = marks.get(path[:n])
        if found is not None:
            if key and n == len(path):
                return found[0] + 1, found[1] + 1
            return found[2] + 1, found[3] + 1
    return None, None
