"""Messaging Service sender pools through the real CLI, against the emulator on a loopback port.

Each test checks what the emulator holds afterwards (``services_of``), not only what the CLI printed.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import ApplyReport, apply_plan
from reconciler.client import RetryPolicy, SendersClient
from reconciler.emulator import EmulatorServer, Faults
from reconciler.plan import build_plan
from reconciler.services import ServicePools
from tests.factories import CREDS, TEST_ACCOUNT_SID, A, B, C, desired, number, run_cli, server_env, state, url_of, write_yaml


def sid(emulator: EmulatorServer, sender_id: str) -> str:
    return next(s["sid"] for s in emulator.senders() if s["sender_id"] == sender_id)


def seeded(emulator: EmulatorServer, *sender_ids: str) -> dict[str, str]:
    """Live senders and two services, "Support line" and "Sales"; returns the services' SIDs by name."""
    for sender_id in sender_ids:
        emulator.add_sender({"sender_id": sender_id, "profile": {"name": f"Shop {sender_id[-1]}"}})
    return {name: emulator.add_service(name)["sid"] for name in ("Support line", "Sales")}


def v1_requests(emulator: EmulatorServer) -> dict[str, int]:
    return {k: n for k, n in emulator.stats().items() if "/v1/" in k}


def test_a_file_moves_a_sender_from_one_pool_to_another(emulator: EmulatorServer, emulator_env: dict[str, str],
                                                        tmp_path: Path) -> None:
    services = seeded(emulator, A)
    emulator.add_to_service(services["Support line"], sid(emulator, A))
    f = write_yaml(tmp_path, f"senders:\n  - sender_id: '{A}'\n    messaging_service: Sales\n")
    plan = run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env)
    assert plan.returncode == 2, plan.output
    assert (f"~ messaging_service: {services['Support line']} (Support line) → {services['Sales']} (Sales)"
            in plan.stdout)
    assert "Plan: 0 to create, 0 to update, 0 to delete, 1 sender-pool change." in plan.stdout
    drift = run_cli("drift", "-f", f, env=emulator_env)
    assert drift.returncode == 2 and f"Senders: {A}" in drift.stdout, drift.output

    applied = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert applied.returncode == 0, applied.output
    assert (f"pool sender {A}: moved from {services['Support line']} (Support line) to {services['Sales']} (Sales)"
            in applied.stdout)
    assert emulator.services_of(sid(emulator, A)) == [services["Sales"]]
    again = run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env)
    assert again.returncode == 0 and "No changes." in again.stdout, again.output


def test_a_create_joins_its_pool_in_the_same_apply(emulator: EmulatorServer, emulator_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    services = seeded(emulator)
    f = write_yaml(tmp_path, f"""
        defaults:
          messaging_service: Support line
        senders:
          - sender_id: '{A}'
            profile: {{name: Acme}}
          - sender_id: '{B}'
            profile: {{name: Beta}}
            messaging_service: {services['Sales']}
        """)
    plan = run_cli("plan", "-f", f, "--format", "json", env=emulator_env)
    doc = json.loads(plan.stdout)
    assert doc["summary"] == {"create": 2, "update": 0, "delete": 0, "pool": 2}
    assert [(a["action"], a["sid"], a["note"]) for a in doc["actions"] if a["sender_id"] == A] == [
        ("create", None, None), ("pool", None, "joins once the sender is created")]
    applied = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert applied.returncode == 0 and "Apply complete: 4 done." in applied.stdout, applied.output
    assert emulator.services_of(sid(emulator, A)) == [services["Support line"]]
    assert emulator.services_of(sid(emulator, B)) == [services["Sales"]]
    assert run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env).returncode == 0


def test_null_takes_a_sender_out_and_says_it_is_in_none(emulator: EmulatorServer, emulator_env: dict[str, str],
                                                        tmp_path: Path) -> None:
    services = seeded(emulator, A, B)
    emulator.add_to_service(services["Sales"], sid(emulator, A))
    emulator.add_to_service(services["Sales"], sid(emulator, B))
    f = write_yaml(tmp_path, f"senders:\n  - sender_id: '{A}'\n    messaging_service: null\n  - sender_id: '{B}'\n")
    plan = run_cli("plan", "-f", f, env=emulator_env)
    assert "leaves its Messaging Service and will be in none" in plan.stdout
    assert f"~ messaging_service: {services['Sales']} (Sales) → none" in plan.stdout
    applied = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert applied.returncode == 0, applied.output
    assert emulator.services_of(sid(emulator, A)) == []
    assert emulator.services_of(sid(emulator, B)) == [services["Sales"]]  # B names no service: left alone


