"""The plan as Markdown, for a pull-request comment: summary first, details folded, within GitHub's limit.

    render_markdown(plan)                                   # one account
    render_markdown_accounts(totals, [(heading, plan), ...])  # several, each under its own heading

Whatever the size, the result holds at most ``limit`` characters and says what it left out. One plan
loses its per-sender details first, then table rows, then notices, then problems (each replaced by a
line with the count), never its title and verdict. Several accounts each get a section; when sections
with a useful share each would not fit, a table with every account's counts comes first, then the
sections of as many accounts as fit, and a line counts the accounts left out.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.diff import Action
from reconciler.plan import Plan
from reconciler.render.text import closing_line, summary_line
from reconciler.render.values import show_field
from reconciler.render.words import notice_message, plural, problem_message
from reconciler.text import escape_control, md_code, md_text

#: GitHub refuses comments longer than this many characters.
GITHUB_COMMENT_LIMIT = 65_536
#: The first line of a plan in Markdown; the Action and the accounts' rendering build on it.
TITLE = "### reconciler plan"
#: The least room an account's section gets before accounts are summarised in a table instead.
MIN_SECTION = 2_000
_FULL_PLAN = "run `reconciler plan` for the full plan"

def _html(text: str) -> str:
    return html.escape(escape_control(text))


def _md_value(path: str, value: Any) -> str:
    return md_code(show_field(path, value))


def largest_fitting(n: int, fits: Callable[[int], bool]) -> int:
    """The largest ``k`` in ``0..n`` with ``fits(k)``, for ``fits`` true up to some ``k`` and false after.

    0 when nothing fits (the caller then trims something else). Binary search: huge plans stay fast.
    """
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


# --------------------------------------------------------------------------- one plan


@dataclass(frozen=True)
class _Block:
    """A list the plan can shorten: its lines around ``items``, and the line that counts the items left out."""

    before: tuple[str, ...]
    items: tuple[str, ...]
    more: Callable[[int], str]
    after: tuple[str, ...] = ("",)

    def lines(self, shown: int) -> list[str]:
        if not self.items:
            return []
        left = len(self.items) - shown
        return [*self.before, *self.items[:shown], *([self.more(left)] if left else []), *self.after]


def _problems(plan: Plan) -> _Block:
    return _Block(
        before=("> [!WARNING]", f"> {plural(len(plan.problems), 'sender')} cannot be changed as the file asks:"),
        items=tuple(f"> - {md_code(p.sender_id)}: {md_text(problem_message(p))}" for p in plan.problems),
        more=lambda n: f"> - … {plural(n, 'more problem')} left out to fit a comment; {_FULL_PLAN}.",
    )


def _notices(plan: Plan) -> _Block:
    return _Block(
        before=("Notices:",),
        items=tuple(f"- {md_code(n.sender_id)}: {md_text(notice_message(n))}" for n in plan.notices),
        more=lambda n: f"- … {plural(n, 'more notice')} left out to fit a comment; {_FULL_PLAN}.",
    )


def _what(a: Action) -> str:
    return a.action if a.allowed else f"{a.action}, gated"


def _rows(plan: Plan) -> _Block:
    return _Block(
        before=("| | sender | action | fields |", "| --- | --- | --- | --- |"),
        # The field names are our own, never a value from the file or the API.
        items=tuple(f"| {a.symbol} | {md_code(a.sender_id)} | {_what(a)} | {', '.join(c.path for c in a.changes) or '—'} |"
                    for a in plan.actions),
        more=lambda n: f"| | … {n} more actions not shown | | |",
    )


def _detail(a: Action) -> str:
    body = [f"<details><summary>{a.symbol} <code>{_html(a.sender_id)}</code> ({_what(a)})</summary>", ""]
    if a.changes:
        body += ["| field | before | after |", "| --- | --- | --- |"]
        for c in a.changes:
            before = "" if a.action == "create" else _md_value(c.path, c.before)
            body.append(f"| {md_code(c.path)} | {before} | {_md_value(c.path, c.after)} |")
    elif a.action == "delete":
        body.append(f"Deletes {md_code(a.sid or '')}." + ("" if a.allowed else " Gated: pass `--allow-delete`."))
    return "\n".join([*body, "", "</details>", ""])


def _details(plan: Plan) -> _Block:
    return _Block(
        before=(),
        items=tuple(_detail(a) for a in plan.actions),
        more=lambda n: f"_Details of {n} more actions were left out to fit a comment; {_FULL_PLAN}._",
        after=(),
    )


def _verdict(plan: Plan) -> str:
    if plan.actions or plan.problems:
        return f"**{closing_line(plan) if plan.problems else summary_line(plan)}**"
    return "**No changes.** Live senders match the file."


def _assemble(head: Sequence[str], blocks: Sequence[_Block], shown: Sequence[int]) -> str:
    lines = list(head)
    for block, count in zip(blocks, shown, strict=True):
        lines += block.lines(count)
    return "\n".join(lines).rstrip() + "\n"


def _shorten(head: Sequence[str], blocks: Sequence[_Block], shown: list[int], i: int, limit: int) -> None:
    """Show as many of block ``i``'s items as fit ``limit``, the others as they are."""
    def fits(k: int) -> bool:
        return len(_assemble(head, blocks, [*shown[:i], k, *shown[i + 1:]])) <= limit

    shown[i] = largest_fitting(shown[i], fits)


