"""``reconciler/render/commands.py``: what each command prints, whole: stdout, the lines on stderr, the error.

Unit tests of each ``*_output``: which lines go to stderr and in what order, when a plan is said to be
saved or not, and that a command's stdout is the same document its renderer makes.
"""

from __future__ import annotations

import json

from reconciler.accounts.record import AccountPlan, AccountRef, AccountReport
from reconciler.apply import ApplyReport, Outcome, Settled
from reconciler.diff import Action, Problem
from reconciler.errors import SafetyViolation
from reconciler.export import Skipped
from reconciler.plan import Plan, build_plan
from reconciler.render.accounts import render_plans_markdown, render_plans_text
from reconciler.render.commands import (
    Output,
    apply_output,
    drift_output,
    export_output,
    plan_output,
    problems,
    show_output,
)
from reconciler.render.report import NOTHING_TO_APPLY, STOPPED_WAITING
from tests.factories import A, B, desired, live, state

SUB1, SUB2 = "AC" + "1" * 32, "AC" + "2" * 32
CREATE = Plan(actions=(Action("create", A),))
BLOCKED = Plan(actions=(Action("create", A),), problems=(Problem(B, "name_required"),))


def one(plan: Plan, sid: str = SUB1, name: str | None = None) -> AccountPlan:
    return AccountPlan(AccountRef(sid, name), plan)


def test_problems_name_the_account_only_in_a_run_of_several() -> None:
    assert problems([one(BLOCKED)]) == [f"Error: sender {B}: cannot create: profile.name is required by the API to "
                                        "register a sender"]
    assert problems([one(CREATE), one(BLOCKED, SUB2, "North")])[0].startswith(f"Error: account {SUB2} (North): sender {B}")


def test_a_saved_plan_says_how_to_apply_it_and_a_plan_with_problems_is_never_said_saved() -> None:
    saved = plan_output([one(CREATE)], "text", out="plan.json", saved=True)
    assert saved == Output(render_plans_text([one(CREATE)]), ("Saved the plan to plan.json; apply it with: reconciler "
                                                              "apply plan.json",))
    refused = plan_output([one(BLOCKED)], "markdown", out="plan.json", saved=True)
    assert refused.stdout == render_plans_markdown([one(BLOCKED)])
    assert refused.stderr[-1] == "Error: the plan has problems, so it was not saved to plan.json"
    assert plan_output([one(CREATE)], "text", out="plan.json", saved=False).stderr == ()
    assert plan_output([one(CREATE)], "text").error is None


def test_forced_thresholds_come_before_the_problems() -> None:
    forced = [SafetyViolation("delete", 2, 4, 10, account=f"{SUB1}")]
    out = plan_output([one(BLOCKED)], "json", forced=forced)
    assert out.stderr[0] == f"Warning: account {SUB1}: would delete 2 of 4 senders (50 % > 10 %) (allowed by --force)"
    assert out.stderr[1].startswith(f"Error: sender {B}:")
    assert json.loads(out.stdout)["applyable"] is False


def test_plan_colours_only_the_text_and_only_when_asked() -> None:
    assert "\x1b[" in plan_output([one(CREATE)], "text", color=True).stdout
    assert "\x1b[" not in plan_output([one(CREATE)], "json", color=True).stdout


def test_drift_prints_its_line_or_document_and_the_problems_after() -> None:
    text = drift_output([one(BLOCKED)], "text")
    assert text.stdout.startswith("Drift: 1 to create") and text.stderr == tuple(problems([one(BLOCKED)]))
    doc = json.loads(drift_output([one(CREATE)], "json").stdout)
    assert doc["drift"] is True and doc["senders"] == [A]


def test_a_blocked_apply_prints_nothing_and_ends_with_why() -> None:
    out = apply_output([one(BLOCKED), one(CREATE, SUB2)], [], "text", blocked=True)
    assert out.stdout == "" and out.stderr == tuple(problems([one(BLOCKED), one(CREATE, SUB2)]))
    assert out.error == (f"nothing was applied: the plan has problems with 1 sender ({B}); fix them in the files, or "
                         "leave them out with --target to apply the others")