def test_an_ambiguous_or_unknown_name_is_a_problem_at_its_place(emulator: EmulatorServer,
                                                                emulator_env: dict[str, str], tmp_path: Path) -> None:
    seeded(emulator, A, B)
    twin = emulator.add_service("Sales")["sid"]
    f = write_yaml(tmp_path, f"""
        senders:
          - sender_id: '{A}'
            messaging_service: Sales
          - sender_id: '{B}'
            messaging_service: Sale
        """)
    plan = run_cli("plan", "-f", f, env=emulator_env)
    assert plan.returncode == 1, plan.output
    assert f"messaging_service 'Sales' ({f}:4:24): 2 Messaging Services of the account have this name" in plan.stdout
    assert twin in plan.stdout
    assert f"Error: sender {B}: messaging_service 'Sale' ({f}:6:24): no Messaging Service of the account" in plan.stderr
    applied = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert applied.returncode == 1 and "nothing was applied" in applied.stderr
    assert all(emulator.services_of(sid(emulator, s)) == [] for s in (A, B))


def test_a_run_that_declares_no_service_makes_no_v1_request(emulator: EmulatorServer, emulator_env: dict[str, str],
                                                            tmp_path: Path) -> None:
    services = seeded(emulator, A)
    emulator.add_to_service(services["Sales"], sid(emulator, A))
    emulator.reset_stats()
    f = write_yaml(tmp_path, f"senders:\n  - sender_id: '{A}'\n    profile: {{about: hi}}\n"
                             f"  - sender_id: '{B}'\n    profile: {{name: Beta}}\n")
    for command in (["plan"], ["drift"], ["apply", "--auto-approve"]):
        result = run_cli(*command, "-f", f, env=emulator_env)
        assert result.returncode in (0, 2), result.output
    assert emulator.stats()["total"] > 0 and v1_requests(emulator) == {}
    # Named only in a comment and in a value: still no v1 request, not even while the file loads.
    noted = write_yaml(tmp_path, f"# messaging_service: Sales, one day\nsenders:\n  - sender_id: '{A}'\n"
                                 "    profile: {about: 'messaging_service: none'}\n", "noted.yaml")
    assert run_cli("plan", "-f", noted, env=emulator_env).returncode == 0
    assert v1_requests(emulator) == {}
    # The same file with one sender naming a service reads the services and their pools.
    named = write_yaml(tmp_path, f"senders:\n  - sender_id: '{A}'\n    messaging_service: Sales\n"
                                 f"  - sender_id: '{B}'\n", "named.yaml")
    assert run_cli("plan", "-f", named, "--detailed-exitcode", env=emulator_env).returncode == 0
    assert v1_requests(emulator) == {"GET /v1/Services": 1, "GET /v1/Services/{MessagingServiceSid}/ChannelSenders": 2}


def test_a_sender_in_two_pools_is_a_notice_never_a_guess(emulator: EmulatorServer, emulator_env: dict[str, str],
                                                         tmp_path: Path) -> None:
    services = seeded(emulator, A)
    emulator.add_to_service(services["Sales"], sid(emulator, A))
    emulator.add_to_service(services["Support line"], sid(emulator, A), exclusive=False)
    f = write_yaml(tmp_path, f"senders:\n  - sender_id: '{A}'\n    messaging_service: Sales\n")
    drift = run_cli("drift", "-f", f, "--format", "json", env=emulator_env)
    assert drift.returncode == 2 and json.loads(drift.stdout)["senders"] == [A], drift.output
    applied = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert applied.returncode == 0 and "Nothing to apply." in applied.stdout, applied.output
    assert "the pools of several Messaging Services hold this sender" in applied.stdout
    assert sorted(emulator.services_of(sid(emulator, A))) == sorted(services.values())


