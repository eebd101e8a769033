"""``reconciler/action/commands.py``: the action's inputs, and the summaries and documents it makes of the CLI's
exit code and JSON. Unit tests of the module's functions; the three commands run end to end against the
emulator and a GitHub stand-in in tests/test_github_action.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.action.commands import (
    DEFAULT_PLAN_FILE,
    MARKER,
    Inputs,
    apply_markdown,
    apply_summary,
    comment_body,
    drift_error,
    drift_summary,
    main,
    plan_summary,
)
from reconciler.action.github import ActionError, CliRun, Workflow

A, B = "whatsapp:+15017122661", "whatsapp:+15017122662"


def inputs(**env: str) -> Inputs:
    return Inputs.from_env({"INPUT_" + k.upper(): v for k, v in env.items()})


# --------------------------------------------------------------------------- inputs


def test_each_command_gets_its_own_default_files() -> None:
    plan, apply, drift = inputs(command="plan"), inputs(command=" apply\n"), inputs(command="drift")
    assert (plan.plan_file, plan.report_file) == (DEFAULT_PLAN_FILE, "")
    assert (apply.command, apply.plan_file, apply.report_file) == ("apply", "", "reconciler-apply.json")
    assert (drift.plan_file, drift.report_file) == ("", "reconciler-drift.json")
    assert plan.files == () and plan.file_args() == [] and plan.fail_on_drift and plan.comment and plan.marker == MARKER


def test_files_are_one_or_more_a_line_quoted_as_in_a_shell() -> None:
    got = inputs(command="plan", files="a.yaml b.yaml\n\n'with space/senders.yaml'\n")
    assert got.files == ("a.yaml", "b.yaml", "with space/senders.yaml")
    assert got.file_args() == ["-f", "a.yaml", "-f", "b.yaml", "-f", "with space/senders.yaml"]


@pytest.mark.parametrize("arg", ["-f", "-fx.yaml", "--file", "--file=x.yaml", "--format=json", "--out", "--out=p.json"])
def test_args_may_not_set_what_the_action_sets(arg: str) -> None:
    with pytest.raises(ActionError, match=f"^input 'args': {arg} is set by the action; use the 'files' or 'plan-file'"):
        inputs(command="plan", args=f"--allow-delete {arg}")


def test_other_args_pass_through_in_order() -> None:
    assert inputs(command="apply", args="--allow-delete\n--target 'whatsapp:+15017122661'").args == (
        "--allow-delete", "--target", A)
    assert inputs(command="plan", args="--force").args == ("--force",)  # not taken for -f


@pytest.mark.parametrize(("text", "value"), [("TRUE", True), (" yes ", True), ("On", True), ("1", True),
                                             ("false", False), ("NO", False), ("off", False), ("0", False)])
def test_flags_read_as_people_write_them(text: str, value: bool) -> None:
    got = inputs(command="drift", fail_on_drift=text, comment=text)
    assert (got.fail_on_drift, got.comment) == (value, value)


def test_a_comment_id_makes_a_marker_of_its_own() -> None:
    assert inputs(command="plan", comment_id="prod.eu-1").marker == "<!-- reconciler-plan:prod.eu-1 -->"
    with pytest.raises(ActionError, match="at most 64"):
        inputs(command="plan", comment_id="x" * 65)


# --------------------------------------------------------------------------- plan


def test_the_plan_summary_is_the_first_bold_line_and_a_failure_says_it_failed() -> None:
    markdown = "### reconciler plan\n\n**Plan: 1 to create, 0 to update, 0 to delete.**\n\n**not this**\n"
    assert plan_summary(markdown, 2) == "Plan: 1 to create, 0 to update, 0 to delete."
    assert plan_summary(markdown, 0) == "Plan: 1 to create, 0 to update, 0 to delete."
    assert plan_summary(markdown, 1) == "Plan failed (exit 1): Plan: 1 to create, 0 to update, 0 to delete."
    assert plan_summary("", 1) == "Plan failed (exit 1); see the log."
    assert plan_summary("", 0) == ""


def test_the_comment_carries_the_marker_the_plan_and_where_it_came_from(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"pull_request": {"number": 3, "head": {"sha": "0123456789abcdef0123"}}}')
    wf = Workflow({"GITHUB_EVENT_PATH": str(event), "GITHUB_SERVER_URL": "https://github.com",
                   "GITHUB_REPOSITORY": "acme/senders", "GITHUB_RUN_ID": "9"})
    got = inputs(command="plan", files="prod|x.yaml")
    body = comment_body(got, wf, CliRun(2, "### reconciler plan\n\n**Plan: 1 to create.**\n\n", ""), saved=True)
    assert body.startswith(MARKER + "\n\n### reconciler plan\n\n**Plan: 1 to create.**\n\n<sub>")
    assert body.endswith("<sub>`prod\\|x.yaml` · saved plan `reconciler-plan.json` · commit `0123456789ab` · "
                         "[workflow run](https://github.com/acme/senders/actions/runs/9)</sub>\n")


def test_a_failed_plan_s_comment_quotes_the_error_in_a_fence_it_cannot_close() -> None:
    result = CliRun(1, "", "senders.yaml:2:3: bad\n```\n::error::not a command\n")
    body = comment_body(inputs(command="plan"), Workflow({}), result, saved=False)
    assert "### reconciler plan" in body and "> The plan failed (exit 1):" in body
    assert "````\nsenders.yaml:2:3: bad\n```\n::error::not a command\n````" in body
    assert body.endswith("<sub>`senders.yaml`</sub>\n") and "saved plan" not in body


# --------------------------------------------------------------------------- apply


def test_the_apply_summary_is_the_cli_s_line_or_the_error() -> None:
    assert apply_summary({"apply": {"summary_line": "Apply complete: 2 done."}}) == "Apply complete: 2 done."
    assert apply_summary({"error": {"kind": "StalePlanError", "message": "the plan is stale"}}) == \
        "Apply failed: the plan is stale"
    assert apply_summary({}) == ""


def test_the_apply_table_escapes_what_the_api_said() -> None:
    doc = {"apply": {"summary_line": "Apply finished with errors: 0 done, 1 failed.", "outcomes": [
        {"account": "AC1", "sender_id": A, "action": "create", "result": "failed", "final_status": None,
         "error": {"code": 63100, "message": "bad | value\nsecond line"}}]}}
    md = apply_markdown(doc)
    assert md.startswith("### reconciler apply\n\n**Apply finished with errors: 0 done, 1 failed.**\n\n")
    assert f"| `{A}` | create | failed |  | 63100 bad \\| value second line |" in md
    assert md.count("\n|") == 3  # the head, its rule, one row: the message broke no row


def test_an_apply_with_nothing_done_or_an_error_says_which() -> None:
    assert apply_markdown({"apply": {"summary_line": "Nothing to apply.", "outcomes": []}}).endswith(
        "**Nothing to apply.**\n\nNothing to apply.\n")
    failed = apply_markdown({"error": {"message": "no credentials"}})
    assert "**Apply failed: no credentials**" in failed and "Nothing to apply." not in failed


# --------------------------------------------------------------------------- drift


@pytest.mark.parametrize(("doc", "code", "error"), [
    ({"drift": False, "live_senders": 2}, 0, None),
    ({"drift": True}, 2, None),
    ({"error": {"message": "Twilio 20003"}}, 1, "Twilio 20003"),
    ({"error": {"message": "odd"}}, 0, "odd"),  # an error document is never a verdict, whatever the code
    ({"drift": False}, 1, "exit 1; see the log above"),
    (None, 2, "exit 2; see the log above"),
    ({"error": "not a mapping"}, 1, "exit 1; see the log above"),
])
def test_a_drift_check_failed_unless_it_ran_and_wrote_a_verdict(doc: dict[str, object] | None, code: int,
                                                                error: str | None) -> None:
    assert drift_error(doc, code) == error


def test_the_drift_summary_counts_and_names_the_senders() -> None:
    assert drift_summary({"drift": False}) == "No drift: live senders match the file (0 live senders read)."
    doc = {"drift": True, "summary": {"create": 1, "delete": 2}, "gated": 2, "senders": [A, B]}
    assert drift_summary(doc) == f"Drift: 1 to create, 0 to update, 2 to delete (2 gated). Senders: {A}, {B}"
    moved = {"drift": True, "summary": {"create": 0, "update": 0, "delete": 0, "pool": 1}, "senders": [A]}
    assert drift_summary(moved) == f"Drift: 0 to create, 0 to update, 0 to delete, 1 sender-pool change. Senders: {A}"


# --------------------------------------------------------------------------- main


def test_main_turns_a_bad_input_into_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main({"INPUT_COMMAND": "plan", "INPUT_FAIL_ON_DRIFT": "sometimes"}) == 1
    assert capsys.readouterr().out == "::error::input 'fail-on-drift' must be true or false, not 'sometimes'\n"


def test_a_plan_file_that_cannot_be_replaced_fails_before_the_cli_runs(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "plan.json"
    taken.mkdir()  # a directory where the plan should go
    assert main({"INPUT_COMMAND": "plan", "INPUT_PLAN_FILE": str(taken)}) == 1
    out = capsys.readouterr().out
    assert out == f"::error::plan-file {taken}: Is a directory\n" and "$ reconciler" not in out
