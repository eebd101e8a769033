"""Renderers are pure: a plan in, a string out."""

from __future__ import annotations

import json
import re

from reconciler.models import DesiredState
from reconciler.plan import Plan, build_plan
from reconciler.render import render_json, render_markdown, render_text
from tests.factories import A, B, C, desired, live, number, state

SID_A, SID_C = "XE" + "a" * 32, "XE" + "c" * 32


def sample_plan(allow_delete: bool = False) -> Plan:
    wanted = state(
        desired(A, profile={"name": "Acme", "about": "new"}),
        desired(B, profile={"name": "Beta"}, webhook={"callback_url": "https://h.example/b"}),
    )
    current = [live(A, sid=SID_A, profile={"name": "Acme", "about": "old"}), live(C, sid=SID_C)]
    return build_plan(wanted, current, allow_delete=allow_delete)


def test_text_in_terraform_style() -> None:
    text = render_text(sample_plan())
    assert f"  ~ {A} (update, {SID_A}, status ONLINE)" in text
    assert '      ~ profile.about: "old" → "new"' in text
    assert f"  + {B} (create)" in text and '      + webhook.callback_url: "https://h.example/b"' in text
    assert f"  - {C} (delete, {SID_C}, status ONLINE, gated: pass --allow-delete)" in text
    assert text.rstrip().splitlines()[-1] == "Plan: 1 to create, 1 to update, 1 to delete (1 gated: pass --allow-delete)."
    assert "\x1b[" not in text


def test_text_colour_only_when_asked() -> None:
    assert "\x1b[32m" in render_text(sample_plan(), color=True)


def test_text_no_changes() -> None:
    plan = build_plan(DesiredState(), [])
    assert render_text(plan).startswith("No changes.")


def test_json_contract() -> None:
    doc = json.loads(render_json(sample_plan()))
    assert doc["format_version"] == "1"
    assert doc["summary"] == {"create": 1, "update": 1, "delete": 1, "pool": 0}
    assert doc["applyable"] is True
    update = next(a for a in doc["actions"] if a["action"] == "update")
    assert update == {"action": "update", "sender_id": A, "sid": SID_A, "allowed": True, "status": "ONLINE",
                      "note": None, "changes": [{"path": "profile.about", "before": "old", "after": "new"}]}
    delete = next(a for a in doc["actions"] if a["action"] == "delete")
    assert delete["allowed"] is False and delete["changes"] == []


def test_markdown_summary_table_and_details() -> None:
    md = render_markdown(sample_plan())
    lines = md.splitlines()
    assert lines[0] == "### reconciler plan"
    assert "**Plan: 1 to create, 1 to update, 1 to delete (1 gated: pass --allow-delete).**" in md
    assert f"| ~ | `{A}` | update | profile.about |" in md
    assert f"<details><summary>- <code>{C}</code> (delete, gated)</summary>" in md
    assert md.index("**Plan:") < md.index("| --- |") < md.index("<details>")


def test_markdown_is_trimmed_from_details_never_the_summary() -> None:
    senders = (desired(number(i), profile={"name": "N", "about": "x" * 130}) for i in range(2000, 2400))
    plan = build_plan(state(*senders), [])
    full = render_markdown(plan, limit=10**9)
    assert len(full) > 65_536
    md = render_markdown(plan)
    assert len(md) <= 65_536
    assert "**Plan: 400 to create, 0 to update, 0 to delete.**" in md
    assert "more actions were left out" in md
    # Every action still has its table row when the details alone make room.
    assert md.count("| + |") == 400


def test_markdown_trims_rows_when_details_are_not_enough() -> None:
    plan = build_plan(state(*(desired(number(i), profile={"name": "N"}) for i in range(2000, 3000))), [])
    md = render_markdown(plan, limit=5_000)
    assert len(md) <= 5_000 and "**Plan: 1000 to create" in md and "more actions not shown" in md


def test_labelled_lists_read_as_people_write_them() -> None:
    wanted = state(desired(A, profile={"emails": ["a@acme.example", {"email": "b@acme.example", "label": "Work"}]}))
    current = [live(A, profile={"emails": [{"email": "a@acme.example", "label": "Email"}]})]
    text = render_text(build_plan(wanted, current))
    assert '~ profile.emails: ["a@acme.example"] → ["a@acme.example", "b@acme.example (Work)"]' in text
    doc = json.loads(render_json(build_plan(wanted, current)))
    assert doc["actions"][0]["changes"][0]["after"][1] == {"email": "b@acme.example", "label": "Work"}


def test_list_changes_name_the_items_added_and_removed() -> None:
    before = [{"email": "a@acme.example", "label": "Email"}, {"email": "old@acme.example", "label": "Email"}]
    after = [{"email": "a@acme.example", "label": "Email"}, {"email": "b@acme.example", "label": "Work"}]
    plan = build_plan(state(desired(A, profile={"emails": after})), [live(A, profile={"emails": before})])
    lines = render_text(plan).splitlines()
    i = next(n for n, line in enumerate(lines) if "~ profile.emails:" in line)
    assert lines[i + 1:i + 3] == ['          + "b@acme.example (Work)"', '          - "old@acme.example"']


def test_reordered_list_says_so() -> None:
    items = [{"website": "https://a.example", "label": "Website"}, {"website": "https://b.example", "label": "Website"}]
    plan = build_plan(state(desired(A, profile={"websites": items[::-1]})), [live(A, profile={"websites": items})])
    assert "(same items, new order)" in render_text(plan)


def test_json_documents_write_what_a_terminal_would_obey_as_escapes() -> None:
    hostile = "a\x1b[2J\x9b31m\u202eb\u2028c\\\u2066"
    plan = build_plan(state(), [live(A, sid="XE" + "1" * 32, status=hostile, profile={"name": hostile})], allow_delete=True)
    text = render_json(plan)
    assert not re.search("[\x7f-\x9f\u2028\u202e\u2066]", text)
    assert "\\u009b31m\\u202eb\\u2028c\\\\\\u2066" in text
    assert json.loads(text)["actions"][0]["status"] == hostile  # the same document to a JSON reader


def test_error_lines_are_one_line_each_escaped() -> None:
    from reconciler.errors import ConfigError, ConfigIssue, Location, PlanFileError
    from reconciler.render import error_lines
    from reconciler.render.words import config_error_lines

    assert error_lines(PlanFileError("plan\x1b[2J.json: x\n- forged")) == ["Error: plan\\x1b[2J.json: x\\n- forged"]
    named = ConfigError([ConfigIssue(Location("a\x1b[31m.yaml", 1, 1), "bad")])
    assert error_lines(named)[0] == config_error_lines(named)[0] == "a\\x1b[31m.yaml:1:1: bad"
