"""Shapes of JSON values read back from a file: each refusal one line, naming the value's place."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler import shapes

SHAPE = shapes.members({
    "name": shapes.text(null=True),
    "kind": shapes.one_of(("a", "b"), "a or b"),
    "items": shapes.list_of(shapes.list_of(shapes.anything, length=2)),
    "count": shapes.count(),
    "on": shapes.flag(),
    "prints": shapes.mapping(shapes.text()),
}, optional=("on",))
GOOD: dict[str, Any] = {"name": None, "kind": "a", "items": [[1, {"x": []}]], "count": 0, "prints": {"k": "v"}}


def test_a_value_of_its_shape_passes() -> None:
    SHAPE(GOOD, "")
    SHAPE({**GOOD, "on": False, "extra": object()}, "doc")  # other members are not looked at


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": 5}, "doc.name: expected a string or null, not the number 5"),
        ({"kind": "c\n- forged"}, "doc.kind: 'c\\n- forged' is not a or b"),
        ({"kind": ["a"]}, "doc.kind: ['a'] is not a or b"),
        ({"items": [[1]]}, "doc.items[0]: expected a list of 2, not a list"),
        ({"items": "ab"}, "doc.items: expected a list, not the string 'ab'"),
        ({"count": 1.0}, "doc.count: expected a whole number, 0 or more, not the number 1.0"),
        ({"count": False}, "doc.count: expected a whole number, 0 or more, not false"),
        ({"on": "yes"}, "doc.on: expected true or false, not the string 'yes'"),
        ({"prints": {"\u202e": None}}, "doc.prints['\\u202e']: expected a string, not null"),
        ({"name": "x" * 100, "count": None}, "doc.count: expected a whole number, 0 or more, not null"),
    ],
)
def test_each_refusal_names_the_place_and_quotes_safely(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        SHAPE({**GOOD, **change}, "doc")
    assert str(caught.value) == message


def test_a_missing_member_and_a_value_that_is_no_object() -> None:
    with pytest.raises(ValueError, match=r"^kind: missing$"):
        SHAPE({k: v for k, v in GOOD.items() if k != "kind"}, "")
    with pytest.raises(ValueError, match=r"^the document: expected an object, not a list$"):
        SHAPE([], "")


def test_long_values_are_cut() -> None:
    assert shapes.kind("y" * 100) == "the string '" + "y" * 38 + "…"
