"""Desired-state files → :class:`~reconciler.models.DesiredState`.

>>> state = load_desired(["senders.yaml.example"], environ={})   # doctest: +SKIP
>>> [s.sender_id for s in state.senders]                          # doctest: +SKIP
['whatsapp:+15017122661', ...]

Two passes, so the common case is fast and the failing case is precise:

1. The happy path parses with ruamel's C-based safe loader, substitutes ``${VAR}``, and validates each
   file with a single ``SendersFile.model_validate`` call. No line numbers are kept.
2. Only when a file has problems is it parsed again with the round-trip loader, which keeps line and
   column marks, to put ``PATH:LINE:COL`` on every message.

Every problem in every file is collected and raised together as one :class:`ConfigError`. Nothing
else escapes from here: hostile input (binary files, alias bombs, odd tags, deep nesting) is turned
into a ``ConfigError`` too.
"""

from __future__ import annotations

import difflib
import gc
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from ruamel.yaml.resolver import VersionedResolver

try:  # ruamel.yaml.clib: the C parser (libyaml)
    from ruamel.yaml.main import CParser
except ImportError:  # pragma: no cover - pure-Python platforms
    CParser = None

from reconciler.errors import ConfigError, ConfigIssue, Location
from reconciler.models import (
    SECTIONS,
    Configuration,
    DesiredSender,
    DesiredState,
    Email,
    PhoneNumber,
    Profile,
    Safety,
    SenderDefaults,
    SendersFile,
    Webhook,
    Website,
    check_sender_id,
)

DEFAULT_FILE = "senders.yaml"
#: File name endings read when ``-f`` names a directory.
YAML_SUFFIXES: tuple[str, ...] = (".yaml", ".yml")
#: Files larger than this are refused before parsing (10,000 senders take about 4 MB).
MAX_FILE_BYTES = 32 * 1024 * 1024
#: Larger files have their problems located from the C parser's events: the round-trip parse, which
#: keeps marks on every node, takes about 7 s and hundreds of MB per MiB of YAML (a 31 MiB file full of
#: errors took 10 minutes and 3 GB), while the events cost a second or two and no tree.
ROUND_TRIP_MAX_CHARS = 256 * 1024
#: At most this many values once aliases are expanded; more is an alias bomb ("billion laughs").
MAX_EXPANDED_VALUES = 5_000_000

_PathKey = str | int
_DataPath = tuple[Any, ...]

# ``$${`` is a literal ``${``; ``${...}`` a reference; a lone ``${`` an unterminated one.
_INTERPOLATION = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_REFERENCE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)

#: The model that holds the keys of a mapping, by the name of the nearest key above it.
_MODEL_BY_PARENT: dict[str, type[BaseModel]] = {
    "": SendersFile,
    "defaults": SenderDefaults,
    "senders": DesiredSender,
    "configuration": Configuration,
    "webhook": Webhook,
    "profile": Profile,
    "websites": Website,
    "emails": Email,
    "phone_numbers": PhoneNumber,
    "safety": Safety,
}


# --------------------------------------------------------------------------- public API


def load_desired(
    paths: Sequence[str | Path] = (DEFAULT_FILE,),
    environ: Mapping[str, str] | None = None,
) -> DesiredState:
    """Read, validate and merge desired-state files.

    ``paths`` are files or directories (every ``*.yaml``/``*.yml`` inside, sorted). ``environ``
    supplies ``${VAR}`` values (default: ``os.environ``). Raises :class:`ConfigError` carrying every
    issue found, each at ``file:line:col``.
    """
    env = os.environ if environ is None else environ
    files, issues = _expand_paths(paths)
    # Parsing and validating build hundreds of thousands of small objects, none in a cycle: the
    # cyclic garbage collector only slows that down (by a third for 10,000 senders).
    collecting = gc.isenabled()
    gc.disable()
    try:
        loaded = [_load_one(path, env) for path in files]
    finally:
        if collecting:
            gc.enable()
    _check_across_files(loaded)
    for item in loaded:
        issues.extend(item.located_issues())
        if item.pending:
            item.model = None
    if issues:
        raise ConfigError(issues)

    senders: list[DesiredSender] = []
    ignore: set[str] = set()
    safety = Safety()
    for item in loaded:
        assert item.model is not None
        senders.extend(merge_defaults(item.model))
        ignore.update(item.model.ignore)
        if item.model.safety is not None:
            safety = item.model.safety
    return DesiredState.model_construct(
        senders=tuple(senders),
        ignore=frozenset(ignore),
        safety=safety,
        sources=tuple(item.name for item in loaded),
    )


