"""Problems as GitHub Actions annotations, on the line of the file they are about.

    workflow_commands(error_annotations(error), workspace="/home/runner/work/r/r", cwd="/home/runner/work/r/r")
    # ['::error file=senders.yaml,line=12,col=7::sender whatsapp:+15017122661: profile.vertical: ...']

In a workflow step (``GITHUB_ACTIONS=true``) the commands print these on stderr besides their usual lines,
and GitHub marks each on the pull request's diff. Every validation error with a place, and every plan
problem or notice about a sender whose entry is found in the files, becomes one; a notice is a warning
when someone should act on it, a notice otherwise. Paths are made relative to ``GITHUB_WORKSPACE`` (the
repository's root, where GitHub looks for them) when they lie under it. Values are escaped as workflow
commands require: in the message ``%``, CR and LF; in a property also ``:`` and ``,``. Pure functions:
where a sender stands in its file is looked up by the caller (:func:`reconciler.offline.sender_places`).
"""

from __future__ import annotations

import os.path
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from reconciler.errors import ConfigError, Location, ReconcilerError
from reconciler.render.words import notice_message, problem_message
from reconciler.text import escape_control

if TYPE_CHECKING:
    from reconciler.accounts.record import AccountPlan
    from reconciler.diff import Problem

Level = Literal["error", "warning", "notice"]

#: GitHub shows at most this many annotations of each level from one step; the rest are dropped.
MAX_PER_LEVEL = 10
#: Notices someone should act on (a display name Meta refused, a sender offline): warnings.
WARNING_NOTICES = frozenset({"offline", "rename_failed", "rename_blocked"})


def escape_data(text: str) -> str:
    """The message of a workflow command (``::error::DATA``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property's value (``file=VALUE``): the message's escapes, and ``:`` and ``,``, which end a value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workspace_path(path: str, workspace: str, cwd: str) -> str:
    """``path`` (as the command was given it, from ``cwd``) relative to ``workspace``, when it lies under it.

    >>> workspace_path("senders.yaml", "/w/repo", "/w/repo/accounts")
    'accounts/senders.yaml'
    """
    if not workspace:
        return path
    full = os.path.normpath(os.path.join(cwd, path))
    root = os.path.normpath(workspace)
    if full == root or not full.startswith(root.rstrip(os.sep) + os.sep):
        return path
    return os.path.relpath(full, root).replace(os.sep, "/")  # GitHub's paths use "/" on every runner


@dataclass(frozen=True)
class Annotation:
    level: Level
    location: Location
    message: str

    def command(self, workspace: str, cwd: str) -> str:
        where = self.location
        props = [f"file={escape_property(workspace_path(where.path, workspace, cwd))}"]
        if where.line is not None:
            props.append(f"line={where.line}")
            if where.column is not None:
                props.append(f"col={where.column}")
        return f"::{self.level} {','.join(props)}::{escape_data(escape_control(self.message))}"


def error_annotations(error: ReconcilerError | None) -> list[Annotation]:
    """Each issue of an invalid file, at its place."""
    if not isinstance(error, ConfigError):
        return []
    return [Annotation("error", issue.location, _issue_message(issue.sender_id, issue.message))
            for issue in error.issues]


def _issue_message(sender_id: str | None, message: str) -> str:
    return f"sender {sender_id}: {message}" if sender_id else message


def wanted_senders(plan: AccountPlan) -> set[str]:
    """The senders of a plan's problems and notices: whose entries in the files the annotations need."""
    return {p.sender_id for p in plan.plan.problems} | {n.sender_id for n in plan.plan.notices}


def plan_annotations(plans: Sequence[AccountPlan], places: Mapping[tuple[str, str], Location]) -> list[Annotation]:
    """Each problem (an error) and notice of the plans whose sender's entry ``places`` knows, at that entry.

    ``places`` maps ``(account SID, sender id)`` to where the sender is declared; a protected sender no file
    declares is marked at its ``protect:`` entry; another problem about a sender no file declares (a live
    sender listed twice, an unmatched ``--target``) has no line to mark.
    """
    several = len(plans) > 1
    found: list[Annotation] = []
    for p in plans:
        prefix = f"account {p.account.label}: " if several else ""
        for problem in p.plan.problems:
            if (where := places.get((p.account.sid, problem.sender_id)) or _protection(problem)) is not None:
                found.append(Annotation("error", where, f"{prefix}sender {problem.sender_id}: {problem_message(problem)}"))
        for notice in p.plan.notices:
            if (where := places.get((p.account.sid, notice.sender_id))) is not None:
                level: Level = "warning" if notice.kind in WARNING_NOTICES else "notice"
                found.append(Annotation(level, where, f"{prefix}{notice.sender_id}: {notice_message(notice)}"))
    return found


_PLACE = re.compile(r"(?P<path>.+?):(?P<line>[0-9]+)(?::(?P<column>[0-9]+))?")


def _protection(problem: Problem) -> Location | None:
    """Where the files protect the sender of a ``protected`` problem (its ``after``, ``PATH:LINE:COL``)."""
    if problem.kind != "protected" or not isinstance(problem.after, str):
        return None
    found = _PLACE.fullmatch(problem.after)
    if found is None:
        return None
    column = found["column"]
    return Location(found["path"], int(found["line"]), int(column) if column else None)


def workflow_commands(annotations: Iterable[Annotation], workspace: str, cwd: str) -> list[str]:
    """The annotations as workflow commands, at most :data:`MAX_PER_LEVEL` of each level (GitHub drops more)."""
    counts: dict[str, int] = {}
    lines = []
    for annotation in annotations:
        counts[annotation.level] = counts.get(annotation.level, 0) + 1
        if counts[annotation.level] <= MAX_PER_LEVEL:
            lines.append(annotation.command(workspace, cwd))
    return lines
