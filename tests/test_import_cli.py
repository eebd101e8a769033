"""The import command as the group runs it: loaded only when run, its words on the right streams."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.options import EXIT_ERROR, EXIT_OK, LazyGroup
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, A, B


def run(*argv: str) -> int:
    with pytest.raises(SystemExit) as stopped:
        main(list(argv))
    return stopped.value.code if isinstance(stopped.value.code, int) else EXIT_ERROR


@pytest.fixture
def env(monkeypatch, emulator):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", TEST_ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_MESSAGING_BASE_URL", emulator.base_url)
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return emulator


def test_import_says_what_it_added_on_stdout(env, tmp_path: Path, capsys) -> None:
    env.add_sender({"sender_id": A, "profile": {"name": "Acme"}})
    path = tmp_path / "senders.yaml"
    path.write_text("senders: []\n")
    assert run("import", A, "-f", str(path)) == EXIT_OK
    out = capsys.readouterr()
    assert out.out == f"Imported 1 sender into {path}: {A}\n" and out.err == ""
    assert run("import", B, "-f", str(path)) == EXIT_ERROR
    assert capsys.readouterr().err.startswith(f"Error: nothing was imported: sender {B}: not a live sender")


def test_import_needs_a_sender(capsys) -> None:
    assert run("import") == EXIT_ERROR
    assert "Missing argument 'SENDER_ID...'" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "loaded"), [(["plan", "--help"], False), (["--help"], True)])
def test_import_is_loaded_only_when_run_or_listed(argv: list[str], loaded: bool) -> None:
    assert LazyGroup.lazy["import"] == "reconciler.import_cli:import_command"
    code = (f"import sys\nfrom reconciler.cli import main\nsys.argv = ['reconciler', *{argv!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint('reconciler.import_cli' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent)
    lines = out.stdout.strip().splitlines()
    assert lines[-1] == str(loaded)
    assert not loaded or any(line.strip().startswith("import ") for line in lines)  # listed, with its help
