"""``reconciler/render/words.py``: every sentence of the tool, from the core's data.

One test per function or kind of data: what each notice, problem, outcome, warning and error says, the
hints, and that what came from a file or the API is escaped where a line is made.
"""

from __future__ import annotations

import pytest

from reconciler.apply import Outcome
from reconciler.diff import Action, FieldChange, Notice, Problem
from reconciler.errors import ApiError, ConfigError, ConfigIssue, Location, SafetyViolation, UnsafePlanError
from reconciler.models import CODE_NAME_DECLINED, CODE_NAME_IN_PROGRESS, DesiredState, LiveSender, Safety
from reconciler.plan import Plan
from reconciler.render.words import (
    action_note,
    blocked_message,
    config_error_lines,
    error_lines,
    export_warning,
    forced_lines,
    is_name_refusal,
    notice_message,
    offline_text,
    outcome_message,
    plural,
    problem_lines,
    problem_message,
    status_text,
    unsafe_message,
    usage_hints,
    valid_lines,
    verify_hint,
)
from tests.factories import A, B, C, live

HOSTILE = "x\x1b[2J\ny"


def test_plural_counts_with_the_regular_or_a_given_plural() -> None:
    assert [plural(n, "sender") for n in (0, 1, 2)] == ["0 senders", "1 sender", "2 senders"]
    assert plural(2, "display name") == "2 display names" and plural(3, "entry", "entries") == "3 entries"
    assert plural(1, "entry", "entries") == "1 entry"


# --------------------------------------------------------------------------- actions, notices, problems


def test_an_action_s_note_says_what_its_heading_cannot() -> None:
    assert action_note(Action("delete", A, allowed=False)) == "gated: pass --allow-delete"
    assert action_note(Action("update", A, resubmits="EXPIRED")) == "re-submits the display name after EXPIRED"
    renamed = Action("update", A, changes=(FieldChange("profile.name", "Old", "New"),))
    assert action_note(renamed) == "Meta reviews the new display name; the live name changes once it is approved"
    assert action_note(Action("create", A, changes=(FieldChange("profile.name", None, "New"),))) is None
    assert action_note(Action("update", A, changes=(FieldChange("profile.about", "a", "b"),))) is None


def test_offline_says_twilio_s_reasons_when_it_gives_any() -> None:
    assert offline_text(()) == "OFFLINE"
    assert offline_text((("410", "Number deregistered"), (None, "other"))) == "OFFLINE (410: Number deregistered; None: other)"


@pytest.mark.parametrize(("notice", "said"), [
    (Notice(A, "verification", status="PENDING_VERIFICATION"),
     f"waiting for its verification code: reconciler verify {A} --code CODE"),
    (Notice(A, "offline", status="OFFLINE", reasons=(("410", "gone"),)), "OFFLINE (410: gone)"),
    (Notice(A, "status", status="CREATING"), "status CREATING: the API is still working on this sender"),
    (Notice("XE1", "unmatched_live", name="sender_id"), "the API lists a sender without a sender_id: it cannot be matched"),
    (Notice(A, "rename_blocked", status="PENDING_REVIEW", name="Old", wanted="New"),
     "display name 'New' waits for Meta's review of 'Old' (PENDING_REVIEW): Meta reviews one change at a time"),
    (Notice(A, "rename_pending", status="APPROVED", name="New"), "display name 'New' is APPROVED by Meta; nothing to send"),
    (Notice(A, "rename_failed", status="EXPIRED", name="New"), "display name 'New' is EXPIRED; re-submitting retries the review"),
    (Notice(A, "rename_failed", status="DECLINED", name="New"), "display name 'New' was DECLINED by Meta; choose another name"),
])
def test_each_notice_kind_has_its_sentence(notice: Notice, said: str) -> None:
    assert notice_message(notice).startswith(said)


@pytest.mark.parametrize(("problem", "said"), [
    (Problem(A, "listed_twice", sids=("XE1", "XE2")), "the API lists this sender twice (XE1, XE2)"),
    (Problem("+15017122661", "target_unmatched", after=A),
     f"--target matches no sender in the file or the account; did you mean {A}?"),
    (Problem("nope", "target_unmatched"), "--target matches no sender in the file or the account"),
    (Problem(A, "name_required"), "cannot create: profile.name is required by the API to register a sender"),
    (Problem(A, "immutable_field", path="configuration.waba_id", before="1", after="2"),
     "configuration.waba_id cannot change ('1' → '2'): a sender stays in its WhatsApp Business Account; nothing was "
     "planned for this sender"),
])
def test_each_problem_kind_has_its_sentence(problem: Problem, said: str) -> None:
    assert problem_message(problem) == said


