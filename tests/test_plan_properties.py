"""Property: applying a plan to the live state and planning again gives an empty plan.

The live state here is changed by a small model of the API's documented behaviour (partial merge,
default labels, a new display name going to review), so the property exercises the plan's bodies,
not just its bookkeeping. The same property against the real emulator lives in the integration tests.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.models import DEFAULT_LABELS, LIST_ITEM_KEYS, DesiredSender, DesiredState, LiveSender
from reconciler.plan import Plan, build_plan
from tests.factories import number

NUMBERS = [number(i) for i in range(2661, 2671)]
Record = dict[str, Any]
text = st.text(alphabet="abcdefgh XYZ", max_size=12)
urls = st.sampled_from(["", "https://a.example", "https://b.example/x", "http://c.example"])
labelled = st.fixed_dictionaries({"email": st.just("c@example.net"), "label": st.sampled_from(["Work", "Email"])})
emails = st.lists(st.one_of(st.sampled_from(["a@example.com", "b@example.org"]), labelled), max_size=2)

profile = st.fixed_dictionaries({}, optional={
    "name": st.text(alphabet="abcdef", min_size=1, max_size=8),
    "about": text, "description": text,
    "vertical": st.sampled_from(["Other", "Education", "Restaurant"]),
    "emails": emails,
    "websites": st.lists(st.sampled_from(["https://a.example", "https://b.example"]), max_size=2),
})
webhook = st.fixed_dictionaries({}, optional={"callback_url": urls, "callback_method": st.sampled_from(["POST", "PUT"]),
                                              "fallback_url": urls})


@st.composite
def desired_sender(draw: st.DrawFn, sender_id: str) -> DesiredSender:
    sections: dict[str, dict[str, Any]] = draw(st.fixed_dictionaries({}, optional={"profile": profile, "webhook": webhook}))
    sections.setdefault("profile", {}).setdefault("name", "Name")
    return DesiredSender.model_validate({"sender_id": sender_id, **sections})


@st.composite
def live_sender(draw: st.DrawFn, sender_id: str, index: int) -> Record:
    return {
        "sid": f"XE{index:032x}",
        "sender_id": sender_id,
        "status": draw(st.sampled_from(["ONLINE", "OFFLINE", "CREATING", "SOMETHING_NEW"])),
        "profile": {"name": draw(st.sampled_from(["Name", "Old"])), "about": draw(st.one_of(st.none(), text)),
                    "emails": draw(st.one_of(st.none(), st.just([{"email": "a@example.com", "label": "Email"}])))},
        "webhook": {"callback_url": draw(st.one_of(st.none(), urls)), "callback_method": "POST"},
    }


@st.composite
def scenario(draw: st.DrawFn) -> tuple[DesiredState, list[Record]]:
    ids = draw(st.lists(st.sampled_from(NUMBERS), unique=True, max_size=6))
    live_ids = draw(st.lists(st.sampled_from(NUMBERS), unique=True, max_size=6))
    desired = [draw(desired_sender(i)) for i in ids]
    live = [draw(live_sender(i, n)) for n, i in enumerate(live_ids)]
    ignore = draw(st.lists(st.sampled_from([i for i in NUMBERS if i not in ids] or NUMBERS[:1]), unique=True, max_size=2))
    ignore = [i for i in ignore if i not in ids]
    return DesiredState(senders=tuple(desired), ignore=frozenset(ignore)), live


def api_merge(record: Record, body: dict[str, Any]) -> None:
    """The API's partial merge: sent fields replace, omitted ones stay; labels filled in; names go to review."""
    for section, fields in body.items():
        if section == "sender_id":
            continue
        target = record.setdefault(section, {}) or {}
        record[section] = target
        for name, value in fields.items():
            if name in LIST_ITEM_KEYS:
                key = LIST_ITEM_KEYS[name]
                value = [{key: v, "label": DEFAULT_LABELS[name]} if isinstance(v, str) else
                         {key: v[key], "label": v.get("label") or DEFAULT_LABELS[name]} for v in value]
            if section == "profile" and name == "name" and target.get("name") not in (None, value) and "sid" in record:
                record["pending_display_name"] = value
                record["pending_display_name_status"] = "PENDING_REVIEW"
                continue
            target[name] = value


def simulate_apply(plan: Plan, live: list[Record]) -> list[Record]:
    by_id = {s["sender_id"]: copy.deepcopy(s) for s in live}
    for n, action in enumerate(plan.allowed_actions):
        if action.action == "delete":
            by_id.pop(action.sender_id)
        elif action.action == "create":
            record = {"sid": f"XE{1000 + n:032x}", "sender_id": action.sender_id, "status": "CREATING"}
            api_merge(record, action.body)
            by_id[action.sender_id] = record
        else:
            api_merge(by_id[action.sender_id], action.body)
    return list(by_id.values())


@settings(max_examples=300)
@given(scenario(), st.booleans())
def test_apply_then_plan_is_empty(case: tuple[DesiredState, list[Record]], allow_delete: bool) -> None:
    desired, live = case
    plan = build_plan(desired, [LiveSender.model_validate(s) for s in live], allow_delete=allow_delete)
    after = simulate_apply(plan, live)
    again = build_plan(desired, [LiveSender.model_validate(s) for s in after], allow_delete=allow_delete)
    assert again.allowed_actions == ()
    # Only gated deletes may remain, and only when deletes were not allowed.
    assert all(a.action == "delete" and not allow_delete for a in again.actions)


@settings(max_examples=200)
@given(scenario())
def test_plan_never_touches_unmanaged_fields_or_ignored_senders(case: tuple[DesiredState, list[Record]]) -> None:
    desired, live = case
    plan = build_plan(desired, [LiveSender.model_validate(s) for s in live], allow_delete=True)
    managed = {s.sender_id: set(s.managed_fields()) for s in desired.senders}
    for action in plan.actions:
        assert action.sender_id not in desired.ignore
        if action.action == "update":
            sent = {f"{sec}.{name}" for sec, fields in action.body.items() for name in fields}
            assert sent <= managed[action.sender_id]
