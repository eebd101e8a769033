"""JSON values read back from a file, checked against the shape they were written in; nothing else of ours.

    SHAPE = members({"sid": text(null=True), "changes": list_of(members({"path": one_of(PATHS, "a field")}))})
    SHAPE(doc, "accounts[0]")   # ValueError: accounts[0].changes[1].path: 'x' is not a field

A shape is a function of the value and its place; every refusal is one line that starts with the place
and says what was expected, quoting the value only when it is short, through ``repr`` (so on one line,
with every character that is not printable escaped): a file that was edited may hold anything.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

#: Checks one value at its place (``actions[0].sid``); raises ValueError naming the place and what is wrong.
Shape = Callable[[Any, str], None]


def anything(_value: Any, _where: str) -> None:
    """Any JSON value."""


def text(*, null: bool = False) -> Shape:
    """A string (or null)."""
    return _of(str, "a string or null" if null else "a string", null)


def flag() -> Shape:
    """true or false."""
    return _of(bool, "true or false", False)


def count() -> Shape:
    """A whole number, 0 or more (not true or false)."""
    def check(value: Any, where: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{where}: expected a whole number, 0 or more, not {kind(value)}")

    return check


def one_of(allowed: Collection[str], words: str, *, null: bool = False) -> Shape:
    """One of the ``allowed`` strings (or null); a refusal says the value is not ``words``."""
    def check(value: Any, where: str) -> None:
        if not (value is None and null) and (not isinstance(value, str) or value not in allowed):
            raise ValueError(f"{where}: {shown(value)} is not {words}")

    return check


def list_of(item: Shape, *, length: int | None = None) -> Shape:
    """A list whose items are ``item`` (exactly ``length`` of them, when given)."""
    def check(value: Any, where: str) -> None:
        if not isinstance(value, list) or (length is not None and len(value) != length):
            raise ValueError(f"{where}: expected a list{f' of {length}' if length else ''}, not {kind(value)}")
        for i, one in enumerate(value):
            item(one, f"{where}[{i}]")

    return check


def members(shapes: Mapping[str, Shape], *, optional: Collection[str] = ()) -> Shape:
    """An object holding each of ``shapes``' members (unless ``optional``), each of its shape; others are ignored."""
    def check(value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise ValueError(f"{where or 'the document'}: expected an object, not {kind(value)}")
        for key, shape in shapes.items():
            place = f"{where}.{key}" if where else key
            if key in value:
                shape(value[key], place)
            elif key not in optional:
                raise ValueError(f"{place}: missing")

    return check


def mapping(values: Shape | None = None) -> Shape:
    """An object with any keys, each value of shape ``values`` (anything, when not given)."""
    def check(value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object, not {kind(value)}")
        if values is not None:
            for key, one in value.items():
                values(one, f"{where}[{shown(key)}]")

    return check


def kind(value: Any) -> str:
    """What a JSON value is, in words: ``null``, ``the number 5``, ``the string 'x'``, ``a list``..."""
    if value is None or isinstance(value, bool):
        return "null" if value is None else str(value).lower()
    if isinstance(value, (int, float, str)):
        return f"{'the string' if isinstance(value, str) else 'the number'} {shown(value)}"
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else type(value).__name__


def shown(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters: on one line, every character that is not printable escaped."""
    quoted = repr(value)
    return quoted if len(quoted) <= limit else quoted[: limit - 1] + "…"


def _of(kind_: type, words: str, null: bool) -> Shape:
    def check(value: Any, where: str) -> None:
        if not (value is None and null) and not isinstance(value, kind_):
            raise ValueError(f"{where}: expected {words}, not {kind(value)}")

    return check