def load_file(path: str | Path, environ: Mapping[str, str] | None = None) -> SendersFile:
    """One file as written (``defaults:`` not merged). Raises :class:`ConfigError`."""
    item = _load_one(Path(path), os.environ if environ is None else environ)
    issues = item.located_issues()
    if issues:
        raise ConfigError(issues)
    assert item.model is not None
    return item.model


def merge_defaults(file: SendersFile) -> list[DesiredSender]:
    """The file's senders with its ``defaults:`` merged under them.

    Per field inside ``configuration``/``webhook``/``profile``; the sender's own values win, lists
    are replaced, not merged. A default counts as managed for every sender it applies to.
    """
    defaults = file.defaults
    if defaults is None or not defaults.model_fields_set:
        return list(file.senders)
    out = []
    for sender in file.senders:
        update: dict[str, Any] = {}
        for section in SECTIONS:
            base = getattr(defaults, section)
            if base is None:
                continue
            own = getattr(sender, section)
            if own is None:
                update[section] = base
            else:
                update[section] = base.model_copy(update={k: getattr(own, k) for k in own.model_fields_set})
        out.append(sender.model_copy(update=update) if update else sender)
    return out


def escape(value: str) -> str:
    """``value`` written so that interpolation gives it back (``${`` becomes ``$${``)."""
    return value.replace("${", "$${")


def _expand_paths(paths: Sequence[str | Path]) -> tuple[list[Path], list[ConfigIssue]]:
    """Files to read, in order: a directory gives its ``*.yaml``/``*.yml`` files, sorted by name."""
    files: list[Path] = []
    issues: list[ConfigIssue] = []
    seen: set[Path] = set()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir()
                if p.suffix in YAML_SUFFIXES and not p.name.startswith(".") and p.is_file()
            )
            if not found:
                issues.append(ConfigIssue(Location(str(path)), "the directory holds no *.yaml or *.yml files"))
        elif path.exists():
            found = [path]
        else:
            issues.append(ConfigIssue(Location(str(path)), "no such file or directory"))
            found = []
        for p in found:
            resolved = p.resolve()
            if resolved not in seen:  # the same file named twice is read once
                seen.add(resolved)
                files.append(p)
    return files, issues


# --------------------------------------------------------------------------- one file


@dataclass
class _Pending:
    """An issue known by its place in the data, before line numbers are looked up."""

    path: _DataPath
    message: str
    key: bool = False  # point at the key itself rather than its value
    line: int | None = None  # set when the location is known without the round-trip parse
    column: int | None = None
    #: Other places the message names: each fills a ``{}`` in ``message`` with ``file:line:col``.
    refs: tuple[tuple[_Loaded, _DataPath], ...] = ()
    #: Prefix the message with the field's path (``profile.about: ...``).
    label: bool = True


