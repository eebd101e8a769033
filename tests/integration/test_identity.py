"""Identity before action, through the real CLI on the emulator: every credential is proven to belong to the
account it is used for, and one account is one account whatever names it goes by."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.emulator import EmulatorAccount, EmulatorServer
from tests.factories import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET, clean_env, run_cli, server_env, url_of

MAIN, OTHER, ACME = "whatsapp:+15017122661", "whatsapp:+15017122662", "whatsapp:+15017122663"
SUB_KEY, SUB_SECRET = "SK" + "5" * 32, "sub-key-secret-value"
PARENT_MAIN_KEY, PARENT_MAIN_SECRET = "SK" + "6" * 32, "parent-main-key-secret"


@pytest.fixture
def acme(emulator: EmulatorServer) -> EmulatorAccount:
    return emulator.add_account("Acme Bakery")


def key_env(emulator: EmulatorServer, **extra: str) -> dict[str, str]:
    """The parent's standard API key, as a CI job gives it."""
    emulator.add_api_key(TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET)
    return clean_env(TWILIO_API_KEY=TEST_API_KEY, TWILIO_API_SECRET=TEST_API_SECRET,
                     TWILIO_MESSAGING_BASE_URL=url_of(emulator), **extra)


def two_names(tmp_path: Path) -> str:
    """One file without 'account:', one naming the parent's own SID: both are the parent's."""
    d = tmp_path / "senders"
    d.mkdir()
    (d / "main.yaml").write_text(f'senders:\n  - sender_id: "{MAIN}"\n    profile: {{name: "Main"}}\n')
    (d / "named.yaml").write_text(f'account: {TEST_ACCOUNT_SID}\nsenders:\n  - sender_id: "{OTHER}"\n'
                                  '    profile: {name: "Other"}\n')
    return str(d)


def senders_of(emulator: EmulatorServer, account: str | None = None) -> list[str]:
    return sorted(s["sender_id"] for s in emulator.senders(account))


def test_an_api_key_without_the_account_sid_plans_nothing(emulator: EmulatorServer, tmp_path: Path) -> None:
    """Case 1: a key alone does not say whose it is; the two files were planned as two accounts deleting each other."""
    emulator.add_sender({"sender_id": MAIN, "profile": {"name": "Main"}})
    emulator.add_sender({"sender_id": OTHER, "profile": {"name": "Other"}})
    result = run_cli("apply", "-f", two_names(tmp_path), "--allow-delete", "--auto-approve", env=key_env(emulator))
    assert result.returncode == 1
    assert "TWILIO_ACCOUNT_SID is not set: an API key does not say which account it belongs to" in result.stderr
    assert senders_of(emulator) == [MAIN, OTHER]
    assert TEST_API_SECRET not in result.output


@pytest.mark.parametrize("kind", ["key", "token"])
def test_a_file_without_account_and_one_naming_the_parent_are_one_account(
        emulator: EmulatorServer, tmp_path: Path, kind: str) -> None:
    emulator.add_sender({"sender_id": MAIN, "profile": {"name": "Main"}})
    emulator.add_sender({"sender_id": OTHER, "profile": {"name": "Other"}})
    env = key_env(emulator, TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID) if kind == "key" else server_env(emulator)
    result = run_cli("plan", "-f", two_names(tmp_path), "--allow-delete", "--format", "json", env=env)
    assert result.returncode == 0, result.output
    doc = json.loads(result.stdout)
    assert [a["sid"] for a in doc["accounts"]] == [TEST_ACCOUNT_SID]
    assert doc["summary"] == {"create": 0, "update": 0, "delete": 0, "pool": 0}


