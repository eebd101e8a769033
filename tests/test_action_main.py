"""``reconciler/action/__main__.py``: ``python -m reconciler.action``, as action.yml runs it.

Its promise: the step's exit code is the action's, and a run without inputs is one ``::error::`` line
that GitHub shows as an annotation, never a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.factories import REPO_ROOT, clean_env


def _action(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in clean_env().items() if not k.startswith(("GITHUB_", "INPUT_", "GH_"))}
    return subprocess.run([sys.executable, "-m", "reconciler.action"], capture_output=True, text=True, cwd=tmp_path,
                          env={**base, "PYTHONPATH": str(REPO_ROOT), **env}, stdin=subprocess.DEVNULL, timeout=60)


def test_no_command_is_one_error_annotation_and_exit_1(tmp_path: Path) -> None:
    result = _action(tmp_path)
    assert result.returncode == 1
    assert result.stdout == "::error::input 'command' must be one of plan, apply, drift, not ''\n"
    assert result.stderr == ""


def test_the_exit_code_is_the_actions(tmp_path: Path, emulator_env: dict[str, str]) -> None:
    """0 for a plan that ran, 1 for one that failed: the step passes or fails with it."""
    twilio = {k: v for k, v in emulator_env.items() if k.startswith("TWILIO_")}
    (tmp_path / "senders.yaml").write_text("senders: []\n")
    ran = _action(tmp_path, INPUT_COMMAND="plan", INPUT_COMMENT="false", **twilio)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    (tmp_path / "senders.yaml").write_text("senders: [\n")
    failed = _action(tmp_path, INPUT_COMMAND="plan", INPUT_COMMENT="false", **twilio)
    assert failed.returncode == 1
    assert "::error::reconciler plan failed (exit 1)" in failed.stdout and "Traceback" not in failed.stdout + failed.stderr
