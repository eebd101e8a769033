"""SIGINT and SIGTERM sent to the real CLI at chosen moments: writes in flight, the report being printed,
``verify``'s code on its way, ``export``'s and ``verify``'s reads.

The CLI talks to the emulator through a gate (``tests.gate``) that holds requests until the test lets
them go, so "in flight" is a fact the test has seen, not a hope that latency buys: the test signals
once the gate holds the writes it expects, and only then lets them go (or never does). "While the
report is printed" is a fact too: stdout is a pipe of one page that the test stops reading, so the CLI
is blocked writing its report when the pipe is seen full. The CLI must exit non-zero without a
traceback, say what happened ("nothing was changed" only where no write was sent), its summary must
match what the emulator actually holds, and a re-run must converge.
"""

from __future__ import annotations

import array
import fcntl
import os
import re
import select
import signal
import subprocess
import termios
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from reconciler.emulator import EmulatorServer
from tests.factories import (
    CLI_OUTPUTS,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    cli_argv,
    default_sigint,
    many_senders_yaml,
    number,
    record,
    run_cli,
)
from tests.factories import server_env as env_for
from tests.gate import READS, WRITES, Gate

CREATES = 24
#: Longest wait for evidence, as a guard against a hang; every wait ends as soon as the evidence is there.
GUARD_SECONDS = 60
CREATE_ROUTE = "POST /v2/Channels/Senders"
LIST_ROUTE = "GET /v2/Channels/Senders"


def desired_file(tmp_path: Path) -> str:
    return many_senders_yaml(tmp_path, [number(3000 + i) for i in range(CREATES)])


class Running:
    """The CLI in a subprocess, its stdout and stderr read as they come."""

    def __init__(self, *args: str, env: dict[str, str]):
        self.proc = subprocess.Popen(
            cli_argv(*args), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=default_sigint,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(s, b), daemon=True)
                         for s, b in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for r in self._readers:
            r.start()

    @staticmethod
    def _read(stream: IO[str], buffer: list[str]) -> None:
        for line in stream:
            buffer.append(line)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = GUARD_SECONDS) -> tuple[int, str, str]:
        code = self.proc.wait(timeout=timeout)
        for r in self._readers:
            r.join(timeout=10)
        stdout, stderr = "".join(self.out), "".join(self.err)
        CLI_OUTPUTS.append(stdout + stderr)  # the secrets test greps these too
        return code, stdout, stderr


def wait_for(condition: Callable[[], bool], what: str, run: Running) -> None:
    """Poll ``condition`` (the gate, emulator state, the CLI's output) until it holds."""
    deadline = time.monotonic() + GUARD_SECONDS
    while not condition():
        if run.proc.poll() is not None:
            pytest.fail(f"the CLI exited before {what}: {''.join(run.out)}{''.join(run.err)}")
        if time.monotonic() > deadline:
            run.proc.kill()
            pytest.fail(f"no sign after {GUARD_SECONDS} s that {what}")
        time.sleep(0.01)


def parse_report(stdout: str) -> dict[str, set[str]]:
    """The senders the report names, by result. A long not-started list names its first ten only."""
    marks = {"✓": "done", "✗": "failed", "·": "not_started", "?": "interrupted", "!": "unconfirmed"}
    out: dict[str, set[str]] = {v: set() for v in marks.values()}
    for mark, sender_id in re.findall(r"^  (\S) create sender (whatsapp:\+\d+)", stdout, re.M):
        out[marks[mark]].add(sender_id)
    return out


def not_started_count(stdout: str, report: dict[str, set[str]]) -> int:
    """Named plus counted: ``· … and 8 more not started``."""
    more = re.search(r"^  · … and (\d+) more not started", stdout, re.M)
    named = len(report["not_started"])
    assert named == (10 if more else named), stdout
    return named + (int(more.group(1)) if more else 0)


def live_ids(emulator: EmulatorServer) -> set[str]:
    return {s["sender_id"] for s in emulator.senders()}


def converges(emulator: EmulatorServer, env: dict[str, str], f: str) -> None:
    again = run_cli("apply", "-f", f, "--auto-approve", env=env)
    assert again.returncode == 0, again.output
    counts = Counter(s["sender_id"] for s in emulator.senders())
    assert len(counts) == CREATES and set(counts.values()) == {1}
    assert run_cli("plan", "-f", f, "--detailed-exitcode", env=env).returncode == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_one_signal_stops_new_writes_and_the_summary_matches_live_state(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path, sig: signal.Signals
) -> None:
    f = desired_file(tmp_path)
    with Gate(emulator.base_url or "", hold=WRITES) as gate:
        gate.let_through(3)
        run = Running("apply", "-f", f, "--auto-approve", env=env_for(gate, RECONCILER_CONCURRENCY="3"))
        # Three creates went through; the next three (all the CLI may have in flight) wait at the gate.
        wait_for(lambda: gate.held == 3, "three writes were in flight", run)
        assert len(emulator.senders()) == 3
        run.signal(sig)
        wait_for(lambda: "Stopping: no new changes start" in "".join(run.err), "the CLI took the signal", run)
        gate.open()  # the writes in flight finish; none may start after them
        code, stdout, stderr = run.wait()
    assert code == 1, stdout + stderr
    assert "Traceback" not in stdout + stderr
    report = parse_report(stdout)
    live = live_ids(emulator)
    # What the summary calls done is exactly what the API holds: the three before the signal and the
    # three in flight during it. Not one more write was sent; what it calls not started is absent.
    assert gate.forwarded == 6 and emulator.stats()[CREATE_ROUTE] == 6
    assert report["done"] == live and len(live) == 6
    assert not_started_count(stdout, report) == CREATES - 6 and not report["not_started"] & live
    summary = stdout.strip().splitlines()[-1]
    assert summary == f"Apply interrupted: 6 done, {CREATES - 6} not started."
    converges(emulator, emulator_env, f)
    record(f"interrupt_{sig.name}", applies=2, done_before_signal=3, not_started=not_started_count(stdout, report),
           lost=0, duplicated=0)


