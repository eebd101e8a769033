"""GitOps and drift workflows through the real CLI against the emulator: saved plans, drift, export,
safety thresholds, verify, wait, and the machine-readable outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.emulator import EmulatorServer
from tests.factories import (
    SANDBOX,
    TEST_ACCOUNT_SID,
    TEST_API_KEY,
    TEST_API_SECRET,
    A,
    B,
    C,
    clean_env,
    number,
    run_cli,
    server_env,
    url_of,
    write_yaml,
)


def one_sender(tmp_path: Path, about: str = "new") -> str:
    return write_yaml(tmp_path, f"""
        senders:
          - sender_id: "{A}"
            profile: {{name: Acme, about: {about}}}
          - sender_id: "{B}"
            profile: {{name: Beta}}
        """)


def by_id(emulator: EmulatorServer) -> dict[str, dict[str, Any]]:
    return {s["sender_id"]: s for s in emulator.senders()}


# --------------------------------------------------------------------------- saved plans


def test_saved_plan_applies_exactly_and_holds_no_secrets(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
    f, out = one_sender(tmp_path), tmp_path / "plan.json"
    planned = run_cli("plan", "-f", f, "--out", str(out), env=emulator_env)
    assert planned.returncode == 0, planned.output
    text = out.read_text()
    assert emulator_env["TWILIO_AUTH_TOKEN"] not in text and "verification_code" not in text
    # The file is applied as it is, even after the desired file changes: the plan is the contract.
    one_sender(tmp_path, about="something else")
    applied = run_cli("apply", str(out), env=emulator_env)
    assert applied.returncode == 0, applied.output
    live = by_id(emulator)
    assert live[A]["profile"]["about"] == "new" and B in live


def test_stale_saved_plan_is_refused_and_changes_nothing(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    sender = emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
    f, out = one_sender(tmp_path), tmp_path / "plan.json"
    assert run_cli("plan", "-f", f, "--out", str(out), env=emulator_env).returncode == 0
    emulator.update_sender_state(sender["sid"], profile={**sender["profile"], "about": "changed by hand"})
    emulator.add_sender({"sender_id": B, "profile": {"name": "Someone else"}})
    before = by_id(emulator)
    result = run_cli("apply", str(out), env=emulator_env)
    assert result.returncode == 1
    assert "stale" in result.stderr and f"{A} (changed since the plan)" in result.stderr
    assert f"{B} (planned create, but it exists now)" in result.stderr
    assert by_id(emulator) == before


def test_edited_saved_plan_is_refused(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    f, out = one_sender(tmp_path), tmp_path / "plan.json"
    assert run_cli("plan", "-f", f, "--out", str(out), env=emulator_env).returncode == 0
    doc = json.loads(out.read_text())
    doc["accounts"][0]["actions"][0]["body"]["profile"]["name"] = "Evil Corp"
    out.write_text(json.dumps(doc))
    result = run_cli("apply", str(out), env=emulator_env)
    assert result.returncode == 1 and "signature does not match" in result.stderr
    assert emulator.senders() == []


def test_saved_plan_needs_the_same_credentials_or_a_shared_key(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    f, out = one_sender(tmp_path), tmp_path / "plan.json"
    assert run_cli("plan", "-f", f, "--out", str(out), env=emulator_env).returncode == 0
    with_key = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_API_KEY=TEST_API_KEY,
                         TWILIO_API_SECRET=TEST_API_SECRET, TWILIO_MESSAGING_BASE_URL=url_of(emulator))
    assert run_cli("apply", str(out), env=with_key).returncode == 1
    shared = {"RECONCILER_PLAN_KEY": "team-signing-key"}
    assert run_cli("plan", "-f", f, "--out", str(out), env={**emulator_env, **shared}).returncode == 0
    result = run_cli("apply", str(out), env={**with_key, **shared})
    assert result.returncode == 0, result.output


def test_saved_plan_is_refused_against_another_base_url(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    f, out = one_sender(tmp_path), tmp_path / "plan.json"
    assert run_cli("plan", "-f", f, "--out", str(out), env=emulator_env).returncode == 0
    result = run_cli("apply", str(out), "--base-url", "https://messaging.twilio.com", env=emulator_env)
    assert result.returncode == 1 and "was made against" in result.stderr


def test_garbage_plan_file_is_a_clear_error(emulator_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text("{not json")
    result = run_cli("apply", str(bad), env=emulator_env)
    assert result.returncode == 1 and "not a saved plan" in result.stderr and "Traceback" not in result.output


# --------------------------------------------------------------------------- JSON outputs


def test_apply_json_reports_each_outcome(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    f = one_sender(tmp_path)
    result = run_cli("apply", "-f", f, "--auto-approve", "--format", "json", env=emulator_env)
    assert result.returncode == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["plan"]["applyable"] is True and doc["plan"]["summary"]["create"] == 2
    assert doc["apply"]["ok"] is True and doc["apply"]["summary"]["done"] == 2
    assert {o["sender_id"]: o["result"] for o in doc["apply"]["outcomes"]} == {A: "done", B: "done"}
    assert all(o["confirmed"] for o in doc["apply"]["outcomes"])


# --------------------------------------------------------------------------- drift


def test_drift_exit_codes_and_json(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    f = one_sender(tmp_path)
    drifted = run_cli("drift", "-f", f, env=emulator_env)
    assert drifted.returncode == 2 and drifted.stdout.startswith("Drift: 2 to create")
    doc = json.loads(run_cli("drift", "-f", f, "--format", "json", env=emulator_env).stdout)
    assert doc["drift"] is True and doc["senders"] == [A, B]
    assert run_cli("apply", "-f", f, "--auto-approve", env=emulator_env).returncode == 0
    clean = run_cli("drift", "-f", f, env=emulator_env)
    assert clean.returncode == 0 and clean.stdout.startswith("No drift")
    # A sender created outside the file is drift, though its delete is gated.
    emulator.add_sender({"sender_id": C, "profile": {"name": "Rogue"}})
    assert run_cli("drift", "-f", f, env=emulator_env).returncode == 2


def test_drift_errors_exit_1_not_2(emulator: EmulatorServer, tmp_path: Path) -> None:
    f = one_sender(tmp_path)
    env = clean_env(TWILIO_MESSAGING_BASE_URL=url_of(emulator))
    assert run_cli("drift", "-f", f, env=env).returncode == 1
    assert run_cli("drift", "-f", str(tmp_path / "missing.yaml"), env=env).returncode == 1


def test_pending_rename_is_not_drift(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Old", "about": "new"}},
                        pending_display_name="Acme", pending_display_name_status="PENDING_REVIEW",
                        pending_display_name_status_date="2026-11-20T10:00:00Z")
    emulator.add_sender({"sender_id": B, "profile": {"name": "Beta"}})
    assert run_cli("drift", "-f", one_sender(tmp_path), env=emulator_env).returncode == 0


# --------------------------------------------------------------------------- export


def test_export_round_trip_gives_an_empty_plan(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    emulator.add_sender({
        "sender_id": A,
        "configuration": {"waba_id": "12345678912345"},
        "webhook": {"callback_url": "https://hooks.example.com/a", "callback_method": "POST"},
        "profile": {"name": "Acme", "about": "Price: ${5} only", "vertical": "Other",
                    "emails": [{"email": "a@acme.example", "label": "Email"}, {"email": "b@acme.example", "label": "Work"}],
                    "websites": [{"website": "https://acme.example", "label": "Website"}]},
    })
    emulator.add_sender({"sender_id": B, "profile": {"name": "Beta", "about": "x" * 200}})
    emulator.add_sender({"sender_id": SANDBOX, "profile": {"name": "Twilio Sandbox"}})
    out = tmp_path / "exported.yaml"
    result = run_cli("export", "-o", str(out), env=emulator_env)
    assert result.returncode == 0, result.output
    assert f"sender {B}: profile.about: not managed, written as a comment under the sender" in result.stderr
    text = out.read_text()
    assert "- a@acme.example" in text and "label: Work" in text and "14155238886" not in text
    assert run_cli("validate", "-f", str(out), env=emulator_env).returncode == 0
    plan = run_cli("plan", "-f", str(out), "--detailed-exitcode", env=emulator_env)
    assert plan.returncode == 0, plan.output


def test_export_target(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme"}})
    emulator.add_sender({"sender_id": B, "profile": {"name": "Beta"}})
    result = run_cli("export", "--target", B, env=emulator_env)
    assert B in result.stdout and A not in result.stdout


# --------------------------------------------------------------------------- safety


def _many(emulator: EmulatorServer, n: int = 12) -> None:
    for i in range(n):
        emulator.add_sender({"sender_id": number(3000 + i), "profile": {"name": f"S{i}"}})


def test_safety_threshold_blocks_plan_and_apply_until_forced(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    _many(emulator)
    f = write_yaml(tmp_path, "senders: []\n")
    plan = run_cli("plan", "-f", f, "--allow-delete", env=emulator_env)
    assert plan.returncode == 1 and "would delete 12 of 12 senders (100 % > 30 %)" in plan.stderr
    apply = run_cli("apply", "-f", f, "--allow-delete", "--auto-approve", env=emulator_env)
    assert apply.returncode == 1 and "pass --force" in apply.stderr
    assert len(emulator.senders()) == 12
    forced = run_cli("apply", "-f", f, "--allow-delete", "--auto-approve", "--force", env=emulator_env)
    assert forced.returncode == 0, forced.output
    assert emulator.senders() == []


def test_safety_thresholds_from_the_file(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    _many(emulator)
    f = write_yaml(tmp_path, "senders: []\nsafety: {max_delete_percent: 100}\n")
    assert run_cli("plan", "-f", f, "--allow-delete", env=emulator_env).returncode == 0


def test_drift_applies_no_threshold(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    _many(emulator)
    assert run_cli("drift", "-f", write_yaml(tmp_path, "senders: []\n"), env=emulator_env).returncode == 2


# --------------------------------------------------------------------------- verify and wait


def test_verify_submits_the_code(emulator: EmulatorServer, emulator_env: dict[str, str]) -> None:
    sender = emulator.add_sender({"sender_id": A, "profile": {"name": "Acme"}}, status="PENDING_VERIFICATION")
    result = run_cli("verify", A, "--code", "123456", env=emulator_env)
    assert result.returncode == 0, result.output
    assert "123456" not in result.output
    now = emulator.get_sender(sender["sid"])
    assert now is not None and now["status"] in ("VERIFYING", "ONLINE")
    again = run_cli("verify", A, env={**emulator_env, "RECONCILER_VERIFICATION_CODE": "123456"})
    assert again.returncode == 1 and "not PENDING_VERIFICATION" in again.stderr


def test_verify_bad_code_shows_twilio_error(emulator: EmulatorServer, emulator_env: dict[str, str]) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme"}}, status="PENDING_VERIFICATION")
    result = run_cli("verify", A, "--code", "abc", env=emulator_env)
    assert result.returncode == 1 and "Twilio 63100" in result.stderr and f"sender {A}" in result.stderr


def test_apply_wait_reports_final_statuses(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    f = write_yaml(tmp_path, f"""
        senders:
          - sender_id: "{A}"
            profile: {{name: Acme}}
          - sender_id: "{B}"
            configuration: {{verification_method: sms}}
            profile: {{name: Beta}}
        """)
    result = run_cli("apply", "-f", f, "--auto-approve", "--wait", "--timeout", "30", env=emulator_env)
    assert result.returncode == 0, result.output
    assert f"  {A}: ONLINE" in result.stdout
    assert f"  {B}: PENDING_VERIFICATION: verify it with: reconciler verify {B} --code CODE" in result.stdout


def test_markdown_plan_for_pull_requests_is_trimmed(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    lines = ["senders:"]
    for i in range(600):
        lines.append(f'  - sender_id: "whatsapp:+1501712{3000 + i:04d}"\n    profile: {{name: "Shop {i}", about: "{"x" * 120}"}}')
    f = write_yaml(tmp_path, "\n".join(lines) + "\n")
    result = run_cli("plan", "-f", f, "--format", "markdown", env=emulator_env)
    assert result.returncode == 0
    assert len(result.stdout) <= 65_536
    assert "**Plan: 600 to create, 0 to update, 0 to delete.**" in result.stdout


def test_markdown_across_many_accounts_stays_within_a_comment_and_says_what_it_left_out(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Issue 21 (11): 150 accounts of 3 creates each once printed over 70,000 characters."""
    d = tmp_path / "accounts"
    d.mkdir()
    for i in range(150):
        sub = emulator.add_account(f"Customer {i:03d} of the wholesale bakery network")
        senders = "".join(f'  - sender_id: "{number(3 * i + k)}"\n    profile: {{name: "Shop {k}", about: "{"x" * 120}"}}\n'
                          for k in range(3))
        (d / f"customer-{i:03d}.yaml").write_text(f"account: {sub.sid}\nsenders:\n{senders}")
    env = server_env(emulator, TWILIO_API_BASE_URL=url_of(emulator))
    result = run_cli("plan", "-f", str(d), "--format", "markdown", "--detailed-exitcode", env=env)
    assert result.returncode == 2, result.stderr
    md = result.stdout
    assert 60_000 < len(md) <= 65_536
    assert md.startswith("### reconciler plan\n\n**Plan across 150 accounts: 450 to create, 0 to update, 0 to delete.**")
    # Every account is counted in the table; the sections that did not fit are counted too.
    assert md.count(" | 3 | 0 | 0 | 0 |") == 150 and "Customer 149" in md
    sections = md.count("\n#### Account ")
    assert 0 < sections < 150
    assert f"_Details of {150 - sections} accounts were left out to fit a comment; run `reconciler plan`" in md