@dataclass(eq=False)
class _Loaded:
    path: Path
    name: str
    text: str | None = None
    data: Any = None
    model: SendersFile | None = None
    pending: list[_Pending] = field(default_factory=list)
    #: (sender_id, data path) of every sender with a valid id, and of every ignore entry.
    sender_ids: list[tuple[str, _DataPath]] = field(default_factory=list)
    ignore_ids: list[tuple[str, _DataPath]] = field(default_factory=list)
    _tree: Any = None
    _marks: dict[_DataPath, tuple[tuple[int, int], tuple[int, int] | None]] | None = None
    _parsed: bool = False

    def add(
        self,
        message: str,
        path: _DataPath = (),
        *,
        key: bool = False,
        line: int | None = None,
        column: int | None = None,
        refs: tuple[tuple[_Loaded, _DataPath], ...] = (),
        label: bool = True,
    ) -> None:
        self.pending.append(_Pending(path, message, key, line, column, refs, label))

    @property
    def tree(self) -> Any:
        """The round-trip parse, made only when a location is needed."""
        if not self._parsed:
            self._parsed = True
            self._tree = _round_trip(self.text) if self.text is not None else None
        return self._tree

    def location(self, path: _DataPath, key: bool = False) -> Location:
        if self.text is not None and len(self.text) > ROUND_TRIP_MAX_CHARS:
            if self._marks is None:
                wanted = {p.path[:n] for p in self.pending for n in range(len(p.path) + 1)}
                self._marks = _event_marks(self.text, wanted)
            line, column = _locate_marks(self._marks, path, key)
        else:
            line, column = _locate(self.tree, path, key) if self.tree is not None else (None, None)
        return Location(self.name, line, column)

    def located_issues(self) -> list[ConfigIssue]:
        issues = []
        for p in self.pending:
            if p.line is not None or not p.path:
                line, column = p.line, p.column
                if line is None and self.text is not None:
                    line, column = _first_content(self.text)
                where = Location(self.name, line, column)
            else:
                where = self.location(p.path, p.key)
            message = p.message.format(*(other.location(op) for other, op in p.refs)) if p.refs else p.message
            sender_id, message = _attribute(self.data, p.path, message, p.label)
            issues.append(ConfigIssue(where, message, sender_id))
        issues.sort(key=lambda i: (i.location.line or 0, i.location.column or 0))
        return issues


def _load_one(path: Path, env: Mapping[str, str]) -> _Loaded:
    item = _Loaded(path, str(path))
    text = _read_text(item)
    if text is None:
        return item
    item.text = text
    data = _parse_safe(item, text)
    if item.pending:
        return item
    if data is None:
        item.add("the file is empty; expected a mapping with 'senders:'", line=1, column=1)
        return item
    if not isinstance(data, dict):
        line, column = _first_content(text)
        item.add(f"the top level must be a mapping with 'senders:', not {_kind(data)}", line=line, column=column)
        return item
    if "&" in text and not _check_aliases(item, data, text):
        return item
    item.data = data
    if "$" in text:
        _interpolate(item, data, env)
    try:
        item.model = SendersFile.model_validate(data)
    except ValidationError as exc:
        _add_validation_errors(item, exc)
    except RecursionError:
        item.add("the file is nested too deeply", line=1, column=1)
    _collect_ids(item)
    return item


def _read_text(item: _Loaded) -> str | None:
    try:
        size = item.path.stat().st_size
        if size > MAX_FILE_BYTES:
            item.add(f"the file is {size:,} bytes; at most {MAX_FILE_BYTES:,} ({MAX_FILE_BYTES >> 20} MiB) are read")
            return None
        raw = item.path.read_bytes()
    except OSError as exc:
        item.add(f"cannot read the file: {exc.strerror or exc}")
        return None
    if b"\0" in raw:
        line, column = _position(raw, raw.index(b"\0"))
        item.add("this is a binary file (it holds NUL bytes), not YAML", line=line, column=column)
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _position(raw, exc.start)
        item.add(f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})", line=line, column=column)
        return None
    if not text.strip():
        item.add("the file is empty; expected a mapping with 'senders:'", line=1, column=1)
        return None
    return text


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, len(raw[line_start:offset].decode("utf-8", "replace")) + 1


def _first_content(text: str) -> tuple[int, int]:
    """Line and column of the first thing in the file that is not blank or a comment."""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if stripped and not stripped.startswith("#"):
            return number, len(line) - len(stripped) + 1
    return 1, 1


