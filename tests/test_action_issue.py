"""The drift issue (reconciler/action/issue.py): the action's ``drift`` with ``issue: true``, run as a runner runs
it, against the emulator and GitHub's API as a stand-in on 127.0.0.1 (tests/github_stand_in.py)."""

from __future__ import annotations

from typing import Any

from reconciler.action.github import Workflow
from reconciler.action.issue import LABEL, SENDERS_SHOWN, issue_body, issue_title, marker
from reconciler.emulator import EmulatorServer
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, url_of
from tests.github_stand_in import BOT, MALLORY, REPO, A, B, C, GitHubStandIn, Runner

MARKER = marker("", TEST_ACCOUNT_SID)


def _file(runner: Runner, *extra: str, name: str = "senders.yaml", account: str | None = None) -> str:
    lines = [f"account: {account}"] if account else []
    lines += ["senders:", f'  - sender_id: "{A}"', "    profile: {name: Acme}"]
    lines += [line for sender in extra for line in (f'  - sender_id: "{sender}"', "    profile: {name: Console}")]
    runner.write(name, "\n".join(lines) + "\n")
    return name


def _drift(runner: Runner, files: str, **inputs: str) -> Any:
    return runner.run(event="schedule", command="drift", files=files, issue="true", fail_on_drift="false", **inputs)


def _in_sync(runner: Runner, emulator: EmulatorServer) -> str:
    files = _file(runner)
    assert runner.run(event="push", command="apply", files=files).returncode == 0
    return files


def test_drift_opens_one_issue_updates_it_while_it_lasts_and_closes_it_once_in_sync(runner, emulator, github):
    files = _in_sync(runner, emulator)
    clean = _drift(runner, files)
    assert clean.returncode == 0 and (clean.outputs["issue-number"], clean.outputs["issue-url"]) == ("", "")
    assert github.issues == {} and github.writes() == []

    emulator.add_sender({"sender_id": B, "profile": {"name": "Console"}})
    opened = _drift(runner, files)
    assert opened.returncode == 0 and opened.outputs["drifted"] == "true"
    (issue,) = github.open_issues()
    assert opened.outputs["issue-number"] == str(issue["number"]) and opened.outputs["issue-url"] == issue["html_url"]
    assert issue["user"] == BOT and issue["labels"] == [{"name": LABEL}]
    assert issue["title"] == f"WhatsApp senders drifted from the files: account {TEST_ACCOUNT_SID}"
    body = issue["body"]
    assert body.splitlines()[0] == MARKER
    assert "**Drift: 0 to create, 0 to update, 1 to delete (1 gated).**" in body and f"- `{B}`" in body
    assert "actions/runs/4242" in body and f"Opened the drift issue of account {TEST_ACCOUNT_SID}" in opened.stdout

    emulator.add_sender({"sender_id": C, "profile": {"name": "Console"}})
    still = _drift(runner, files)
    assert github.open_issues() == [issue] and len(github.issues) == 1, "the same issue, brought up to date"
    assert still.outputs["issue-number"] == str(issue["number"])
    assert "**Drift: 0 to create, 0 to update, 2 to delete (2 gated).**" in issue["body"] and f"- `{C}`" in issue["body"]
    assert f"Updated the drift issue of account {TEST_ACCOUNT_SID}: #{issue['number']}" in still.stdout

    fixed = _drift(runner, _file(runner, B, C))  # the file now declares what was made in the Console
    assert fixed.returncode == 0 and fixed.outputs["drifted"] == "false"
    assert issue["state"] == "closed" and issue["state_reason"] == "completed" and github.open_issues() == []
    (comment,) = issue["comments"]
    assert comment["user"] == BOT
    assert comment["body"].startswith(f"Back in sync: the live senders of account `{TEST_ACCOUNT_SID}`")
    assert (fixed.outputs["issue-number"], fixed.outputs["issue-url"]) == ("", "")
    assert f"Closed the drift issue of account {TEST_ACCOUNT_SID}: #{issue['number']}" in fixed.stdout
    assert f"Closed the drift issue of account {TEST_ACCOUNT_SID}" in fixed.summary


def test_an_issue_on_a_later_page_is_found_and_no_second_one_is_opened(runner, emulator, github):
    files = _in_sync(runner, emulator)
    for n in range(5):
        github.add_issue(f"unrelated {n}", "a bug", MALLORY, labels=(LABEL,))  # the label alone proves nothing
    ours = github.add_issue("old title", f"{MARKER}\nold report", BOT, labels=(LABEL,))
    emulator.add_sender({"sender_id": B, "profile": {"name": "Console"}})
    step = _drift(runner, files)
    assert step.returncode == 0 and step.outputs["issue-number"] == str(ours["number"])
    assert len(github.open_issues()) == 6 and ("POST", f"/repos/{REPO}/issues") not in github.writes()
    assert f"- `{B}`" in ours["body"] and ours["title"].startswith("WhatsApp senders drifted")
    listed = [c for c in github.calls if (c["method"], c["path"]) == ("GET", f"/repos/{REPO}/issues")]
    assert len(listed) == 3, "six labelled issues, two a page, ours on the last: no search beyond the label"


