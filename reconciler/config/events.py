"""YAML parser events → plain values, and → where each node stands.

    get_event = event_source(text, fast=True)              # the C parser; fast=False: ruamel's pure one
    data = build(get_event, max_depth=64, max_values=5_000_000)
    marks = positions(text, fast=True)                     # {("senders", 0): (key line, key col, line, col)}

The mechanism under :mod:`reconciler.config.reader`, which sets the limits and words the parsers'
own errors. Imports no models.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import ruamel.yaml.main
from ruamel.yaml import YAML
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

# ruamel.yaml.clib's C parser (libyaml), as ruamel.yaml finds it: None where it is not installed.
_CParser: Any = getattr(ruamel.yaml.main, "CParser", None)

#: True when the C parser (libyaml) is installed.
HAS_C_PARSER = _CParser is not None

#: Where a value is in the data: keys and list indexes from the top (``("senders", 0, "profile")``).
DataPath = tuple[Any, ...]
#: Key line, key column, value line, value column (0-based).
Position = tuple[int, int, int, int]


class InputError(Exception):
    """Text that is refused: a one-line message, at a line and column (1-based) when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    @classmethod
    def at(cls, message: str, mark: Any) -> InputError:
        """At a parser's (0-based) mark."""
        if mark is None:
            return cls(message)
        return cls(message, mark.line + 1, mark.column + 1)


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    try:
        text = repr(value)
    except RecursionError:
        return "<deeply nested value>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def event_source(text: str, *, fast: bool) -> Callable[[], Any]:
    """``get_event`` of the C parser, or of ruamel's pure-Python one: the same event classes."""
    get_event: Callable[[], Any] = _CParser(text).get_event if fast else YAML(typ="safe", pure=True).parse(text).__next__
    return get_event


# --------------------------------------------------------------------------- scalars


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


def _resolve_plain(value: str, mark: Any) -> Any:
    """A plain (unquoted) scalar as ruamel's safe loader reads it under YAML 1.2."""
    resolvers = _RESOLVERS.get(value[0] if value else "")
    if not resolvers:
        return value
    for tag, regexp in resolvers:
        if regexp.match(value):
            return _implicit(value, tag, mark)
    return value


def _implicit(value: str, tag: str, mark: Any) -> Any:
    """A plain scalar that ruamel's resolver gives ``tag``: null, a boolean, the merge key, a number or a date."""
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


def _tagged_scalar(event: Any) -> Any:
    """A scalar with a tag of its own: one of the core scalar types, or refused."""
    tag = event.tag
    if tag not in _CORE_SCALAR_TAGS:
        raise _tag_error(tag, event.start_mark)
    value = _typed_scalar(event.value, event.start_mark)
    if type(value) is not _CORE_SCALAR_TAGS[tag]:
        raise InputError.at(f"{short(event.value)} is not a valid {_tag(tag)}", event.start_mark)
    return value


def _typed_scalar(value: str, mark: Any) -> Any:
    try:
        return _typed_scalar_cached(value)
    except Exception:
        raise InputError.at(f"cannot read the value {short(value)}", mark) from None


@lru_cache(maxsize=4096)
def _typed_scalar_cached(value: str) -> Any:
    # Numbers and timestamps are rare in this file: let ruamel's own constructor read them.
    return YAML(typ="safe", pure=True).load(value)


def _tag(tag: str | None) -> str:
    return str(tag).replace(_STD, "!!")


def _tag_error(tag: str | None, mark: Any) -> InputError:
    return InputError.at(f"tag {_tag(tag)!r} is not allowed: only plain YAML values are read", mark)


# --------------------------------------------------------------------------- events → values