def test_apply_says_what_the_wait_left_and_nothing_to_apply_when_nothing_was_allowed() -> None:
    gated = Plan(actions=(Action("delete", A, allowed=False),))
    assert apply_output([one(gated)], [], "text") == Output(NOTHING_TO_APPLY + "\n")
    settled = Settled({A: live(A, status="CREATING")}, (A,))
    out = apply_output([one(CREATE)], [], "text", settled=settled, wait_stopped=True, timeout=30)
    assert out.stderr == (STOPPED_WAITING, f"Error: still in transient states after 30 s: {A}")
    assert out.stdout == f"Final statuses:\n  {A}: CREATING\n"
    assert apply_output([one(CREATE)], [], "text").stdout == ""  # the report was shown as the writes ended


def test_apply_as_json_is_one_document_whatever_was_allowed() -> None:
    report = AccountReport(AccountRef(SUB1), ApplyReport([Outcome("create", A, "done", "created", confirmed=True)]))
    doc = json.loads(apply_output([one(CREATE)], [report], "json").stdout)
    assert doc["apply"]["summary_line"] == "Apply complete: 1 done." and doc["wait"] is None
    gated = json.loads(apply_output([one(Plan(actions=(Action("delete", A, allowed=False),)))], [], "json").stdout)
    assert gated["apply"]["summary_line"] == NOTHING_TO_APPLY


def test_show_says_whether_the_signature_was_verified() -> None:
    unverified = show_output([one(CREATE)], "text", None)
    assert unverified.stdout == render_plans_text([one(CREATE)])
    assert unverified.stderr == ("Note: the signature was not verified: no key (set RECONCILER_PLAN_KEY, or the "
                                 "credentials that signed the plan); 'reconciler apply' verifies it before any change",)
    assert show_output([one(CREATE)], "markdown", "RECONCILER_PLAN_KEY").stderr == (
        "Signature verified with the key from RECONCILER_PLAN_KEY.",)


def test_export_prints_the_file_or_says_where_it_went_escaped() -> None:
    skipped = [Skipped(A, "profile.x", "unknown field", value="1"), Skipped(B, "sender", "odd", ignored=True)]
    out = export_output("senders: []\n", 2, skipped, None)
    assert out.stdout == "senders: []\n" and len(out.stderr) == 2
    assert out.stderr[0] == f"Warning: sender {A}: profile.x: not managed, written as a comment under the sender (unknown field)"
    written = export_output("senders: []\n", 1, [], "out\x1b[2J.yaml")
    assert written == Output("", ("Wrote 1 sender to out\\x1b[2J.yaml",))


# --------------------------------------------------------------------------- standard output

MAIN = AccountRef("AC" + "1" * 32, "Main")


def _created() -> list[AccountPlan]:
    return [AccountPlan(MAIN, build_plan(state(desired(A, profile={"name": "Acme"})), []))]


def test_a_saved_plan_names_the_command_that_applies_it_as_a_shell_reads_it() -> None:
    said = plan_output(_created(), "text", out="plans/plan.json", saved=True).stderr
    assert said == ("Saved the plan to plans/plan.json; apply it with: reconciler apply plans/plan.json",)
    assert plan_output(_created(), "text", out="my plan.json", saved=True).stderr[-1].endswith("reconciler apply 'my plan.json'")
    # A name that starts with '-' would be read as an option, and '-' alone as standard input.
    assert plan_output(_created(), "text", out="-x.json", saved=True).stderr[-1].endswith("reconciler apply ./-x.json")


def test_a_plan_on_stdout_says_how_to_pipe_it() -> None:
    output = plan_output(_created(), "text", out="-", saved=True)
    assert output.stderr == ("Wrote the saved plan to standard output; apply it with: ... | reconciler apply -",)
    assert f"+ {A}" in output.stdout  # the CLI sends it to stderr; the words stay the same


def test_export_to_stdout_prints_the_file() -> None:
    skipped = [Skipped(A, "profile.about", "too long", value="'x'")]
    assert export_output("senders: []\n", 0, skipped, "-").stdout == "senders: []\n"
    assert export_output("senders: []\n", 0, skipped, "out.yaml").stderr[-1] == "Wrote 0 senders to out.yaml"