def test_an_issue_that_lost_its_label_is_found_among_every_open_issue_and_labelled_again(runner, emulator, github):
    files = _in_sync(runner, emulator)
    emulator.add_sender({"sender_id": B, "profile": {"name": "Console"}})
    github.labels_dropped = True  # a token that may not set labels: GitHub drops them silently
    first = _drift(runner, files)
    (issue,) = github.open_issues()
    assert issue["labels"] == [] and first.outputs["issue-number"] == str(issue["number"])
    github.labels_dropped = False
    again = _drift(runner, files)
    assert github.open_issues() == [issue] and again.outputs["issue-number"] == str(issue["number"])
    assert issue["labels"] == [{"name": LABEL}], "labelled, to be found at once next time"


def test_only_the_tokens_own_issue_counts_and_duplicates_are_closed(runner, emulator, github):
    files = _in_sync(runner, emulator)
    forged = github.add_issue("fake", f"{MARKER}\nNo drift, all good.", MALLORY, labels=(LABEL,))
    older = github.add_issue("drift", f"{MARKER}\nreport", BOT, labels=(LABEL,))
    newer = github.add_issue("drift", f"{MARKER}\nreport", BOT, labels=(LABEL,))
    quoting = github.add_issue("drift", f"As the action said:\n{MARKER}", BOT, labels=(LABEL,))
    emulator.add_sender({"sender_id": B, "profile": {"name": "Console"}})
    step = _drift(runner, files)
    assert step.outputs["issue-number"] == str(older["number"]) and f"- `{B}`" in older["body"]
    assert newer["state"] == "closed" and newer["state_reason"] == "not_planned"
    assert newer["comments"][0]["body"] == f"The drift of this account is reported in #{older['number']}. Closing this duplicate."
    assert forged["body"].endswith("No drift, all good.") and forged["state"] == "open" and forged["comments"] == []
    assert quoting["state"] == "open" and quoting["comments"] == []
    # Back in sync: the action's own issue is closed; nobody else's.
    _drift(runner, _file(runner, B))
    assert older["state"] == "closed" and forged["state"] == "open" and quoting["state"] == "open"


def test_a_failed_check_is_not_drift_and_leaves_the_issue_alone(runner, emulator, github):
    files = _in_sync(runner, emulator)
    emulator.add_sender({"sender_id": B, "profile": {"name": "Console"}})
    assert _drift(runner, files).returncode == 0
    (issue,) = github.open_issues()
    before, calls = dict(issue), len(github.calls)
    runner.base_env["TWILIO_AUTH_TOKEN"] = "wrong-token-" + "0" * 20
    failed = _drift(runner, files)
    assert failed.returncode == 1 and failed.outputs["exitcode"] == "1" and failed.outputs["drifted"] == "false"
    assert (failed.outputs["issue-number"], failed.outputs["issue-url"]) == ("", "")
    said = "The drift issue was left as it is: the check failed, which says nothing about drift."
    assert said in failed.stdout and said in failed.summary
    assert len(github.calls) == calls and issue == before, "GitHub was not even asked"
    # Nor does a failed check open one.
    runner.base_env["TWILIO_AUTH_TOKEN"] = TEST_AUTH_TOKEN
    _drift(runner, _file(runner, B))
    assert github.open_issues() == []
    runner.base_env["TWILIO_AUTH_TOKEN"] = "wrong-token-" + "0" * 20
    emulator.add_sender({"sender_id": C, "profile": {"name": "Console"}})
    assert _drift(runner, files).returncode == 1 and github.open_issues() == []


