"""Many subaccounts through the real CLI on the emulator: looked up from the Accounts list in pages, with the
same answers and refusals as one by one, and a single subaccount still read on its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.accounts.directory import ONE_BY_ONE
from reconciler.emulator import EmulatorAccount, EmulatorServer
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, run_cli, server_env, url_of
from tests.hostile_server import HostileServer, Request, reply

MANY = ONE_BY_ONE + 2  # past the few read one by one
STRANGER = "AC" + "9" * 32
LIST, ONE = "GET /2010-04-01/Accounts.json", "GET /2010-04-01/Accounts/{Sid}.json"
SENDERS = "GET /v2/Channels/Senders"


def number(i: int) -> str:
    return f"whatsapp:+1501713{i:04d}"


@pytest.fixture
def customers(emulator: EmulatorServer) -> list[EmulatorAccount]:
    return [emulator.add_account(f"Customer {i}") for i in range(MANY)]


def files(tmp_path: Path, accounts: list[EmulatorAccount], *extra: str) -> str:
    """A directory of one file per subaccount (and any ``extra`` SIDs), each with one sender."""
    folder = tmp_path / "customers"
    folder.mkdir(exist_ok=True)
    for i, sid in enumerate([a.sid for a in accounts] + list(extra)):
        (folder / f"c{i:03d}.yaml").write_text(
            f'account: {sid}\nsenders:\n  - sender_id: "{number(i)}"\n    profile: {{name: "Shop {i}"}}\n')
    return str(folder)


def no_token_in(text: str, accounts: list[EmulatorAccount]) -> None:
    assert TEST_AUTH_TOKEN not in text and not any(a.auth_token in text for a in accounts)


def test_many_subaccounts_cost_one_lookup_and_one_read_each_and_apply_into_their_own(emulator, customers, tmp_path):
    d = files(tmp_path, customers)
    env = server_env(emulator)
    planned = run_cli("plan", "-f", d, "--format", "json", env=env)
    assert planned.returncode == 0, planned.output
    # One page of the list for every lookup; the parent's senders are not read, no file being the parent's.
    assert emulator.stats() == {"total": MANY + 1, LIST: 1, SENDERS: MANY}
    doc = json.loads(planned.stdout)
    assert [(a["sid"], a["friendly_name"]) for a in doc["accounts"]] == [(a.sid, a.friendly_name) for a in customers]
    assert doc["summary"] == {"create": MANY, "update": 0, "delete": 0, "pool": 0}

    emulator.reset_stats()
    applied = run_cli("apply", "-f", d, "--auto-approve", env=env)
    assert applied.returncode == 0, applied.output
    assert [[s["sender_id"] for s in emulator.senders(a.sid)] for a in customers] == [[number(i)] for i in range(MANY)]
    assert emulator.stats()[LIST] == 1 and ONE not in emulator.stats()
    no_token_in(planned.output + applied.output, customers)


def test_with_the_parent_s_file_its_senders_are_read_while_the_files_load(emulator, customers, tmp_path):
    d = files(tmp_path, customers)
    (Path(d) / "main.yaml").write_text('senders:\n  - sender_id: "whatsapp:+15017120000"\n    profile: {name: "Main"}\n')
    result = run_cli("plan", "-f", d, env=server_env(emulator))
    assert result.returncode == 0, result.output
    assert emulator.stats() == {"total": MANY + 2, LIST: 1, SENDERS: MANY + 1}
    assert f"Account {TEST_ACCOUNT_SID} ({emulator.parent.friendly_name}):" in result.stdout


def test_refusals_found_through_the_list_are_the_single_reads_refusals(emulator, customers, tmp_path):
    suspended, closed = customers[1], customers[2]
    emulator.set_account_status(suspended.sid, "suspended")
    emulator.set_account_status(closed.sid, "closed")
    d = files(tmp_path, customers, STRANGER)
    result = run_cli("apply", "-f", d, "--auto-approve", env=server_env(emulator))
    assert result.returncode == 1, result.output
    assert f"account {suspended.sid}: its status is suspended, not active" in result.stderr
    assert f"account {closed.sid}: its status is closed, not active" in result.stderr
    assert (f"account {STRANGER}: not found with the credentials in use: it is neither their account nor one of its "
            "subaccounts") in result.stderr
    assert emulator.stats()[LIST] == 1 and ONE not in emulator.stats()  # the last page says the stranger is not there
    assert not any(emulator.senders(a.sid) for a in customers)  # nothing written anywhere
    no_token_in(result.output, customers)


def test_an_account_of_another_owner_in_the_list_is_refused(emulator, customers, tmp_path):
    """A list (here a small server standing for the Accounts resource) that holds an account some other parent owns."""
    foreign = customers[3]

    def accounts(request: Request) -> bytes:
        assert request.target == "/2010-04-01/Accounts.json?PageSize=1000", request.target
        listed = [{"sid": a.sid, "friendly_name": a.friendly_name, "status": "active", "auth_token": a.auth_token,
                   "owner_account_sid": STRANGER if a is foreign else TEST_ACCOUNT_SID} for a in customers]
        return reply(200, {"accounts": listed, "next_page_uri": None, "page": 0, "page_size": 1000})

    with HostileServer(accounts) as v2010:
        result = run_cli("plan", "-f", files(tmp_path, customers),
                         env=server_env(emulator, TWILIO_API_BASE_URL=v2010.base_url))
        asked = len(v2010.requests)
    assert result.returncode == 1, result.output
    assert f"account {foreign.sid}: it belongs to {STRANGER}, not to {TEST_ACCOUNT_SID}" in result.stderr
    assert asked == 1
    no_token_in(result.output, customers)


def test_a_single_subaccount_is_still_read_on_its_own(emulator, customers, tmp_path):
    result = run_cli("plan", "-f", files(tmp_path, customers[:1]), env=server_env(emulator))
    assert result.returncode == 0, result.output
    assert emulator.stats() == {"total": 2, ONE: 1, SENDERS: 1}
    assert f"Account {customers[0].sid} (Customer 0):" in result.stdout


def test_an_explicit_account_concurrency_still_reads_every_account(emulator, customers, tmp_path):
    result = run_cli("plan", "-f", files(tmp_path, customers), "--account-concurrency", "1",
                     env=server_env(emulator, TWILIO_API_BASE_URL=url_of(emulator)))
    assert result.returncode == 0, result.output
    assert emulator.stats() == {"total": MANY + 1, LIST: 1, SENDERS: MANY}