def render_markdown(plan: Plan, *, limit: int = GITHUB_COMMENT_LIMIT, title: str = TITLE) -> str:
    """``title``, the verdict, problems, notices, a table of actions, then collapsible per-sender details.

    Past ``limit`` characters the lists are shortened from the end, details first, then table rows,
    notices and problems; a line says how many of each were left out. ``title`` and the verdict stay.
    """
    head = [title, "", _verdict(plan), ""]
    blocks = [_problems(plan), _notices(plan), _rows(plan), _details(plan)]
    shown = [len(block.items) for block in blocks]
    for i in reversed(range(len(blocks))):  # the end of the document goes first: details, rows, notices, problems
        if len(_assemble(head, blocks, shown)) <= limit:
            break
        _shorten(head, blocks, shown, i, limit)
    return _assemble(head, blocks, shown)


# --------------------------------------------------------------------------- several accounts


def _has_news(plan: Plan) -> bool:
    return bool(plan.actions or plan.problems or plan.notices)


def _shares(sizes: Sequence[int], budget: int) -> list[int]:
    """Room for each section: its whole size when that is no more than an even share of what is left."""
    shares = [0] * len(sizes)
    left = budget
    for done, i in enumerate(sorted(range(len(sizes)), key=sizes.__getitem__)):
        shares[i] = min(sizes[i], left // (len(sizes) - done))
        left -= shares[i]
    return shares


def _sections(accounts: Sequence[tuple[str, Plan]], budget: int) -> list[str] | None:
    """Each account's section within ``budget`` in all, or None when one would get less than ``MIN_SECTION``."""
    full = [render_markdown(plan, limit=10**12, title=f"#### {label}") for label, plan in accounts]
    sizes = [len(section) + 1 for section in full]  # and the line between sections
    if sum(sizes) <= budget:
        return full
    shares = _shares(sizes, budget)
    if any(share < min(MIN_SECTION, size) for share, size in zip(shares, sizes, strict=True)):
        return None
    return [section if size <= share else render_markdown(plan, limit=share - 1, title=f"#### {label}")
            for section, size, share, (label, plan) in zip(full, sizes, shares, accounts, strict=True)]


def _count_cells(plans: Sequence[Plan]) -> str:
    create, update, delete, pool = (sum(p.summary()[k] for p in plans) for k in ("create", "update", "delete", "pool"))
    return f"{create} | {update} | {delete} | {pool} | {sum(len(p.problems) for p in plans)}"


def _overview(accounts: Sequence[tuple[str, Plan]], budget: int) -> tuple[str, int]:
    """A table of the accounts' counts within ``budget``, the rows that do not fit summed in one; and how many fit."""
    rows = [f"| {label} | {_count_cells([plan])} |" for label, plan in accounts]

    def table(k: int) -> str:
        rest = [plan for _, plan in accounts[k:]]
        more = [f"| … {plural(len(rest), 'more account')} | {_count_cells(rest)} |"] if rest else []
        return "\n".join(["| account | create | update | delete | pool | problems |",
                          "| --- | ---: | ---: | ---: | ---: | ---: |",
                          *rows[:k], *more, ""])

    shown = largest_fitting(len(rows), lambda k: len(table(k)) <= budget)
    return table(shown), shown


def _left_out(count: int) -> str:
    return f"\n_Details of {plural(count, 'account')} were left out to fit a comment; {_FULL_PLAN}._\n"


def _summarised(head: str, accounts: Sequence[tuple[str, Plan]], limit: int) -> str:
    """The table of every account's counts (half the room at most), then as many accounts' sections as fit."""
    reserve = len(_left_out(len(accounts)))
    table, rows = _overview(accounts, (limit - len(head) - reserve) // 2)
    text = head + table
    missing = sum(1 for _, plan in accounts[rows:] if _has_news(plan))
    for label, plan in accounts[:rows]:
        if not _has_news(plan):
            continue  # its row says all there is
        room = limit - len(text) - reserve - 1
        section = render_markdown(plan, limit=min(room, 2 * MIN_SECTION), title=f"#### {label}")
        if len(section) <= room:
            text += "\n" + section
        else:
            missing += 1
    return text + (_left_out(missing) if missing else "")


def render_markdown_accounts(verdict: str, accounts: Sequence[tuple[str, Plan]], *,
                             limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The plans of several accounts, each under ``#### LABEL`` (Markdown already), after the run's ``verdict``.

    Each account gets a section when all fit with at least ``MIN_SECTION`` characters each (shortened as
    ``render_markdown`` shortens one plan); otherwise a table counts every account's changes first.
    """
    head = f"{TITLE}\n\n**{verdict}**\n\n"
    sections = _sections(accounts, limit - len(head))
    if sections is not None and len(text := head + "\n".join(sections)) <= limit:
        return text
    return _summarised(head, accounts, limit)
