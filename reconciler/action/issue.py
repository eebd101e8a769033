"""The drift issue: one open GitHub issue per key and account while the account's senders drift.

    outcomes = sync_drift_issues(wf, doc, key="prod", files=("senders.yaml",))   # ActionError if GitHub refuses

``doc`` is the document of ``reconciler drift --format json`` for a check that ran (an error says nothing
about drift: the caller never passes one). For each account it lists: drift and no issue, one is opened
(labelled :data:`LABEL`, its body the drift report in Markdown); drift and an issue, its body is brought
up to date; back in sync, the issue is closed with a comment; in sync and no issue, nothing.

An issue is this action's only when its body's first line is the key's hidden marker
(``<!-- reconciler-drift:KEY:AC… -->``) and its author is the token's own identity, as for the plan's
comment (:func:`~reconciler.action.github.is_own_comment`): any other is left alone. Open issues are
looked up by the label, then, for an account none of those is about, among every open issue (the label
may have been removed by a person or not set for want of permission): there is never a second open
issue for one key and account, and were there two, the later ones are closed as duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from reconciler.action.github import ActionError, GitHubApi, Workflow, fit_comment, is_own_comment, response_json, signed_in
from reconciler.text import clip, escape_control, md_code, md_text

#: The label of every drift issue: the first place they are looked for, and a filter for people.
LABEL = "reconciler-drift"
#: GitHub refuses a longer title.
TITLE_LIMIT = 256
#: Senders listed in an issue at most; the report file lists them all.
SENDERS_SHOWN = 200

Change = Literal["opened", "updated", "closed", "unchanged"]


@dataclass(frozen=True)
class IssueOutcome:
    """What happened to one account's drift issue: ``number`` and ``url`` of the issue (None, "" when none)."""

    account: str
    change: Change
    number: int | None = None
    url: str = ""

    @property
    def open(self) -> bool:
        return self.change in ("opened", "updated")


def marker(key: str, sid: str) -> str:
    """The hidden first line by which a later run finds the issue of ``key`` (may be empty) and account ``sid``."""
    return f"<!-- reconciler-drift:{key}:{sid} -->" if key else f"<!-- reconciler-drift:{sid} -->"


def _label(account: Mapping[str, Any]) -> str:
    name = account.get("friendly_name")
    return f"{account['sid']} ({name})" if isinstance(name, str) and name else str(account["sid"])


def issue_title(account: Mapping[str, Any], key: str) -> str:
    """One line: which account's senders drifted (and the key, when there is one)."""
    title = f"WhatsApp senders drifted from the files: account {_label(account)}" + (f" [{key}]" if key else "")
    return clip(" ".join(escape_control(title).split()), TITLE_LIMIT)


def _counts(account: Mapping[str, Any]) -> str:
    s = account.get("summary") or {}
    line = f"Drift: {s.get('create', 0)} to create, {s.get('update', 0)} to update, {s.get('delete', 0)} to delete"
    return line + (f" ({account['gated']} gated)" if account.get("gated") else "") + "."


def _md_account(account: Mapping[str, Any], word: str = "Account") -> str:
    name = account.get("friendly_name")
    return f"{word} {md_code(str(account['sid']))}" + (f" ({md_text(name)})" if isinstance(name, str) and name else "")


def _footer(wf: Workflow, files: Sequence[str]) -> str:
    parts = [" ".join(md_code(name) for name in files) or md_code("senders.yaml")]
    if sha := wf.head_sha():
        parts.append(f"commit {md_code(sha[:12])}")
    if url := wf.run_url():
        parts.append(f"[workflow run]({url})")
    return "<sub>" + " · ".join(parts) + "</sub>"


def issue_body(account: Mapping[str, Any], key: str, wf: Workflow, files: Sequence[str]) -> str:
    """The drift report of one account in Markdown, every value from the API or the files escaped."""
    senders = [str(s) for s in account.get("senders") or []]
    listed = [f"- {md_code(s)}" for s in senders[:SENDERS_SHOWN]]
    if len(senders) > SENDERS_SHOWN:
        listed.append(f"- … and {len(senders) - SENDERS_SHOWN} more: the drift report file lists them all")
    parts = [
        marker(key, str(account["sid"])),
        "### reconciler drift",
        f"**{_counts(account)}**",
        f"{_md_account(account)}: the live senders no longer match the files "
        f"({len(senders)} of {account.get('live_senders', 0)} live senders differ):",
        "\n".join(listed),
        "`reconciler plan` shows each change. Apply the files, or change them to match, and the next drift "
        "check closes this issue; while the drift lasts, every check brings this report up to date.",
        _footer(wf, files),
    ]
    return fit_comment("\n\n".join(parts) + "\n")