def test_a_parents_key_filed_under_a_subaccount_is_refused_naming_its_variable(
        emulator: EmulatorServer, acme: EmulatorAccount, tmp_path: Path) -> None:
    """Case 2: it reached the parent's senders, so the subaccount's file deleted the parent's and created there."""
    emulator.add_sender({"sender_id": MAIN, "profile": {"name": "Main"}})
    emulator.add_api_key(TEST_ACCOUNT_SID, PARENT_MAIN_KEY, PARENT_MAIN_SECRET)
    f = tmp_path / "acme.yaml"
    f.write_text(f'account: {acme.sid}\nsenders:\n  - sender_id: "{ACME}"\n    profile: {{name: "Acme"}}\n')
    env = server_env(emulator, **{f"TWILIO_API_KEY_{acme.sid}": PARENT_MAIN_KEY,
                                  f"TWILIO_API_SECRET_{acme.sid}": PARENT_MAIN_SECRET})
    result = run_cli("apply", "-f", str(f), "--allow-delete", "--auto-approve", env=env)
    assert result.returncode == 1
    assert f"TWILIO_API_KEY_{acme.sid} and TWILIO_API_SECRET_{acme.sid}: the API key reaches the parent account" \
        in result.stderr
    assert senders_of(emulator) == [MAIN] and senders_of(emulator, acme.sid) == []
    assert PARENT_MAIN_SECRET not in result.output


def test_a_subaccounts_own_key_is_proven_and_used(emulator: EmulatorServer, acme: EmulatorAccount,
                                                  tmp_path: Path) -> None:
    emulator.add_api_key(acme.sid, SUB_KEY, SUB_SECRET)
    f = tmp_path / "acme.yaml"
    f.write_text(f'account: {acme.sid}\nsenders:\n  - sender_id: "{ACME}"\n    profile: {{name: "Acme"}}\n')
    env = server_env(emulator, **{f"TWILIO_API_KEY_{acme.sid}": SUB_KEY, f"TWILIO_API_SECRET_{acme.sid}": SUB_SECRET})
    result = run_cli("apply", "-f", str(f), "--auto-approve", env=env)
    assert result.returncode == 0, result.output
    assert senders_of(emulator, acme.sid) == [ACME] and senders_of(emulator) == []


def test_a_key_filed_under_an_account_it_does_not_reach_is_refused(emulator: EmulatorServer, acme: EmulatorAccount,
                                                                   tmp_path: Path) -> None:
    other = emulator.add_account("Northside")
    emulator.add_api_key(other.sid, SUB_KEY, SUB_SECRET)  # another subaccount's key
    f = tmp_path / "acme.yaml"
    f.write_text(f'account: {acme.sid}\nsenders:\n  - sender_id: "{ACME}"\n    profile: {{name: "Acme"}}\n')
    env = server_env(emulator, **{f"TWILIO_API_KEY_{acme.sid}": SUB_KEY, f"TWILIO_API_SECRET_{acme.sid}": SUB_SECRET})
    result = run_cli("apply", "-f", str(f), "--auto-approve", env=env)
    assert result.returncode == 1
    assert f"the API key was refused for account {acme.sid} (HTTP 404" in result.stderr
    assert "it belongs to another account, or its secret is wrong" in result.stderr
    assert senders_of(emulator, other.sid) == [] and senders_of(emulator, acme.sid) == []


