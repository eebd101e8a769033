"""reconciler.diff: normalised values, the fields that changed, and the API's nested body shape.

``changed_paths`` names the same fields DeepDiff's ``affected_root_keys`` does, for the values of
managed fields: strings and lists of labelled objects of strings. (Inside lists DeepDiff pairs items
by hash, so it misses ``True`` against ``1`` there; changed_paths reports it.)
"""

from __future__ import annotations

from typing import Any

from deepdiff import DeepDiff
from hypothesis import given
from hypothesis import strategies as st

from reconciler.diff import (
    FieldChange,
    changed_paths,
    desired_view,
    fingerprint,
    nest,
    normalise,
    plan_create,
    plan_delete,
    plan_update,
    sender_changes,
)
from tests.factories import A, desired, live

# --------------------------------------------------------------------------- normalise


def test_labelled_lists_get_their_default_labels() -> None:
    assert normalise("profile.websites", ["https://a.example"]) == [{"website": "https://a.example", "label": "Website"}]
    assert normalise("profile.emails", [{"email": "a@x.example"}, {"email": "b@x.example", "label": None},
                                        {"email": "c@x.example", "label": "Work"}]) == [
        {"email": "a@x.example", "label": "Email"}, {"email": "b@x.example", "label": "Email"},
        {"email": "c@x.example", "label": "Work"}]


def test_unset_reads_as_empty() -> None:
    assert normalise("profile.websites", None) == [] and normalise("profile.emails", "") == []
    assert normalise("profile.about", None) == "" and normalise("webhook.fallback_url", None) == ""


def test_set_values_are_kept_as_they_are() -> None:
    assert normalise("profile.about", "Hi") == "Hi"
    assert normalise("configuration.waba_id", "123") == "123"
    assert normalise("profile.about", 0) == 0  # not "": only a null means "not set"


# --------------------------------------------------------------------------- nest


def test_nest_groups_flat_paths_by_section() -> None:
    flat = {"profile.about": "a", "webhook.callback_url": "https://h.example", "profile.name": "N"}
    assert nest(flat) == {"profile": {"about": "a", "name": "N"}, "webhook": {"callback_url": "https://h.example"}}
    assert nest({}) == {}


# --------------------------------------------------------------------------- sender_changes


def test_labels_only_difference_is_no_change() -> None:
    d = desired(profile={"emails": ["a@example.com"], "websites": ["https://a.example"]})
    current = live(profile={"emails": [{"email": "a@example.com", "label": "Email"}],
                            "websites": [{"website": "https://a.example", "label": "Website"}]})
    assert sender_changes(d, current) == []


def test_custom_label_differs() -> None:
    d = desired(profile={"emails": [{"email": "a@example.com", "label": "Work"}]})
    current = live(profile={"emails": [{"email": "a@example.com", "label": "Email"}]})
    (change,) = sender_changes(d, current)
    assert change.path == "profile.emails"
    assert change.after == [{"email": "a@example.com", "label": "Work"}]


def test_a_desired_sender_is_already_normalised() -> None:
    """desired_view skips normalise: a validated sender's managed fields are what normalise would make of them."""
    d = desired(friendly_name="Desk", configuration={"account_type": ""}, webhook={"fallback_url": ""},
                profile={"about": "", "emails": ["a@example.com", {"email": "b@example.com", "label": ""},
                                                 {"email": "c@example.com", "label": "Work"}],
                         "websites": [], "phone_numbers": ["+15017122662"]})
    fields = d.managed_fields()
    assert desired_view(d) == {path: normalise(path, value) for path, value in fields.items()}
    assert fields["profile.emails"] == [{"email": "a@example.com", "label": "Email"},
                                        {"email": "b@example.com", "label": "Email"},
                                        {"email": "c@example.com", "label": "Work"}]
    assert fields["profile.websites"] == [] and fields["webhook.fallback_url"] == ""


