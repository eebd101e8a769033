"""The v2010 side of an account, against the emulator on loopback: a subaccount's record, and the proving request."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.accounts.directory import AccountRecord, account_error, check_active, look_up, reaches
from reconciler.auth import Credentials
from reconciler.client import RetryPolicy, SendersClient
from reconciler.emulator import EmulatorServer
from reconciler.errors import AccountError, ApiError
from tests.factories import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET, TEST_AUTH_TOKEN, url_of

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
