"""The v2010 side of an account, against the emulator on loopback: a subaccount's record, and the proving request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reconciler.accounts.directory import (
    ONE_BY_ONE,
    AccountRecord,
    Lookups,
    account_error,
    check_active,
    look_up,
    reaches,
)
from reconciler.auth import Credentials
from reconciler.client import RetryPolicy, SendersClient
from reconciler.emulator import EmulatorServer
from reconciler.errors import AccountError, ApiError
from reconciler.limiter import INITIAL_LIMIT
from tests.factories import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET, TEST_AUTH_TOKEN, url_of
from tests.hostile_server import HostileServer, Trickle, reply

ONE_TRY = RetryPolicy(attempts=1)


def client(emulator: EmulatorServer, credentials: Credentials) -> SendersClient:
    return SendersClient(credentials, base_url=url_of(emulator), retry=ONE_TRY)


async def _reaches(emulator: EmulatorServer, credentials: Credentials, sid: str) -> ApiError | None:
    async with client(emulator, credentials) as api:
        return await reaches(api, sid)


def test_credentials_reach_their_own_account_and_a_parents_reach_its_subaccounts(emulator: EmulatorServer) -> None:
    sub = emulator.add_account("Acme")
    emulator.add_api_key(sub.sid, "SK" + "4" * 32, "sub-secret")
    parent_key = Credentials(TEST_API_KEY, TEST_API_SECRET, TEST_ACCOUNT_SID)
    sub_key = Credentials("SK" + "4" * 32, "sub-secret", sub.sid)
    assert asyncio.run(_reaches(emulator, parent_key, TEST_ACCOUNT_SID)) is None
    assert asyncio.run(_reaches(emulator, parent_key, sub.sid)) is None  # a parent's key reaches its subaccounts
    assert asyncio.run(_reaches(emulator, sub_key, sub.sid)) is None
    refused = asyncio.run(_reaches(emulator, sub_key, TEST_ACCOUNT_SID))
    assert refused is not None and refused.status == 404
    wrong = asyncio.run(_reaches(emulator, Credentials("SK" + "4" * 32, "not-it", sub.sid), sub.sid))
    assert wrong is not None and wrong.status == 401


def test_a_failure_that_proves_nothing_is_raised() -> None:
    """No answer at all says nothing about the key: it is an error, never "not this account"."""
    async def go() -> None:
        async with SendersClient(Credentials(TEST_API_KEY, TEST_API_SECRET), base_url="http://127.0.0.1:9",
                                 retry=ONE_TRY) as api:
            await reaches(api, TEST_ACCOUNT_SID)

    with pytest.raises(ApiError) as caught:
        asyncio.run(go())
    assert caught.value.status is None


def test_a_subaccount_is_read_with_its_token_kept_out_of_sight(emulator: EmulatorServer) -> None:
    sub = emulator.add_account("Acme")

    async def go() -> AccountRecord:
        async with client(emulator, Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_ACCOUNT_SID)) as api:
            return await look_up(api, sub.sid)

    record = asyncio.run(go())
    assert (record.sid, record.friendly_name, record.owner_account_sid, record.status) == (
        sub.sid, "Acme", TEST_ACCOUNT_SID, "active")
    assert sub.auth_token not in repr(record)
    creds = record.credentials()
    assert creds is not None and (creds.username, creds.account_sid) == (sub.sid, sub.sid)
    with pytest.raises(AccountError, match="its status is suspended, not active"):
        check_active(AccountRecord(sub.sid, None, "suspended", TEST_ACCOUNT_SID))


@pytest.mark.parametrize(("status", "key", "said"), [
    (404, False, "neither their account nor one of its subaccounts"),
    (401, True, "the API key in use may not read the Accounts resource (HTTP 401; a Standard key cannot)"),
    (401, False, "the auth token in use was refused (HTTP 401 / Twilio 20003): it is wrong"),
    (500, False, "cannot be read:"),
])
def test_a_refused_read_is_said_for_the_kind_of_credentials(status: int, key: bool, said: str) -> None:
    error = ApiError("Authenticate", status=status, code=20003 if status == 401 else None)
    message = str(account_error("AC" + "1" * 32, error, key=key))
    assert message.startswith(f"account AC{'1' * 32}: ") and said in message


# --------------------------------------------------------------------------- many accounts: the list in pages


def test_as_many_are_read_one_by_one_as_the_parent_s_client_sends_at_once() -> None:
    assert ONE_BY_ONE == INITIAL_LIMIT

PARENT_CREDS = Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_ACCOUNT_SID)


def looked_up(url: str, wanted: list[str], asked: list[str] | None = None, *, page_size: int = 1000,
              key: bool = False, credentials: Credentials = PARENT_CREDS,
              ) -> dict[str, AccountRecord | AccountError]:
    """Each account of ``asked`` (default: ``wanted``) looked up in a run that names ``wanted``: its record or refusal."""

    async def go() -> dict[str, AccountRecord | AccountError]:
        found: dict[str, AccountRecord | AccountError] = {}
        async with SendersClient(credentials, base_url=url, retry=ONE_TRY) as api, \
                Lookups(api, wanted, key=key, page_size=page_size) as lookups:
            for sid in asked if asked is not None else wanted:
                try:
                    found[sid] = await lookups.look_up(sid)
                except AccountError as exc:
                    found[sid] = exc
        return found

    return asyncio.run(go())


def test_a_few_accounts_are_read_one_by_one_and_more_from_the_list_read_as_far_as_needed(emulator: EmulatorServer,
                                                                                       ) -> None:
    subs = [emulator.add_account(f"Customer {i}") for i in range(ONE_BY_ONE + 3)]
    few = [s.sid for s in subs[:ONE_BY_ONE]]
    assert {sid: r.friendly_name for sid, r in looked_up(url_of(emulator), few).items()  # type: ignore[union-attr]
            } == {s.sid: s.friendly_name for s in subs[:ONE_BY_ONE]}
    assert emulator.stats() == {"total": ONE_BY_ONE, "GET /2010-04-01/Accounts/{Sid}.json": ONE_BY_ONE}
    emulator.reset_stats()
    # The parent and 15 subaccounts, 4 a page: the first 12 subaccounts are on the first 4 pages (with the parent).
    many = [s.sid for s in subs[:ONE_BY_ONE + 1]]
    records = looked_up(url_of(emulator), many, page_size=4)
    assert all(isinstance(r, AccountRecord) for r in records.values())
    assert [(r.sid, r.friendly_name, r.status, r.owner_account_sid) for r in records.values()  # type: ignore[union-attr]
            ] == [(s.sid, s.friendly_name, "active", TEST_ACCOUNT_SID) for s in subs[:ONE_BY_ONE + 1]]
    credentials = records[subs[0].sid].credentials()  # type: ignore[union-attr]
    assert credentials is not None and credentials.secret == subs[0].auth_token
    assert not any(s.auth_token in repr(records) for s in subs)
    assert emulator.stats() == {"total": 4, "GET /2010-04-01/Accounts.json": 4}  # pages of 4: 1 + 13 accounts


def test_the_list_answers_as_the_single_reads_do(emulator: EmulatorServer) -> None:
    subs = [emulator.add_account(f"Customer {i}") for i in range(ONE_BY_ONE + 1)]
    emulator.set_account_status(subs[1].sid, "suspended")
    emulator.set_account_status(subs[2].sid, "closed")
    stranger = "AC" + "9" * 32
    wanted = [s.sid for s in subs] + [stranger]
    listed_ = looked_up(url_of(emulator), wanted, page_size=5)
    one_by_one = {sid: looked_up(url_of(emulator), [sid])[sid] for sid in wanted}
    assert {sid: str(v) if isinstance(v, AccountError) else v for sid, v in listed_.items()} == {
        sid: str(v) if isinstance(v, AccountError) else v for sid, v in one_by_one.items()}
    assert str(listed_[stranger]) == (f"account {stranger}: not found with the credentials in use: it is neither "
                                      "their account nor one of its subaccounts")
    assert [r.status for r in listed_.values() if isinstance(r, AccountRecord)][:3] == ["active", "suspended", "closed"]


def test_a_refused_list_is_each_account_s_refusal(emulator: EmulatorServer) -> None:
    """A standard key may not read the Accounts resource: one by one or from the list, the same words."""
    subs = [emulator.add_account(f"Customer {i}") for i in range(ONE_BY_ONE + 1)]
    key = Credentials(TEST_API_KEY, TEST_API_SECRET, TEST_ACCOUNT_SID)
    found = looked_up(url_of(emulator), [s.sid for s in subs], key=True, credentials=key)
    assert {str(e) for e in found.values()} == {
        f"account {s.sid}: the API key in use may not read the Accounts resource (HTTP 401; a Standard key cannot): use "
        "the parent's auth token or a Main API key, or give the account's own credentials, see docs/accounts.md"
        for s in subs}
    assert emulator.stats()["GET /2010-04-01/Accounts.json"] == 1


def page(accounts: list[dict[str, Any]], following: Any = None) -> bytes:
    return reply(200, {"accounts": accounts, "next_page_uri": following, "page": 0, "page_size": 1000})


def account(sid: str, **fields: Any) -> dict[str, Any]:
    return {"sid": sid, "friendly_name": "A", "status": "active", "owner_account_sid": TEST_ACCOUNT_SID,
            "auth_token": "t" * 32, **fields}


SUBS = ["AC" + f"{i:032x}" for i in range(1, ONE_BY_ONE + 2)]


@pytest.mark.parametrize(("answers", "said"), [
    ([page([account(SUBS[0])], "/2010-04-01/Accounts.json?Page=1"), page([account(SUBS[1])],
                                                                          "/2010-04-01/Accounts.json?Page=1")],
     "the Accounts list goes on with the same page twice"),
    ([page([], "/2010-04-01/Accounts.json?Page=1")], "an empty page that links to a next page"),
    ([page([account(SUBS[0])], "https://evil.example/2010-04-01/Accounts.json?Page=1")],
     "next_page_uri leads away from /2010-04-01/Accounts.json"),
    ([page([account(SUBS[0])], "/2010-04-01/Accounts/AC1/Keys.json")], "next_page_uri leads away"),
    ([page([account(SUBS[0])], 7)], "next_page_uri leads away from /2010-04-01/Accounts.json on http://127.0.0.1"),
    ([reply(200, {"accounts": "none"})], "answered its list with something that is not a page of accounts"),
])
def test_a_list_that_does_not_end_or_leads_elsewhere_is_refused_for_each_account_still_missing(
        answers: list[bytes], said: str) -> None:
    queue = iter(answers)
    with HostileServer(lambda request: next(queue, page([]))) as server:
        found = looked_up(server.base_url, SUBS)
        sent = [r.target for r in server.requests]
    refused = {sid: str(v) for sid, v in found.items() if isinstance(v, AccountError)}
    assert SUBS[-1] in refused and all(said in text and text.startswith(f"account {sid}: ")
                                       for sid, text in refused.items()), refused
    assert sent[0] == "/2010-04-01/Accounts.json?PageSize=1000" and len(sent) <= 2
    assert not any("evil" in target for target in sent)


def test_an_item_of_the_list_that_is_no_account_is_passed_over() -> None:
    items = [None, {"sid": 7}, {"sid": "XE1"}, account(SUBS[0], friendly_name="Shop\x1b[2J")]
    with HostileServer(lambda request: page(items)) as server:
        found = looked_up(server.base_url, SUBS)
    record = found[SUBS[0]]
    assert isinstance(record, AccountRecord) and record.friendly_name == "Shop\\x1b[2J"
    assert all(isinstance(found[sid], AccountError) for sid in SUBS[1:])


def test_a_page_read_stops_nobody_waiting_when_the_run_ends_first() -> None:
    """The list's reader is cancelled with the lookups: no task is left behind, nobody waits for ever."""

    async def go() -> None:
        with HostileServer(lambda request: Trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")) as server:
            async with SendersClient(PARENT_CREDS, base_url=server.base_url, retry=ONE_TRY) as api:
                async with Lookups(api, SUBS, key=False) as lookups:
                    waiting = asyncio.ensure_future(lookups.look_up(SUBS[0]))
                    for _ in range(3):
                        await asyncio.sleep(0)
                    assert not waiting.done()  # the first page is still coming, a byte at a time
                    waiting.cancel()
                    await asyncio.gather(waiting, return_exceptions=True)
                assert asyncio.all_tasks() == {asyncio.current_task()}

    asyncio.run(go())
