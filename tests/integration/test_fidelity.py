"""The fields and rules Twilio publishes beyond the spec copy, through the real CLI against the emulator.

friendly_name and account_type managed end to end; one display-name change in Meta's review at a time
(63128); Meta's refusal with its reason (63124); export that drops nothing silently; reads that take the
nulls the spec allows; a duplicate create answered 409 with 63110.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.emulator import EmulatorServer
from tests.factories import A, B, C, run_cli, server_env, write_yaml
from tests.hostile_server import HostileServer, Request, reply

ODD = "whatsapp:+15550001"  # the emulator's shape, but no valid number: the file cannot manage it


def live_by_id(emulator: EmulatorServer) -> dict[str, dict[str, Any]]:
    return {s["sender_id"]: s for s in emulator.senders()}


def updates(emulator: EmulatorServer) -> int:
    return emulator.stats().get("POST /v2/Channels/Senders/{Sid}", 0)


def test_friendly_name_and_account_type_are_created_diffed_and_exported(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    f = write_yaml(tmp_path, f"""
senders:
  - sender_id: "{A}"
    friendly_name: Front desk
    configuration: {{account_type: ISV}}
    profile: {{name: Acme}}
""")
    applied = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert applied.returncode == 0, applied.output
    live = live_by_id(emulator)[A]
    assert (live["friendly_name"], live["configuration"]["account_type"]) == ("Front desk", "ISV")
    assert run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env).returncode == 0

    f2 = write_yaml(tmp_path, f"""
senders:
  - sender_id: "{A}"
    friendly_name: Back office
    configuration: {{account_type: ''}}
    profile: {{name: Acme}}
""", name="changed.yaml")
    plan = run_cli("plan", "-f", f2, "--format", "json", env=emulator_env)
    (action,) = json.loads(plan.stdout)["actions"]
    assert {c["path"]: c["after"] for c in action["changes"]} == {
        "friendly_name": "Back office", "configuration.account_type": ""}
    assert run_cli("apply", "-f", f2, "--auto-approve", env=emulator_env).returncode == 0
    assert live_by_id(emulator)[A]["friendly_name"] == "Back office"

    out = tmp_path / "exported.yaml"
    exported = run_cli("export", "-o", str(out), env=emulator_env)
    assert exported.returncode == 0, exported.output
    assert "friendly_name: Back office" in out.read_text() and "account_type: ''" in out.read_text()
    assert run_cli("plan", "-f", str(out), "--detailed-exitcode", env=emulator_env).returncode == 0


def test_a_rename_waits_while_another_is_in_review_and_drift_reports_it(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    sid = emulator.add_sender({"sender_id": A, "profile": {"name": "Acme"}})["sid"]
    emulator.update_sender_state(sid, pending_display_name="Second", pending_display_name_status="PENDING_REVIEW")
    f = write_yaml(tmp_path, f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Third}}\n')
    plan = run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env)
    assert plan.returncode == 0, plan.output  # nothing to apply
    assert f"{A}: display name 'Third' waits for Meta's review of 'Second' (PENDING_REVIEW)" in plan.stdout

    before = updates(emulator)
    applied = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert applied.returncode == 0, applied.output
    assert updates(emulator) == before  # nothing sent: Meta would refuse it (63128)

    drift = run_cli("drift", "-f", f, env=emulator_env)
    assert drift.returncode == 2, drift.output
    assert "1 display name waiting for Meta's review of another" in drift.stdout and A in drift.stdout
    doc = json.loads(run_cli("drift", "-f", f, "--format", "json", env=emulator_env).stdout)
    assert doc["drift"] is True and doc["senders"] == [A]

    emulator.update_sender_state(sid, pending_display_name_status="COMPLETED")  # that review ended
    again = run_cli("plan", "-f", f, "--format", "json", env=emulator_env)
    (action,) = json.loads(again.stdout)["actions"]
    assert [(c["path"], c["after"]) for c in action["changes"]] == [("profile.name", "Third")]


def test_metas_refusal_reaches_the_apply_report_with_its_reason(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    declines = {"Cheap Pills": "Promotional content is not allowed"}
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme"}}, meta_declines=declines)
    emulator.add_sender({"sender_id": B, "profile": {"name": "Beta", "about": "old"}}, meta_declines=declines)
    f = write_yaml(tmp_path, f"""
senders:
  - sender_id: "{A}"
    profile: {{name: Cheap Pills}}
  - sender_id: "{B}"
    profile: {{name: Cheap Pills, about: new}}
