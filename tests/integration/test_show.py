"""``reconciler show PLAN``: the saved plan, byte for byte as ``plan`` printed it, offline."""

from __future__ import annotations

import json

import pytest

from tests.factories import clean_env, run_cli

A, B, C = "whatsapp:+15017122661", "whatsapp:+15017122662", "whatsapp:+15017122664"


@pytest.fixture
def saved(emulator, emulator_env, tmp_path):
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
    emulator.add_sender({"sender_id": B, "profile": {"name": "Old name"}}, pending_display_name="Beta",
                        pending_display_name_status="PENDING_REVIEW")
    emulator.add_sender({"sender_id": C, "profile": {"name": "Gone"}}, status="OFFLINE",
                        offline_reasons=[{"code": "63051", "message": "Number deregistered"}])
    f = tmp_path / "senders.yaml"
    f.write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme, about: new, emails: [a@acme.example]}}\n'
                 f'  - sender_id: "{B}"\n    profile: {{name: Beta}}\n')
    env = dict(emulator_env, RECONCILER_PLAN_KEY="shared-plan-key")
    printed = {}
    for fmt in ("text", "json", "markdown"):
        out = tmp_path / f"plan-{fmt}.json"
        result = run_cli("plan", "-f", str(f), "--format", fmt, "--out", str(out), env=env)
        assert result.returncode == 0, result.output
        printed[fmt] = (result.stdout, out)
    return printed, env


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_show_prints_what_plan_printed_byte_for_byte(saved, fmt):
    printed, _ = saved
    stdout, path = printed[fmt]
    # No credentials and no API: only the key, to verify the signature.
    shown = run_cli("show", str(path), "--format", fmt, env=clean_env(RECONCILER_PLAN_KEY="shared-plan-key"))
    assert shown.returncode == 0, shown.output
    assert shown.stdout == stdout
    assert "Signature verified with the key from RECONCILER_PLAN_KEY." in shown.stderr


def test_show_without_a_key_says_it_did_not_verify(saved):
    printed, _ = saved
    stdout, path = printed["text"]
    shown = run_cli("show", str(path), env=clean_env())
    assert shown.returncode == 0 and shown.stdout == stdout
    assert "the signature was not verified" in shown.stderr


def test_show_refuses_an_edited_plan_when_it_can_verify(saved, tmp_path):
    printed, _ = saved
    _, path = printed["json"]
    doc = json.loads(path.read_text())
    doc["accounts"][0]["actions"][0]["body"]["profile"]["about"] = "Evil"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    shown = run_cli("show", str(edited), env=clean_env(RECONCILER_PLAN_KEY="shared-plan-key"))
    assert shown.returncode == 1 and "signature does not match" in shown.stderr and shown.stdout == ""
