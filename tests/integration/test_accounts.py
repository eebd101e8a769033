"""Many accounts through the real CLI: a parent and two subaccounts on the emulator, from one directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.emulator import EmulatorAccount, EmulatorServer
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, clean_env, run_cli, server_env, url_of

MAIN, ACME, NORTH, OTHER = (f"whatsapp:+1501712266{i}" for i in (1, 2, 3, 4))
STRANGER = "AC" + "9" * 32


@pytest.fixture
def subs(emulator: EmulatorServer) -> tuple[EmulatorAccount, EmulatorAccount]:
    return emulator.add_account("Acme Bakery"), emulator.add_account("Northside Cycles")


@pytest.fixture
def env(emulator: EmulatorServer) -> dict[str, str]:
    return server_env(emulator, TWILIO_API_BASE_URL=url_of(emulator))


def files(tmp_path: Path, acme: EmulatorAccount, north: EmulatorAccount, about: str = "Fresh bread") -> str:
    d = tmp_path / "senders"
    d.mkdir(exist_ok=True)
    (d / "main.yaml").write_text(f'senders:\n  - sender_id: "{MAIN}"\n    profile: {{name: "Main Shop"}}\n')
    (d / "acme.yaml").write_text(f'account: {acme.sid}\nsenders:\n  - sender_id: "{ACME}"\n'
                                 f'    profile: {{name: "Acme Bakery", about: "{about}"}}\n')
    (d / "north.yaml").write_text(f'account: {north.sid}\nsenders:\n  - sender_id: "{NORTH}"\n'
                                  '    profile: {name: "Northside Cycles"}\n')
    return str(d)


def ids(emulator: EmulatorServer, account: str | None = None) -> list[str]:
    return sorted(s["sender_id"] for s in emulator.senders(account))


def no_token_in(text: str, *accounts: EmulatorAccount) -> None:
    for account in accounts:
        assert account.auth_token not in text
    assert TEST_AUTH_TOKEN not in text


def test_three_accounts_plan_apply_into_the_right_accounts_and_converge(emulator, subs, env, tmp_path):
    acme, north = subs
    emulator.add_sender({"sender_id": ACME, "profile": {"name": "Acme Bakery", "about": "Old"}}, account=acme.sid)
    d = files(tmp_path, acme, north)
    planned = run_cli("plan", "-f", d, env=env)
    assert planned.returncode == 0, planned.output
    text = planned.stdout
    assert f"Account {TEST_ACCOUNT_SID}" in text and f"Account {acme.sid} (Acme Bakery):" in text
    assert f"Account {north.sid} (Northside Cycles):" in text
    assert text.index(acme.sid) < text.index(ACME) < text.index(north.sid) < text.index(NORTH)
    assert "Plan across 3 accounts: 2 to create, 1 to update, 0 to delete." in text

    applied = run_cli("apply", "-f", d, "--auto-approve", "--format", "json", env=env)
    assert applied.returncode == 0, applied.output
    doc = json.loads(applied.stdout)
    assert {(o["sender_id"], o["account"], o["result"]) for o in doc["apply"]["outcomes"]} == {
        (MAIN, TEST_ACCOUNT_SID, "done"), (ACME, acme.sid, "done"), (NORTH, north.sid, "done")}
    assert {a["sid"]: a["friendly_name"] for a in doc["plan"]["accounts"]} == {
        TEST_ACCOUNT_SID: emulator.parent.friendly_name, acme.sid: "Acme Bakery", north.sid: "Northside Cycles"}
    assert (ids(emulator), ids(emulator, acme.sid), ids(emulator, north.sid)) == ([MAIN], [ACME], [NORTH])
    assert emulator.senders(acme.sid)[0]["profile"]["about"] == "Fresh bread"

    again = run_cli("drift", "-f", d, "--format", "json", env=env)
    assert again.returncode == 0, again.output
    assert [a["drift"] for a in json.loads(again.stdout)["accounts"]] == [False, False, False]
    assert run_cli("plan", "-f", d, "--detailed-exitcode", env=env).returncode == 0
    no_token_in(planned.output + applied.output + again.output, acme, north)


def test_drift_in_one_account_exits_2_and_says_where(emulator, subs, env, tmp_path):
    acme, north = subs
    d = files(tmp_path, acme, north)
    assert run_cli("apply", "-f", d, "--auto-approve", env=env).returncode == 0
    emulator.add_sender({"sender_id": OTHER, "profile": {"name": "Made by hand"}}, account=north.sid)
    result = run_cli("drift", "-f", d, env=env)
    assert result.returncode == 2, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == "Drift in 1 of 3 accounts."
    assert any(line.startswith(f"Account {north.sid} (Northside Cycles): Drift") for line in lines)


def test_account_limits_a_run_to_those_accounts(emulator, subs, env, tmp_path):
    acme, north = subs
    d = files(tmp_path, acme, north)
    result = run_cli("apply", "-f", d, "--account", acme.sid, "--auto-approve", env=env)
    assert result.returncode == 0, result.output
    assert (ids(emulator), ids(emulator, acme.sid), ids(emulator, north.sid)) == ([], [ACME], [])
    assert north.sid not in result.stdout
    unknown = run_cli("plan", "-f", d, "--account", STRANGER, env=env)
    assert unknown.returncode == 1 and f"--account {STRANGER}: no file names this account" in unknown.stderr


def test_an_unreachable_account_changes_nothing_in_any_account(emulator, subs, env, tmp_path):
    acme, north = subs
    d = files(tmp_path, acme, north)
    (Path(d) / "stranger.yaml").write_text(f'account: {STRANGER}\nsenders:\n  - sender_id: "{OTHER}"\n'
                                           '    profile: {name: "Not ours"}\n')
    result = run_cli("apply", "-f", d, "--auto-approve", env=env)
    assert result.returncode == 1
    assert f"account {STRANGER}: not found with the credentials in use" in result.stderr
    assert (ids(emulator), ids(emulator, acme.sid), ids(emulator, north.sid)) == ([], [], [])
    emulator.set_account_status(north.sid, "suspended")
    (Path(d) / "stranger.yaml").unlink()
    suspended = run_cli("apply", "-f", d, "--auto-approve", env=env)
    assert suspended.returncode == 1 and f"account {north.sid}: its status is suspended, not active" in suspended.stderr
    assert ids(emulator) == ids(emulator, acme.sid) == []
    no_token_in(result.output + suspended.output, acme, north)


def test_a_local_senders_api_is_asked_for_the_accounts_resource_too(emulator, subs, tmp_path):
    """A loopback base URL serves both (the emulator): the credentials go nowhere they did not go already."""
    acme, north = subs
    result = run_cli("plan", "-f", files(tmp_path, acme, north), env=server_env(emulator))
    assert result.returncode == 0, result.output
    assert emulator.stats()["GET /2010-04-01/Accounts/{Sid}.json"] >= 2


def test_a_plan_saved_for_one_account_is_refused_on_another_even_with_a_shared_key(emulator, subs, env, tmp_path):
    acme, north = subs
    shared = {"RECONCILER_PLAN_KEY": "team-key"}
    d = tmp_path / "one"
    d.mkdir()
    (d / "s.yaml").write_text(f'senders:\n  - sender_id: "{MAIN}"\n    profile: {{name: "Main Shop"}}\n')
    out = tmp_path / "plan.json"
    saved = run_cli("plan", "-f", str(d), "--out", str(out), env={**env, **shared})
    assert saved.returncode == 0, saved.output
    assert json.loads(out.read_text())["accounts"][0]["sid"] == TEST_ACCOUNT_SID
    as_acme = clean_env(TWILIO_ACCOUNT_SID=acme.sid, TWILIO_AUTH_TOKEN=acme.auth_token,
                        TWILIO_MESSAGING_BASE_URL=url_of(emulator), TWILIO_API_BASE_URL=url_of(emulator), **shared)
    refused = run_cli("apply", str(out), env=as_acme)
    assert refused.returncode == 1, refused.output
    assert f"the plan is for accounts these credentials do not reach: account {TEST_ACCOUNT_SID}" in refused.stderr
    assert ids(emulator) == ids(emulator, acme.sid) == []
    applied = run_cli("apply", str(out), env={**env, **shared})
    assert applied.returncode == 0, applied.output
    assert ids(emulator) == [MAIN]
    no_token_in(saved.output + refused.output + applied.output + out.read_text(), north)


def test_a_saved_plan_across_accounts_applies_each_into_its_own(emulator, subs, env, tmp_path):
    acme, north = subs
    out = tmp_path / "plan.json"
    saved = run_cli("plan", "-f", files(tmp_path, acme, north), "--out", str(out), env=env)
    assert saved.returncode == 0, saved.output
    text = out.read_text()
    assert [a["sid"] for a in json.loads(text)["accounts"]] == [acme.sid, TEST_ACCOUNT_SID, north.sid]  # files' order
    no_token_in(text, acme, north)
    applied = run_cli("apply", str(out), env=env)
    assert applied.returncode == 0, applied.output
    assert (ids(emulator), ids(emulator, acme.sid), ids(emulator, north.sid)) == ([MAIN], [ACME], [NORTH])


def test_own_credentials_of_a_subaccount_are_used_without_the_accounts_resource(emulator, subs, tmp_path):
    acme, _ = subs
    emulator.add_api_key(acme.sid, "SK" + "1" * 32, "acme-key-secret")
    d = tmp_path / "acme"
    d.mkdir()
    (d / "s.yaml").write_text(f'account: {acme.sid}\nsenders:\n  - sender_id: "{ACME}"\n    profile: {{name: "Acme"}}\n')
    # A standard key of the parent cannot read the Accounts resource: the subaccount's own key does the work.
    env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_API_KEY="SK" + "2" * 32, TWILIO_API_SECRET="p-secret",
                    TWILIO_MESSAGING_BASE_URL=url_of(emulator), TWILIO_API_BASE_URL=url_of(emulator),
                    **{f"TWILIO_API_KEY_{acme.sid.upper()}": "SK" + "1" * 32,
                       f"TWILIO_API_SECRET_{acme.sid.upper()}": "acme-key-secret"})
    emulator.add_api_key(TEST_ACCOUNT_SID, "SK" + "2" * 32, "p-secret")
    result = run_cli("apply", "-f", str(d), "--auto-approve", env=env)
    assert result.returncode == 0, result.output
    assert ids(emulator, acme.sid) == [ACME] and "acme-key-secret" not in result.output
    without = {k: v for k, v in env.items() if acme.sid.upper() not in k}
    refused = run_cli("plan", "-f", str(d), env=without)
    assert refused.returncode == 1 and "may not read the Accounts resource (HTTP 401; a Standard key cannot)" in refused.stderr


def test_export_of_a_subaccount_starts_with_its_account_and_plans_to_nothing(emulator, subs, env, tmp_path):
    acme, _ = subs
    emulator.add_sender({"sender_id": ACME, "profile": {"name": "Acme Bakery", "about": "Hi"}}, account=acme.sid)
    out = tmp_path / "acme.yaml"
    exported = run_cli("export", "--account", acme.sid, "-o", str(out), env=env)
    assert exported.returncode == 0, exported.output
    text = out.read_text()
    assert f"\naccount: {acme.sid}\nsenders:" in text and ACME in text
    planned = run_cli("plan", "-f", str(out), "--detailed-exitcode", env=env)
    assert planned.returncode == 0, planned.output
    no_token_in(text + exported.output, acme)


def test_a_number_under_two_accounts_is_refused_before_any_request(emulator, subs, env, tmp_path):
    acme, north = subs
    d = files(tmp_path, acme, north)
    (Path(d) / "north.yaml").write_text(f'account: {north.sid}\nsenders:\n  - sender_id: "{ACME}"\n'
                                        '    profile: {name: "Acme again"}\n')
    before = emulator.stats()["total"]
    result = run_cli("apply", "-f", d, "--auto-approve", env=env)
    assert result.returncode == 1 and "declared under two accounts" in result.stderr
    assert "acme.yaml:3:16" in result.stderr and "north.yaml:3:16" in result.stderr
    assert emulator.stats()["total"] - before <= 1  # at most the parent's read, started while the files loaded
    assert ids(emulator, acme.sid) == ids(emulator, north.sid) == []


def test_accounts_lists_the_accounts_for_a_ci_matrix(subs, tmp_path):
    acme, north = subs
    d = files(tmp_path, acme, north)
    result = run_cli("accounts", "-f", d, "--format", "json", env=clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID))
    assert result.returncode == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["account"], r["args"]) for r in rows] == [
        (acme.sid, f"--account {acme.sid}"), (TEST_ACCOUNT_SID, f"--account {TEST_ACCOUNT_SID}"),
        (north.sid, f"--account {north.sid}")]
    shards = json.loads(run_cli("accounts", "-f", d, "--shards", "2", "--format", "json",
                                env=clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID)).stdout)
    assert len(shards) == 2 and sum(s["senders"] for s in shards) == 3


@pytest.mark.parametrize("shards", [None, "1", "2", "3"])
def test_accounts_without_the_parents_sid_emits_no_row_that_would_run_every_account(subs, tmp_path, shards):
    """Without TWILIO_ACCOUNT_SID the parent's file has no --account to give: with one shard its only row named
    the subaccounts (drift said "No drift" while the parent drifted), and a shard of the parent alone ran all."""
    d = files(tmp_path, *subs)
    result = run_cli("accounts", "-f", d, "--format", "json", *(("--shards", shards) if shards else ()),
                     env=clean_env())
    assert result.returncode == 1 and result.stdout == ""
    assert "no 'account:' and TWILIO_ACCOUNT_SID is not set" in result.stderr and "main.yaml" in result.stderr


def test_verify_in_a_subaccount_looks_its_credentials_up_once(emulator, subs, env):
    acme, _ = subs
    emulator.add_sender({"sender_id": ACME, "profile": {"name": "Acme"}}, status="PENDING_VERIFICATION",
                        account=acme.sid)
    before = emulator.stats().get("GET /2010-04-01/Accounts/{Sid}.json", 0)
    result = run_cli("verify", ACME, "--account", acme.sid, "--code", "123456", env=env)
    assert result.returncode == 0, result.output
    assert f"Submitted the verification code for {ACME}" in result.stdout
    assert emulator.stats()["GET /2010-04-01/Accounts/{Sid}.json"] - before == 1
    in_parent = run_cli("verify", ACME, "--code", "123456", env=env)
    assert in_parent.returncode == 1 and "not found in the account" in in_parent.stderr
    no_token_in(result.output + in_parent.output, acme)
