"""``reconciler/config/events.py``: parser events → plain values and positions, with both parsers.

Unit tests of ``build`` with its own limits, ``positions``, ``short`` and ``InputError``; what a whole file
becomes (and how the reader words the parsers' own errors) is tests/test_config_reader.py's and
tests/test_config.py's.
"""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.config import events
from reconciler.config.events import InputError, build, event_source, positions, short

PARSERS = [pytest.param(True, id="C parser"), pytest.param(False, id="pure parser")]
if not events.HAS_C_PARSER:  # pragma: no cover - ruamel.yaml.clib is a dependency
    PARSERS = PARSERS[1:]


def values(text: str, fast: bool, *, max_depth: int = 64, max_values: int = 1000) -> Any:
    return build(event_source(text, fast=fast), max_depth=max_depth, max_values=max_values)


def refusal(text: str, fast: bool, **limits: int) -> tuple[str, int | None, int | None]:
    with pytest.raises(InputError) as caught:
        values(text, fast, **limits)
    return caught.value.message, caught.value.line, caught.value.column


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("fast", PARSERS)
def test_an_empty_stream_has_no_value(fast: bool) -> None:
    assert values("", fast) is None
    assert values("# only a comment\n", fast) is None
    assert values("---\n...\n", fast) is None


@pytest.mark.parametrize("fast", PARSERS)
def test_nesting_is_allowed_up_to_the_limit_and_refused_one_level_past_it(fast: bool) -> None:
    assert values("a: {b: [1]}\n", fast, max_depth=3) == {"a": {"b": [1]}}
    assert refusal("a: {b: [[1]]}\n", fast, max_depth=3) == ("the file is nested more than 3 levels deep", 1, 9)


@pytest.mark.parametrize("fast", PARSERS)
def test_merge_keys_give_way_to_the_mapping_s_own_keys_and_the_first_named_wins(fast: bool) -> None:
    text = ("base: &base {a: 1, b: 1, c: 1}\nother: &other {b: 2, d: 2}\n"
            "own: {<<: [*other, *base], c: 3}\none: {<<: *base, a: 0}\n")
    data = values(text, fast)
    assert data["own"] == {"a": 1, "b": 2, "c": 3, "d": 2}
    assert data["one"] == {"a": 0, "b": 1, "c": 1}
    assert data["base"] == {"a": 1, "b": 1, "c": 1}  # a merge copies: the anchored mapping is left as it was
    assert data == YAML(typ="safe", pure=True).load(text)


@pytest.mark.parametrize("fast", PARSERS)
@pytest.mark.parametrize("merged", ["1", "[1]", "'text'", "[{a: 1}, [2]]"])
def test_a_merge_key_takes_only_mappings(fast: bool, merged: str) -> None:
    message, line, column = refusal(f"x:\n  <<: {merged}\n", fast)
    assert (message, line) == ("'<<' merges a mapping or a list of mappings", 2)
    assert column is not None and column >= 7


@pytest.mark.parametrize("fast", PARSERS)
def test_merges_count_every_value_they_copy_against_the_limit(fast: bool) -> None:
    text = "a: &a {x: 1, y: 2, z: 3}\nb: {<<: *a}\nc: {<<: *a}\n"
    assert values(text, fast, max_values=6)["c"] == {"x": 1, "y": 2, "z": 3}
    assert refusal(text, fast, max_values=5) == (
        "merge keys ('<<') copy more than 5 values; refusing a possible merge bomb", 3, 4)


@pytest.mark.parametrize("fast", PARSERS)
def test_an_anchored_scalar_is_reused_by_its_alias(fast: bool) -> None:
    assert values("a: &name Acme\nb: *name\nc: [*name]\n", fast) == {"a": "Acme", "b": "Acme", "c": ["Acme"]}


@pytest.mark.parametrize("fast", PARSERS)
def test_a_duplicate_key_is_refused_whatever_its_value(fast: bool) -> None:
    assert refusal("a: [1]\nb: 2\na: {c: 3}\n", fast) == ("duplicate key 'a' (first at line 1)", 3, 1)
    assert refusal("- {1: x, 1: y}\n", fast)[0] == "duplicate key 1 (first at line 1)"
    # Keys compare as values: a quoted "1" is not the number 1.
    assert values("{1: x, '1': y}\n", fast) == {1: "x", "1": "y"}


