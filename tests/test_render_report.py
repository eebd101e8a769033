"""``reconciler/render/report.py``: apply reports, wait results, drift verdicts and the words of an interrupt.

Its promises: failures first and long not-started lists counted, a summary with every count that is not
zero, drift that never says "no drift" about senders it could not compare, and "nothing was changed" only
when no write was sent; every line escaped.
"""

from __future__ import annotations

from reconciler.apply import ApplyReport, Outcome, Settled
from reconciler.diff import Action, Notice, Problem
from reconciler.errors import ApiError
from reconciler.models import CODE_NAME_DECLINED
from reconciler.plan import Plan
from reconciler.render.report import (
    DRIFT_NAMED,
    INTERRUPTED,
    NOT_STARTED_LISTED,
    interrupted_after_writes,
    interrupted_verifying,
    outcome_line,
    render_drift,
    render_report,
    render_settled,
    report_summary,
    timed_out_line,
)
from reconciler.render.style import ansi
from tests.factories import A, B, C, live, number


def done(sender_id: str = A, **kw: object) -> Outcome:
    return Outcome("create", sender_id, "done", "created", confirmed=True, **kw)  # type: ignore[arg-type]


def test_the_summary_says_how_apply_ended_with_every_count_that_is_not_zero() -> None:
    assert report_summary(ApplyReport([done()])) == "Apply complete: 1 done."
    assert report_summary(ApplyReport()) == "Apply complete: 0 done."
    mixed = ApplyReport([done(), Outcome("update", B, "failed", "refused", error=ApiError("no")),
                         Outcome("create", C, "done", "created", confirmed=False),
                         Outcome("delete", number(4), "not_started", "stopped")])
    assert report_summary(mixed) == ("Apply finished with errors: 1 done, 1 failed, 1 not confirmed by the API, "
                                     "1 not started.")
    stopped = ApplyReport([done(), Outcome("delete", B, "interrupted", "in_flight")], interrupted=True)
    assert report_summary(stopped) == "Apply interrupted: 1 done, 1 interrupted (outcome unknown)."


def test_a_line_per_outcome_with_its_mark_its_status_and_the_api_s_words_escaped() -> None:
    assert outcome_line(done(final_status="ONLINE")) == f"  ✓ create sender {A}: created [ONLINE]"
    refused = Outcome("update", A, "failed", "refused", error=ApiError("bad\nvalue", status=400, code=63100, sender_id=A))
    assert outcome_line(refused) == f"  ✗ update sender {A}: [HTTP 400 / Twilio 63100] bad\\nvalue"
    name = Outcome("update", A, "failed", "refused", error=ApiError("Too generic", status=400, code=CODE_NAME_DECLINED))
    assert outcome_line(name).startswith(f"  ✗ update sender {A}: Meta declined the display name")
    unconfirmed = Outcome("delete", A, "done", "deleted", confirmed=False)
    assert outcome_line(unconfirmed, ansi) == \
        f"  \x1b[33m!\x1b[0m delete sender {A}: deleted; but the API's list shows the sender still listed"
    assert outcome_line(Outcome("create", A, "unknown", "lost", error=ApiError("t"))).startswith("  ? create ")


def test_the_report_puts_what_needs_a_look_first_and_counts_a_long_tail_of_not_started() -> None:
    tail = [Outcome("create", number(100 + i), "not_started", "stopped") for i in range(NOT_STARTED_LISTED + 3)]
    report = ApplyReport([done(A), *tail, Outcome("update", B, "failed", "refused", error=ApiError("no")),
                          Outcome("create", C, "unknown", "lost", error=ApiError("t"))],
                         confirm_error=ApiError("list failed", status=500))
    lines = render_report(report).splitlines()
    assert lines[0] == ""
    assert [line.split()[0] for line in lines[1:4]] == ["✗", "?", "✓"]
    assert sum("not started: apply was stopped" in line for line in lines) == NOT_STARTED_LISTED
    assert "  · … and 3 more not started (apply --format json lists every outcome)" in lines
    assert "  ! could not confirm the outcome from the API: [HTTP 500] list failed" in lines
    assert lines[-1] == report_summary(report)


