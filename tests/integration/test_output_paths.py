"""Where output goes and where a saved plan comes from: one clear line for every path that cannot serve."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from reconciler.fs import atomic_write, read_regular
from tests.factories import clean_env, run_cli

A = "whatsapp:+15017122661"


@pytest.fixture
def senders_file(tmp_path) -> str:
    path = tmp_path / "senders.yaml"
    path.write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme}}\n')
    return str(path)


def one_error(result) -> str:
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_plan_out_into_a_missing_directory_says_so_and_creates_nothing(emulator_env, senders_file, tmp_path):
    out = tmp_path / "artifacts" / "plan.json"
    line = one_error(run_cli("plan", "-f", senders_file, "--out", str(out), env=emulator_env))
    assert "does not exist" in line and not out.parent.exists()


def test_export_onto_a_symlink_writes_through_it(emulator, emulator_env, tmp_path):
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme"}})
    real = tmp_path / "real.yaml"
    real.write_text("old\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    result = run_cli("export", "-o", str(link), "--force", env=emulator_env)
    assert result.returncode == 0, result.output
    assert link.is_symlink() and A in real.read_text()


def test_export_refuses_to_overwrite_without_force(emulator_env, tmp_path):
    out = tmp_path / "senders.yaml"
    out.write_text("# my comments\n")
    line = run_cli("export", "-o", str(out), env=emulator_env)
    assert line.returncode == 1 and "pass --force" in line.stderr and out.read_text() == "# my comments\n"


def test_export_never_replaces_a_device(emulator_env):
    line = one_error(run_cli("export", "-o", os.devnull, "--force", env=emulator_env))
    assert "not a regular file" in line and os.path.exists(os.devnull) and not os.path.isfile(os.devnull)


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_apply_refuses_a_plan_file_that_is_not_a_regular_file(emulator_env, tmp_path, special):
    path = special
    if special == "fifo":
        path = str(tmp_path / "plan.fifo")
        os.mkfifo(path)
    line = one_error(run_cli("apply", path, env=emulator_env, timeout=60))
    assert "not a regular file" in line


def test_apply_of_a_desired_state_file_hints_at_f(emulator_env, senders_file):
    line = one_error(run_cli("apply", senders_file, env=emulator_env))
    assert f"reconciler apply -f {senders_file}" in line


def test_a_full_disk_on_stdout_is_one_line():
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "reconciler", "schema"], stdout=full, stderr=subprocess.PIPE,
                              text=True, env=clean_env(), timeout=60)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: cannot write")


def test_read_regular_is_bounded(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"x" * 101)
    assert read_regular(path, limit=101) == b"x" * 101
    with pytest.raises(ValueError, match="larger than 100 bytes"):
        read_regular(path, limit=100)


def test_atomic_write_keeps_an_existing_file_s_mode(tmp_path):
    path = tmp_path / "out.yaml"
    path.write_text("a")
    path.chmod(0o640)
    atomic_write(path, "b")
    assert path.read_text() == "b" and (path.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.yaml"]