def _closing_comment(account: Mapping[str, Any], wf: Workflow) -> str:
    run = f" ([workflow run]({url}))" if (url := wf.run_url()) else ""
    return (f"Back in sync: the live senders of {_md_account(account, 'account')} "
            f"match the files again ({account.get('live_senders', 0)} live senders read){run}. Closing.")


def _found(api: GitHubApi, path: str, me: str, wanted: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """This action's open issues among a list, by marker, oldest first (pull requests are skipped)."""
    markers = set(wanted)
    found: dict[str, list[dict[str, Any]]] = {}
    for item in api.pages(path):
        if not isinstance(item, dict) or "pull_request" in item or not isinstance(item.get("number"), int):
            continue
        first = str(item.get("body") or "").split("\n", 1)[0].strip()
        if first in markers and is_own_comment(item, me, first):
            found.setdefault(first, []).append(item)
    return {m: sorted(items, key=lambda i: int(i["number"])) for m, items in found.items()}


def _has_label(issue: Mapping[str, Any]) -> bool:
    return any(isinstance(label, Mapping) and label.get("name") == LABEL for label in issue.get("labels") or [])


def sync_drift_issues(wf: Workflow, doc: Mapping[str, Any], key: str, files: Sequence[str]) -> list[IssueOutcome]:
    """Open, update or close each account's drift issue as ``doc`` says; raises ActionError when GitHub refuses."""
    accounts = [a for a in doc.get("accounts") or [] if isinstance(a, Mapping) and isinstance(a.get("sid"), str)]
    if not accounts:
        raise ActionError("the drift report names no account")
    repo, api, me = signed_in(wf)
    markers = {marker(key, a["sid"]): a for a in accounts}
    found = _found(api, f"repos/{repo}/issues?state=open&labels={LABEL}&per_page=100", me, markers)
    if missing := set(markers) - found.keys():
        found.update(_found(api, f"repos/{repo}/issues?state=open&per_page=100", me, missing))
    return [_sync_one(api, repo, wf, account, key, files, found.get(m, [])) for m, account in markers.items()]


def _sync_one(api: GitHubApi, repo: str, wf: Workflow, account: Mapping[str, Any], key: str, files: Sequence[str],
              issues: list[dict[str, Any]]) -> IssueOutcome:
    sid = str(account["sid"])
    if account.get("drift") is not True:
        for issue in issues:
            api.request("POST", f"repos/{repo}/issues/{issue['number']}/comments", {"body": _closing_comment(account, wf)})
            api.request("PATCH", f"repos/{repo}/issues/{issue['number']}", {"state": "closed", "state_reason": "completed"})
        if not issues:
            return IssueOutcome(sid, "unchanged")
        return IssueOutcome(sid, "closed", int(issues[0]["number"]), str(issues[0].get("html_url") or ""))
    payload = {"title": issue_title(account, key), "body": issue_body(account, key, wf, files)}
    if not issues:
        created = _issue(api.request("POST", f"repos/{repo}/issues", {**payload, "labels": [LABEL]}))
        return IssueOutcome(sid, "opened", int(created["number"]), str(created.get("html_url") or ""))
    keep, *duplicates = issues
    number = int(keep["number"])
    updated = _issue(api.request("PATCH", f"repos/{repo}/issues/{number}", payload))
    if not _has_label(keep):  # found among every open issue: labelled again, to be found first next time
        api.request("POST", f"repos/{repo}/issues/{number}/labels", {"labels": [LABEL]})
    for extra in duplicates:
        api.request("POST", f"repos/{repo}/issues/{extra['number']}/comments",
                    {"body": f"The drift of this account is reported in #{number}. Closing this duplicate."})
        api.request("PATCH", f"repos/{repo}/issues/{extra['number']}", {"state": "closed", "state_reason": "not_planned"})
    return IssueOutcome(sid, "updated", number, str(updated.get("html_url") or keep.get("html_url") or ""))


def _issue(answer: httpx.Response) -> dict[str, Any]:
    """An issue as GitHub answered it, with its number; an ActionError when the answer is not one."""
    doc = response_json(answer)
    if not isinstance(doc, dict) or not isinstance(doc.get("number"), int):
        raise ActionError(f"{answer.request.method} {answer.request.url.path}: GitHub's answer is not an issue")
    return doc
