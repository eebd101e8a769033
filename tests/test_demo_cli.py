"""``reconciler/demo/cli.py``: the ``demo`` command, cheap to list and strict about its one option.

Its promises: ``--help`` does not import the loop (the session, the emulator, aiohttp); a ``-f`` that does
not exist, or a file that is not valid, ends with the error before any emulator starts. The demo's run
itself is tests/integration/test_demo.py's and tests/test_demo_loop.py's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.factories import REPO_ROOT, clean_env, run_cli, write_yaml

STARTED = "Started a local Senders API emulator"


def test_help_describes_the_command_without_importing_the_loop() -> None:
    code = ("import sys\nfrom reconciler.cli import main\nsys.argv = ['reconciler', 'demo', '--help']\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
            "print('MODULES', *sorted(sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                            env=clean_env(), timeout=60, check=True)
    help_text, _, modules = result.stdout.partition("MODULES ")
    assert "Plan the example file against an embedded emulator" in help_text
    assert "-f, --file" in help_text and "--apply" in help_text
    loaded = set(modules.split())
    assert "reconciler.demo.cli" in loaded
    assert not {"reconciler.demo.loop", "reconciler.session", "reconciler.emulator.server", "aiohttp"} & loaded


def test_a_file_that_does_not_exist_is_a_usage_error_before_anything_starts(tmp_path: Path) -> None:
    result = run_cli("demo", "-f", str(tmp_path / "none.yaml"))
    assert result.returncode == 1
    assert f"Error: Invalid value for '-f' / '--file': File '{tmp_path / 'none.yaml'}' does not exist." in result.stderr
    assert STARTED not in result.stdout


def test_a_directory_is_not_a_demo_file(tmp_path: Path) -> None:
    result = run_cli("demo", "-f", str(tmp_path))
    assert result.returncode == 1 and "is a directory" in result.stderr and STARTED not in result.stdout


def test_an_invalid_file_is_reported_at_its_line_and_no_emulator_starts(tmp_path: Path) -> None:
    broken = write_yaml(tmp_path, "senders:\n  - sender_id: nope\n")
    result = run_cli("demo", "-f", broken)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{broken}:2:16: senders[0].sender_id: 'nope' must be 'whatsapp:' followed by an E.164 number, "
        "e.g. 'whatsapp:+15017122661'",
        "Error: 1 problem in 1 desired-state file; nothing was read or changed",
    ]


def test_output_to_a_pipe_has_no_colour(tmp_path: Path) -> None:
    own = write_yaml(tmp_path, 'senders:\n  - sender_id: "whatsapp:+15017122661"\n    profile: {name: Acme}\n')
    result = run_cli("demo", "-f", own)
    assert result.returncode == 0, result.output
    assert STARTED in result.stdout and "\x1b[" not in result.stdout
