"""``protect:`` through the real CLI against the emulator: a protected sender survives ``senders: []`` with
``--allow-delete --force``, and a saved plan made before the protection is refused at apply."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.emulator import EmulatorServer
from tests.factories import A, B, C, run_cli, write_yaml


def live_ids(emulator: EmulatorServer) -> list[str]:
    return sorted(s["sender_id"] for s in emulator.senders())


def seed(emulator: EmulatorServer) -> None:
    for sender_id, name in ((A, "Acme"), (B, "Beta"), (C, "Gamma")):
        emulator.add_sender({"sender_id": sender_id, "profile": {"name": name}})


def test_a_protected_sender_survives_an_empty_file_with_allow_delete_and_force(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    seed(emulator)
    f = write_yaml(tmp_path, f"""\
        # Everything goes, except the shop's main number.
        senders: []
        protect:
          - {A}
        """)
    where = f"{f}:4:5"
    result = run_cli("apply", "-f", f, "--allow-delete", "--force", "--auto-approve", env=emulator_env)
    assert result.returncode == 1
    assert f"Error: sender {A}: protected at {where}, so never deleted" in result.stderr
    assert "nothing was applied" in result.stderr and "Traceback" not in result.output
    assert live_ids(emulator) == [A, B, C]  # like any problem: nothing applied in part
    planned = run_cli("plan", "-f", f, "--allow-delete", "--force", "--out", str(tmp_path / "p.json"), env=emulator_env)
    assert planned.returncode == 1 and f"protected at {where}" in planned.stdout
    assert not (tmp_path / "p.json").exists()
    drift = run_cli("drift", "-f", f, env=emulator_env)
    assert drift.returncode == 1 and f"sender {A}: protected at {where}" in drift.stderr
    # The others can go, with the protected one left out of the run.
    others = run_cli("apply", "-f", f, "--allow-delete", "--force", "--auto-approve", "--target", B, "--target", C,
                     env=emulator_env)
    assert others.returncode == 0, others.output
    assert live_ids(emulator) == [A]


def test_the_json_plan_names_the_protection(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    seed(emulator)
    f = write_yaml(tmp_path, f"senders: []\nprotect: [{B}]\n")
    doc = json.loads(run_cli("plan", "-f", f, "--allow-delete", "--format", "json", env=emulator_env).stdout)
    assert doc["applyable"] is False
    assert [(p["sender_id"], p["message"].split(",")[0]) for p in doc["problems"]] == [(B, f"protected at {f}:2:11")]
    assert sorted(a["sender_id"] for a in doc["actions"]) == [A, C]


def test_a_saved_plan_made_before_the_protection_is_refused_at_apply(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    seed(emulator)
    f = write_yaml(tmp_path, f'senders:\n  - sender_id: "{C}"\n    profile: {{name: Gamma}}\n')
    out = tmp_path / "plan.json"
    planned = run_cli("plan", "-f", f, "--allow-delete", "--force", "--out", str(out), env=emulator_env)
    assert planned.returncode == 0, planned.output
    # Reviewed later: A must stay. The protection lands in the file before the saved plan is applied.
    Path(f).write_text(Path(f).read_text() + f"protect:\n  - {A}\n")
    refused = run_cli("apply", str(out), env=emulator_env)
    assert refused.returncode == 1
    assert (f"the saved plan {out} deletes senders the files protect now; nothing was changed: "
            f"{A} (protected at {f}:5:5). Run plan again.") in refused.stderr
    assert live_ids(emulator) == [A, B, C]
    # Planned again, the protection is a problem; without it, the same saved plan applies.
    Path(f).write_text(f'senders:\n  - sender_id: "{C}"\n    profile: {{name: Gamma}}\n')
    applied = run_cli("apply", str(out), env=emulator_env)
    assert applied.returncode == 0, applied.output
    assert live_ids(emulator) == [C]


def test_a_saved_plan_that_deletes_is_refused_when_its_files_are_gone(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    seed(emulator)
    f = write_yaml(tmp_path, "senders: []\n")
    out = tmp_path / "plan.json"
    assert run_cli("plan", "-f", f, "--allow-delete", "--force", "--out", str(out), env=emulator_env).returncode == 0
    Path(f).unlink()
    refused = run_cli("apply", str(out), env=emulator_env)
    assert refused.returncode == 1
    assert (f"{out}: the plan deletes senders, and the files it was made from ({f}) cannot be read to check that "
            f"none is protected now: {f}: no such file or directory; nothing was changed") in refused.stderr
    assert live_ids(emulator) == [A, B, C]


def test_a_saved_plan_from_stdin_that_deletes_cannot_be_checked_again(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    seed(emulator)
    planned = run_cli("plan", "-f", "-", "--allow-delete", "--force", "--out", "-", env=emulator_env,
                      input="senders: []\n")
    assert planned.returncode == 0, planned.output
    refused = run_cli("apply", "-", env=emulator_env, input=planned.stdout)
    assert refused.returncode == 1 and "<stdin>: standard input cannot be read a second time" in refused.stderr
    assert live_ids(emulator) == [A, B, C]


def test_a_saved_plan_without_deletes_needs_no_files(emulator: EmulatorServer, emulator_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    f = write_yaml(tmp_path, f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme}}\n')
    out = tmp_path / "plan.json"
    assert run_cli("plan", "-f", f, "--out", str(out), env=emulator_env).returncode == 0
    Path(f).unlink()
    applied = run_cli("apply", str(out), env=emulator_env)
    assert applied.returncode == 0, applied.output and live_ids(emulator) == [A]


def test_validate_refuses_a_sender_both_protected_and_ignored(emulator_env: dict[str, str], tmp_path: Path) -> None:
    f = write_yaml(tmp_path, f"senders: []\nignore: [{A}]\nprotect: [{A}]\n")
    result = run_cli("validate", "-f", f, env=emulator_env)
    assert result.returncode == 1
    assert f"{f}:3:11: protect[0]: {A} is protected but also listed under ignore at {f}:2:10" in result.stderr
    assert f"{f}:2:10: ignore[0]: {A} is ignored but also listed under protect at {f}:3:11" in result.stderr