@pytest.mark.parametrize("fast", PARSERS)
@pytest.mark.parametrize(("text", "value"), [
    ("a: !!str 5\n", "5"),
    ("a: !!int '7'\n", 7),
    ("a: !!float '1.5'\n", 1.5),
    ("a: !!float 1\n", 1.0),  # an integer written where a float is asked for, as ruamel reads it
    ("a: !!bool 'true'\n", True),
    ("a: !!null ''\n", None),
    ("a: !!map {b: 1}\n", {"b": 1}),
    ("a: !!seq [1]\n", [1]),
])
def test_the_core_tags_read_as_ruamel_s_safe_loader_reads_them(fast: bool, text: str, value: Any) -> None:
    got = values(text, fast)["a"]
    assert got == value and type(got) is type(value)
    assert YAML(typ="safe", pure=True).load(text)["a"] == value


@pytest.mark.parametrize("fast", PARSERS)
@pytest.mark.parametrize(("text", "message"), [
    ("a: !!int 1.5\n", "'1.5' is not a valid !!int"),
    ("a: !!bool yes\n", "'yes' is not a valid !!bool"),
    ("a: !!seq {b: 1}\n", "tag '!!seq' is not allowed: only plain YAML values are read"),
    ("a: !!map [1]\n", "tag '!!map' is not allowed: only plain YAML values are read"),
    ("a: !!timestamp 2024-01-31\n", "tag '!!timestamp' is not allowed: only plain YAML values are read"),
])
def test_a_tag_that_does_not_fit_its_value_is_refused_at_the_value(fast: bool, text: str, message: str) -> None:
    assert refusal(text, fast) == (message, 1, 4)


def test_both_parsers_build_the_same_values() -> None:
    text = ("senders:\n  - sender_id: 'whatsapp:+15017122661'\n    profile: &p {name: Acme, about: ~, vertical: ''}\n"
            "  - {sender_id: \"whatsapp:+15017122662\", profile: *p}\nsafety: {max_delete_percent: 12.5, min_senders: 0x10}\n"
            "when: 2024-01-31\nflags: [true, False, null, .inf]\n")
    fast, pure = (values(text, parser) for parser in (True, False))
    assert fast == pure == YAML(typ="safe", pure=True).load(text)
    assert fast["senders"][1]["profile"] is fast["senders"][0]["profile"]


# --------------------------------------------------------------------------- positions


@pytest.mark.parametrize("fast", PARSERS)
def test_positions_put_a_value_under_its_key_and_a_null_at_the_key(fast: bool) -> None:
    text = "senders:\n  - sender_id: x\n    about:\n    tags: [a, ~]\n"
    marks = positions(text, fast=fast)
    assert marks is not None
    assert marks[()] == (0, 0, 0, 0)
    assert marks[("senders",)] == (0, 0, 1, 2)
    assert marks[("senders", 0)] == (1, 4, 1, 4)
    assert marks[("senders", 0, "sender_id")] == (1, 4, 1, 15)
    assert marks[("senders", 0, "about")] == (2, 4, 2, 4)  # null: placed at its key
    assert marks[("senders", 0, "tags", 1)] == (3, 14, 3, 14)  # an item has no key: its own place


@pytest.mark.parametrize("fast", PARSERS)
def test_an_alias_is_placed_where_it_stands_and_what_it_holds_is_not(fast: bool) -> None:
    marks = positions("a: &x {b: 1}\nc: *x\n", fast=fast)
    assert marks is not None
    assert marks[("c",)] == (1, 0, 1, 3)
    assert ("a", "b") in marks and ("c", "b") not in marks


@pytest.mark.parametrize("fast", PARSERS)
def test_keys_in_positions_are_the_values_build_gives(fast: bool) -> None:
    marks = positions("1: a\n'2': b\ntrue: c\n", fast=fast)
    assert marks is not None and {(1,), ("2",), (True,)} <= set(marks)


def test_positions_of_text_no_parser_reads_are_unknown_not_an_error() -> None:
    assert positions("a: [\n", fast=False) is None
    assert positions("a: b: c\n", fast=True) is None


# --------------------------------------------------------------------------- messages


def test_short_cuts_long_values_and_survives_a_value_too_deep_to_show() -> None:
    assert short("abc") == "'abc'"
    assert short("x" * 100) == "'" + "x" * 56 + "..."
    assert len(short("x" * 100, limit=10)) == 10
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    assert short(deep) == "<deeply nested value>"


def test_an_input_error_is_at_a_1_based_place_or_none() -> None:
    class Mark:
        line, column = 0, 4

    assert (InputError.at("bad", Mark()).line, InputError.at("bad", Mark()).column) == (1, 5)
    unplaced = InputError.at("bad", None)
    assert (str(unplaced), unplaced.message, unplaced.line, unplaced.column) == ("bad", "bad", None, None)
