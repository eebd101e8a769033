"""Apply at the terminal: the prompt, signals during the writes, a progress bar (count lines in a CI log),
``--wait``'s lines.

Part of the command line: it writes to stderr. The words come from :mod:`reconciler.render`.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

import click

from reconciler.apply import ApplyReport, Outcome
from reconciler.errors import ApplyRefused
from reconciler.models import LiveSender
from reconciler.render.report import CANCELLED, INTERRUPTED, INTERRUPTED_WRITING, STOPPING, interrupted_after_writes
from reconciler.render.words import plural, status_text

if TYPE_CHECKING:
    from reconciler.accounts.record import AccountReport
    from reconciler.session import Interrupts


class Progress:
    """Counts finished writes. At a terminal, a rich progress bar; elsewhere a line at every tenth of the work.

        with Progress(total) as progress:
            session.apply(plan, on_outcome=progress.landed, interrupts=Interrupts(on_stop=progress.stopping))
    """

    def __init__(self, total: int, stream: IO[str] | None = None):
        self.total = total
        self.finished = 0
        self.stream = stream or sys.stderr
        self._bar: Any = None
        self._task: Any = None
        self._step = max(1, total // 10)
        self._bar_wanted = total >= 10 and self.stream.isatty()

    def __enter__(self) -> Progress:
        if self._bar_wanted:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=Console(file=self.stream), transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("Applying", total=self.total)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, error, tb)

    def landed(self, outcome: Outcome) -> None:
        """One action ended; a stopped one that never started does not count as progress."""
        if outcome.result == "not_started":
            return
        self.finished += 1
        if self._bar is not None:
            self._bar.advance(self._task)
        elif self.total > 1 and (self.finished % self._step == 0 or self.finished == self.total):
            click.echo(f"Applying: {self.finished} of {plural(self.total, 'change')} finished", file=self.stream)

    def stopping(self) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description="Stopping (in-flight changes finish)")
            self._bar.console.print(STOPPING)
        else:
            click.echo(f"\n{STOPPING}", file=self.stream)


class WaitLog:
    """``apply --wait``'s progress: each status change, and how many senders are still moving."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream or sys.stderr
        self._seen: dict[str, str] = {}

    def __call__(self, statuses: dict[str, LiveSender | None], moving: tuple[str, ...], elapsed: float) -> None:
        for sender_id, sender in statuses.items():
            now = status_text(None) if sender is None else str(sender.status)  # a sender not listed (yet, or any more)
            if sender_id in self._seen and self._seen[sender_id] != now:
                click.echo(f"  {sender_id}: {self._seen[sender_id]} → {status_text(sender)}", file=self.stream)
            self._seen[sender_id] = now
        if moving:
            click.echo(f"Still waiting for {plural(len(moving), 'sender')} ({elapsed:.0f} s elapsed)", file=self.stream)


def confirm_apply(auto_approve: bool) -> None:
    """Ask for 'yes' at a terminal; anything else (Ctrl-C and Ctrl-D too) cancels."""
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise ApplyRefused("refusing to apply without confirmation: no terminal to ask on; pass --auto-approve")
    try:
        answer = click.prompt("Apply these changes? Only 'yes' will be accepted", default="", show_default=False,
                              err=True)
    except click.exceptions.Abort:  # Ctrl-C or Ctrl-D at the prompt: the same as any answer but yes
        click.echo("", err=True)
        answer = ""
    if answer.strip() != "yes":
        raise ApplyRefused(CANCELLED)


@contextmanager
def signals_to(interrupts: Interrupts) -> Iterator[None]:
    """While writes are in flight, SIGINT and SIGTERM become stop (then abort) requests. From here on, an
    interrupt that ends the command no longer says that nothing was changed (:func:`say_on_interrupt`)."""
    say_on_interrupt(INTERRUPTED_WRITING)
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda _signum, _frame: interrupts.request())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


#: Where a command leaves, in its click context's ``obj``, what an interrupt that ends it says from then on.
_SAYS = "reconciler.interrupted"


def say_on_interrupt(words: str) -> None:
    """From here on, a Ctrl-C or SIGTERM that ends the command says ``words``, not "nothing was changed"."""
    context = click.get_current_context(silent=True)
    if context is not None and isinstance(context.obj, dict):
        context.obj[_SAYS] = words


def writes_over(reports: Iterable[ApplyReport]) -> None:
    """The writes are over: an interrupt says what they did, since the report may not be printed in full."""
    say_on_interrupt(interrupted_after_writes(reports))


def interrupted_words(obj: Mapping[str, Any]) -> str:
    """What an interrupt that ended the command says (``obj``: the command's click ``obj``)."""
    words = obj.get(_SAYS)
    return words if isinstance(words, str) else INTERRUPTED


class TerminalApply:
    """The front of ``reconciler apply`` at a terminal or in a CI log: the prompt (unless ``confirmed``), signals
    and a progress bar while the writes run, the report once they are over (``report``: text mode), wait lines."""

    def __init__(self, total: int, *, confirmed: bool, report: Callable[[Sequence[AccountReport]], str] | None):
        self.progress = Progress(total)
        self.confirmed = confirmed
        self.report = report
        self.waiting = WaitLog()

    def confirm(self) -> None:
        confirm_apply(self.confirmed)

    @contextmanager
    def writing(self, interrupts: Interrupts) -> Iterator[None]:
        with signals_to(interrupts), self.progress:
            yield

    def stopping(self) -> None:
        self.progress.stopping()

    def landed(self, outcome: Outcome) -> None:
        self.progress.landed(outcome)

    def written(self, reports: Sequence[AccountReport]) -> None:
        writes_over(r.report for r in reports)  # from here on, an interrupt says what the writes did
        if self.report is not None:
            click.echo(self.report(reports), nl=False)
