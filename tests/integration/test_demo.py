"""reconciler demo: the README's first command, offline."""

from __future__ import annotations

from pathlib import Path

from tests.factories import REPO_ROOT, run_cli


def test_demo_plans_the_example_against_an_embedded_emulator(tmp_path: Path) -> None:
    result = run_cli("demo", cwd=REPO_ROOT)
    assert result.returncode == 0, result.output
    out = result.stdout
    assert "Started a local Senders API emulator at http://127.0.0.1:" in out
    assert "~ whatsapp:+15017122661 (update" in out
    assert "+ whatsapp:+15017122663 (create)" in out
    assert "gated: pass --allow-delete" in out
    assert "display name 'Northside Cycles' is PENDING_REVIEW by Meta" in out
    assert "whatsapp:+15017122669" not in out  # ignored
    assert "Plan: 1 to create, 1 to update, 1 to delete (1 gated: pass --allow-delete)." in out
    customers = out.split("$ reconciler plan -f customers/", 1)[1]  # two customers, a subaccount each
    assert "(Rosewood Bakery Ltd):" in customers and "(Maple Dental Group):" in customers
    assert "\nPlan across 2 accounts: 1 to create, 1 to update, 0 to delete, 2 sender-pool changes.\n" in customers
    assert customers.count("~ messaging_service: none → MG") == 2  # each customer's sender joins its service
    assert "(Appointments)" in customers and "(pool, joins once the sender is created)" in customers


def test_demo_apply_converges_and_works_outside_a_checkout(tmp_path: Path) -> None:
    result = run_cli("demo", "--apply", cwd=tmp_path)  # no senders.yaml.example here: the packaged copy
    assert result.returncode == 0, result.output
    final = result.stdout.rsplit("$ reconciler plan", 1)[1]
    assert "Apply complete: 2 done." in result.stdout and "Across 3 accounts: 6 done." in result.stdout
    assert result.stdout.count("✓ pool sender whatsapp:+1501712267") == 2
    assert "Plan: 0 to create, 0 to update, 1 to delete" in final
    assert final.count("No changes. Live senders match the file") == 2  # both customers converged
    assert "reconciler verify whatsapp:+15017122663 --code CODE" in final


def test_packaged_example_is_the_repository_example() -> None:
    packaged = (REPO_ROOT / "reconciler" / "demo" / "senders.yaml").read_bytes()
    assert packaged == (REPO_ROOT / "senders.yaml.example").read_bytes()
