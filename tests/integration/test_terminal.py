"""The CLI at a real (pseudo-)terminal: the prompt, its answers, colour.

Each test runs ``python -m reconciler`` with stdin, stdout and stderr on a pty, waits for what the tool
prints and, at the prompt, for the tool to be blocked reading its terminal (never for a time), then types.
"""

from __future__ import annotations

import fcntl
import os
import platform
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.factories import CLI_OUTPUTS

A = "whatsapp:+15017122661"

#: The number of the read(2) system call, by machine (Linux's tables).
READ_SYSCALL = {"x86_64": 0, "aarch64": 63, "arm64": 63, "riscv64": 63, "i686": 3, "i386": 3, "armv7l": 3,
                "ppc64le": 3, "s390x": 3}


def _take_terminal() -> None:
    # A test run started in the background inherits SIGINT ignored; a person's shell gives the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    def __init__(self, *args: str, env: dict[str, str]):
        self.master, slave = pty.openpty()
        # The pty is the child's controlling terminal, so Ctrl-C typed there is a SIGINT, as at a real one.
        self.proc = subprocess.Popen([sys.executable, "-m", "reconciler", *args], stdin=slave, stdout=slave,
                                     stderr=slave, env={**env, "TERM": "xterm"}, close_fds=True,
                                     preexec_fn=_take_terminal)
        os.close(slave)
        self.screen = ""

    def read_until(self, text: str, guard: float = 60) -> None:
        """Read what the tool prints until ``text`` shows (``guard`` only stops a hang)."""
        deadline = time.monotonic() + guard
        while text not in self.screen:
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} never showed; the screen:\n{self.screen}")
            ready, _, _ = select.select([self.master], [], [], 1)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:  # the tool exited: the pty is closed
                    if text not in self.screen:
                        pytest.fail(f"the tool exited before {text!r}; the screen:\n{self.screen}")

    def read_at(self) -> int | None:
        """The file descriptor the tool's main thread is blocked reading, or None (running, or another call).

        ``/proc/PID/syscall`` names the system call a task is blocked in and its arguments; it says
        ``running`` while the task runs. Seen blocked in read(2), the tool has passed every check for a
        signal it makes before reading: a SIGINT from now on interrupts that read.
        """
        number = READ_SYSCALL.get(platform.machine())
        try:
            fields = Path(f"/proc/{self.proc.pid}/syscall").read_text(encoding="ascii").split()
        except OSError:
            fields = []
        if number is None or not fields:
            pytest.skip("this system does not show which system call a process is blocked in")
        return int(fields[1], 16) if fields[0] == str(number) else None

    def wait_reading(self, guard: float = 60) -> None:
        """Wait until the tool is blocked reading its terminal (``guard`` only stops a hang)."""
        deadline = time.monotonic() + guard
        while self.read_at() != 0:
            if self.proc.poll() is not None:
                pytest.fail(f"the tool exited instead of reading its terminal; the screen:\n{self.screen}")
            if time.monotonic() > deadline:
                pytest.fail(f"the tool never read its terminal; the screen:\n{self.screen}")
            time.sleep(0.01)  # polling the tool's state, not waiting for it to change

    def type(self, keys: str) -> None:
        if keys == "\x03":  # Ctrl-C: what the terminal driver does with it, SIGINT to the foreground group
            os.killpg(self.proc.pid, signal.SIGINT)
            return
        os.write(self.master, keys.encode())

    def finish(self) -> int:
        code = self.proc.wait(timeout=60)
        with_rest = True
        while with_rest:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            try:
                chunk = os.read(self.master, 65536).decode("utf-8", "replace") if ready else ""
            except OSError:
                chunk = ""
            self.screen += chunk
            with_rest = bool(chunk)
        os.close(self.master)
        CLI_OUTPUTS.append(self.screen)
        return code


@pytest.fixture
def senders_file(tmp_path) -> str:
    path = tmp_path / "senders.yaml"
    path.write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme}}\n')
    return str(path)


@pytest.mark.parametrize(("keys", "why"), [("\x04", "Ctrl-D"), ("\x03", "Ctrl-C"), ("no\r", "no")])
def test_anything_but_yes_at_the_prompt_cancels_on_a_line_of_its_own(emulator, emulator_env, senders_file, keys, why):
    term = Terminal("apply", "-f", senders_file, env=emulator_env)
    term.read_until("Only 'yes' will be accepted")
    # Ctrl-C is a signal: sent before the read starts, it is taken where nothing checks for it (the
    # prompt written, the read not yet started) and the tool waits for input. Typed keys would wait in
    # the terminal's buffer, but every case waits alike.
    term.wait_reading()
    term.type(keys)
    assert term.finish() == 1, term.screen
    lines = [line.strip() for line in term.screen.splitlines()]
    assert "Error: apply cancelled: nothing was changed" in lines, (why, term.screen)
    assert "Aborted." not in term.screen and "Traceback" not in term.screen
    assert emulator.senders() == []


def test_yes_applies_and_the_report_is_coloured(emulator, emulator_env, senders_file):
    term = Terminal("apply", "-f", senders_file, env=emulator_env)
    term.read_until("Only 'yes' will be accepted")
    term.wait_reading()
    term.type("yes\r")
    assert term.finish() == 0, term.screen
    assert "\x1b[32m✓\x1b[0m create sender whatsapp:+15017122661: created" in term.screen
    assert [s["sender_id"] for s in emulator.senders()] == [A]


def test_json_apply_at_a_terminal_needs_auto_approve(emulator, emulator_env, senders_file):
    term = Terminal("apply", "-f", senders_file, "--format", "json", env=emulator_env)
    assert term.finish() == 1
    assert "--format json needs --auto-approve" in term.screen and "Apply these changes?" not in term.screen
    assert emulator.senders() == []
