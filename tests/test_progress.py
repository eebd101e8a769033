"""Unit tests of apply at the terminal: the progress count, the wait lines, the prompt and the signals."""

from __future__ import annotations

import io
import re
import signal

import pytest

from reconciler.apply import Outcome
from reconciler.errors import ApplyRefused
from reconciler.progress import Progress, WaitLog, confirm_apply, signals_to
from reconciler.render.report import CANCELLED
from reconciler.session import Interrupts
from tests.factories import A, B, C, live

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def done(sender_id: str = A) -> Outcome:
    return Outcome("create", sender_id, "done", "created")


def not_started(sender_id: str = A) -> Outcome:
    return Outcome("create", sender_id, "not_started", "stopped")


def shown(stream: io.StringIO) -> str:
    """What a person would read: colours and cursor moves dropped, lines rejoined where a terminal wrapped them."""
    return " ".join(_ANSI.sub("", stream.getvalue()).split())


# --------------------------------------------------------------------------- progress


def test_in_a_log_a_line_at_every_tenth_of_the_work_and_at_the_end():
    log = io.StringIO()
    with Progress(25, log) as progress:
        for _ in range(25):
            progress.landed(done())
    assert progress.finished == 25
    assert log.getvalue().splitlines() == [f"Applying: {n} of 25 changes finished" for n in (2, 4, 6, 8, 10, 12, 14, 16,
                                                                                           18, 20, 22, 24, 25)]


def test_a_change_that_never_started_is_no_progress():
    log = io.StringIO()
    with Progress(3, log) as progress:
        progress.landed(done(A))
        progress.landed(not_started(B))
        progress.landed(done(C))
    assert progress.finished == 2
    assert log.getvalue().splitlines() == ["Applying: 1 of 3 changes finished", "Applying: 2 of 3 changes finished"]


def test_a_single_change_needs_no_count():
    log = io.StringIO()
    with Progress(1, log) as progress:
        progress.landed(done())
    assert progress.finished == 1 and log.getvalue() == ""


def test_in_a_log_stopping_is_said_on_a_line_of_its_own():
    log = io.StringIO()
    with Progress(4, log) as progress:
        progress.landed(done())
        progress.stopping()
    assert log.getvalue().splitlines()[-2:] == ["", "Stopping: no new changes start; waiting for those in flight "
                                                    "(signal again to abort them)."]


def test_at_a_terminal_a_bar_counts_instead_of_lines():
    terminal = Terminal()
    with Progress(12, terminal) as progress:
        for _ in range(12):
            progress.landed(done())
        progress.stopping()
    assert progress.finished == 12
    text = shown(terminal)
    assert "changes finished" not in text
    assert "Stopping: no new changes start; waiting for those in flight (signal again to abort them)." in text


def test_a_small_apply_at_a_terminal_counts_in_lines():
    terminal = Terminal()
    with Progress(2, terminal) as progress:
        progress.landed(done())
        progress.landed(done())
    assert terminal.getvalue().splitlines() == ["Applying: 1 of 2 changes finished", "Applying: 2 of 2 changes finished"]


# --------------------------------------------------------------------------- --wait


def test_the_wait_log_shows_each_change_of_status_and_what_still_moves():
    log = io.StringIO()
    wait = WaitLog(log)
    wait({A: live(A, status="CREATING"), B: None}, (A, B), 0.4)
    wait({A: live(A, status="CREATING"), B: live(B, status="CREATING")}, (A, B), 5.2)
    wait({A: live(A, status="ONLINE"), B: None}, (), 10.0)
    assert log.getvalue().splitlines() == [
        "Still waiting for 2 senders (0 s elapsed)",
        f"  {B}: not found → CREATING",
        "Still waiting for 2 senders (5 s elapsed)",
        f"  {A}: CREATING → ONLINE",
        f"  {B}: CREATING → not found",
    ]


def test_a_status_that_needs_something_done_says_what():
    log = io.StringIO()
    wait = WaitLog(log)
    wait({A: live(A, status="VERIFYING")}, (A,), 1.0)
    wait({A: live(A, status="PENDING_VERIFICATION")}, (A,), 2.0)
    assert f"  {A}: VERIFYING → PENDING_VERIFICATION: verify it with: " in log.getvalue()


# --------------------------------------------------------------------------- the prompt


@pytest.fixture()
def stdin(monkeypatch):
    def answer(text: str, terminal: bool = True) -> None:
        monkeypatch.setattr("sys.stdin", Terminal(text) if terminal else io.StringIO(text))

    return answer


def test_auto_approve_asks_nothing(stdin, capsys):
    stdin("", terminal=False)
    confirm_apply(auto_approve=True)
    assert capsys.readouterr().err == ""


def test_without_a_terminal_apply_is_refused_and_says_how_to_approve(stdin):
    stdin("yes\n", terminal=False)
    with pytest.raises(ApplyRefused, match="no terminal to ask on; pass --auto-approve"):
        confirm_apply(auto_approve=False)


@pytest.mark.parametrize("answer", ["yes\n", "  yes \n"])
def test_yes_applies(stdin, capsys, answer):
    stdin(answer)
    confirm_apply(auto_approve=False)
    assert "Apply these changes? Only 'yes' will be accepted" in capsys.readouterr().err


@pytest.mark.parametrize("answer", ["y\n", "YES\n", "no\n", "\n", ""], ids=["y", "YES", "no", "empty", "end-of-input"])
def test_anything_but_yes_cancels(stdin, answer):
    stdin(answer)
    with pytest.raises(ApplyRefused, match=f"^{CANCELLED}$"):
        confirm_apply(auto_approve=False)


# --------------------------------------------------------------------------- signals


@pytest.mark.parametrize("first", [signal.SIGINT, signal.SIGTERM])
def test_signals_during_the_writes_stop_then_abort_and_the_handlers_come_back(first):
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    stops: list[bool] = []
    interrupts = Interrupts(on_stop=lambda: stops.append(True))
    with signals_to(interrupts):
        signal.raise_signal(first)  # its handler has run when this returns
        assert (interrupts.stopped, interrupts.aborted, stops) == (True, False, [True])
        signal.raise_signal(signal.SIGTERM if first == signal.SIGINT else signal.SIGINT)
        assert (interrupts.stopped, interrupts.aborted, stops) == (True, True, [True])
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_the_handlers_come_back_when_the_writes_fail():
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(RuntimeError), signals_to(Interrupts()):
        raise RuntimeError("the writes failed")
    assert {sig: signal.getsignal(sig) for sig in before} == before