def _parse_safe(item: _Loaded, text: str) -> Any:
    """Parse with safe loading only: standard types, no tags that build objects.

    The fast path builds plain Python values straight from the C parser's events. libyaml is stricter
    than ruamel's own YAML 1.2 parser in a few places (``[whatsapp:+15017122661]`` in flow style), so
    when it rejects the text, ruamel's pure safe loader decides and its verdict is the one reported.
    """
    if CParser is not None:
        try:
            return _build(text)
        except _InputError as exc:
            item.add(exc.message, line=exc.line, column=exc.column)
            return None
        except Exception:  # retried below; the pure parser's verdict is the one reported
            pass
    try:
        return YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        item.add(_yaml_message(exc), line=line, column=column)
    except YAMLError as exc:
        item.add(f"invalid YAML: {_first_line(str(exc))}", line=1, column=1)
    except RecursionError:
        item.add(f"the file is nested more than {MAX_DEPTH} levels deep", line=1, column=1)
    except Exception as exc:  # the parser is foreign code: no input may crash the tool
        item.add(f"cannot parse the file: {_first_line(str(exc)) or type(exc).__name__}", line=1, column=1)
    return None


class _InputError(Exception):
    def __init__(self, message: str, mark: Any):
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1 if mark is not None else None
        self.column = mark.column + 1 if mark is not None else None


_STD = "tag:yaml.org,2002:"
_STR_TAGS = frozenset({None, "!", _STD + "str"})
_MAP_TAGS = frozenset({None, "!", _STD + "map"})
_SEQ_TAGS = frozenset({None, "!", _STD + "seq"})
_CORE_SCALAR_TAGS = {_STD + "int": int, _STD + "float": float, _STD + "bool": bool, _STD + "null": type(None)}
#: ruamel's YAML 1.2 implicit resolvers, by the first character of a plain scalar.
_RESOLVERS: dict[Any, list[tuple[str, Any]]] = VersionedResolver(version=(1, 2)).versioned_resolver
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NO_KEY = object()
#: Deeper nesting than this is refused: the file needs six levels.
MAX_DEPTH = 64


def _resolve_plain(value: str, mark: Any) -> Any:
    """A plain (unquoted) scalar as ruamel's safe loader reads it under YAML 1.2."""
    resolvers = _RESOLVERS.get(value[0] if value else "")
    if not resolvers:
        return value
    for tag, regexp in resolvers:
        if regexp.match(value):
            break
    else:
        return value
    if value in _NULLS:
        return None
    if value in _BOOLS:
        return _BOOLS[value]
    if tag == _STD + "merge":
        return _MERGE
    return _typed_scalar(value, mark)


class _Merge(str):
    """The ``<<`` merge key."""


_MERGE = _Merge("<<")


def _typed_scalar(value: str, mark: Any) -> Any:
    try:
        return _typed_scalar_cached(value)
    except Exception:
        raise _InputError(f"cannot read the value {_short(value)}", mark) from None


@lru_cache(maxsize=4096)
def _typed_scalar_cached(value: str) -> Any:
    # Numbers and timestamps are rare in this file: let ruamel's own constructor read them.
    return YAML(typ="safe", pure=True).load(value)


