"""The action's three commands: run ``reconciler`` and report the outcome to GitHub.

``action.yml`` installs the package and runs ``python -m reconciler.action``. Inputs arrive
as environment variables (never templated into a script), the CLI runs as a subprocess, and the
results go where GitHub reads them:

- ``plan``: the Markdown plan into the step summary and into one sticky pull-request comment
  (found again by its hidden marker and its author, the token's own identity, and edited in place
  through GitHub's API; a comment that cannot be posted fails the step); the plan saved with
  ``--out``; outputs ``exitcode``, ``has-changes`` (from the exit code), ``plan-file``, ``summary``.
- ``apply``: a saved plan (``plan-file``), or plan-and-apply with ``--auto-approve``; the JSON
  report (``--format json``) saved to ``report-file``; outputs ``exitcode``, ``report-file``, ``summary``.
- ``drift``: outputs ``exitcode``, ``drifted``, ``summary``, ``report-file``; fails on drift, or
  only warns with ``fail-on-drift: false``. A failed check (exit 1, an error document) always fails
  the step, and its summary says it failed. With ``issue: true``, one GitHub issue per key
  (``issue-id``) and account is opened on drift, kept up to date while it lasts and closed once the
  senders are back in sync (:mod:`reconciler.action.issue`); outputs ``issue-number``, ``issue-url``.
  A failed check leaves the issue as it is, and says so.

Environment (set by action.yml from the inputs): ``INPUT_COMMAND``, ``INPUT_FILES``,
``INPUT_PLAN_FILE``, ``INPUT_REPORT_FILE``, ``INPUT_ARGS``, ``INPUT_FAIL_ON_DRIFT``,
``INPUT_COMMENT``, ``INPUT_COMMENT_ID``, ``INPUT_ISSUE``, ``INPUT_ISSUE_ID``; ``GH_TOKEN`` for the comment and
the issue; GitHub's own
``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_EVENT_PATH``, ``GITHUB_API_URL``, ``GITHUB_GRAPHQL_URL``, ...
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.action.github import ActionError, CliRun, Workflow, fenced, md_cell, run_cli, sticky_comment
from reconciler.action.issue import IssueOutcome, sync_drift_issues

COMMANDS = ("plan", "apply", "drift")
DEFAULT_PLAN_FILE = "reconciler-plan.json"
DEFAULT_REPORT_FILES = {"apply": "reconciler-apply.json", "drift": "reconciler-drift.json"}
#: The hidden first line of the pull-request comment, by which a later run finds it again.
MARKER = "<!-- reconciler-plan -->"
#: Options the action sets itself; in ``args`` they would contradict the inputs.
_OWN_OPTIONS = ("-f", "--file", "--format", "--out")
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")
_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class Inputs:
    command: str
    files: tuple[str, ...]
    plan_file: str
    report_file: str
    args: tuple[str, ...]
    fail_on_drift: bool
    comment: bool
    marker: str
    issue: bool = False
    issue_key: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        command = env.get("INPUT_COMMAND", "").strip()
        if command not in COMMANDS:
            raise ActionError(f"input 'command' must be one of {', '.join(COMMANDS)}, not {command!r}")
        files = tuple(_split("files", env.get("INPUT_FILES", "")))
        args = tuple(_split("args", env.get("INPUT_ARGS", "")))
        for arg in args:
            if arg.split("=", 1)[0] in _OWN_OPTIONS or (arg.startswith("-f") and not arg.startswith("--")):
                raise ActionError(f"input 'args': {arg} is set by the action; use the 'files' or 'plan-file' inputs")
        comment_id = _key(env, "INPUT_COMMENT_ID", "comment-id")
        plan_file = env.get("INPUT_PLAN_FILE", "").strip()
        return cls(
            command=command,
            files=files,
            plan_file=plan_file or (DEFAULT_PLAN_FILE if command == "plan" else ""),
            report_file=env.get("INPUT_REPORT_FILE", "").strip() or DEFAULT_REPORT_FILES.get(command, ""),
            args=args,
            fail_on_drift=_flag(env, "INPUT_FAIL_ON_DRIFT", "fail-on-drift", default=True),
            comment=_flag(env, "INPUT_COMMENT", "comment", default=True),
            marker=f"<!-- reconciler-plan:{comment_id} -->" if comment_id else MARKER,
            issue=_flag(env, "INPUT_ISSUE", "issue", default=False),
            issue_key=_key(env, "INPUT_ISSUE_ID", "issue-id"),
        )

    def file_args(self) -> list[str]:
        return [arg for name in self.files for arg in ("-f", name)]


def _split(name: str, value: str) -> list[str]:
    """One or more values a line; quotes as in a shell, for names with spaces."""
    try:
        return [word for line in value.splitlines() for word in shlex.split(line)]
    except ValueError as exc:
        raise ActionError(f"input '{name}': {exc}") from None


def _key(env: Mapping[str, str], variable: str, name: str) -> str:
    """A name that goes into a hidden marker: a few safe characters, or none."""
    key = env.get(variable, "").strip()
    if key and not _ID.fullmatch(key):
        raise ActionError(f"input '{name}' may hold only letters, digits, '.', '_' and '-' (at most 64)")
    return key


def _flag(env: Mapping[str, str], key: str, name: str, *, default: bool) -> bool:
    text = env.get(key, "").strip().lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ActionError(f"input '{name}' must be true or false, not {text!r}")


# --------------------------------------------------------------------------- plan


def plan_summary(markdown: str, returncode: int) -> str:
    """The plan's summary line, from the Markdown's first bold line (``Plan: 1 to create, ...``).

    A failed plan (exit 1) says it failed, whatever the Markdown holds.
    """
    verdict = next((line.replace("**", "").strip() for line in markdown.splitlines() if line.startswith("**")), "")
    if returncode in (0, 2):
        return verdict
    return f"Plan failed (exit {returncode})" + (f": {verdict}" if verdict else "; see the log.")


def comment_body(inputs: Inputs, wf: Workflow, result: CliRun, saved: bool) -> str:
    """The pull-request comment: marker, the plan (or the failure), where it came from."""
    parts = [inputs.marker]
    if result.stdout.strip():
        parts.append(result.stdout.rstrip())
    else:
        parts.append("### reconciler plan")
    if result.returncode == 1:
        parts.append("> [!CAUTION]\n> The plan failed (exit 1):")
        parts.append(fenced(result.stderr_tail()))
    footer = [" ".join(f"`{md_cell(name)}`" for name in inputs.files) or "`senders.yaml`"]
    if saved:
        footer.append(f"saved plan `{md_cell(inputs.plan_file)}`")
    if sha := wf.head_sha():
        footer.append(f"commit `{sha[:12]}`")
    if url := wf.run_url():
        footer.append(f"[workflow run]({url})")
    if footer:
        parts.append("<sub>" + " · ".join(footer) + "</sub>")
    return "\n\n".join(parts) + "\n"


def do_plan(inputs: Inputs, wf: Workflow) -> int:
    plan_path = Path(inputs.plan_file)
    try:
        plan_path.unlink(missing_ok=True)  # an old plan must never pass for this run's
        plan_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ActionError(f"plan-file {inputs.plan_file}: {exc.strerror}") from None
    argv = ["plan", *inputs.file_args(), "--format", "markdown", "--out", inputs.plan_file, "--detailed-exitcode",
            *inputs.args]
    result = run_cli(argv, wf)
    saved = plan_path.is_file()
    wf.set_outputs({
        "exitcode": str(result.returncode),
        "has-changes": str(result.returncode == 2).lower(),  # --detailed-exitcode: 0 none, 2 changes, 1 error
        "plan-file": inputs.plan_file if saved else "",
        "summary": plan_summary(result.stdout, result.returncode),
    })
    body = comment_body(inputs, wf, result, saved)
    wf.add_summary(body.removeprefix(inputs.marker).lstrip())
    commented = _comment(inputs, wf, body)
    if result.returncode not in (0, 2):
        wf.error(f"reconciler plan failed (exit {result.returncode}); see the log above")
        return 1
    return 0 if commented else 1


def _comment(inputs: Inputs, wf: Workflow, body: str) -> bool:
    """Post or update the plan's comment on the pull request, if any; False when that failed (an error says why)."""
    number = wf.pull_request_number()
    if not inputs.comment or number is None:
        return True
    try:
        url = sticky_comment(wf, number, inputs.marker, body)
    except ActionError as exc:
        wf.set_outputs({"comment-url": ""})
        wf.error(f"the plan was not commented on pull request #{number}: {exc}. The job needs "
                 "'pull-requests: write' for its token (input github-token); 'comment: false' skips the comment")
        return False
    wf.set_outputs({"comment-url": url})
    return True