""")
    applied = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert applied.returncode == 1, applied.output
    for sender in (A, B):  # alone: 400 / 63124; beside another field: 202 "error", then the name alone
        assert f"update sender {sender}: Meta declined the display name (Twilio 63124" in applied.output
    assert applied.output.count("Promotional content is not allowed") == 2
    assert live_by_id(emulator)[B]["profile"]["about"] == "new"


def test_export_keeps_what_the_file_cannot_manage_and_plans_to_no_change(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    sid = emulator.add_sender({"sender_id": A, "profile": {"name": "Acme"}})["sid"]
    emulator.update_sender_state(sid, profile={"vertical": "Spaceships"}, webhook={"status_callback_method": "GET"})
    emulator.add_sender({"sender_id": ODD, "profile": {"name": "Test number"}})
    emulator.add_sender({"sender_id": B, "profile": {"name": "Beta"}})
    out = tmp_path / "exported.yaml"
    exported = run_cli("export", "-o", str(out), env=emulator_env)
    assert exported.returncode == 0, exported.output
    text = out.read_text()
    assert "# not managed: profile.vertical is 'Spaceships' live" in text
    assert "# not managed: webhook.status_callback_method is 'GET' live" in text
    assert f"ignore:\n  - {ODD}\n" in text
    for what in (f"sender {A}: profile.vertical: not managed", f"sender {A}: webhook.status_callback_method",
                 f"sender {ODD}: sender_id: the file cannot manage this sender: listed under ignore:"):
        assert f"Warning: {what}" in exported.stderr, exported.stderr
    plan = run_cli("plan", "-f", str(out), "--allow-delete", "--detailed-exitcode", env=emulator_env)
    assert plan.returncode == 0, plan.output


def test_the_file_refuses_a_status_callback_by_get(emulator_env: dict[str, str], tmp_path: Path) -> None:
    f = write_yaml(tmp_path, f'senders:\n  - sender_id: "{A}"\n    webhook: {{status_callback_method: GET}}\n')
    result = run_cli("validate", "-f", f, env=emulator_env)
    assert result.returncode == 1
    assert "webhook.status_callback_method: 'GET' is not one of 'POST', 'PUT'" in result.output


PRODUCTION = [
    {"sid": "XE" + "1" * 32, "sender_id": A, "status": "OFFLINE", "configuration": {"waba_id": "12345678912345"},
     "webhook": {}, "properties": {}, "profile": {"name": "Acme"},
     "offline_reasons": [{"code": "63051", "message": "Meta invitation not accepted", "more_info": None}, None],
     "compliance": None, "url": "https://example.invalid/x"},
    {"sid": "XE" + "2" * 32, "sender_id": B, "status": "ONLINE", "configuration": None, "webhook": None, "profile": None,
     "properties": None, "offline_reasons": None},
    {"sid": "XE" + "3" * 32, "sender_id": None, "status": "ONLINE", "profile": {"name": "Nameless"}},
    {"sid": "XE" + "4" * 32, "sender_id": C, "status": "SOMETHING_NEW",
     "profile": {"name": "Gamma", "pending_display_name": "Gamma Two", "pending_display_name_status": "PENDING_REVIEW"}},
]


def test_plan_drift_and_export_read_the_nulls_the_spec_allows(tmp_path: Path) -> None:
    f = write_yaml(tmp_path, f"""
senders:
  - sender_id: "{A}"
    profile: {{name: Acme}}
  - sender_id: "{B}"
    profile: {{name: Beta}}
  - sender_id: "{C}"
    profile: {{name: Gamma Three}}
""")
    def answer(request: Request) -> Any:
        if request.target.startswith("/v1/Services"):  # export asks for the services: this account has none
            return reply(200, {"services": [], "meta": {"next_page_url": None}})
        return reply(200, {"senders": PRODUCTION, "meta": {"next_page_url": None}})

    with HostileServer(answer) as server:
        env = server_env(server, NO_COLOR="1")
        plan = run_cli("plan", "-f", f, "--allow-delete", "--max-attempts", "1", env=env)
        assert plan.returncode == 0, plan.output
        assert "OFFLINE (63051: Meta invitation not accepted)" in plan.stdout
        assert f"XE{'3' * 32}: the API lists a sender without a sender_id" in plan.stdout
        assert f"~ {B}" in plan.stdout and "Plan: 0 to create, 1 to update, 0 to delete." in plan.stdout
        # The pending name read under profile, as Twilio's 63128 page shows it: the new name waits.
        assert f"{C}: display name 'Gamma Three' waits for Meta's review of 'Gamma Two'" in plan.stdout
        drift = run_cli("drift", "-f", f, "--max-attempts", "1", env=env)
        assert drift.returncode == 2, drift.output
        exported = run_cli("export", "--max-attempts", "1", env=env)
        assert exported.returncode == 0, exported.output
        assert f"sender_id: {A}" in exported.stdout and "Nameless" not in exported.stdout
        assert "a sender with no sender_id" in exported.stderr


def test_a_duplicate_create_answered_409_63110_is_adopted(tmp_path: Path) -> None:
    existing = {"sid": "XE" + "5" * 32, "sender_id": A, "status": "ONLINE", "profile": {"name": "Acme"}}
    seen: list[str] = []

    def answer(request: Request) -> bytes:
        seen.append(request.method)
        if request.method == "POST":
            return reply(409, {"code": 63110, "message": "Sender already registered", "status": 409,
                               "more_info": "https://www.twilio.com/docs/errors/63110"})
        listed = [existing] if "POST" in seen else []  # created by someone else in between
        return reply(200, {"senders": listed, "meta": {"next_page_url": None}})

    f = write_yaml(tmp_path, f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme}}\n')
    with HostileServer(answer) as server:
        applied = run_cli("apply", "-f", f, "--auto-approve", "--max-attempts", "1", env=server_env(server))
    assert applied.returncode == 0, applied.output
    assert "existed already and matches the file" in applied.output
    assert seen.count("POST") == 1
