"""The CLI at a real (pseudo-)terminal: the prompt, its answers, colour.

Each test runs ``python -m reconciler`` with stdin, stdout and stderr on a pty, waits for what the tool
prints (never for a time), then types.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time

import pytest

from tests.factories import CLI_OUTPUTS

A = "whatsapp:+15017122661"


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
    term.type(keys)
    assert term.finish() == 1, term.screen
    lines = [line.strip() for line in term.screen.splitlines()]
    assert "Error: apply cancelled: nothing was changed" in lines, (why, term.screen)
    assert "Aborted." not in term.screen and "Traceback" not in term.screen
    assert emulator.senders() == []


def test_yes_applies_and_the_report_is_coloured(emulator, emulator_env, senders_file):
    term = Terminal("apply", "-f", senders_file, env=emulator_env)
    term.read_until("Only 'yes' will be accepted")
    term.type("yes\r")
    assert term.finish() == 0, term.screen
    assert "\x1b[32m✓\x1b[0m create sender whatsapp:+15017122661: created" in term.screen
    assert [s["sender_id"] for s in emulator.senders()] == [A]


def test_json_apply_at_a_terminal_needs_auto_approve(emulator, emulator_env, senders_file):
    term = Terminal("apply", "-f", senders_file, "--format", "json", env=emulator_env)
    assert term.finish() == 1
    assert "--format json needs --auto-approve" in term.screen and "Apply these changes?" not in term.screen
    assert emulator.senders() == []
