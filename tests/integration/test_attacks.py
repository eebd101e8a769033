"""Attacks on one promise: exactly what the reviewed files say, in the account they name, with no secret on the way.

Each test here failed when it was written: it shows a weakness, through the real CLI against the emulator
(or a small misbehaving server on loopback), and says in its docstring what is broken and how badly.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from reconciler.emulator import EmulatorAccount, EmulatorServer
from tests.factories import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    A,
    B,
    clean_env,
    run_cli,
    server_env,
    url_of,
    write_yaml,
)
from tests.hostile_server import HostileServer, Request, reply

PARENT_STANDARD_KEY, PARENT_STANDARD_SECRET = "SK" + "6" * 32, "parent-standard-secret"
#: An account SID that is no account of the emulator's: not the parent, not one of its subaccounts.
NOT_THE_PARENT = "AC" + "9" * 32
#: What a Twilio auth token looks like: 32 lower-case hex digits.
TOKEN_LIKE = "0f" * 16


@pytest.fixture
def acme(emulator: EmulatorServer) -> EmulatorAccount:
    return emulator.add_account("Acme Bakery")


def names(emulator: EmulatorServer, account: str | None = None) -> list[str]:
    return sorted(s["sender_id"] for s in emulator.senders(account))


def sub_file(tmp_path: Path, account: EmulatorAccount, sender_id: str = B, name: str = "acme.yaml") -> str:
    return write_yaml(tmp_path, f'account: {account.sid}\nsenders:\n  - sender_id: "{sender_id}"\n'
                                '    profile: {name: "Acme"}\n', name)


# --------------------------------------------------------------------------- the account a key reaches


def test_a_parents_key_under_a_subaccounts_name_is_refused_whatever_twilio_account_sid_says(
        emulator: EmulatorServer, acme: EmulatorAccount, tmp_path: Path) -> None:
    """BROKEN (high: deletes and creates in an account no file names, reported as done in another).

    docs/accounts.md: "a parent's key filed under TWILIO_API_KEY_<SUB> is refused". The proof that a key
    filed under a subaccount is not the parent's is "the parent's list (TWILIO_ACCOUNT_SID) must be refused"
    (reach.Resolver.prove). TWILIO_ACCOUNT_SID given without a secret is itself unproven: when it names any
    account that is not the key's parent (a typo, the SID of another parent of the organisation), the
    parent's probe answers 404, which counts as "not the parent's", and the parent's Standard key (which may
    not read the account record that would show the owner) is taken as the subaccount's own. The run then
    reads the parent's senders as the subaccount's: with --allow-delete it deletes the parent's sender and
    creates the subaccount's sender in the parent, and says it did both "in" the subaccount.
    """
    emulator.add_api_key(TEST_ACCOUNT_SID, PARENT_STANDARD_KEY, PARENT_STANDARD_SECRET)
    emulator.add_sender({"sender_id": A, "profile": {"name": "Main"}})
    env = clean_env(TWILIO_ACCOUNT_SID=NOT_THE_PARENT, TWILIO_MESSAGING_BASE_URL=url_of(emulator),
                    **{f"TWILIO_API_KEY_{acme.sid}": PARENT_STANDARD_KEY,
                       f"TWILIO_API_SECRET_{acme.sid}": PARENT_STANDARD_SECRET})
    result = run_cli("apply", "-f", sub_file(tmp_path, acme), "--allow-delete", "--auto-approve", env=env)
    assert PARENT_STANDARD_SECRET not in result.output
    # Whatever the wording, the parent's senders are not touched and nothing lands there.
    assert names(emulator) == [A], result.output
    assert result.returncode == 1, result.output
    assert f"TWILIO_API_KEY_{acme.sid}" in result.stderr


# --------------------------------------------------------------------------- secrets in messages and rows


def test_a_token_given_as_twilio_account_sid_is_not_printed(emulator: EmulatorServer, tmp_path: Path) -> None:
    """BROKEN (medium: an auth token in a CI log and in the pull-request comment).

    Swapping TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN is an easy mistake when secrets are set up. The
    refusal quotes TWILIO_ACCOUNT_SID's value (its first 40 characters, so a whole 32-digit token):
    "Error: TWILIO_ACCOUNT_SID '0f0f…' is not an account SID". The GitHub Action copies the tail of stderr
    into the plan's pull-request comment, where the runner's masking of secrets in logs does not apply.
    """
    path = write_yaml(tmp_path, f'senders:\n  - sender_id: "{A}"\n    profile: {{name: "Main"}}\n')
    swapped = clean_env(TWILIO_ACCOUNT_SID=TOKEN_LIKE, TWILIO_AUTH_TOKEN=TEST_ACCOUNT_SID,
                        TWILIO_MESSAGING_BASE_URL=url_of(emulator))
    for args in (("plan", "-f", path), ("drift", "-f", path), ("apply", "-f", path, "--auto-approve")):
        result = run_cli(*args, env=swapped)
        assert result.returncode == 1
        assert "TWILIO_ACCOUNT_SID" in result.stderr  # the variable is named ...
        assert TOKEN_LIKE not in result.output, result.stderr  # ... never its value


def test_accounts_emits_only_checked_sids_from_twilio_account_sid(tmp_path: Path) -> None:
    """BROKEN (medium: a secret in the CI matrix and logs; low for the matrix itself, whose jobs then fail).

    docs/accounts.md: `$SHARD_ARGS` "is built from account SIDs only, which the tool checked". `reconciler
    accounts` (and `validate`) take TWILIO_ACCOUNT_SID as the account of files without 'account:' without
    checking it, unlike every command that reads credentials: a token put there by mistake becomes a row's
    "account" and its `--account TOKEN` args, written to $GITHUB_OUTPUT and shown in every matrix job's name.
    """
    path = write_yaml(tmp_path, f'senders:\n  - sender_id: "{A}"\n    profile: {{name: "Main"}}\n')
    for extra in ((), ("--shards", "2")):
        result = run_cli("accounts", "-f", path, "--format", "json", *extra,
                         env=clean_env(TWILIO_ACCOUNT_SID=TOKEN_LIKE))
        assert TOKEN_LIKE not in result.output, result.output
        assert result.returncode == 1 and "TWILIO_ACCOUNT_SID" in result.stderr


def test_an_api_message_that_echoes_the_credentials_is_not_printed(tmp_path: Path) -> None:
    """BROKEN (low: needs a misbehaving server, proxy or gateway between the tool and Twilio).

    Twilio's error ``message`` is printed as sent (escaped, clipped). A server or gateway that echoes the
    request's Authorization header, or the secret itself, in its error body gets the credentials printed
    (stderr, the retry log, the Action's comment): the tool knows its secrets and never checks its own
    output for them.
    """

    def echo(request: Request) -> bytes:
        header = request.headers.get("authorization", "")
        decoded = base64.b64decode(header.partition(" ")[2]).decode()
        return reply(400, {"code": 20001, "status": 400, "message": f"bad request from {header} ({decoded})"})

    path = write_yaml(tmp_path, f'senders:\n  - sender_id: "{A}"\n    profile: {{name: "Main"}}\n')
    with HostileServer(echo) as server:
        result = run_cli("plan", "-f", path, env=server_env(server.base_url))
    assert result.returncode == 1
    basic = base64.b64encode(f"{TEST_ACCOUNT_SID}:{TEST_AUTH_TOKEN}".encode()).decode()
    assert TEST_AUTH_TOKEN not in result.output and basic not in result.output, result.stderr


def test_a_refused_looked_up_token_is_not_blamed_on_the_parents_variables(
        emulator: EmulatorServer, acme: EmulatorAccount, tmp_path: Path) -> None:
    """BROKEN (low: a wrong hint; the run stops, nothing is changed).

    When the token read from the Accounts resource for a subaccount is refused by the Senders API, the hint
    says "the API refused the credentials from TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN": the parent's
    variables, which were just proven good. The refused credential is the looked-up token (no variable).
    A v2010 server that answers a stale token stands in for a token rotated between the read and its use.
    """

    def accounts(request: Request) -> bytes:
        if request.target.startswith(f"/2010-04-01/Accounts/{acme.sid}.json"):
            return reply(200, {"sid": acme.sid, "friendly_name": "Acme", "status": "active",
                               "owner_account_sid": TEST_ACCOUNT_SID, "auth_token": "f" * 32})
        return reply(404, {"code": 20404, "status": 404, "message": "not found"})

    with HostileServer(accounts) as v2010:
        result = run_cli("plan", "-f", sub_file(tmp_path, acme),
                         env=server_env(emulator, TWILIO_API_BASE_URL=v2010.base_url))
    assert result.returncode == 1
    assert "HTTP 401" in result.stderr
    assert "refused the credentials from TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" not in result.stderr, result.stderr


@pytest.mark.parametrize("name", ["deployKey", "dbPass", "basicAuth", "sshKey"])
def test_a_camel_case_secret_name_is_not_read_by_a_file(emulator: EmulatorServer, tmp_path: Path, name: str) -> None:
    """BROKEN (low: the rule is documented, but it misses common names of secrets).

    `${...}` refuses `KEY`, `PASS`, `AUTH` only as `_`-separated parts, and `APIKEY` anywhere: `apiKey` is
    refused, `deployKey`, `sshKey`, `dbPass` and `basicAuth` (names CI systems and credential bindings use)
    are read, and their values are printed in the plan, posted as a comment and sent to Twilio.
    """
    secret = "s3cr3t-value-of-" + name
    path = write_yaml(tmp_path, f'senders:\n  - sender_id: "{A}"\n    profile: {{name: "Main", about: "${{{name}}}"}}\n')
    result = run_cli("plan", "-f", path, env=server_env(emulator, **{name: secret}))
    assert secret not in result.output
    assert result.returncode == 1 and name in result.stderr


# --------------------------------------------------------------------------- saved plans


@pytest.mark.xfail(strict=True, reason="known: a saved plan is bound to the fingerprints it was planned from, which a "
                   "revert restores; the Senders API's date_updated would bind it to one apply (docs/gitops.md)")
def test_a_saved_plan_is_not_replayed_over_a_later_change(emulator: EmulatorServer, tmp_path: Path) -> None:
    """BROKEN (medium: an old, reviewed plan undoes a newer reviewed change).

    A saved plan stays valid for ever: its freshness check compares each sender with the fingerprint it was
    planned from, so once a later change brings a sender back to that state (a revert), the old plan applies
    again, e.g. when CI's "re-run jobs" re-runs an old apply job with its plan artifact. Terraform refuses a
    saved plan once the state it was made from has moved on (its serial), even when values match again.
    """
    emulator.add_sender({"sender_id": A, "profile": {"name": "Main", "about": "Old"}})
    plan_path = tmp_path / "plan.json"
    write_yaml(tmp_path, f'senders:\n  - sender_id: "{A}"\n    profile: {{name: "Main", about: "New"}}\n')
    files = str(tmp_path / "senders.yaml")
    assert run_cli("plan", "-f", files, "--out", str(plan_path), env=server_env(emulator)).returncode == 0
    assert run_cli("apply", str(plan_path), env=server_env(emulator)).returncode == 0
    # A later pull request reverts the text, reviewed and applied.
    write_yaml(tmp_path, f'senders:\n  - sender_id: "{A}"\n    profile: {{name: "Main", about: "Old"}}\n')
    assert run_cli("apply", "-f", files, "--auto-approve", env=server_env(emulator)).returncode == 0
    assert [s["profile"]["about"] for s in emulator.senders()] == ["Old"]
    replay = run_cli("apply", str(plan_path), env=server_env(emulator))
    assert [s["profile"]["about"] for s in emulator.senders()] == ["Old"], replay.output
    assert replay.returncode == 1


def test_apply_saved_plan_wait_waits_in_every_account(tmp_path: Path) -> None:
    """BROKEN (medium: an untruthful success; --wait is what CI relies on to know the senders are online).

    `apply PLAN --wait` matches each account's report to its reached account by the whole AccountRef, friendly
    name included. When the friendly name saved in the plan cannot be read again at apply (a parent's
    Standard key with the subaccount's own token, or per-account credentials alone), the two differ, the
    account is skipped, "Final statuses:" is empty and the run exits 0 while the created sender is still
    CREATING. The same plan applied with the parent's token waits and times out (exit 1).
    """
    server = EmulatorServer(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, transition_delay=3600)
    server.start(host="127.0.0.1", port=0)
    try:
        acme = server.add_account("Acme Bakery")
        server.add_api_key(TEST_ACCOUNT_SID, PARENT_STANDARD_KEY, PARENT_STANDARD_SECRET)
        shared = {"RECONCILER_PLAN_KEY": "shared-plan-signing-key"}
        plan_path = tmp_path / "plan.json"
        planned = run_cli("plan", "-f", sub_file(tmp_path, acme), "--out", str(plan_path),
                          env=server_env(server, **shared))
        assert planned.returncode == 0, planned.output
        env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_API_KEY=PARENT_STANDARD_KEY,
                        TWILIO_API_SECRET=PARENT_STANDARD_SECRET, TWILIO_MESSAGING_BASE_URL=url_of(server),
                        **shared, **{f"TWILIO_AUTH_TOKEN_{acme.sid}": acme.auth_token})
        result = run_cli("apply", str(plan_path), "--wait", "--timeout", "1", "--format", "json", env=env)
        assert [s["status"] for s in server.senders(acme.sid)] == ["CREATING"]
        wait = json.loads(result.stdout)["wait"]
        assert wait["timed_out"] == [B], wait  # still transient after the timeout ...
        assert result.returncode == 1, result.output  # ... so not a success
    finally:
        server.stop()


# --------------------------------------------------------------------------- --target across accounts


def test_a_target_in_a_subaccount_is_not_a_problem_of_the_parent(
        emulator: EmulatorServer, acme: EmulatorAccount, tmp_path: Path) -> None:
    """BROKEN (low: fails closed, but --target cannot pick a subaccount's sender in a run of several).

    accounts.run.local_targets is documented to keep, in the first account, the targets *no* account holds
    (so a typo is still reported); it keeps every target there (`t in here or first`). `--target` naming a
    subaccount's sender makes the parent report "--target matches no sender in the file or the account", and
    apply refuses the whole run. It depends on the order of the files: only the first account keeps them all.
    """
    emulator.add_sender({"sender_id": A, "profile": {"name": "Main"}})
    emulator.add_sender({"sender_id": B, "profile": {"name": "Old"}}, account=acme.sid)
    d = tmp_path / "senders"
    d.mkdir()
    # The files are read in name order: the parent's account comes first (with the subaccount's first, it passes).
    (d / "1-main.yaml").write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: "Main"}}\n')
    (d / "2-acme.yaml").write_text(f'account: {acme.sid}\nsenders:\n  - sender_id: "{B}"\n    profile: {{name: "New"}}\n')
    result = run_cli("plan", "-f", str(d), "--target", B, "--format", "json", env=server_env(emulator))
    assert "--target matches no sender" not in result.output, result.output
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert doc["summary"] == {"create": 0, "update": 1, "delete": 0, "pool": 0}