def _build(text: str) -> Any:
    """Plain Python values from the C parser's events; aliases become shared objects."""
    parser = CParser(text)
    get_event = parser.get_event
    anchors: dict[str, Any] = {}
    open_anchors: set[str] = set()
    # frame: [container, anchor, start event, pending key, key lines, merges]
    stack: list[list[Any]] = []
    root: Any = None
    documents = 0

    def add(value: Any, event: Any) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        frame = stack[-1]
        container = frame[0]
        if type(container) is list:
            container.append(value)
            return
        key = frame[3]
        if key is _NO_KEY:
            if isinstance(value, (dict, list)):
                raise _InputError("a mapping key must be a plain value, not a mapping or a list", event.start_mark)
            frame[3] = value
            if value in frame[4]:
                raise _InputError(
                    f"duplicate key {_short(value)} (first at line {frame[4][value]})", event.start_mark
                )
            frame[4][value] = event.start_mark.line + 1
            return
        frame[3] = _NO_KEY
        if key is _MERGE:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(v, dict) for v in sources):
                raise _InputError("'<<' merges a mapping or a list of mappings", event.start_mark)
            frame[5].extend(sources)
        else:
            container[key] = value

    while True:
        event = get_event()
        cls = type(event)
        if cls is ScalarEvent:
            tag = event.tag
            if tag is None and event.implicit[0]:
                value = _resolve_plain(event.value, event.start_mark)
            elif tag in _STR_TAGS:
                value = event.value
            elif tag in _CORE_SCALAR_TAGS:
                value = _typed_scalar(event.value, event.start_mark)
                if type(value) is not _CORE_SCALAR_TAGS[tag]:
                    raise _InputError(f"{_short(event.value)} is not a valid {_tag(tag)}", event.start_mark)
            else:
                raise _tag_error(tag, event.start_mark)
            if event.anchor is not None:
                anchors[event.anchor] = value
            add(value, event)
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            tags = _MAP_TAGS if cls is MappingStartEvent else _SEQ_TAGS
            if event.tag not in tags:
                raise _tag_error(event.tag, event.start_mark)
            if len(stack) >= MAX_DEPTH:
                raise _InputError(f"the file is nested more than {MAX_DEPTH} levels deep", event.start_mark)
            if event.anchor is not None:
                open_anchors.add(event.anchor)
            container = {} if cls is MappingStartEvent else []
            stack.append([container, event.anchor, event, _NO_KEY, {}, []])
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            container, anchor, start, _, _, merges = stack.pop()
            if merges:
                merged: dict[Any, Any] = {}
                for source in reversed(merges):
                    merged.update(source)
                merged.update(container)
                container = merged
            if anchor is not None:
                anchors[anchor] = container
                open_anchors.discard(anchor)
            add(container, start)
        elif cls is AliasEvent:
            if event.anchor in open_anchors:
                raise _InputError(f"alias *{event.anchor} refers to a node that contains it", event.start_mark)
            if event.anchor not in anchors:
                raise _InputError(f"alias *{event.anchor} names no anchor (&{event.anchor}) above it",
                                  event.start_mark)
            add(anchors[event.anchor], event)
        elif cls is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _InputError("a file holds one YAML document; found a second one", event.start_mark)
        elif cls is StreamEndEvent:
            return root


def _tag(tag: str | None) -> str:
    return str(tag).replace(_STD, "!!")


def _tag_error(tag: str | None, mark: Any) -> _InputError:
    return _InputError(f"tag {_tag(tag)!r} is not allowed: only plain YAML values are read", mark)


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


def _round_trip(text: str) -> Any:
    """The same text parsed by the round-trip loader, which keeps line/column marks."""
    try:
        return YAML().load(text)
    except Exception:  # locations are best effort; the issues themselves are already known
        return None


# --------------------------------------------------------------------------- aliases


def _check_aliases(item: _Loaded, data: Any, text: str) -> bool:
    """Refuse recursive aliases and alias bombs without expanding them.

    The safe loader builds aliases as shared objects, so the data is a graph: its expanded size is
    computed per distinct object (memoised), which costs as much as the file, not its expansion.
    """
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            children = node.values() if isinstance(node, dict) else node
            total = 1 + sum(sizes.get(id(c), 1) for c in children)
            # dict keys count too: every key is a value the validator looks at.
            if isinstance(node, dict):
                total += len(node)
            sizes[key] = total
            in_progress.discard(key)
            if total > MAX_EXPANDED_VALUES:
                break
            continue
        if key in sizes:
            continue
        if key in in_progress:
            line, column = _first_alias(text)
            item.add("an alias refers to a node that contains it (recursive alias)", line=line, column=column)
            return False
        in_progress.add(key)
        stack.append((node, True))
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, (dict, list)):
                if id(child) in in_progress:
                    line, column = _first_alias(text)
                    item.add("an alias refers to a node that contains it (recursive alias)", line=line, column=column)
                    return False
                stack.append((child, False))
    if sizes.get(id(data), 0) > MAX_EXPANDED_VALUES or max(sizes.values(), default=0) > MAX_EXPANDED_VALUES:
        line, column = _first_alias(text)
        item.add(
            f"aliases expand to more than {MAX_EXPANDED_VALUES:,} values; refusing a possible alias bomb",
            line=line,
            column=column,
        )
        return False
    return True


def _first_alias(text: str) -> tuple[int | None, int | None]:
    match = re.search(r"(?<![^\s\[{,:-])\*[^\s,\[\]{}]+", text)
    if match is None:
        return None, None
    line = text.count("\n", 0, match.start()) + 1
    return line, match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1