def test_second_signal_aborts_in_flight_writes_and_says_so(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    f = desired_file(tmp_path)
    with Gate(emulator.base_url or "", hold=WRITES) as gate:
        gate.let_through(4)
        run = Running("apply", "-f", f, "--auto-approve", env=env_for(gate, RECONCILER_CONCURRENCY="4"))
        # The first batch of four is done, the second batch of four waits at the gate: in flight.
        wait_for(lambda: gate.held == 4, "the second batch was in flight", run)
        run.signal(signal.SIGINT)
        wait_for(lambda: "Stopping" in "".join(run.err), "the CLI acknowledged the first signal", run)
        run.signal(signal.SIGINT)
        code, stdout, stderr = run.wait()
        # The gate never opened: the aborted writes never reached the API.
        assert gate.forwarded == 4
    assert code == 1, stdout + stderr
    assert "Traceback" not in stdout + stderr
    report = parse_report(stdout)
    live = live_ids(emulator)
    assert report["done"] == live and len(live) == 4
    assert len(report["interrupted"]) == 4 and not report["interrupted"] & live
    assert not_started_count(stdout, report) == CREATES - 8 and not report["not_started"] & live
    assert sum(len(v) for k, v in report.items() if k != "not_started") + not_started_count(stdout, report) == CREATES
    summary = stdout.strip().splitlines()[-1]
    assert summary == f"Apply interrupted: 4 done, {CREATES - 8} not started, 4 interrupted (outcome unknown)."
    converges(emulator, emulator_env, f)
    record("interrupt_twice", applies=2, interrupted=len(report["interrupted"]), lost=0, duplicated=0)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_while_planning_changes_nothing(emulator: EmulatorServer, tmp_path: Path, sig: signal.Signals) -> None:
    f = desired_file(tmp_path)
    with Gate(emulator.base_url or "", hold=READS) as gate:
        run = Running("apply", "-f", f, "--auto-approve", env=env_for(gate))
        wait_for(lambda: gate.held == 1, "the plan's read was in flight", run)
        run.signal(sig)
        code, stdout, stderr = run.wait()
        assert gate.forwarded == 0
    assert code == 1, (code, stdout, stderr)
    assert "Traceback" not in stdout + stderr
    assert "nothing was changed" in stderr
    assert emulator.stats().get(CREATE_ROUTE, 0) == 0 and emulator.senders() == []


def test_signal_while_waiting_still_reports_the_applied_changes(tmp_path: Path) -> None:
    f = desired_file(tmp_path)
    # Senders stay in a transient status for ten minutes: --wait cannot end before the signal.
    with EmulatorServer(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, transition_delay=600) as server:
        run = Running("apply", "-f", f, "--auto-approve", "--wait", env=env_for(server))
        # Plan read, confirming read, then the first poll of --wait: the writes are over.
        wait_for(lambda: server.stats().get(LIST_ROUTE, 0) >= 3, "waiting began", run)
        run.signal(signal.SIGTERM)
        code, stdout, stderr = run.wait()
        assert code == 1 and "Traceback" not in stdout + stderr, stdout + stderr
        assert f"Apply complete: {CREATES} done." in stdout
        assert "Stopped waiting" in stderr
        assert len(server.senders()) == CREATES


#: A pipe of one page: the CLI blocks writing a report longer than that until the test reads it.
PIPE_PAGE = 4096
#: Enough creates for a report (about 60 bytes a line) well past one page.
REPORT_CREATES = 120


def buffered(fd: int) -> int:
    """Bytes waiting in a pipe, unread."""
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count)
    return count[0]


def read_until(fd: int, marker: bytes, run: subprocess.Popen[bytes]) -> bytes:
    """Read ``fd`` until ``marker`` and the end of its line have been read."""
    data = b""
    deadline = time.monotonic() + GUARD_SECONDS
    while marker not in data or not data.split(marker, 1)[1].count(b"\n"):
        readable, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        assert readable, f"no {marker!r} in the output after {GUARD_SECONDS} s: {data.decode()}"
        chunk = os.read(fd, 65536)
        assert chunk, f"the CLI exited ({run.poll()}) before {marker!r}: {data.decode()}"
        data += chunk
    return data