def test_the_final_statuses_are_one_line_each_escaped() -> None:
    settled = Settled({A: live(A, status="ONLINE"), B: None, C: live(C, status="PENDING_VERIFICATION")}, ())
    assert render_settled(settled) == (f"Final statuses:\n  {A}: ONLINE\n  {B}: not found\n"
                                       f"  {C}: PENDING_VERIFICATION: verify it with: reconciler verify {C} --code CODE\n")
    assert render_settled(Settled({A: live(A, status="X\x1b[2J")}, ())) == f"Final statuses:\n  {A}: X\\x1b[2J\n"
    assert timed_out_line(Settled({}, (A, B)), 90.0) == f"Error: still in transient states after 90 s: {A}, {B}"
    assert timed_out_line(Settled({}, (A,)), 2.5).startswith("Error: still in transient states after 2.5 s")


# --------------------------------------------------------------------------- drift


def test_no_drift_only_about_senders_that_were_compared() -> None:
    assert render_drift(Plan(live_count=3)) == "No drift: live senders match the file (3 live senders read).\n"
    blocked = Plan(problems=(Problem(A, "listed_twice", sids=("XE1", "XE2")),))
    assert render_drift(blocked) == ("No drift among the senders compared, but 1 sender has a problem and could not be "
                                     "compared (see the errors below).\n")


def test_drift_names_the_senders_and_what_no_action_can_fix_now() -> None:
    plan = Plan(actions=(Action("update", A), Action("delete", B, allowed=False)),
                notices=(Notice(C, "rename_failed", status="DECLINED", name="X"),
                         Notice(number(9), "rename_blocked", status="PENDING_REVIEW", name="Y", wanted="Z"),
                         Notice(number(8), "rename_pending", status="PENDING_REVIEW", name="W")))
    assert render_drift(plan) == (
        "Drift: 0 to create, 1 to update, 1 to delete (1 gated: pass --allow-delete); 1 display name refused by Meta; "
        f"1 display name waiting for Meta's review of another. Senders: {number(9)}, {A}, {B}, {C}\n")
    only_names = Plan(notices=(Notice(C, "rename_failed", status="EXPIRED", name="X"),
                               Notice(B, "rename_blocked", status="PENDING_REVIEW", name="Y", wanted="Z")))
    assert render_drift(only_names) == (f"Drift: 1 display name refused by Meta; 1 display name waiting for Meta's "
                                        f"review of another. Senders: {B}, {C}\n")


def test_drift_names_at_most_so_many_senders_and_says_where_the_others_are() -> None:
    plan = Plan(actions=tuple(Action("create", number(i)) for i in range(DRIFT_NAMED + 5)))
    line = render_drift(plan)
    assert line.count("whatsapp:") == DRIFT_NAMED and line.endswith(" and 5 more (--format json lists them all)\n")


def test_drift_with_problems_says_both() -> None:
    plan = Plan(actions=(Action("create", A),), problems=(Problem(B, "name_required"),))
    assert render_drift(plan).endswith(f"Senders: {A}. Also, 1 sender has a problem and could not be compared "
                                       "(see the errors below).\n")


# --------------------------------------------------------------------------- interrupts


def test_an_interrupt_after_the_writes_says_nothing_changed_only_when_nothing_was_sent() -> None:
    untouched = [ApplyReport([Outcome("create", A, "not_started", "stopped")]), ApplyReport()]
    assert interrupted_after_writes(untouched) == INTERRUPTED == "interrupted: nothing was changed"
    sent = [ApplyReport([done(A)]), ApplyReport([Outcome("create", B, "not_started", "stopped"),
                                                 Outcome("delete", C, "interrupted", "in_flight")])]
    assert interrupted_after_writes(sent) == ("interrupted after the writes (1 done, 1 not started, 1 interrupted "
                                              "(outcome unknown)); the report may be cut short: 'reconciler plan' shows "
                                              "where the senders stand")


def test_an_interrupt_while_verifying_names_the_sender_escaped() -> None:
    assert interrupted_verifying("whatsapp:+1\x1b[2J").endswith("shows whether whatsapp:+1\\x1b[2J still waits for a code")