def test_each_account_of_a_run_has_its_own_issue_under_the_key(runner, emulator, github):
    sub = emulator.add_account("Acme Bakery")
    runner.base_env["TWILIO_API_BASE_URL"] = url_of(emulator)
    _file(runner, name="senders/main.yaml")
    runner.write("senders/bakery.yaml", f'account: {sub.sid}\nsenders:\n  - sender_id: "{B}"\n    profile: {{name: Bakery}}\n')
    assert runner.run(event="push", command="apply", files="senders").returncode == 0
    emulator.add_sender({"sender_id": C, "profile": {"name": "Console"}}, account=sub.sid)
    step = _drift(runner, "senders", issue_id="prod")
    (issue,) = github.open_issues()
    assert issue["body"].splitlines()[0] == f"<!-- reconciler-drift:prod:{sub.sid} -->"
    assert issue["title"] == f"WhatsApp senders drifted from the files: account {sub.sid} (Acme Bakery) [prod]"
    assert step.outputs["issue-number"] == str(issue["number"])
    assert f"Account `{sub.sid}` (Acme Bakery)" in issue["body"] and f"`{C}`" in issue["body"]

    emulator.add_sender({"sender_id": C, "profile": {"name": "Console"}})  # the parent drifts too
    both = _drift(runner, "senders", issue_id="prod")
    parent = next(i for i in github.open_issues() if i is not issue)
    assert parent["body"].splitlines()[0] == f"<!-- reconciler-drift:prod:{TEST_ACCOUNT_SID} -->"
    # In the order of the report's accounts (bakery.yaml comes first in the directory).
    assert both.outputs["issue-number"] == f"{issue['number']} {parent['number']}"
    assert both.outputs["issue-url"] == f"{issue['html_url']} {parent['html_url']}"
    # Another key keeps issues of its own.
    _drift(runner, "senders", issue_id="staging")
    assert len(github.open_issues()) == 4

    runner.write("senders/bakery.yaml", f'account: {sub.sid}\nsenders:\n  - sender_id: "{B}"\n    profile: {{name: Bakery}}\n'
                 f'  - sender_id: "{C}"\n    profile: {{name: Console}}\n')
    fixed = _drift(runner, "senders", issue_id="prod")
    assert issue["state"] == "closed" and parent["state"] == "open" and fixed.outputs["issue-number"] == str(parent["number"])


def test_an_issue_github_refuses_fails_the_step_and_says_what_is_needed(runner, emulator, github):
    files = _in_sync(runner, emulator)
    emulator.add_sender({"sender_id": B, "profile": {"name": "Console"}})
    github.refuse[f"POST /repos/{REPO}/issues"] = (403, "Resource not accessible by integration")
    step = _drift(runner, files)
    assert step.returncode == 1 and step.outputs["drifted"] == "true" and step.outputs["issue-number"] == ""
    assert (f"::error::the drift issue was not updated: POST /repos/{REPO}/issues: GitHub answered 403: "
            "Resource not accessible by integration. The job needs 'issues: write'") in step.stdout


def test_without_issue_true_github_is_not_asked(runner, emulator, github):
    files = _in_sync(runner, emulator)
    emulator.add_sender({"sender_id": B, "profile": {"name": "Console"}})
    step = runner.run(event="schedule", command="drift", files=files, fail_on_drift="false")
    assert step.returncode == 0 and github.calls == [] and "issue-number" not in step.outputs


# --------------------------------------------------------------------------- the issue's words


def test_the_body_escapes_what_the_api_and_the_files_say(tmp_path):
    account = {"sid": "AC" + "1" * 32, "friendly_name": "@everyone <img src=x> [x](http://e.example) | *b*",
               "drift": True, "summary": {"create": 0, "update": 0, "delete": 2}, "gated": 2, "live_senders": 3,
               "senders": ["whatsapp:+1`<b>`@team|x", "whatsapp:+15017122661"]}
    wf = Workflow({"GITHUB_SHA": "f" * 40})
    body = issue_body(account, "prod", wf, ("accounts/`prod`/senders.yaml",))
    assert body.startswith(f"<!-- reconciler-drift:prod:{account['sid']} -->\n")
    # As the plan's comment escapes them: no mention, no HTML, no link, no emphasis, no table cell break.
    assert "(@\u200beveryone &lt;img src=x&gt; \\[x\\](http\\://e.example) \\| \\*b\\*)" in body
    assert "@everyone" not in body and "<img" not in body
    assert "``whatsapp:+1`<b>`@team\\|x``" in body and body.count("<b>") == 1, "in a code span no backtick can close"
    assert "``accounts/`prod`/senders.yaml``" in body
    title = issue_title({**account, "friendly_name": "line\nbreak\x1b[2J" + "x" * 400}, "prod")
    assert "\n" not in title and "\x1b" not in title and len(title) == 256


def test_a_huge_drift_lists_the_first_senders_and_counts_the_rest():
    senders = [f"whatsapp:+1501712{i:04d}" for i in range(SENDERS_SHOWN + 50)]
    account = {"sid": "AC" + "1" * 32, "drift": True, "summary": {"create": 0, "update": 0, "delete": len(senders)},
               "senders": senders, "live_senders": len(senders)}
    body = issue_body(account, "", Workflow({}), ())
    assert body.count("- `whatsapp:") == SENDERS_SHOWN and "… and 50 more" in body and len(body) < 65_536
    assert "`senders.yaml`" in body


def test_the_stand_in_lists_the_pull_request_among_the_issues(github: GitHubStandIn):
    """GitHub's list of issues holds pull requests too: the action skips them (see _found)."""
    answer = github.answer("GET", f"/repos/{REPO}/issues?state=open", "ghs_not_a_real_token", None)
    assert answer[1][0]["number"] == 7 and "pull_request" in answer[1][0]