def test_a_blocked_plan_names_each_sender_once_in_order() -> None:
    plan = Plan(problems=(Problem(B, "name_required"), Problem(A, "listed_twice", sids=("XE1", "XE2")),
                          Problem(B, "immutable_field", path="configuration.waba_id")))
    assert blocked_message(plan) == (f"nothing was applied: the plan has problems with 2 senders ({A}, {B}); fix them in "
                                     "the files, or leave them out with --target to apply the others")


def test_problem_lines_are_escaped_and_name_the_account_in_a_run_of_several() -> None:
    plan = Plan(problems=(Problem(HOSTILE, "name_required"),))
    (line,) = problem_lines(plan)
    assert line == "Error: sender x\\x1b[2J\\ny: cannot create: profile.name is required by the API to register a sender"
    assert problem_lines(plan, "AC1 (Acme)")[0].startswith("Error: account AC1 (Acme): sender x\\x1b")


# --------------------------------------------------------------------------- apply and wait


def test_a_status_after_the_wait_says_what_is_owed() -> None:
    assert status_text(None) == "not found"
    assert status_text(live(A, status="PENDING_VERIFICATION")) == f"PENDING_VERIFICATION: verify it with: {verify_hint(A)}"
    offline = LiveSender.model_validate({"sid": "XE" + "1" * 32, "sender_id": A, "status": "OFFLINE",
                                         "offline_reasons": [{"code": "410", "message": "gone"}]})
    assert status_text(offline) == "OFFLINE (410: gone)"
    assert status_text(live(A, status="ONLINE")) == "ONLINE"


def declined(code: int | None, message: str = "Too generic") -> ApiError:
    return ApiError(message, status=400, code=code)


def test_a_refusal_says_what_meta_s_codes_mean() -> None:
    assert is_name_refusal(declined(CODE_NAME_DECLINED)) and is_name_refusal(declined(CODE_NAME_IN_PROGRESS))
    assert not is_name_refusal(declined(63100))
    said = outcome_message(Outcome("update", A, "failed", "refused", error=declined(CODE_NAME_DECLINED)))
    assert said == f"Meta declined the display name (Twilio {CODE_NAME_DECLINED}; Meta's reason as the API gives it: Too generic)"
    busy = outcome_message(Outcome("update", A, "failed", "refused", error=declined(CODE_NAME_IN_PROGRESS, "busy")))
    assert busy.startswith(f"a display-name change is already in Meta's review (Twilio {CODE_NAME_IN_PROGRESS}: busy)")
    assert outcome_message(Outcome("create", A, "failed", "refused", error=declined(63100, "bad field"))) == "bad field"


def test_a_lost_answer_says_whether_the_change_is_known_to_be_missing() -> None:
    lost = ApiError("timed out", status=None)
    unknown = outcome_message(Outcome("create", A, "unknown", "lost", error=lost))
    assert unknown == "the API's answer was lost (timed out); outcome unknown: 'reconciler plan' shows where it stands"
    missing = outcome_message(Outcome("create", A, "not_applied", "lost", error=ApiError("boom", status=500, code=20500)))
    assert missing == ("the API's answer was lost (HTTP 500 / Twilio 20500: boom); and the API's list does not show the "
                       "change: not applied; a re-run retries it")
    unread = outcome_message(Outcome("create", A, "unknown", "unread", error=ApiError("x", status=503)))
    assert unread.startswith("the API says this sender exists already (HTTP 409), but it could not be compared with "
                             "the file (HTTP 503: x); outcome unknown")
    unsent = outcome_message(Outcome("delete", A, "not_applied", "unsent", error=ApiError("connection refused")))
    assert unsent == "not sent (connection refused): not applied; a re-run retries it"


def test_an_update_counts_its_fields_and_a_rename_says_meta_reviews_it() -> None:
    assert outcome_message(Outcome("update", A, "done", "updated", fields=1)) == "updated 1 field"
    renamed = outcome_message(Outcome("update", A, "done", "updated", fields=2, renamed=True))
    assert renamed.startswith("updated 2 fields; the new display name goes to Meta's review")


def test_a_write_the_api_s_list_does_not_show_says_so() -> None:
    assert outcome_message(Outcome("delete", A, "done", "deleted", confirmed=False)) == \
        "deleted; but the API's list shows the sender still listed"
    assert outcome_message(Outcome("create", A, "done", "created", confirmed=False)) == \
        "created; but the API's list shows the sender not there or still different"
    assert outcome_message(Outcome("create", A, "done", "created", confirmed=True)) == "created"
    assert outcome_message(Outcome("create", A, "not_started", "stopped")) == "not started: apply was stopped"