def build(get_event: Callable[[], Any], *, max_depth: int, max_values: int) -> Any:
    """Plain Python values from parser events, as ruamel's safe loader reads them under YAML 1.2.

    Aliases become shared objects (a graph, never a cycle: an alias inside its own anchor is
    refused). Duplicate keys, tags other than the core ones, more than one document, nesting deeper
    than ``max_depth`` and merge keys (``<<``) that copy more than ``max_values`` values are refused.
    """
    builder = _Builder(max_depth, max_values)
    # The hot path (half a million events for 10,000 senders, most of them scalars): a scalar is read and put
    # in place here, inline; the other events go to the builder's methods.
    start, end, alias, document = builder.start, builder.end, builder.alias, builder.document
    resolvers, str_tags, no_key, merge = _RESOLVERS, _STR_TAGS, _NO_KEY, _MERGE
    frame = builder.frame
    while True:
        event = get_event()
        cls = type(event)
        if cls is ScalarEvent:
            value = event.value
            tag = event.ctag if _CTAG else event.tag  # ``tag`` is a property over ``ctag`` where ruamel has it
            if tag is None and event.implicit[0]:
                if not value or value[0] in resolvers:
                    value = _resolve_plain(value, event.start_mark)
            elif tag is not None and str(tag) not in str_tags:
                value = _tagged_scalar(event)
            if event.anchor is not None:
                builder.anchors[event.anchor] = value
            if frame is None:
                builder.root = value
            elif type(container := frame[0]) is list:
                container.append(value)
            elif frame[3] is no_key:
                frame[3] = value
                keys = frame[4]
                if value in keys:
                    raise _duplicate_key(value, keys, event)
                keys[value] = event.start_mark.line + 1
            else:  # the value of the pending key, as in _Builder.add (which does this for the other events)
                key = frame[3]
                frame[3] = no_key
                if key is merge:
                    _add_merge(frame, value, event)
                else:
                    container[key] = value
            continue
        if cls is MappingStartEvent or cls is SequenceStartEvent:
            start(event)
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            end(event)
        elif cls is AliasEvent:
            alias(event)
        elif cls is DocumentStartEvent:
            document(event)
        elif cls is StreamEndEvent:
            return builder.root
        frame = builder.frame


#: Whether ruamel's scalar events keep their tag in ``ctag`` (``tag`` then being a property that converts it).
_CTAG = "ctag" in getattr(ScalarEvent, "__slots__", ())


class _Builder:
    """What :func:`build` knows between events; a method for each kind of event."""

    __slots__ = ("anchors", "copied", "documents", "frame", "max_depth", "max_values", "open_anchors", "root", "stack")

    def __init__(self, max_depth: int, max_values: int) -> None:
        self.max_depth = max_depth
        self.max_values = max_values
        self.anchors: dict[str, Any] = {}
        self.open_anchors: set[str] = set()  # anchors of the containers being built: an alias to one is a cycle
        # frame: [container, anchor, start event, pending key, key lines, merges]
        self.stack: list[list[Any]] = []
        self.frame: list[Any] | None = None  # the top of the stack
        self.root: Any = None
        self.documents = 0
        self.copied = 0  # values copied by merge keys so far

    def start(self, event: Any) -> None:
        mapping = type(event) is MappingStartEvent
        if event.tag not in (_MAP_TAGS if mapping else _SEQ_TAGS):
            raise _tag_error(event.tag, event.start_mark)
        if len(self.stack) >= self.max_depth:
            raise InputError.at(f"the file is nested more than {self.max_depth} levels deep", event.start_mark)
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.frame = [{} if mapping else [], event.anchor, event, _NO_KEY, {}, []]
        self.stack.append(self.frame)

    def end(self, event: Any) -> None:
        stack = self.stack
        container, anchor, start, _, _, merges = stack.pop()
        self.frame = stack[-1] if stack else None
        if merges:
            container = self.merged(container, merges, start)
        if anchor is not None:
            self.anchors[anchor] = container
            self.open_anchors.discard(anchor)
        self.add(container, start)

    def alias(self, event: Any) -> None:
        anchor = event.anchor
        if anchor in self.open_anchors:
            raise InputError.at(f"alias *{anchor} refers to a node that contains it", event.start_mark)
        if anchor not in self.anchors:
            raise InputError.at(f"alias *{anchor} names no anchor (&{anchor}) above it", event.start_mark)
        self.add(self.anchors[anchor], event)

    def document(self, event: Any) -> None:
        self.documents += 1
        if self.documents > 1:
            raise InputError.at("a file holds one YAML document; found a second one", event.start_mark)

    def add(self, value: Any, event: Any) -> None:
        """Put a finished value into the container being built: an item, a key, or a key's value."""
        frame = self.frame
        if frame is None:
            self.root = value
            return
        container = frame[0]
        if type(container) is list:
            container.append(value)
        elif frame[3] is _NO_KEY:
            if isinstance(value, (dict, list)):
                raise InputError.at("a mapping key must be a plain value, not a mapping or a list", event.start_mark)
            frame[3] = value
            if value in frame[4]:
                raise _duplicate_key(value, frame[4], event)
            frame[4][value] = event.start_mark.line + 1
        else:
            key = frame[3]
            frame[3] = _NO_KEY
            if key is _MERGE:
                _add_merge(frame, value, event)
            else:
                container[key] = value

    def merged(self, container: dict[Any, Any], merges: list[dict[Any, Any]], start: Any) -> dict[Any, Any]:
        """``container`` over the mappings its ``<<`` keys name, the first named winning."""
        # Each merge copies keys: a chain of merges grows quadratically with the file.
        self.copied += sum(len(source) for source in merges)
        if self.copied > self.max_values:
            raise InputError.at(
                f"merge keys ('<<') copy more than {self.max_values:,} values; refusing a possible merge bomb",
                start.start_mark,
            )
        out: dict[Any, Any] = {}
        for source in reversed(merges):
            out.update(source)
        out.update(container)
        return out


