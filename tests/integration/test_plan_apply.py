"""plan and apply through the real CLI, against the emulator on a loopback port."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import EmulatorServer, Faults
from tests.factories import SANDBOX, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, A, B, C, D, clean_env, number, run_cli, url_of, write_yaml

DESIRED = f"""
senders:
  - sender_id: "{A}"
    profile:
      name: Acme
      about: Hello from Acme
      emails: [support@acme.example]
      websites: ["https://acme.example"]
    webhook:
      callback_url: https://hooks.example.com/acme
      callback_method: POST
  - sender_id: "{B}"
    profile:
      name: Beta
      vertical: Education
"""


def senders_by_id(emulator: EmulatorServer) -> dict[str, dict[str, Any]]:
    return {s["sender_id"]: s for s in emulator.senders()}


def test_plan_apply_plan_converges(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    f = write_yaml(tmp_path, DESIRED)
    plan = run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env)
    assert plan.returncode == 2, plan.output
    assert f"+ {A} (create)" in plan.stdout and f"+ {B} (create)" in plan.stdout
    assert "Plan: 2 to create, 0 to update, 0 to delete." in plan.stdout

    applied = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert applied.returncode == 0, applied.output
    assert "Apply complete: 2 done." in applied.stdout
    live = senders_by_id(emulator)
    assert live[A]["profile"]["emails"] == [{"email": "support@acme.example", "label": "Email"}]
    assert live[B]["profile"]["vertical"] == "Education"

    again = run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env)
    assert again.returncode == 0, again.output
    assert "No changes." in again.stdout

    second = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert second.returncode == 0 and "Nothing to apply." in second.stdout


def test_labels_only_difference_is_no_change(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "emails": [{"email": "a@acme.example", "label": "Email"}],
                                                      "websites": [{"website": "https://acme.example", "label": "Website"}]}})
    f = write_yaml(tmp_path, f"""
        senders:
          - sender_id: "{A}"
            profile: {{name: Acme, emails: [a@acme.example], websites: ["https://acme.example"]}}
        """)
    result = run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env)
    assert result.returncode == 0 and "No changes." in result.stdout, result.output


def test_update_leaves_unmanaged_fields_untouched(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "old", "description": "keep me",
                                                      "address": "1 Main St"},
                         "webhook": {"callback_url": "https://keep.example/hook", "callback_method": "PUT"}})
    f = write_yaml(tmp_path, f"""
        senders:
          - sender_id: "{A}"
            profile: {{about: new}}
        """)
    plan = run_cli("plan", "-f", f, env=emulator_env)
    assert '~ profile.about: "old" → "new"' in plan.stdout
    assert run_cli("apply", "-f", f, "--auto-approve", env=emulator_env).returncode == 0
    live = senders_by_id(emulator)[A]
    assert live["profile"]["about"] == "new"
    assert live["profile"]["description"] == "keep me" and live["profile"]["address"] == "1 Main St"
    assert live["webhook"] == {**live["webhook"], "callback_url": "https://keep.example/hook", "callback_method": "PUT"}


def test_deletes_are_gated_until_allowed(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    emulator.add_sender({"sender_id": C, "profile": {"name": "Old"}})
    emulator.add_sender({"sender_id": D, "profile": {"name": "Ignored"}})
    emulator.add_sender({"sender_id": SANDBOX, "profile": {"name": "Twilio Sandbox"}})
    f = write_yaml(tmp_path, f"""
        senders: []
        ignore: ["{D}"]
        """)
    plan = run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env)
    assert plan.returncode == 2
    assert f"- {C} (delete" in plan.stdout and "gated: pass --allow-delete" in plan.stdout
    assert D not in plan.stdout and "14155238886" not in plan.stdout

    kept = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert kept.returncode == 0 and "Nothing to apply." in kept.stdout
    assert C in senders_by_id(emulator)

    gone = run_cli("apply", "-f", f, "--auto-approve", "--allow-delete", env=emulator_env)
    assert gone.returncode == 0, gone.output
    assert set(senders_by_id(emulator)) == {D, SANDBOX}


def test_apply_without_terminal_or_auto_approve_changes_nothing(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    f = write_yaml(tmp_path, DESIRED)
    result = run_cli("apply", "-f", f, env=emulator_env)
    assert result.returncode == 1
    assert "pass --auto-approve" in result.stderr and "Traceback" not in result.output
    assert emulator.senders() == []


def test_json_plan_contract(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
    emulator.add_sender({"sender_id": C, "profile": {"name": "Old"}})
    f = write_yaml(tmp_path, DESIRED)
    result = run_cli("plan", "-f", f, "--format", "json", env=emulator_env)
    assert result.returncode == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["format_version"] == "1"
    assert doc["summary"] == {"create": 1, "update": 1, "delete": 1, "pool": 0}
    by_id = {a["sender_id"]: a for a in doc["actions"]}
    assert by_id[A]["action"] == "update" and by_id[A]["sid"].startswith("XE")
    assert {"path": "profile.about", "before": "old", "after": "Hello from Acme"} in by_id[A]["changes"]
    assert by_id[B]["action"] == "create" and by_id[B]["sid"] is None
    assert by_id[C] | {"allowed": False} == by_id[C]


def test_failed_actions_do_not_stop_the_others_and_rerun_converges(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    lines = ["senders:"]
    ids = [number(i) for i in range(3000, 3012)]
    for i, sender_id in enumerate(ids):
        lines.append(f'  - sender_id: "{sender_id}"\n    profile: {{name: "Shop {i}"}}')
    f = write_yaml(tmp_path, "\n".join(lines) + "\n")
    # Under seed 1 the first request (the list read) passes and about half of the writes get a 500.
    emulator.set_faults(Faults(seed=1, rate_5xx=0.5))
    env = dict(emulator_env, RECONCILER_MAX_ATTEMPTS="1", RECONCILER_BACKOFF="0")
    first = run_cli("apply", "-f", f, "--auto-approve", env=env)
    assert first.returncode == 1, first.output
    # A 500 before the write: the answer is lost, the confirming list read shows it did not land.
    assert "not applied" in first.stdout and "Twilio 20500" in first.stdout and " failed" not in first.stdout
    made = len(emulator.senders())
    assert 0 < made < len(ids)
    emulator.set_faults(Faults())
    second = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert second.returncode == 0, second.output
    assert sorted(senders_by_id(emulator)) == sorted(ids)
    assert run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env).returncode == 0


def test_pending_rename_is_shown_and_not_sent(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Old Name"}},
                        pending_display_name="New Name", pending_display_name_status="PENDING_REVIEW",
                        pending_display_name_status_date="2026-11-20T10:00:00Z")
    f = write_yaml(tmp_path, f"""
        senders:
          - sender_id: "{A}"
            profile: {{name: New Name}}
        """)
    result = run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env)
    assert result.returncode == 0, result.output
    assert "display name 'New Name' is PENDING_REVIEW by Meta" in result.stdout


def test_rename_goes_to_review_and_apply_is_confirmed(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Old Name"}})
    f = write_yaml(tmp_path, f"""
        senders:
          - sender_id: "{A}"
            profile: {{name: New Name}}
        """)
    result = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert result.returncode == 0, result.output
    live = senders_by_id(emulator)[A]
    assert live["profile"]["name"] == "Old Name" and live["pending_display_name"] == "New Name"
    assert run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env).returncode == 0


def test_waiting_for_verification_is_listed_with_how_to_verify(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme"}}, status="PENDING_VERIFICATION")
    f = write_yaml(tmp_path, f"""
        senders:
          - sender_id: "{A}"
            profile: {{name: Acme}}
        """)
    result = run_cli("plan", "-f", f, env=emulator_env)
    assert f"reconciler verify {A} --code CODE" in result.stdout


def test_a_waba_change_is_a_problem_and_the_plan_is_not_applied_in_part(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    emulator.add_sender({"sender_id": A, "configuration": {"waba_id": "111"}, "profile": {"name": "Acme"}})
    f = write_yaml(tmp_path, f"""
        senders:
          - sender_id: "{A}"
            configuration: {{waba_id: "222"}}
          - sender_id: "{B}"
            profile: {{name: Beta}}
        """)
    result = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert result.returncode == 1
    assert f"Error: sender {A}: configuration.waba_id cannot change" in result.stderr
    assert f"nothing was applied: the plan has problems with 1 sender ({A})" in result.stderr
    assert "--target" in result.stderr.splitlines()[-1]
    live = senders_by_id(emulator)
    assert live[A]["configuration"]["waba_id"] == "111" and B not in live
    # Leaving the problem sender out applies the others.
    rest = run_cli("apply", "-f", f, "--auto-approve", "--target", B, env=emulator_env)
    assert rest.returncode == 0, rest.output
    assert B in senders_by_id(emulator)


def test_target_limits_plan(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    f = write_yaml(tmp_path, DESIRED)
    result = run_cli("plan", "-f", f, "--target", B, env=emulator_env)
    assert B in result.stdout and A not in result.stdout
    assert "Plan: 1 to create" in result.stdout


def test_missing_credentials_and_plain_http(emulator: EmulatorServer, tmp_path: Path) -> None:
    f = write_yaml(tmp_path, DESIRED)
    result = run_cli("plan", "-f", f, env=clean_env(TWILIO_MESSAGING_BASE_URL=url_of(emulator)))
    assert result.returncode == 1 and "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in result.stderr
    assert "Traceback" not in result.output
    remote = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN)
    result = run_cli("plan", "-f", f, "--base-url", "http://messaging.twilio.com", env=remote)
    assert result.returncode == 1 and "use https" in result.stderr


def test_wrong_credentials_give_twilio_code(emulator: EmulatorServer, tmp_path: Path) -> None:
    f = write_yaml(tmp_path, DESIRED)
    env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN="wrong-token-123",
                    TWILIO_MESSAGING_BASE_URL=url_of(emulator))
    result = run_cli("plan", "-f", f, env=env)
    assert result.returncode == 1 and "Twilio 20003" in result.stderr and "Traceback" not in result.output
    assert "wrong-token-123" not in result.output


@pytest.mark.parametrize("status", ["CREATING", "SOMETHING_NEW"])
def test_unknown_and_transient_statuses_are_shown(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path, status: str
) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "x"}}, status=status)
    f = write_yaml(tmp_path, f"""
        senders:
          - sender_id: "{A}"
            profile: {{about: y}}
        """)
    result = run_cli("plan", "-f", f, env=emulator_env)
    assert result.returncode == 0 and f"status {status}" in result.stdout, result.output


def test_a_broken_file_is_reported_before_credentials_are_needed(tmp_path: Path) -> None:
    f = write_yaml(tmp_path, "senders:\n  - sender_id: whatsapp:+15017122661\n    profile: {vertical: Spaceships}\n")
    for command in ("plan", "apply", "drift"):
        result = run_cli(command, "-f", f, env=clean_env())
        assert result.returncode == 1
        assert f"{f}:3:" in result.stderr and "Spaceships" in result.stderr, result.stderr
        assert "TWILIO" not in result.stderr and "Traceback" not in result.output