# --------------------------------------------------------------------------- apply


def apply_summary(doc: Mapping[str, Any]) -> str:
    """``Apply complete: 2 done.``, as the CLI words it in the JSON report; a failed run says it failed."""
    error = doc.get("error")
    if isinstance(error, Mapping):
        return f"Apply failed: {error.get('message')}"
    return str((doc.get("apply") or {}).get("summary_line") or "")


def apply_markdown(doc: Mapping[str, Any]) -> str:
    outcomes = (doc.get("apply") or {}).get("outcomes") or []
    lines = ["### reconciler apply", "", f"**{apply_summary(doc)}**", ""]
    several = len({o.get("account") for o in outcomes}) > 1  # a run across accounts: say where each is
    if outcomes:
        head = "| account | sender | action | result | status | error |" if several else \
            "| sender | action | result | status | error |"
        lines += [head, "|" + " --- |" * head.count(" | ") + " --- |"]
        for o in outcomes:
            error = o.get("error") or {}
            text = f"{error.get('code') or ''} {error.get('message') or ''}".strip()
            where = f"| `{md_cell(str(o.get('account')))}` " if several else ""
            lines.append(f"{where}| `{md_cell(str(o.get('sender_id')))}` | {md_cell(str(o.get('action')))} | "
                         f"{md_cell(str(o.get('result')))} | {md_cell(str(o.get('final_status') or ''))} | {md_cell(text)} |")
    elif not isinstance(doc.get("error"), Mapping):
        lines.append("Nothing to apply.")
    return "\n".join(lines) + "\n"


