"""A write whose answer is lost is never called failed: the confirming read settles it, through the real CLI."""

from __future__ import annotations

import json

from reconciler.emulator import Faults
from tests.factories import run_cli

A, B = "whatsapp:+15017122661", "whatsapp:+15017122662"


def write(tmp_path) -> str:
    path = tmp_path / "senders.yaml"
    path.write_text("senders:\n" + "".join(f'  - sender_id: "{s}"\n    profile: {{name: "Shop {s[-1]}"}}\n' for s in (A, B)))
    return str(path)


def apply_json(f: str, env: dict[str, str]) -> tuple[int, dict, str]:
    result = run_cli("apply", "-f", f, "--auto-approve", "--format", "json", "--max-attempts", "1", env=env)
    assert "Traceback" not in result.output
    return result.returncode, json.loads(result.stdout), result.stderr


def test_a_write_committed_then_dropped_is_settled_as_done(emulator, emulator_env, tmp_path):
    emulator.set_faults(Faults(rate_drop_after_commit=1.0, writes_only=True))
    code, doc, _ = apply_json(write(tmp_path), emulator_env)
    outcomes = {o["sender_id"]: o for o in doc["apply"]["outcomes"]}
    assert {o["result"] for o in outcomes.values()} == {"done"}, outcomes
    assert all(o["confirmed"] is True and o["error"] is not None for o in outcomes.values())
    assert "the answer was lost" in outcomes[A]["message"] and outcomes[A]["sid"]
    assert doc["apply"]["summary"]["failed"] == 0 and code == 0
    assert {s["sender_id"] for s in emulator.senders()} == {A, B}


def test_a_5xx_before_the_write_is_settled_as_not_applied_not_failed(emulator, emulator_env, tmp_path):
    emulator.set_faults(Faults(rate_5xx=1.0, writes_only=True))
    f = write(tmp_path)
    code, doc, _ = apply_json(f, emulator_env)
    assert code == 1
    assert {o["result"] for o in doc["apply"]["outcomes"]} == {"not_applied"}
    assert doc["apply"]["summary"]["not_applied"] == 2 and doc["apply"]["summary"]["failed"] == 0
    text = run_cli("apply", "-f", f, "--auto-approve", "--max-attempts", "1", env=emulator_env)
    assert "not applied (the answer was lost)" in text.stdout and " failed" not in text.stdout
    emulator.set_faults(Faults())
    assert run_cli("apply", "-f", f, "--auto-approve", env=emulator_env).returncode == 0
    assert {s["sender_id"] for s in emulator.senders()} == {A, B}