def test_unmanaged_fields_are_never_compared() -> None:
    d = desired(profile={"about": "Hi"})
    current = live(profile={"about": "Hi", "description": "anything", "name": "Other"},
                   webhook={"callback_url": "https://x.example"})
    assert sender_changes(d, current) == []
    assert sender_changes(desired(), current) == []  # a sender that manages nothing never changes


def test_empty_string_equals_null_live_value() -> None:
    d = desired(webhook={"fallback_url": ""})
    assert sender_changes(d, live(webhook={"fallback_url": None})) == []
    assert sender_changes(d, live(webhook=None)) == []
    (change,) = sender_changes(d, live(webhook={"fallback_url": "https://f.example"}))
    assert change == FieldChange("webhook.fallback_url", "https://f.example", "")


def test_changes_hold_normalised_values_in_the_order_of_the_managed_fields() -> None:
    d = desired(webhook={"callback_url": "https://new.example"},
                profile={"websites": ["https://a.example"], "about": "new", "name": "Same"})
    current = live(profile={"name": "Same", "about": "old"}, webhook={"callback_url": "https://old.example"})
    changes = sender_changes(d, current)
    assert [c.path for c in changes] == [p for p in d.managed_fields() if p != "profile.name"]
    by_path = {c.path: c for c in changes}
    assert by_path["profile.websites"] == FieldChange(
        "profile.websites", [], [{"website": "https://a.example", "label": "Website"}])
    assert by_path["profile.about"] == FieldChange("profile.about", "old", "new")
    assert by_path["webhook.callback_url"] == FieldChange("webhook.callback_url", "https://old.example", "https://new.example")


def test_a_reordered_list_is_a_change() -> None:
    sites = ["https://a.example", "https://b.example"]
    current = live(profile={"websites": [{"website": w, "label": "Website"} for w in sites]})
    (change,) = sender_changes(desired(profile={"websites": sites[::-1]}), current)
    assert change.path == "profile.websites" and [w["website"] for w in change.after] == sites[::-1]


# --------------------------------------------------------------------------- changed_paths

scalars = st.none() | st.integers(-2, 2) | st.sampled_from(["", "a", "b", "POST", "Website"])
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["email", "label", "x"]), inner, max_size=3),
    max_leaves=6,
)
paths = st.sampled_from(["profile.about", "profile.emails", "webhook.callback_url", "configuration.waba_id"])


@given(st.dictionaries(paths, values, min_size=1), st.data())
def test_same_fields_as_deepdiff(want: dict[str, Any], data: st.DataObject) -> None:
    have = {path: data.draw(values | st.just(value)) for path, value in want.items()}
    expected = DeepDiff(have, want, verbose_level=0).affected_root_keys
    assert changed_paths(have, want) == [path for path in want if path in expected]


def test_equal_values_of_another_type_count_as_changed() -> None:
    assert changed_paths({"a": 1, "b": [True]}, {"a": 1.0, "b": [1]}) == ["a", "b"]
    assert changed_paths({"a": "x", "b": [{"email": "e"}]}, {"a": "x", "b": [{"email": "e"}]}) == []
    assert changed_paths({}, {"a": ""}) == ["a"]  # a path missing on one side differs from any value


def test_fingerprint_ignores_status_but_not_fields() -> None:
    a = live(A, profile={"about": "x"})
    assert fingerprint(a) == fingerprint(live(A, status="ONLINE:UPDATING", profile={"about": "x"}))
    assert fingerprint(a) != fingerprint(live(A, profile={"about": "y"}))
    assert fingerprint(None) == "absent"


def test_an_action_carries_the_fingerprint_of_the_live_sender_it_was_planned_from() -> None:
    current = live(A, profile={"about": "old"})
    update, problem, _ = plan_update(desired(A, profile={"name": "Acme", "about": "new"}), current)
    assert problem is None and update is not None and update.planned_from == fingerprint(current)
    assert plan_delete(current, allowed=False).planned_from == fingerprint(current)
    create, _ = plan_create(desired(A, profile={"name": "Acme"}))
    assert create is not None and create.planned_from == "absent"
