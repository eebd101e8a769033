"""What the tests share: credentials, a runner for the real CLI, builders of senders and files, figures.

Test modules import from here (never from one another); ``conftest.py`` turns some of it into fixtures.

    result = run_cli("plan", "-f", write_yaml(tmp_path, "senders: []\\n"), env=server_env(emulator))
    plan = build_plan(state(desired(A, profile={"name": "Acme"})), [live(B)])
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from reconciler.client import Credentials
from reconciler.models import DesiredSender, DesiredState, LiveSender, Safety

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# --------------------------------------------------------------------------- credentials

# Test credentials. A test of the suite's own outputs greps for these: they must never be printed.
TEST_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TEST_AUTH_TOKEN = "tok_" + "s3cr3t" * 5
TEST_API_KEY = "SK" + "fedcba9876543210" * 2
TEST_API_SECRET = "apisecret_" + "x7" * 10
SECRETS = (TEST_AUTH_TOKEN, TEST_API_SECRET)
#: The account SID and auth token, as the client takes them.
CREDS = Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_ACCOUNT_SID)

# --------------------------------------------------------------------------- the CLI in a subprocess

#: Every CLI output captured by run_cli (and by other runners of the CLI), so a test can check that no
#: secret leaked anywhere. One list for the whole session: append to it, never rebind it.
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
    """The parent environment without any real Twilio settings, nor GitHub Actions' (the CLI annotates problems
    in a workflow step: a test that wants it says so), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "RECONCILER_", "GITHUB_"))}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


class HasBaseUrl(Protocol):
    @property
    def base_url(self) -> str | None: ...


def url_of(server: HasBaseUrl) -> str:
    """The base URL of a running server (the emulator, a proxy)."""
    url = server.base_url
    assert url, "the server is not listening"
    return url


def server_env(server: HasBaseUrl | str, **extra: str) -> dict[str, str]:
    """Environment for a CLI subprocess that talks to ``server`` (or a base URL) with the test credentials."""
    url = server if isinstance(server, str) else url_of(server)
    return clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
                     TWILIO_MESSAGING_BASE_URL=url, **extra)


def default_sigint() -> None:
    """For a CLI child that a test interrupts (``preexec_fn``): a test run started in the background inherits
    SIGINT ignored, and Python keeps it ignored; a person's shell gives the default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "reconciler", *args]


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    input: str | None = None,
    cwd: Path | str | None = None,
    timeout: float = 120,
) -> CliResult:
    """Run ``python -m reconciler ARGS`` as a user would, without a terminal."""
    proc = subprocess.run(
        cli_argv(*args),
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------- files

def write_yaml(tmp_path: Path, text: str, name: str = "senders.yaml") -> str:
    """Write ``text`` (dedented) to ``tmp_path/name``; returns the path as the CLI takes it."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def many_senders_yaml(tmp_path: Path, sender_ids: list[str], name: str = "senders.yaml") -> str:
    """A desired file creating one sender per id, each with a name and an about."""
    lines = ["senders:"]
    for i, sender_id in enumerate(sender_ids):
        lines += [f'  - sender_id: "{sender_id}"', f'    profile: {{name: "Shop {i}", about: "Hi {i}"}}']
    return write_yaml(tmp_path, "\n".join(lines) + "\n", name)


# --------------------------------------------------------------------------- senders

A, B, C, D = (f"whatsapp:+1501712266{i}" for i in range(1, 5))
SANDBOX = "whatsapp:+14155238886"


def number(i: int) -> str:
    """``whatsapp:+1501712NNNN``: a valid sender id for each ``i`` below 10,000."""
    return f"whatsapp:+1501712{i:04d}"


def sid_of(sender_id: str) -> str:
    """A sender SID derived from its number, so a test can name it without a lookup."""
    return "XE" + sender_id[-4:].rjust(32, "0")


def desired(sender_id: str = A, **sections: Any) -> DesiredSender:
    """A desired sender, sections as the file writes them: ``desired(A, profile={"name": "Acme"})``."""
    return DesiredSender.model_validate({"sender_id": sender_id, **sections})


def live(sender_id: str = A, sid: str | None = None, status: str = "ONLINE", **fields: Any) -> LiveSender:
    """A live sender as the API lists it: ``live(A, profile={"name": "Acme"}, status="OFFLINE")``."""
    return LiveSender.model_validate({"sid": sid or sid_of(sender_id), "sender_id": sender_id, "status": status, **fields})


def state(*senders: DesiredSender, ignore: tuple[str, ...] | list[str] = (), safety: Safety | None = None,
          protect: dict[str, str] | None = None) -> DesiredState:
    """A desired state; ``protect``: sender id → where a file protects it."""
    return DesiredState(senders=tuple(senders), ignore=frozenset(ignore), safety=safety or Safety(), protect=protect or {})


def api_sender(i: int) -> dict[str, Any]:
    """Sender number ``i`` as the API's JSON holds it (for mock transports)."""
    return {"sid": f"XE{i:032x}", "sender_id": number(i), "status": "ONLINE", "profile": {"name": f"S{i}"}}


# --------------------------------------------------------------------------- figures

#: When set, names a file to which :func:`record` appends one JSON line per measured run
#: (``python -m tests.integration.figures FILE`` adds them up for docs/reliability.md).
FIGURES_ENV = "RECONCILER_FIGURES"
FAULT_KEYS = ("fault 429", "fault 5xx", "fault drop", "fault slow")


def faults_of(stats: dict[str, int]) -> dict[str, int]:
    """The emulator's fault counters (0 when none of a kind happened)."""
    return {key: stats.get(key, 0) for key in FAULT_KEYS}


def record(test: str, **figures: Any) -> None:
    """Append what one run met and produced to the figures file, if ``RECONCILER_FIGURES`` names one."""
    path = os.environ.get(FIGURES_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"test": test, **figures}, sort_keys=True) + "\n")