def read_to_end(fd: int) -> bytes:
    """Everything left in ``fd`` until its writer closes it."""
    data = b""
    deadline = time.monotonic() + GUARD_SECONDS
    while True:
        readable, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        assert readable, f"the output did not end within {GUARD_SECONDS} s: {data.decode()}"
        chunk = os.read(fd, 65536)
        if not chunk:
            return data
        data += chunk


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_the_report_is_printed_never_says_nothing_was_changed(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path, sig: signal.Signals
) -> None:
    f = many_senders_yaml(tmp_path, [number(4000 + i) for i in range(REPORT_CREATES)])
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_PAGE)
    with Gate(emulator.base_url or "", hold=WRITES) as gate:
        proc = subprocess.Popen(cli_argv("apply", "-f", f, "--auto-approve"), env=env_for(gate), stdin=subprocess.DEVNULL,
                                stdout=write_end, stderr=subprocess.PIPE, preexec_fn=default_sigint)
        os.close(write_end)
        err: list[bytes] = []
        reader = threading.Thread(target=lambda: err.append(proc.stderr.read() if proc.stderr else b""), daemon=True)
        reader.start()
        try:
            # The whole plan is read; the writes wait at the gate, so no byte of the report is written yet.
            printed = read_until(read_end, b"\nPlan: ", proc)
            deadline = time.monotonic() + GUARD_SECONDS
            while gate.held == 0:
                assert proc.poll() is None and time.monotonic() < deadline, "no write reached the gate"
                time.sleep(0.01)
            gate.open()
            # Every write made, then the report fills the pipe: the CLI is blocked printing it.
            while buffered(read_end) < PIPE_PAGE:
                assert proc.poll() is None and time.monotonic() < deadline, "the report never filled the pipe"
                time.sleep(0.01)
            assert emulator.stats()[CREATE_ROUTE] == REPORT_CREATES and len(emulator.senders()) == REPORT_CREATES
            proc.send_signal(sig)
            printed += read_to_end(read_end)
            code = proc.wait(timeout=GUARD_SECONDS)
            reader.join(timeout=10)
        finally:
            os.close(read_end)
            if proc.poll() is None:
                proc.kill()
    stdout, stderr = printed.decode(), b"".join(err).decode()
    CLI_OUTPUTS.append(stdout + stderr)
    assert code == 1 and "Traceback" not in stdout + stderr, stdout + stderr
    assert "nothing was changed" not in stderr
    assert stderr.rstrip().splitlines()[-1] == (
        f"Error: interrupted after the writes ({REPORT_CREATES} done); the report may be cut short: "
        "'reconciler plan' shows where the senders stand"), stderr
    # What stdout holds of the report (the rest of the buffered text may still be flushed at exit) is true.
    assert "not started" not in stdout and "✗" not in stdout and stdout.count("✓ create") <= REPORT_CREATES
    assert run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env).returncode == 0


def pending_sender(emulator: EmulatorServer) -> str:
    emulator.add_sender({"sender_id": number(4500), "profile": {"name": "Shop"}}, status="PENDING_VERIFICATION")
    return number(4500)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_verify_submits_the_code_says_its_outcome_is_unknown(
    emulator: EmulatorServer, sig: signal.Signals
) -> None:
    sender_id = pending_sender(emulator)
    with Gate(emulator.base_url or "", hold=WRITES) as gate:
        run = Running("verify", sender_id, "--code", "123456", env=env_for(gate))
        wait_for(lambda: gate.held == 1, "the code was on its way", run)
        run.signal(sig)
        code, stdout, stderr = run.wait()
    assert code == 1 and "Traceback" not in stdout + stderr, stdout + stderr
    assert "nothing was changed" not in stderr
    assert stderr.rstrip().splitlines()[-1] == (
        "Error: interrupted while the verification code was being submitted: its outcome is unknown; "
        f"'reconciler plan' shows whether {sender_id} still waits for a code"), stderr


@pytest.mark.parametrize("command", ["export", "verify"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_export_or_verify_reads_says_reading_not_planning(
    emulator: EmulatorServer, sig: signal.Signals, command: str
) -> None:
    args = ["export"] if command == "export" else ["verify", pending_sender(emulator), "--code", "123456"]
    with Gate(emulator.base_url or "", hold=READS) as gate:
        run = Running(*args, env=env_for(gate))
        # export reads the senders and the Messaging Services side by side: one or both in flight
        wait_for(lambda: gate.held >= 1, "a read was in flight", run)
        run.signal(sig)
        code, stdout, stderr = run.wait()
        assert gate.forwarded == 0
    assert code == 1 and "Traceback" not in stdout + stderr, stdout + stderr
    assert stderr.rstrip().splitlines()[-1] == "Error: interrupted while reading: nothing was changed", stderr
    assert not any(route.startswith("POST") for route in emulator.stats())
