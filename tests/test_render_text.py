"""``reconciler/render/text.py``: the plan as text for people (Terraform's layout).

Its promises beyond the layout tests/test_render.py checks: the summary line and its gated count, each
heading's parts, notices and problems in their own sections, a closing line that never says "no changes"
about a sender it could not plan, and one line per item whatever a file or the API wrote.
"""

from __future__ import annotations

from reconciler.diff import Action, FieldChange, Notice, Problem
from reconciler.plan import Plan
from reconciler.render.text import blocked_count, closing_line, heading, render_text, summary_line
from tests.factories import A, B, C

SID = "XE" + "a" * 32
HOSTILE = "evil\x1b[31m\nline\u202e"


def test_the_summary_line_counts_each_kind_and_the_gated_deletes() -> None:
    plan = Plan(actions=(Action("create", A), Action("delete", B, allowed=False), Action("delete", C, allowed=False)))
    assert summary_line(plan) == "Plan: 1 to create, 0 to update, 2 to delete (2 gated: pass --allow-delete)."
    assert summary_line(Plan(actions=(Action("update", A),)), head="Drift") == "Drift: 0 to create, 1 to update, 0 to delete."


def test_a_heading_has_the_sid_the_status_and_the_note_but_a_create_no_status() -> None:
    assert heading(Action("create", A, status="ONLINE")) == f"+ {A} (create)"
    assert heading(Action("update", A, sid=SID, status="OFFLINE")) == f"~ {A} (update, {SID}, status OFFLINE)"
    assert heading(Action("delete", A, sid=SID, allowed=False)) == f"- {A} (delete, {SID}, gated: pass --allow-delete)"


def test_a_heading_is_one_line_whatever_the_api_wrote() -> None:
    shown = heading(Action("update", A, sid=SID, status=HOSTILE))
    assert shown == f"~ {A} (update, {SID}, status evil\\x1b[31m\\nline\\u202e)"


def test_notices_and_problems_have_sections_of_their_own_escaped() -> None:
    plan = Plan(notices=(Notice(A, "status", status=HOSTILE),), problems=(Problem(B, "name_required"),), live_count=2)
    lines = render_text(plan).splitlines()
    assert lines[0] == "Notices:"
    assert lines[1] == f"  ! {A}: status evil\\x1b[31m\\nline\\u202e: the API is still working on this sender"
    assert lines[3] == "Problems (these senders are left as they are):"
    assert lines[4] == f"  ✗ {B}: cannot create: profile.name is required by the API to register a sender"
    assert lines[-1] == "No changes planned, but 1 sender has a problem (see Problems)."
    assert "\x1b" not in render_text(plan)


def test_a_create_shows_its_values_and_an_update_before_and_after() -> None:
    plan = Plan(actions=(Action("create", A, changes=(FieldChange("profile.name", None, "Acme"),)),
                         Action("update", B, sid=SID, changes=(FieldChange("profile.about", "old", "new"),))))
    text = render_text(plan)
    assert '      + profile.name: "Acme"\n' in text and '      ~ profile.about: "old" → "new"\n' in text
    assert text.index(f"+ {A}") < text.index(f"~ {B}")


def test_colour_marks_the_kinds_and_a_gated_action_is_dim() -> None:
    plan = Plan(actions=(Action("create", A), Action("delete", B, sid=SID, allowed=False)))
    coloured = render_text(plan, color=True)
    assert f"\x1b[32m+ {A} (create)\x1b[0m" in coloured
    assert f"\x1b[2m- {B} (delete, {SID}, gated: pass --allow-delete)\x1b[0m" in coloured
    assert render_text(plan, color=False) == render_text(plan) and "\x1b[" not in render_text(plan)


def test_the_closing_line_never_says_no_changes_about_a_sender_it_could_not_plan() -> None:
    assert closing_line(Plan(live_count=1)) == "No changes. Live senders match the file (1 live sender read)."
    assert closing_line(Plan(actions=(Action("create", A),))) == "Plan: 1 to create, 0 to update, 0 to delete."
    both = Plan(actions=(Action("create", A),), problems=(Problem(B, "name_required"), Problem(C, "name_required")))
    assert closing_line(both) == ("Plan: 1 to create, 0 to update, 0 to delete. But apply refuses it: 2 senders have "
                                  "problems (see Problems).")
    assert render_text(both).rstrip().splitlines()[-1] == closing_line(both)


def test_a_sender_with_several_problems_is_counted_once() -> None:
    plan = Plan(problems=(Problem(A, "name_required"), Problem(A, "immutable_field", path="configuration.waba_id")))
    assert blocked_count(plan) == "1 sender has a problem"
