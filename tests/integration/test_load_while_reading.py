"""plan loads the files while it reads the live senders: errors still come out as they did one after the other."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.emulator import EmulatorServer, Faults
from tests.factories import run_cli, server_env, write_yaml


@contextmanager
def api_that_never_answers() -> Iterator[str]:
    """A loopback port that takes connections (the kernel's backlog) and never answers a request."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_file_error_wins_over_a_read_in_flight_and_does_not_wait_for_it(tmp_path: Path) -> None:
    f = write_yaml(tmp_path, "senders:\n  - sender_id: whatsapp:+1501712\n")
    with api_that_never_answers() as url:
        # The read can only end by its 10-minute timeout; the guard of 60 s fails the test if the CLI waits for it.
        env = server_env(url, RECONCILER_REQUEST_TIMEOUT="600", RECONCILER_MAX_ATTEMPTS="6")
        result = run_cli("plan", "-f", f, env=env, timeout=60)
    assert result.returncode == 1, result.output
    assert "sender_id" in result.stderr and "connection" not in result.stderr and "timed out" not in result.stderr


def test_a_failed_read_is_reported_after_a_good_file(
    tmp_path: Path, emulator: EmulatorServer, emulator_env: dict[str, str]
) -> None:
    emulator.set_faults(Faults(rate_5xx=1.0))
    f = write_yaml(tmp_path, 'senders:\n  - sender_id: "whatsapp:+15017122661"\n    profile: {name: Acme}\n')
    result = run_cli("plan", "-f", f, "--max-attempts", "1", env=emulator_env)
    assert result.returncode == 1, result.output
    assert result.stderr.startswith("Error:") and "Internal Server Error" in result.stderr
    assert "Traceback" not in result.stderr