def test_a_saved_plan_never_lands_in_another_account(emulator: EmulatorServer, acme: EmulatorAccount,
                                                     tmp_path: Path) -> None:
    """Case 3: with a shared plan key, a plan made on one account applied with another's key and
    TWILIO_ACCOUNT_SID naming the first."""
    shared = {"RECONCILER_PLAN_KEY": "team-signing-key"}
    f = tmp_path / "s.yaml"
    f.write_text(f'senders:\n  - sender_id: "{ACME}"\n    profile: {{name: "Acme"}}\n')
    out = tmp_path / "plan.json"
    sub_env = clean_env(TWILIO_ACCOUNT_SID=acme.sid, TWILIO_AUTH_TOKEN=acme.auth_token,
                        TWILIO_MESSAGING_BASE_URL=url_of(emulator), **shared)
    planned = run_cli("plan", "-f", str(f), "--out", str(out), env=sub_env)
    assert planned.returncode == 0, planned.output
    # The parent's key (a Main key: it reaches the subaccount's v2010 resources) run as the subaccount.
    emulator.add_api_key(TEST_ACCOUNT_SID, PARENT_MAIN_KEY, PARENT_MAIN_SECRET, main=True)
    parents_key = clean_env(TWILIO_ACCOUNT_SID=acme.sid, TWILIO_API_KEY=PARENT_MAIN_KEY,
                            TWILIO_API_SECRET=PARENT_MAIN_SECRET, TWILIO_MESSAGING_BASE_URL=url_of(emulator), **shared)
    refused = run_cli("apply", str(out), env=parents_key)
    assert refused.returncode == 1
    assert f"the API key reaches account {TEST_ACCOUNT_SID}, which owns {acme.sid}" in refused.stderr
    # A subaccount's key run as the parent: refused too.
    emulator.add_api_key(acme.sid, SUB_KEY, SUB_SECRET)
    planned_parent = run_cli("plan", "-f", str(f), "--out", str(out), env={**server_env(emulator), **shared})
    assert planned_parent.returncode == 0, planned_parent.output
    subs_key = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_API_KEY=SUB_KEY, TWILIO_API_SECRET=SUB_SECRET,
                         TWILIO_MESSAGING_BASE_URL=url_of(emulator), **shared)
    refused_too = run_cli("apply", str(out), env=subs_key)
    assert refused_too.returncode == 1 and f"refused for account {TEST_ACCOUNT_SID}" in refused_too.stderr
    assert senders_of(emulator) == [] and senders_of(emulator, acme.sid) == []
    # The right credentials apply it.
    applied = run_cli("apply", str(out), env={**server_env(emulator), **shared})
    assert applied.returncode == 0, applied.output
    assert senders_of(emulator) == [ACME]
    for result in (planned, refused, refused_too, applied):
        assert PARENT_MAIN_SECRET not in result.output and SUB_SECRET not in result.output
        assert acme.auth_token not in result.output


@pytest.mark.parametrize("wrong", ["TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET"])
def test_a_wrong_secret_is_said_as_such_not_blamed_on_the_key_type(
        emulator: EmulatorServer, acme: EmulatorAccount, tmp_path: Path, wrong: str) -> None:
    """Case 6: a wrong token on a run that looks up subaccounts was said to be 'a standard API key'."""
    d = tmp_path / "senders"
    d.mkdir()
    (d / "acme.yaml").write_text(f'account: {acme.sid}\nsenders:\n  - sender_id: "{ACME}"\n    profile: {{name: "A"}}\n')
    (d / "main.yaml").write_text(f'senders:\n  - sender_id: "{MAIN}"\n    profile: {{name: "Main"}}\n')
    if wrong == "TWILIO_AUTH_TOKEN":
        env = {**server_env(emulator), "TWILIO_AUTH_TOKEN": "not-the-token"}
    else:
        emulator.add_api_key(TEST_ACCOUNT_SID, PARENT_MAIN_KEY, PARENT_MAIN_SECRET, main=True)
        env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_API_KEY=PARENT_MAIN_KEY,
                        TWILIO_API_SECRET="not-the-secret", TWILIO_MESSAGING_BASE_URL=url_of(emulator))
    out = tmp_path / "plan.json"
    for args in (("plan", "-f", str(d)), ("apply", "-f", str(d), "--auto-approve")):
        result = run_cli(*args, env=env)
        assert result.returncode == 1
        assert "Standard key" not in result.stderr and "standard API key" not in result.stderr
        if wrong == "TWILIO_AUTH_TOKEN":  # the parent's own read, started while the files load, is refused first
            assert "Hint: the API refused the credentials from TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in result.stderr
        else:
            assert "the API key was refused for account" in result.stderr and "its secret is wrong" in result.stderr
        assert "not-the-" not in result.output
    good = run_cli("plan", "-f", str(d), "--out", str(out), env=server_env(emulator))
    assert good.returncode == 0, good.output
    saved = run_cli("apply", str(out), env=env)
    assert saved.returncode == 1 and "Standard key" not in saved.stderr
    assert senders_of(emulator) == [] and senders_of(emulator, acme.sid) == []
