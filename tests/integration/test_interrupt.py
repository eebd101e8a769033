"""SIGINT and SIGTERM during apply, sent to the real CLI while its writes are in flight.

The emulator adds latency to every request so an apply takes long enough to interrupt; the test
waits for evidence in the emulator (a write received, a sender created) before it signals, never
for a fixed time. The CLI must exit non-zero without a traceback, its summary must match what the
emulator actually holds, and a re-run must converge.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest

from reconciler.emulator import Faults
from tests.factories import CLI_OUTPUTS, record, run_cli

CREATES = 24


def desired_file(tmp_path) -> str:
    lines = ["senders:"]
    for i in range(CREATES):
        lines += [f'  - sender_id: "whatsapp:+1501713{i:04d}"', f'    profile: {{name: "Shop {i}", about: "Hi {i}"}}']
    path = tmp_path / "senders.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


class Running:
    """The CLI in a subprocess, its stdout and stderr read as they come."""

    def __init__(self, *args: str, env: dict[str, str]):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", *args], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(s, b), daemon=True)
                         for s, b in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for r in self._readers:
            r.start()

    @staticmethod
    def _read(stream, buffer: list[str]) -> None:
        for line in stream:
            buffer.append(line)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 60) -> tuple[int, str, str]:
        code = self.proc.wait(timeout=timeout)
        for r in self._readers:
            r.join(timeout=10)
        stdout, stderr = "".join(self.out), "".join(self.err)
        CLI_OUTPUTS.append(stdout + stderr)  # the secrets test greps these too
        return code, stdout, stderr


def wait_for(condition: Callable[[], bool], what: str, proc: Running, timeout: float = 30) -> None:
    """Poll ``condition`` (emulator state, the CLI's output) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.proc.poll() is not None:
            pytest.fail(f"the CLI exited before {what}: {''.join(proc.out)}{''.join(proc.err)}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def parse_report(stdout: str) -> dict[str, set[str]]:
    marks = {"✓": "done", "✗": "failed", "·": "not_started", "?": "interrupted", "!": "unconfirmed"}
    out: dict[str, set[str]] = {v: set() for v in marks.values()}
    for mark, sender_id in re.findall(r"^  (\S) create sender (whatsapp:\+\d+)", stdout, re.M):
        out[marks[mark]].add(sender_id)
    return out


def converges(emulator, emulator_env, f: str) -> None:
    emulator.set_faults(Faults())
    again = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert again.returncode == 0, again.output
    counts = Counter(s["sender_id"] for s in emulator.senders())
    assert len(counts) == CREATES and set(counts.values()) == {1}
    assert run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env).returncode == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_one_signal_stops_new_writes_and_the_summary_matches_live_state(emulator, emulator_env, tmp_path, sig):
    f = desired_file(tmp_path)
    emulator.set_faults(Faults(latency=0.2))
    env = {**emulator_env, "RECONCILER_CONCURRENCY": "3"}
    run = Running("apply", "-f", f, "--auto-approve", env=env)
    wait_for(lambda: len(emulator.senders()) >= 1, "the first sender was created", run)
    run.signal(sig)
    code, stdout, stderr = run.wait()
    assert code == 1, stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert "Stopping: no new changes start" in stderr
    report = parse_report(stdout)
    live = {s["sender_id"] for s in emulator.senders()}
    # What the summary calls done is exactly what the API holds; what it calls not started is absent.
    assert report["done"] == live and report["done"]
    assert report["not_started"] and not report["not_started"] & live
    assert len(report["done"]) + len(report["not_started"]) == CREATES
    summary = stdout.strip().splitlines()[-1]
    assert summary == f"Apply interrupted: {len(report['done'])} done, {len(report['not_started'])} not started."
    converges(emulator, emulator_env, f)
    record(f"interrupt_{sig.name}", applies=2, done_before_signal=len(report["done"]),
           not_started=len(report["not_started"]), lost=0, duplicated=0)


def test_second_signal_aborts_in_flight_writes_and_says_so(emulator, emulator_env, tmp_path):
    f = desired_file(tmp_path)
    emulator.set_faults(Faults(latency=0.5))
    env = {**emulator_env, "RECONCILER_CONCURRENCY": "4"}
    run = Running("apply", "-f", f, "--auto-approve", env=env)
    # A fifth create has reached the server: the second batch of four is in flight for 0.5 s.
    wait_for(lambda: emulator.stats().get("POST /v2/Channels/Senders", 0) >= 5, "the second batch was sent", run)
    run.signal(signal.SIGINT)
    wait_for(lambda: "Stopping" in "".join(run.err), "the CLI acknowledged the first signal", run)
    run.signal(signal.SIGINT)
    code, stdout, stderr = run.wait()
    assert code == 1, stdout + stderr
    assert "Traceback" not in stdout + stderr
    report = parse_report(stdout)
    live = {s["sender_id"] for s in emulator.senders()}
    assert report["interrupted"], stdout
    assert report["done"] <= live and not report["not_started"] & live
    assert sum(len(v) for v in report.values()) == CREATES
    assert "interrupted (outcome unknown)" in stdout.strip().splitlines()[-1]
    converges(emulator, emulator_env, f)
    record("interrupt_twice", applies=2, interrupted=len(report["interrupted"]), lost=0, duplicated=0)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_while_planning_changes_nothing(emulator, emulator_env, tmp_path, sig):
    f = desired_file(tmp_path)
    emulator.set_faults(Faults(latency=1.0))
    run = Running("apply", "-f", f, "--auto-approve", env=emulator_env)
    wait_for(lambda: emulator.stats().get("GET /v2/Channels/Senders", 0) >= 1, "the plan's read began", run)
    run.signal(sig)
    code, stdout, stderr = run.wait()
    assert code == 1, (code, stdout, stderr)
    assert "Traceback" not in stdout + stderr
    assert "nothing was changed" in stderr
    assert emulator.stats().get("POST /v2/Channels/Senders", 0) == 0 and emulator.senders() == []


def test_signal_while_waiting_still_reports_the_applied_changes(tmp_path):
    from reconciler.emulator import EmulatorServer
    from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, clean_env

    f = desired_file(tmp_path)
    with EmulatorServer(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, transition_delay=600) as server:
        env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
                        TWILIO_MESSAGING_BASE_URL=server.base_url)
        run = Running("apply", "-f", f, "--auto-approve", "--wait", env=env)
        # Plan read, confirming read, then the first poll of --wait: the writes are over.
        wait_for(lambda: server.stats().get("GET /v2/Channels/Senders", 0) >= 3, "waiting began", run)
        run.signal(signal.SIGTERM)
        code, stdout, stderr = run.wait()
        assert code == 1 and "Traceback" not in stdout + stderr, stdout + stderr
        assert f"Apply complete: {CREATES} done." in stdout
        assert "Stopped waiting" in stderr
        assert len(server.senders()) == CREATES
