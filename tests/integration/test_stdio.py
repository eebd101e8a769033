"""``-`` as a path means standard input or output, through the real CLI against the emulator: ``-f -``,
``plan --out -``, ``apply -``, ``show -``, ``export -o -``; ``./-`` still names a file called ``-``."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.emulator import EmulatorServer
from tests.factories import A, B, run_cli

DESIRED = f"""\
senders:
  - sender_id: "{A}"
    profile: {{name: Acme, about: new}}
  - sender_id: "{B}"
    profile: {{name: Beta}}
"""


def test_plan_reads_the_file_from_stdin(emulator: EmulatorServer, emulator_env: dict[str, str]) -> None:
    result = run_cli("plan", "-f", "-", "--detailed-exitcode", env=emulator_env, input=DESIRED)
    assert result.returncode == 2, result.output
    assert f"+ {A}" in result.stdout and f"+ {B}" in result.stdout


def test_validate_names_stdin_with_line_and_column(emulator_env: dict[str, str]) -> None:
    broken = DESIRED.replace("Beta", "Beta, vertical: Spaceships")
    result = run_cli("validate", "-f", "-", env=emulator_env, input=broken)
    assert result.returncode == 1
    assert f"<stdin>:5:37: sender {B}: profile.vertical: 'Spaceships' is not one of" in result.stderr
    assert run_cli("validate", "-f", "-", env=emulator_env, input=DESIRED).stdout == "<stdin>: 2 senders, 0 ignored: valid\n"


def test_an_empty_stdin_is_a_clear_error(emulator_env: dict[str, str]) -> None:
    result = run_cli("validate", "-f", "-", env=emulator_env, input="")
    assert result.returncode == 1 and "<stdin>:1:1: the file is empty" in result.stderr


def test_stdin_combines_with_files(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    other = tmp_path / "more.yaml"
    other.write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Twice}}\n')
    result = run_cli("validate", "-f", "-", "-f", str(other), env=emulator_env, input=DESIRED)
    assert result.returncode == 1
    assert f"<stdin>:2:16: sender {A}: duplicate sender; declared again at {other}:2:16" in result.stderr


def test_plan_out_dash_writes_the_saved_plan_alone_on_stdout_and_apply_dash_reads_it(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    planned = run_cli("plan", "-f", "-", "--out", "-", env=emulator_env, input=DESIRED)
    assert planned.returncode == 0, planned.output
    saved = json.loads(planned.stdout)  # nothing but the saved plan on stdout
    assert saved["kind"] == "reconciler-plan" and [a["sender_id"] for a in saved["accounts"][0]["actions"]] == [A, B]
    assert f"+ {A}" in planned.stderr  # the plan a person reads went to stderr
    assert "Wrote the saved plan to standard output; apply it with: ... | reconciler apply -" in planned.stderr
    assert not (tmp_path / "-").exists() and not Path("-").exists()
    shown = run_cli("show", "-", env=emulator_env, input=planned.stdout)
    assert shown.returncode == 0 and f"+ {A}" in shown.stdout
    applied = run_cli("apply", "-", env=emulator_env, input=planned.stdout)
    assert applied.returncode == 0, applied.output
    assert sorted(s["sender_id"] for s in emulator.senders()) == [A, B]


def test_plan_out_dash_in_json_keeps_stdout_for_the_saved_plan(emulator_env: dict[str, str]) -> None:
    planned = run_cli("plan", "-f", "-", "--out", "-", "--format", "json", env=emulator_env, input=DESIRED)
    assert planned.returncode == 0, planned.output
    assert json.loads(planned.stdout)["kind"] == "reconciler-plan"


def test_plan_out_dash_with_an_error_leaves_stdout_empty(emulator_env: dict[str, str]) -> None:
    planned = run_cli("plan", "-f", "-", "--out", "-", "--format", "json", env=emulator_env, input="senders: 3\n")
    assert planned.returncode == 1 and planned.stdout == "" and "<stdin>:1:10" in planned.stderr


def test_apply_dash_with_an_empty_stdin_says_what_to_pipe(emulator_env: dict[str, str]) -> None:
    result = run_cli("apply", "-", env=emulator_env, input="")
    assert result.returncode == 1 and "<stdin>: standard input is empty" in result.stderr


def test_apply_dash_refuses_what_is_not_a_saved_plan(emulator: EmulatorServer, emulator_env: dict[str, str]) -> None:
    result = run_cli("apply", "-", env=emulator_env, input=DESIRED)
    assert result.returncode == 1 and "<stdin>: not a saved plan" in result.stderr and emulator.senders() == []


def test_apply_f_dash_needs_auto_approve(emulator: EmulatorServer, emulator_env: dict[str, str]) -> None:
    refused = run_cli("apply", "-f", "-", env=emulator_env, input=DESIRED)
    assert refused.returncode == 1 and "pass --auto-approve" in refused.stderr and emulator.senders() == []
    assert "Traceback" not in refused.output
    applied = run_cli("apply", "-f", "-", "--auto-approve", env=emulator_env, input=DESIRED)
    assert applied.returncode == 0, applied.output
    assert sorted(s["sender_id"] for s in emulator.senders()) == [A, B]


def test_drift_reads_stdin(emulator: EmulatorServer, emulator_env: dict[str, str]) -> None:
    assert run_cli("drift", "-f", "-", env=emulator_env, input=DESIRED).returncode == 2


def test_export_o_dash_writes_to_stdout(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme"}})
    result = run_cli("export", "-o", "-", env=emulator_env, cwd=tmp_path)
    assert result.returncode == 0, result.output
    assert A in result.stdout and "Wrote" not in result.stderr and not (tmp_path / "-").exists()
    # What export wrote plans empty when read back from stdin.
    again = run_cli("plan", "-f", "-", "--detailed-exitcode", env=emulator_env, input=result.stdout)
    assert again.returncode == 0, again.output


def test_dot_slash_dash_is_a_file_named_dash(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "-").write_text(DESIRED)
    planned = run_cli("plan", "-f", "./-", "--out", "./-plan", env=emulator_env, cwd=tmp_path, input="senders: 3\n")
    assert planned.returncode == 0, planned.output
    assert "apply it with: reconciler apply ./-plan" in planned.stderr
    assert json.loads((tmp_path / "-plan").read_text())["kind"] == "reconciler-plan"
    applied = run_cli("apply", "./-plan", env=emulator_env, cwd=tmp_path)
    assert applied.returncode == 0, applied.output


def test_the_suggested_apply_command_quotes_the_path(emulator_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "my plan.json"
    planned = run_cli("plan", "-f", "-", "--out", str(out), env=emulator_env, input=DESIRED)
    assert planned.returncode == 0, planned.output
    assert f"apply it with: reconciler apply '{out}'" in planned.stderr