def test_a_saved_plan_with_pool_actions_applies_once_and_is_refused_when_stale(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    services = seeded(emulator, A)
    emulator.add_to_service(services["Support line"], sid(emulator, A))
    f = write_yaml(tmp_path, f"senders:\n  - sender_id: '{A}'\n    messaging_service: Sales\n"
                             f"  - sender_id: '{C}'\n    profile: {{name: Cafe}}\n    messaging_service: Sales\n")
    saved = tmp_path / "plan.json"
    assert run_cli("plan", "-f", f, "--out", str(saved), env=emulator_env).returncode == 0
    stored = json.loads(saved.read_text())["accounts"][0]
    assert [a["action"] for a in stored["actions"]] == ["pool", "create", "pool"]
    shown = run_cli("show", str(saved), env=emulator_env)
    assert f"~ messaging_service: {services['Support line']} (Support line) → {services['Sales']} (Sales)" in shown.stdout

    # Someone moves A by hand after the plan: the plan no longer describes the account.
    emulator.remove_from_service(services["Support line"], sid(emulator, A))
    stale = run_cli("apply", str(saved), env=emulator_env)
    assert stale.returncode == 1 and f"{A} (changed since the plan)" in stale.stderr, stale.output
    assert C not in {s["sender_id"] for s in emulator.senders()}

    emulator.add_to_service(services["Support line"], sid(emulator, A))  # back as planned from
    applied = run_cli("apply", str(saved), env=emulator_env)
    assert applied.returncode == 0, applied.output
    assert emulator.services_of(sid(emulator, A)) == [services["Sales"]]
    assert emulator.services_of(sid(emulator, C)) == [services["Sales"]]
    twice = run_cli("apply", str(saved), env=emulator_env)
    assert twice.returncode == 1 and "stale" in twice.stderr  # applied once: now it describes the past


def test_a_sender_put_in_another_pool_since_the_plan_is_a_failure_naming_that_service(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Planned and applied in-process, to put the other team's change between the read and the write."""
    services = seeded(emulator, A, B)
    marketing = emulator.add_service("Marketing")["sid"]
    policy = RetryPolicy(attempts=2, backoff=0.001, timeout=10)

    async def go() -> ApplyReport:
        async with SendersClient(CREDS, base_url=url_of(emulator), retry=policy) as client:
            pools = ServicePools(client)
            wanted = state(desired(A, messaging_service="Sales"), desired(B, messaging_service="Sales"))
            plan = build_plan(wanted, await client.list_senders(), pools=await pools.read())
            emulator.add_to_service(marketing, sid(emulator, A))  # someone else's move, after the read
            return await apply_plan(plan, client, concurrency=4, pools=pools)

    report = asyncio.run(go())
    outcome = {o.sender_id: o for o in report.outcomes}
    assert (outcome[B].result, outcome[B].confirmed) == ("done", True)
    assert outcome[A].result == "failed" and outcome[A].error is not None
    assert (outcome[A].error.status, outcome[A].error.code) == (409, 21712)
    assert f"the sender is in another Messaging Service, {marketing} (Marketing)" in outcome[A].error.message
    assert emulator.services_of(sid(emulator, A)) == [marketing]  # nothing guessed, nothing taken away
    assert emulator.services_of(sid(emulator, B)) == [services["Sales"]]


def test_export_writes_each_sender_s_service(emulator: EmulatorServer, emulator_env: dict[str, str],
                                             tmp_path: Path) -> None:
    services = seeded(emulator, A, B)
    emulator.add_to_service(services["Sales"], sid(emulator, A))
    out = tmp_path / "exported.yaml"
    exported = run_cli("export", "-o", str(out), env=emulator_env)
    assert exported.returncode == 0, exported.output
    text = out.read_text()
    assert f"messaging_service: {services['Sales']}  # Sales" in text
    assert "messaging_service: null" in text  # B: in no pool
    again = run_cli("plan", "-f", str(out), "--detailed-exitcode", env=emulator_env)
    assert again.returncode == 0 and "No changes." in again.stdout, again.output


def test_export_of_an_account_without_services_writes_none(emulator: EmulatorServer, emulator_env: dict[str, str],
                                                          tmp_path: Path) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme"}})
    exported = run_cli("export", env=emulator_env)
    assert exported.returncode == 0 and "messaging_service" not in exported.stdout, exported.output
    assert v1_requests(emulator) == {"GET /v1/Services": 1}


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_faults_on_pool_writes_end_truthful_and_converge(emulator: EmulatorServer, emulator_env: dict[str, str],
                                                         tmp_path: Path, seed: int) -> None:
    """Every v1 write may meet a 5xx or a dropped answer after it was committed; reads pass."""
    services = seeded(emulator, *(number(3000 + i) for i in range(12)))
    for i in range(6):
        emulator.add_to_service(services["Support line"], sid(emulator, number(3000 + i)))
    lines = ["safety: {max_update_percent: 100}", "senders:"]
    lines += [f"  - {{sender_id: '{number(3000 + i)}', messaging_service: Sales}}" for i in range(12)]
    lines += [f"  - {{sender_id: '{number(3100 + i)}', profile: {{name: New}}, messaging_service: Sales}}"
              for i in range(4)]
    f = write_yaml(tmp_path, "\n".join(lines) + "\n")
    emulator.set_faults(Faults(seed=seed, rate_5xx=0.3, rate_drop_after_commit=0.3, writes_only=True))
    env = {**emulator_env, "RECONCILER_MAX_ATTEMPTS": "2", "RECONCILER_BACKOFF": "0.005"}
    first = run_cli("apply", "-f", f, "--auto-approve", "--format", "json", env=env)
    doc: dict[str, Any] = json.loads(first.stdout)
    outcomes = doc["apply"]["outcomes"]
    faults = emulator.stats()
    assert faults.get("fault 5xx", 0) + faults.get("fault drop", 0) > 0
    for o in (o for o in outcomes if o["action"] == "pool"):
        pools = emulator.services_of(o["sid"]) if o["sid"] else []
        # Truthful: done and confirmed means the pools show it; failed and not_applied that they do not.
        if o["result"] == "done" and o["confirmed"]:
            assert pools == [services["Sales"]], (o, pools)
        elif o["result"] in ("failed", "not_applied"):
            assert services["Sales"] not in pools, (o, pools)
        assert o["result"] != "failed" or o["error"]["status"] < 500  # a lost answer is never a failure
    emulator.set_faults(Faults())
    second = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert second.returncode == 0, second.output
    for i in [*range(12)]:
        assert emulator.services_of(sid(emulator, number(3000 + i))) == [services["Sales"]]
    for i in range(4):
        assert emulator.services_of(sid(emulator, number(3100 + i))) == [services["Sales"]]
    assert run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env).returncode == 0


def test_a_subaccount_s_pools_are_read_and_changed_with_its_own_credentials(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    sub = emulator.add_account("Acme Bakery")
    parent_service = emulator.add_service("Sales")["sid"]  # the parent's, of the same name: never the one meant
    service = emulator.add_service("Sales", account=sub.sid)["sid"]
    emulator.add_sender({"sender_id": A, "profile": {"name": "Main"}})
    d = tmp_path / "senders"
    d.mkdir()
    (d / "main.yaml").write_text(f"senders:\n  - sender_id: '{A}'\n")  # the parent declares no service
    (d / "acme.yaml").write_text(f"account: {sub.sid}\nsenders:\n  - sender_id: '{B}'\n    profile: {{name: Acme}}\n"
                                 "    messaging_service: Sales\n")
    env = server_env(emulator, TWILIO_API_BASE_URL=url_of(emulator))
    emulator.reset_stats()
    applied = run_cli("apply", "-f", str(d), "--auto-approve", env=env)
    assert applied.returncode == 0, applied.output
    created = next(s["sid"] for s in emulator.senders(sub.sid) if s["sender_id"] == B)
    assert emulator.services_of(created) == [service] and emulator.channel_senders(parent_service) == []
    parent_v1 = {k: n for k, n in emulator.stats(TEST_ACCOUNT_SID).items() if "/v1/" in k}
    assert emulator.stats(TEST_ACCOUNT_SID)["total"] > 0 and parent_v1 == {}  # the subaccount's only: its files name one
    assert emulator.stats(sub.sid)["GET /v1/Services"] >= 1
    assert run_cli("plan", "-f", str(d), "--detailed-exitcode", env=env).returncode == 0