# --------------------------------------------------------------------------- interpolation


def _interpolate(item: _Loaded, data: dict[Any, Any], env: Mapping[str, str]) -> None:
    """Substitute ``${VAR}`` in every string value, in place (keys are left alone)."""
    seen: set[int] = set()
    stack: list[tuple[Any, _DataPath]] = [(data, ())]
    while stack:
        node, where = stack.pop()
        if id(node) in seen:  # an aliased node: substituted once, where it is defined
            continue
        seen.add(id(node))
        entries = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(entries):
            if isinstance(value, str):
                if "$" in value:
                    node[key] = _substitute(item, value, (*where, key), env)
            elif isinstance(value, (dict, list)):
                stack.append((value, (*where, key)))


def _substitute(item: _Loaded, value: str, where: _DataPath, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$${":
            return "${"
        if match.group(1) is None:
            item.add("unterminated '${'; write '$${' for a literal '${'", where)
            return token
        reference = _REFERENCE.fullmatch(match.group(1))
        if reference is None:
            item.add(f"{token!r} is not a valid variable reference; use ${{NAME}} or ${{NAME:-fallback}}, "
                     "or '$${' for a literal '${'", where)
            return token
        name, fallback = reference.group(1), reference.group(2)
        found = env.get(name)
        if fallback is not None and not found:
            return fallback
        if found is None:
            item.add(f"environment variable {name} is not set (write ${{{name}:-fallback}} to give a fallback)", where)
            return token
        return found

    return _INTERPOLATION.sub(replace, value)


# --------------------------------------------------------------------------- validation messages


def _add_validation_errors(item: _Loaded, exc: ValidationError) -> None:
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        value = error.get("input")
        ctx = error.get("ctx") or {}
        if kind == "extra_forbidden":
            item.add(_unknown_key(loc), loc, key=True)
        elif kind == "missing":
            item.add(f"{loc[-1]} is required", loc[:-1] + ("*missing*",))
        elif value is None and kind in ("model_type", "dict_type", "string_type", "list_type", "value_error"):
            item.add("null is not allowed here: leave the field out to stop managing it, or use '' to clear it", loc)
        elif kind == "value_error":
            item.add(str(error["msg"]).removeprefix("Value error, "), loc)
        elif kind == "literal_error":
            item.add(_not_one_of(value, loc), loc)
        elif kind == "string_too_long":
            item.add(f"{len(value)} characters; Meta allows at most {ctx.get('max_length')}", loc)
        elif kind == "too_long":
            item.add(f"{len(value)} {loc[-1]}; Meta allows at most {ctx.get('max_length')}", loc)
        elif kind in ("string_type", "list_type", "model_type", "dict_type", "model_attributes_type"):
            wanted = {"string_type": "a string", "list_type": "a list"}.get(kind, "a mapping")
            hint = " (quote it)" if kind == "string_type" and isinstance(value, (int, float, bool)) else ""
            item.add(f"expected {wanted}, got {_kind(value)}{hint}", loc)
        else:
            item.add(f"{_short(value)}: {str(error['msg'])[:1].lower()}{str(error['msg'])[1:]}", loc)


def _unknown_key(loc: _DataPath) -> str:
    parent = next((p for p in reversed(loc[:-1]) if isinstance(p, str)), "")
    model = _MODEL_BY_PARENT.get(parent)
    key = loc[-1]
    if model is None:
        return f"unknown key {key!r}"
    known = list(model.model_fields)
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r}; did you mean {close[0]!r}?"
    return f"unknown key {key!r}; expected one of: {', '.join(known)}"


def _not_one_of(value: Any, loc: _DataPath) -> str:
    from reconciler import models

    choices: Sequence[str] = {
        "verification_method": models.VERIFICATION_METHODS,
        "callback_method": models.WEBHOOK_METHODS,
        "fallback_method": models.WEBHOOK_METHODS,
        "status_callback_method": models.STATUS_CALLBACK_METHODS,
        "vertical": models.VERTICALS,
    }.get(str(loc[-1]), ())
    listed = ", ".join(repr(c) for c in choices)
    close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6) if isinstance(value, str) else []
    if isinstance(value, str) and not close:
        close = [c for c in choices if c.lower() == value.lower()]
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{_short(value)} is not one of {listed}{hint}"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({_short(value)})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bytes):
        return "binary data"
    return f"a {type(value).__name__} ({_short(value)})"


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except RecursionError:
        return "<deeply nested value>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- ids, duplicates


