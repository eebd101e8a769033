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
    if tag == _STD + "float" and type(value) is int:  # ``!!float 1``: ruamel's safe loader reads 1.0
        value = float(value)
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
    # in place here, inline, with no call unless its value needs converting; the other events go to the
    # builder's methods.
    handlers, anchors = builder.handlers(), builder.anchors
    resolvers, no_key, merge = _RESOLVERS, _NO_KEY, _MERGE
    frame = builder.frame
    while (cls := type(event := get_event())) is not StreamEndEvent:
        if cls is not ScalarEvent:
            handlers.get(cls, _skip)(event)
            frame = builder.frame
            continue
        value = event.value
        # Not ``tag``: a property that converts ``ctag`` on every read (scalar and collection-start events have
        # ``ctag`` in every ruamel.yaml this package accepts, >= 0.18.6).
        tag = event.ctag
        # A quoted scalar, or a plain one whose first character no implicit resolver claims, is the string itself.
        if tag is not None or (event.implicit[0] and (not value or value[0] in resolvers)):
            value = _converted(event, tag)
        if event.anchor is not None:
            anchors[event.anchor] = value
        container = frame[0]
        if type(container) is list:
            container.append(value)
        elif frame[3] is no_key:  # a key, as in _Builder.add (which does this for the other events)
            frame[3] = value
            if frame[4].setdefault(value, event) is not event:
                raise _duplicate_key(value, frame[4], event)
        else:  # the value of the pending key
            key = frame[3]
            frame[3] = no_key
            if key is merge:
                _add_merge(frame, value, event)
            else:
                container[key] = value
    return builder.document_value()


def _converted(event: Any, tag: Any) -> Any:
    """A scalar that is not the string as written, or may not be: a plain one that an implicit resolver may
    claim (null, a boolean, a number, a date, the merge key), or one with a tag of its own."""
    if tag is None:
        return _resolve_plain(event.value, event.start_mark)
    if str(tag) in _STR_TAGS:
        return event.value
    return _tagged_scalar(event)


def _skip(event: Any) -> None:
    """The events that build nothing: the stream's start, a document's end."""


class _Builder:
    """What :func:`build` knows between events; a method for each kind of event but scalars."""

    __slots__ = ("anchors", "copied", "documents", "frame", "max_depth", "max_values", "open_anchors", "stack")

    def __init__(self, max_depth: int, max_values: int) -> None:
        self.max_depth = max_depth
        self.max_values = max_values
        self.anchors: dict[str, Any] = {}
        self.open_anchors: set[str] = set()  # anchors of the containers being built: an alias to one is a cycle
        # frame: [container, anchor, start event, pending key, {key: its event}, merges]. The bottom frame is a
        # list that receives the document's value, so a value always has a container to go in.
        self.frame: list[Any] = [[], None, None, _NO_KEY, {}, []]  # the top of the stack
        self.stack: list[list[Any]] = [self.frame]
        self.documents = 0
        self.copied = 0  # values copied by merge keys so far

    def handlers(self) -> dict[type, Callable[[Any], None]]:
        """The method for each class of event but scalars (a new dict: the builder keeps no cycle to itself)."""
        return {
            MappingStartEvent: self.start, SequenceStartEvent: self.start,
            MappingEndEvent: self.end, SequenceEndEvent: self.end,
            AliasEvent: self.alias, DocumentStartEvent: self.document,
        }

    def document_value(self) -> Any:
        """The value of the (only) document; None when the stream holds none."""
        bottom = self.stack[0][0]
        return bottom[0] if bottom else None

    def start(self, event: Any) -> None:
        mapping = type(event) is MappingStartEvent
        tag = event.ctag  # as ``event.tag`` reads it, without the property
        if tag is not None and str(tag) not in (_MAP_TAGS if mapping else _SEQ_TAGS):
            raise _tag_error(event.tag, event.start_mark)
        if len(self.stack) > self.max_depth:  # the bottom frame holds no level of the file
            raise InputError.at(f"the file is nested more than {self.max_depth} levels deep", event.start_mark)
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.frame = [{} if mapping else [], event.anchor, event, _NO_KEY, {}, []]
        self.stack.append(self.frame)

    def end(self, event: Any) -> None:
        stack = self.stack
        container, anchor, start, _, _, merges = stack.pop()
        self.frame = stack[-1]
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
        container = frame[0]
        if type(container) is list:
            container.append(value)
        elif frame[3] is _NO_KEY:
            if isinstance(value, (dict, list)):
                raise InputError.at("a mapping key must be a plain value, not a mapping or a list", event.start_mark)
            frame[3] = value
            if frame[4].setdefault(value, event) is not event:
                raise _duplicate_key(value, frame[4], event)
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


def _duplicate_key(key: Any, first: dict[Any, Any], event: Any) -> InputError:
    """``first``: each key of the mapping, with the event that wrote it first."""
    return InputError.at(f"duplicate key {short(key)} (first at line {first[key].start_mark.line + 1})", event.start_mark)


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
        return _Positions().read(event_source(text, fast=fast))
    except Exception:  # positions are best effort: a message without one still names the file
        return None


#: The events of a node, which gets a position (its end's events close a collection).
_NODE_EVENTS = frozenset({ScalarEvent, AliasEvent, MappingStartEvent, SequenceStartEvent})


class _Positions:
    """What :func:`positions` knows between events: the collections open around the next node, and the
    positions found so far."""

    __slots__ = ("out", "stack")

    def __init__(self) -> None:
        self.out: dict[DataPath, Position] = {}
        self.stack: list[list[Any]] = []  # [is mapping, path, next index or pending key, key mark]

    def read(self, get_event: Callable[[], Any]) -> dict[DataPath, Position]:
        stack, place, nodes = self.stack, self.place, _NODE_EVENTS
        while (cls := type(event := get_event())) is not StreamEndEvent:
            if cls is MappingEndEvent or cls is SequenceEndEvent:
                stack.pop()
            elif cls in nodes and (path := place(event)) is not None:
                if cls is MappingStartEvent:
                    stack.append([True, path, _NO_KEY, None])
                elif cls is SequenceStartEvent:
                    stack.append([False, path, 0, None])
        return self.out

    def place(self, event: Any) -> DataPath | None:
        """Record where a node stands and return its path. A mapping's key is not placed: it becomes the
        mapping's pending key, and its value is placed under it (at the key when the value is null)."""
        mark = event.start_mark
        if not self.stack:
            self.out[()] = (mark.line, mark.column, mark.line, mark.column)
            return ()
        frame = self.stack[-1]
        if not frame[0]:
            path = (*frame[1], frame[2])
            frame[2] += 1
            self.out[path] = (mark.line, mark.column, mark.line, mark.column)
            return path
        if frame[2] is _NO_KEY:
            frame[2] = _key_of(event)
            frame[3] = mark
            return None
        path = (*frame[1], frame[2])
        key_mark = frame[3]
        frame[2] = _NO_KEY
        null = type(event) is ScalarEvent and event.ctag is None and event.implicit[0] and event.value in _NULLS
        value_mark = key_mark if null else mark
        self.out[path] = (key_mark.line, key_mark.column, value_mark.line, value_mark.column)
        return path


def _key_of(event: Any) -> Any:
    if type(event) is not ScalarEvent:
        return _NO_KEY  # build refuses complex keys, so this is not reached
    tag = event.ctag  # as ``event.tag`` reads it, without the property
    if tag is None and event.implicit[0]:
        return _resolve_plain(event.value, event.start_mark)
    if tag is None or str(tag) in _STR_TAGS:
        return event.value
    return _typed_scalar(event.value, event.start_mark)
