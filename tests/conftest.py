"""Shared fixtures: test credentials and a runner for the real CLI in a subprocess.

Integration tests run ``python -m reconciler`` against an emulator on a free 127.0.0.1 port, so
they exercise argument parsing, output and exit codes exactly as a user sees them.
"""

from __future__ import annotations

import os
import subprocess
import sys
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
