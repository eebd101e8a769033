"""Shared fixtures: test credentials and a runner for the real CLI in a subprocess.

Integration tests run ``python -m reconciler`` against an emulator on a free 127.0.0.1 port, so
they exercise argument parsing, output and exit codes exactly as a user sees them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Test credentials. A test of the suite's own outputs greps for these: they must never be printed.
TEST_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TEST_AUTH_TOKEN = "tok_" + "s3cr3t" * 5
TEST_API_KEY = "SK" + "fedcba9876543210" * 2
TEST_API_SECRET = "apisecret_" + "x7" * 10
SECRETS = (TEST_AUTH_TOKEN, TEST_API_SECRET)

#: Every CLI output captured by run_cli, so a test can check that no secret leaked anywhere.
CLI_OUTPUTS: list[str] = []


@dataclass
class CliResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def clean_env(**extra: str) -> dict[str, str]:
    """The parent environment without any real Twilio settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "RECONCILER_"))}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    input: str | None = None,
    cwd: Path | str | None = None,
    timeout: float = 120,
) -> CliResult:
    """Run ``python -m reconciler ARGS`` as a user would, without a terminal."""
    argv = [sys.executable, "-m", "reconciler", *args]
    proc = subprocess.run(
        argv,
        env=env if env is not None else clean_env(),
        input=input,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    CLI_OUTPUTS.append(proc.stdout + proc.stderr)
    return CliResult(list(args), proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    """``cli("plan", "-f", path, env=...)`` runs the real CLI in a subprocess."""
    return run_cli


# --------------------------------------------------------------------------- emulator fixtures

PRISM_BIN = REPO_ROOT / ".ci" / "prism" / "node_modules" / ".bin" / "prism"
SPEC_FIXTURE = FIXTURES / "twilio_messaging_v2.yaml"


@pytest.fixture
def emulator():
    """A Senders API emulator on a free 127.0.0.1 port, accepting the test credentials and API key."""
    from reconciler.emulator import EmulatorServer

    server = EmulatorServer(
        account_sid=TEST_ACCOUNT_SID,
        auth_token=TEST_AUTH_TOKEN,
        api_key=TEST_API_KEY,
        api_secret=TEST_API_SECRET,
    )
    server.start(host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def emulator_env(emulator):
    """Environment for a CLI subprocess that talks to ``emulator`` with the test credentials."""
    return clean_env(
        TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
        TWILIO_MESSAGING_BASE_URL=emulator.base_url,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def prism_url(emulator):
    """Stoplight Prism validating every request and response between a client and ``emulator``.

    Yields the proxy's base URL; while it runs, the emulator's absolute URLs point at the proxy.
    Prism comes from ``.ci/prism`` (``npm ci --prefix .ci/prism``); without it the test fails: the
    check against Twilio's spec must not be skipped silently.
    """
    if not PRISM_BIN.exists():
        pytest.fail(
            f"Stoplight Prism is not installed ({PRISM_BIN} is missing): run "
            "'npm ci --prefix .ci/prism' (bash .ci/test does it)",
            pytrace=False,
        )
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(PRISM_BIN),
            "proxy",
            str(SPEC_FIXTURE),
            emulator.base_url,
            "--errors",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=REPO_ROOT,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            reader.join(timeout=5)
            pytest.fail("Prism exited before listening:\n" + "".join(output)[-4000:], pytrace=False)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("Prism did not start listening within 60 s:\n" + "".join(output)[-4000:], pytrace=False)
            time.sleep(0.1)
    url = f"http://127.0.0.1:{port}"
    # Absolute URLs in responses (next_page_url ...) lead back through the proxy, as behind any gateway.
    emulator.public_url = url
    try:
        yield url
    finally:
        emulator.public_url = None
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