def do_apply(inputs: Inputs, wf: Workflow) -> int:
    if inputs.plan_file:
        if not Path(inputs.plan_file).is_file():
            raise ActionError(f"plan-file {inputs.plan_file}: no such file; save one with the plan command, "
                              "or leave plan-file empty to plan and apply in one step")
        argv = ["apply", inputs.plan_file, "--format", "json", *inputs.args]
    else:
        argv = ["apply", *inputs.file_args(), "--auto-approve", "--format", "json", *inputs.args]
    result = run_cli(argv, wf, echo_stdout=False)
    doc = result.json()
    report_file = ""
    if doc is not None:
        wf.write_file(inputs.report_file, result.stdout)
        report_file = inputs.report_file
        wf.add_summary(apply_markdown(doc))
    if doc is not None:
        print(apply_summary(doc), flush=True)
    wf.set_outputs({
        "exitcode": str(result.returncode),
        "report-file": report_file,
        "summary": apply_summary(doc) if doc is not None else f"Apply failed (exit {result.returncode}); see the log.",
    })
    if result.returncode != 0:
        wf.error(f"reconciler apply failed (exit {result.returncode}); see the log above")
        return 1
    return 0


# --------------------------------------------------------------------------- drift


def drift_error(doc: Mapping[str, Any] | None, returncode: int) -> str | None:
    """Why the drift check failed, or None when it ran: an error document is never read as a drift document."""
    error = doc.get("error") if doc is not None else None
    if returncode in (0, 2) and doc is not None and not isinstance(error, Mapping):
        return None
    message = error.get("message") if isinstance(error, Mapping) else None
    return str(message) if message else f"exit {returncode}; see the log above"