def _duplicate_key(key: Any, lines: dict[Any, int], event: Any) -> InputError:
    return InputError.at(f"duplicate key {short(key)} (first at line {lines[key]})", event.start_mark)


def _add_merge(frame: list[Any], value: Any, event: Any) -> None:
    sources = value if isinstance(value, list) else [value]
    if not all(isinstance(v, dict) for v in sources):
        raise InputError.at("'<<' merges a mapping or a list of mappings", event.start_mark)
    frame[5].extend(sources)


# --------------------------------------------------------------------------- positions


def positions(text: str, *, fast: bool = True) -> dict[DataPath, Position] | None:
    """Where every node of ``text`` stands, by its path in the data :func:`build` gives; ``None`` if unknown.

    The value of an empty or null scalar is placed at its key. An alias is placed where the alias
    stands; what is inside it, at the nearest place that exists (the alias).
    """
    try:
        get_event = event_source(text, fast=fast)
        out: dict[DataPath, Position] = {}
        stack: list[list[Any]] = []  # [is mapping, path, next index or pending key, key mark]
        while True:
            event = get_event()
            cls = type(event)
            if cls is StreamEndEvent:
                return out
            if cls is MappingEndEvent or cls is SequenceEndEvent:
                stack.pop()
                continue
            if cls not in (ScalarEvent, AliasEvent, MappingStartEvent, SequenceStartEvent):
                continue
            mark = event.start_mark
            if not stack:
                path: DataPath = ()
                out[path] = (mark.line, mark.column, mark.line, mark.column)
            elif stack[-1][0]:
                frame = stack[-1]
                if frame[2] is _NO_KEY:
                    frame[2] = _key_of(event)
                    frame[3] = mark
                    continue
                path = (*frame[1], frame[2])
                key_mark = frame[3]
                frame[2] = _NO_KEY
                null = cls is ScalarEvent and event.tag is None and event.implicit[0] and event.value in _NULLS
                value_mark = key_mark if null else mark
                out[path] = (key_mark.line, key_mark.column, value_mark.line, value_mark.column)
            else:
                frame = stack[-1]
                path = (*frame[1], frame[2])
                frame[2] += 1
                out[path] = (mark.line, mark.column, mark.line, mark.column)
            if cls is MappingStartEvent:
                stack.append([True, path, _NO_KEY, None])
            elif cls is SequenceStartEvent:
                stack.append([False, path, 0, None])
    except Exception:  # positions are best effort: a message without one still names the file
        return None


def _key_of(event: Any) -> Any:
    if type(event) is not ScalarEvent:
        return _NO_KEY  # build refuses complex keys, so this is not reached
    if event.tag is None and event.implicit[0]:
        return _resolve_plain(event.value, event.start_mark)
    if event.tag in _STR_TAGS:
        return event.value
    return _typed_scalar(event.value, event.start_mark)