# --------------------------------------------------------------------------- warnings and errors


@pytest.mark.parametrize(("sender_id", "written", "ignored", "what"), [
    (A, False, True, "the file cannot manage this sender: listed under ignore:, so plan leaves it alone"),
    (A, True, False, "not managed, written as a comment under the sender"),
    ("", False, False, "left out; plan reports such a sender and leaves it alone"),
    (A, False, False, "the file can neither manage this sender nor list it under ignore:; plan shows it as a delete candidate"),
])
def test_an_export_warning_says_what_became_of_the_value(sender_id: str, written: bool, ignored: bool, what: str) -> None:
    who = f"sender {sender_id}" if sender_id else "a sender with no sender_id"
    assert export_warning(sender_id, "profile.x", "odd\n", written=written, ignored=ignored) == \
        f"Warning: {who}: profile.x: {what} (odd\\n)"


def test_the_safety_words_say_how_to_go_on() -> None:
    violation = SafetyViolation("delete", 3, 10, 10)
    assert unsafe_message(UnsafePlanError((violation,))) == \
        "would delete 3 of 10 senders (30 % > 10 %); pass --force to proceed anyway"
    assert unsafe_message(UnsafePlanError((violation,), saved=False)).endswith(
        "; pass --force to plan and apply it anyway (no plan file was written)")
    assert forced_lines([violation, SafetyViolation("update", 5, 10, 30, account="AC1")]) == [
        "Warning: would delete 3 of 10 senders (30 % > 10 %) (allowed by --force)",
        "Warning: account AC1: would update 5 of 10 senders (50 % > 30 %) (allowed by --force)"]


def test_error_lines_count_problems_and_files_and_hint_at_refused_credentials() -> None:
    issues = [ConfigIssue(Location("a.yaml", 1, 1), "bad"), ConfigIssue(Location("a.yaml", 2, 1), "worse"),
              ConfigIssue(Location("b.yaml"), "missing")]
    assert error_lines(ConfigError(issues))[-1] == "Error: 3 problems in 2 desired-state files; nothing was read or changed"
    assert config_error_lines(ConfigError(issues[:1])) == ["a.yaml:1:1: bad", "1 error: invalid"]
    refused = ApiError("Authenticate", status=401, code=20003, credential_vars=("TWILIO_API_KEY", "TWILIO_API_SECRET"))
    first, hint = error_lines(refused)
    assert first == "Error: [HTTP 401 / Twilio 20003] Authenticate"
    assert hint.startswith("Hint: the API refused the credentials from TWILIO_API_KEY and TWILIO_API_SECRET: ")
    assert error_lines(UnsafePlanError((SafetyViolation("update", 4, 4, 30),))) == [
        "Error: would update 4 of 4 senders (100 % > 30 %); pass --force to proceed anyway"]


@pytest.mark.parametrize(("message", "envvar", "hints"), [
    ("Got unexpected extra argument (senders.yaml)", None, ["Hint: desired-state files are given with -f: -f senders.yaml"]),
    ("Got unexpected extra arguments (conf/a.yml b.yml)", None, ["Hint: desired-state files are given with -f: -f conf/a.yml"]),
    ("Got unexpected extra argument (whatsapp:+15017122661)", None, []),
    ("No such option: --nope", None, []),
    ("Invalid value for '--request-timeout'", "RECONCILER_REQUEST_TIMEOUT",
     ["Hint: the value came from the environment variable RECONCILER_REQUEST_TIMEOUT"]),
])
def test_usage_hints_help_with_the_common_mistakes(message: str, envvar: str | None, hints: list[str]) -> None:
    assert usage_hints(message, envvar) == hints


def test_valid_lines_name_the_files_and_the_account_in_a_run_of_several() -> None:
    one = DesiredState(senders=(), ignore=frozenset({C}), safety=Safety(), sources=("a.yaml", "b\x1b.yaml"))
    assert valid_lines([one]) == ["a.yaml, b\\x1b.yaml: 0 senders, 1 ignored: valid"]
    many = DesiredState(sources=("1.yaml", "2.yaml", "3.yaml", "4.yaml"), account="AC" + "1" * 32)
    lines = valid_lines([one, many])
    assert lines[0].startswith("a.yaml, b\\x1b.yaml (account of the credentials): ")
    assert lines[1] == f"4 files (account AC{'1' * 32}): 0 senders, 0 ignored: valid"