def _collect_ids(item: _Loaded) -> None:
    if item.model is not None:  # already checked: no need to parse the numbers again
        item.sender_ids = [(s.sender_id, ("senders", i, "sender_id")) for i, s in enumerate(item.model.senders)]
        item.ignore_ids = [(s, ("ignore", i)) for i, s in enumerate(item.model.ignore)]
        return
    data = item.data
    senders = data.get("senders")
    if isinstance(senders, list):
        for index, sender in enumerate(senders):
            if isinstance(sender, dict) and _valid_id(sender.get("sender_id")):
                item.sender_ids.append((sender["sender_id"], ("senders", index, "sender_id")))
    ignore = data.get("ignore")
    if isinstance(ignore, list):
        for index, entry in enumerate(ignore):
            if _valid_id(entry):
                item.ignore_ids.append((entry, ("ignore", index)))


def _valid_id(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        check_sender_id(value)
    except ValueError:
        return False
    return True


def _check_across_files(loaded: list[_Loaded]) -> None:
    """Senders unique across all files; none both managed and ignored; ``safety:`` in one file only.

    Each conflict is reported at both places, each message naming the other.
    """
    first: dict[str, tuple[_Loaded, _DataPath]] = {}
    for item in loaded:
        for sender_id, where in item.sender_ids:
            if sender_id not in first:
                first[sender_id] = (item, where)
                continue
            other, other_where = first[sender_id]
            item.add("duplicate sender; first declared at {}", where, refs=((other, other_where),), label=False)
            other.add("duplicate sender; declared again at {}", other_where, refs=((item, where),), label=False)
    for item in loaded:
        for sender_id, where in item.ignore_ids:
            if sender_id in first:
                other, other_where = first[sender_id]
                item.add(f"{sender_id} is ignored but also declared under senders at {{}}", where,
                         refs=((other, other_where),))
                other.add("declared under senders but also listed under ignore at {}", other_where,
                          refs=((item, where),), label=False)
    with_safety = [i for i in loaded if isinstance(i.data, dict) and "safety" in i.data]
    for item in with_safety[1:]:
        first_item = with_safety[0]
        item.add("safety: may be set in one file only; already set at {}", ("safety",), key=True,
                 refs=((first_item, ("safety",)),))
        first_item.add("safety: may be set in one file only; set again at {}", ("safety",), key=True,
                       refs=((item, ("safety",)),))


# --------------------------------------------------------------------------- locations


def _locate(tree: Any, path: _DataPath, key: bool) -> tuple[int | None, int | None]:
    """Line and column (1-based) of ``path`` in a round-trip tree; the nearest ancestor if not found."""
    node = tree
    line, column = _own_position(tree)
    for depth, step in enumerate(path):
        last = depth == len(path) - 1
        try:
            if isinstance(node, dict) and step in node:
                pos = node.lc.key(step) if (key and last) else node.lc.value(step)
                node = node[step]
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                pos = node.lc.item(step)
                node = node[step]
            else:
                break
        except (AttributeError, KeyError, TypeError, IndexError):
            break
        if pos is not None:
            line, column = pos[0] + 1, pos[1] + 1
    return line, column


def _event_marks(text: str, wanted: set[_DataPath]) -> dict[_DataPath, tuple[tuple[int, int], tuple[int, int] | None]]:
    """(value position, key position or None) of each path in ``wanted``, 1-based, from parser events.

    The C parser's events first; where libyaml is stricter than ruamel (as in ``_parse_safe``), the
    pure-Python parser's. Neither builds a tree. Best effort, like the round-trip parse: whatever was
    found before a parse error is kept.
    """

    def c_events() -> Any:
        parser = CParser(text)
        while True:
            event = parser.get_event()
            yield event
            if type(event) is StreamEndEvent:
                return

    marks: dict[_DataPath, tuple[tuple[int, int], tuple[int, int] | None]] = {}
    for events in (c_events, lambda: YAML(typ="safe", pure=True).parse(text)):
        marks = {}
        try:
            _walk_events(events(), wanted, marks)
            break
        except Exception:  # noqa: S112 - try the next parser; keep what was found
            continue
    return marks


def _walk_events(events: Any, wanted: set[_DataPath], marks: dict[_DataPath, Any]) -> None:
    # frame: [is mapping, path (None: not tracked), next index or current key, expecting a key, key position]
    stack: list[list[Any]] = []
    for event in events:
        cls = type(event)
        if cls is MappingEndEvent or cls is SequenceEndEvent:
            stack.pop()
            continue
        if cls not in (ScalarEvent, AliasEvent, MappingStartEvent, SequenceStartEvent):
            continue
        at = (event.start_mark.line + 1, event.start_mark.column + 1)
        frame = stack[-1] if stack else None
        if frame is not None and frame[0] and frame[3]:  # a mapping's key
            frame[3], frame[4] = False, at
            if cls is ScalarEvent:
                frame[2] = event.value
                if event.tag is None and event.implicit[0]:
                    try:
                        frame[2] = _resolve_plain(event.value, event.start_mark)
                    except _InputError:
                        pass
            else:
                frame[2] = _NO_KEY
                if cls is not AliasEvent:
                    stack.append([cls is MappingStartEvent, None, 0, True, None])
            continue
        key_at = None
        if frame is None:
            path: _DataPath | None = ()
        elif frame[0]:
            path = None if frame[1] is None or frame[2] is _NO_KEY else (*frame[1], frame[2])
            frame[3], key_at = True, frame[4]
        else:
            path = None if frame[1] is None else (*frame[1], frame[2])
            frame[2] += 1
        if path is not None and path not in wanted:
            path = None  # nothing below it is wanted either: wanted holds every prefix
        if path is not None:
            marks[path] = (at, key_at)
        if cls is MappingStartEvent:
            stack.append([True, path, None, True, None])
        elif cls is SequenceStartEvent:
            stack.append([False, path, 0, False, None])


def _locate_marks(
    marks: dict[_DataPath, tuple[tuple[int, int], tuple[int, int] | None]], path: _DataPath, key: bool
) -> tuple[int | None, int | None]:
    """As :func:`_locate`, from :func:`_event_marks`: the nearest ancestor's position when not found."""
    root = marks.get(())
    line, column = root[0] if root else (None, None)
    for depth in range(1, len(path) + 1):
        found = marks.get(path[:depth])
        if found is None:
            break
        value_at, key_at = found
        line, column = key_at if (key and depth == len(path) and key_at) else value_at
    return line, column


def _own_position(node: Any) -> tuple[int | None, int | None]:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return None, None
    return lc.line + 1, lc.col + 1


def _attribute(data: Any, path: _DataPath, message: str, label: bool = True) -> tuple[str | None, str]:
    """Which sender an issue belongs to, and the message prefixed with the field's path."""
    sender_id = None
    start = 0
    if len(path) >= 2 and path[0] == "senders" and isinstance(data, dict):
        senders = data.get("senders")
        if isinstance(senders, list) and isinstance(path[1], int) and path[1] < len(senders):
            sender = senders[path[1]]
            if isinstance(sender, dict) and _valid_id(sender.get("sender_id")):
                sender_id = sender["sender_id"]
                start = 2
    shown = _format_path(data, path[start:], path[:start]) if label or not sender_id else ""
    return sender_id, f"{shown}: {message}" if shown else message


def _format_path(data: Any, path: _DataPath, prefix: _DataPath) -> str:
    """``profile.websites[0]``: the part of ``path`` that exists in the data, plus a missing key's parent."""
    node = data
    for step in prefix:
        node = node[step]
    out = ""
    for step in path:
        if step == "*missing*":
            break
        if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            out += f"[{step}]"
            node = node[step]
        elif isinstance(node, dict) and step in node:
            out += f".{step}" if isinstance(step, str) else f"[{step!r}]"
            node = node[step]
        else:
            break
    return out.lstrip(".")
