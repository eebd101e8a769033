"""How values read in every rendering: JSON literals, labelled lists as people write them, list deltas."""

from __future__ import annotations

import pytest

from reconciler.render.values import list_delta, show, show_field

EMAILS = "profile.emails"


@pytest.mark.parametrize(("value", "shown"), [
    ("", '""'), (None, "null"), (True, "true"), (3, "3"), ("Café ☕", '"Café ☕"'), (["a", 1], '["a", 1]'),
    ({"k": "v"}, '{"k": "v"}'),
])
def test_a_value_reads_as_its_json_literal(value, shown):
    assert show(value) == shown


def test_control_characters_in_a_value_are_escaped():
    assert show("a\u202eb") == r'"a\u202eb"'
    assert "\x1b" not in show("\x1b[2J") and "\n" not in show(["x\ny"])


def test_labelled_lists_read_as_people_write_them():
    value = [{"email": "a@x.example", "label": "Email"}, {"email": "b@x.example", "label": "Work"},
             {"email": "c@x.example", "label": None}, "odd"]
    assert show_field(EMAILS, value) == '["a@x.example", "b@x.example (Work)", "c@x.example", "odd"]'
    assert show_field("profile.websites", [{"website": "https://x.example", "label": "Website"}]) == '["https://x.example"]'
    assert show_field("profile.phone_numbers", [{"phone_number": "+15017122661", "label": "Desk"}]) == (
        '["+15017122661 (Desk)"]')


@pytest.mark.parametrize(("path", "value"), [("profile.about", "x"), (EMAILS, "not a list"), ("profile.name", ["a"])])
def test_other_values_read_as_json(path, value):
    assert show_field(path, value) == show(value)


def _emails(*items: str) -> list[dict[str, str]]:
    return [{"email": e.split(" ")[0], "label": e.split(" ")[1] if " " in e else "Email"} for e in items]


def test_a_list_delta_names_the_items_added_and_removed():
    assert sorted(list_delta(EMAILS, _emails("a@x.example", "b@x.example"), _emails("b@x.example", "c@x.example"))) == [
        '+ "c@x.example"', '- "a@x.example"']
    assert list_delta(EMAILS, _emails("a@x.example"), _emails("a@x.example Work")) == [
        '+ "a@x.example (Work)"', '- "a@x.example"']


def test_a_list_delta_counts_repeated_items():
    assert list_delta(EMAILS, _emails("a@x.example"), _emails("a@x.example", "a@x.example", "a@x.example")) == [
        '+ "a@x.example" ×2']
    assert list_delta(EMAILS, _emails("a@x.example", "a@x.example"), _emails("a@x.example")) == ['- "a@x.example" ×1']


def test_a_list_in_a_new_order_says_so():
    assert list_delta(EMAILS, _emails("a@x.example", "b@x.example"), _emails("b@x.example", "a@x.example")) == [
        "(same items, new order)"]


@pytest.mark.parametrize(("path", "before", "after"), [
    (EMAILS, [], _emails("a@x.example")),        # a list filled or emptied: the whole value says it
    (EMAILS, _emails("a@x.example"), []),
    (EMAILS, None, _emails("a@x.example")),
    ("profile.about", ["a"], ["b"]),              # not a labelled list
])
def test_no_delta_where_the_values_say_it_all(path, before, after):
    assert list_delta(path, before, after) == []