def drift_summary(doc: Mapping[str, Any]) -> str:
    if not doc.get("drift"):
        return f"No drift: live senders match the file ({doc.get('live_senders', 0)} live senders read)."
    s = doc.get("summary") or {}
    line = f"Drift: {s.get('create', 0)} to create, {s.get('update', 0)} to update, {s.get('delete', 0)} to delete"
    if s.get("pool"):
        line += f", {s['pool']} sender-pool change{'s' if s['pool'] != 1 else ''}"
    if doc.get("gated"):
        line += f" ({doc['gated']} gated)"
    return line + ". Senders: " + ", ".join(str(x) for x in doc.get("senders") or [])


def do_drift(inputs: Inputs, wf: Workflow) -> int:
    result = run_cli(["drift", *inputs.file_args(), "--format", "json", *inputs.args], wf)
    doc = result.json()
    error = drift_error(doc, result.returncode)
    if doc is not None:
        wf.write_file(inputs.report_file, result.stdout)
    if doc is not None and error is None:
        summary = drift_summary(doc)
        wf.add_summary(f"### reconciler drift\n\n**{md_cell(summary)}**\n")
    else:
        summary = f"Drift check failed: {error}"
        wf.add_summary(f"### reconciler drift\n\n**The drift check failed (exit {result.returncode}).**\n\n"
                       f"{fenced(str(error))}\n")
    drifted = error is None and result.returncode == 2
    wf.set_outputs({
        "exitcode": str(result.returncode),
        "drifted": str(drifted).lower(),
        "summary": summary,
        "report-file": inputs.report_file if doc is not None else "",
    })
    issues_ok = _drift_issues(inputs, wf, doc if error is None else None)
    if error is not None:
        wf.error(f"reconciler drift failed (exit {result.returncode}): {error}")
        return 1
    if not issues_ok:
        return 1
    if drifted:
        if inputs.fail_on_drift:
            wf.error(f"WhatsApp senders drifted from the file: {summary}")
            return 1
        wf.warning(f"WhatsApp senders drifted from the file: {summary}")
    return 0


def _drift_issues(inputs: Inputs, wf: Workflow, doc: Mapping[str, Any] | None) -> bool:
    """With ``issue: true``, each account's drift issue as the check found it; False when GitHub refused (an
    error says why). ``doc`` None: the check failed, which says nothing about drift, so no issue is touched."""
    if not inputs.issue:
        return True
    if doc is None:
        wf.set_outputs({"issue-number": "", "issue-url": ""})
        note = "The drift issue was left as it is: the check failed, which says nothing about drift."
        print(note, flush=True)
        wf.add_summary(note)
        return True
    try:
        outcomes = sync_drift_issues(wf, doc, inputs.issue_key, inputs.files)
    except ActionError as exc:
        wf.set_outputs({"issue-number": "", "issue-url": ""})
        wf.error(f"the drift issue was not updated: {exc}. The job needs 'issues: write' for its token "
                 "(input github-token); 'issue: false' turns the issue off")
        return False
    opened = [o for o in outcomes if o.open]
    wf.set_outputs({"issue-number": " ".join(str(o.number) for o in opened),
                    "issue-url": " ".join(o.url for o in opened)})
    lines = [_issue_line(o) for o in outcomes if o.change != "unchanged"]
    for line in lines:
        print(line, flush=True)
    if lines:
        wf.add_summary("\n".join(f"- {line}" for line in lines))
    return True


def _issue_line(outcome: IssueOutcome) -> str:
    verb = {"opened": "Opened", "updated": "Updated", "closed": "Closed"}[outcome.change]
    return f"{verb} the drift issue of account {outcome.account}: #{outcome.number} {outcome.url}".rstrip()


# --------------------------------------------------------------------------- entry point

_COMMANDS = {"plan": do_plan, "apply": do_apply, "drift": do_drift}


def main(env: Mapping[str, str] | None = None) -> int:
    """Run the action; the exit code fails the step (1) or not (0)."""
    env = os.environ if env is None else env
    wf = Workflow(env)
    try:
        inputs = Inputs.from_env(env)
        return _COMMANDS[inputs.command](inputs, wf)
    except ActionError as exc:
        wf.error(str(exc))
        return 1
