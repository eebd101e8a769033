"""No module is imported for the first time outside the main thread: two threads importing at once can deadlock.

The CLI reads the parent's senders in a second thread while the main thread loads the files (and imports as it
goes), and asyncio resolves names in its own threads. Each command runs here as a user runs it, in a subprocess
whose first act is to put a finder at the head of ``sys.meta_path``: every import of a module not yet loaded
reaches it (``import`` statements and ``importlib.import_module`` alike), and it writes down the thread that
asked. The check is structural: it does not depend on the two threads meeting, only on who imports what.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.factories import A, B, clean_env, server_env

#: Runs ``reconciler ARGS`` with every first import written to $IMPORT_LOG as ``THREAD-NAME MODULE``.
WATCHED_CLI = """
import os, sys, threading
log = os.open(os.environ["IMPORT_LOG"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

class Watch:
    @staticmethod
    def find_spec(name, path=None, target=None):
        os.write(log, f"{threading.current_thread().name} {name}\\n".encode())
        return None

sys.meta_path.insert(0, Watch)
from reconciler.__main__ import main
sys.argv = ["reconciler", *sys.argv[1:]]
main()
"""


def first_imports(tmp_path: Path, *args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The run, and ``THREAD MODULE`` for each module imported for the first time outside the main thread."""
    log = tmp_path / "imports.log"
    proc = subprocess.run([sys.executable, "-c", WATCHED_CLI, *args], env={**env, "IMPORT_LOG": str(log)},
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    lines = log.read_text().splitlines()
    assert any(line.startswith("MainThread reconciler.cli") for line in lines), lines[:5]  # the watch saw the CLI
    return proc, [line for line in lines if not line.startswith("MainThread ")]


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port bound and not listening, for the block's lifetime: a connection to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "senders.yaml").write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme, about: new}}\n'
                                           f'  - sender_id: "{B}"\n    profile: {{name: Beta}}\n')
    return tmp_path


def test_plan_reads_beside_the_load_without_importing_in_the_reader(files, emulator, emulator_env):
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
    proc, elsewhere = first_imports(files, "plan", env=emulator_env)
    assert proc.returncode == 0, proc.stderr
    assert "~ whatsapp:+15017122661" in proc.stdout  # the reader's pages were planned from
    assert elsewhere == []


def test_a_failing_read_over_tls_imports_nothing_in_the_reader(files):
    """https: the TLS context (certifi, importlib.resources), a refused connection, a retry and its log line."""
    with refused_port() as port:
        env = server_env(f"https://127.0.0.1:{port}")
        proc, elsewhere = first_imports(files, "plan", "--max-attempts", "2", "--backoff", "0", env=env)
    assert proc.returncode == 1 and "Retrying (attempt 2 of 2)" in proc.stderr and "Traceback" not in proc.stderr
    assert elsewhere == []


def test_apply_and_its_confirming_read_import_nothing_in_another_thread(files, emulator, emulator_env):
    proc, elsewhere = first_imports(files, "apply", "--auto-approve", env=emulator_env)
    assert proc.returncode == 0, proc.stderr
    assert elsewhere == []


def test_the_demo_imports_nothing_in_its_emulator_s_thread(tmp_path):
    proc, elsewhere = first_imports(tmp_path, "demo", "--apply", env=clean_env())
    assert proc.returncode == 0, proc.stderr
    assert elsewhere == []


def test_the_watch_sees_a_first_import_in_another_thread(tmp_path):
    """The check can fail: a module first imported in a thread is written down under the thread's name."""
    code = WATCHED_CLI.replace("from reconciler.__main__ import main", "import threading as t\n"
                               "w = t.Thread(target=lambda: __import__('reconciler.cli') and __import__('fractions'),"
                               " name='worker'); w.start(); w.join()\nfrom reconciler.__main__ import main")
    log = tmp_path / "imports.log"
    subprocess.run([sys.executable, "-c", code, "--version"], env={**os.environ, "IMPORT_LOG": str(log)},
                   capture_output=True, timeout=60, check=True)
    lines = log.read_text().splitlines()
    assert "worker fractions" in lines and "worker reconciler.cli" in lines
