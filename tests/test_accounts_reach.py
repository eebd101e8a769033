"""Reaching accounts in-process against the emulator: proofs made once, refusals that name variables, not values."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.accounts.environment import Given, main_credentials
from reconciler.accounts.reach import Parent, Reached, Resolver
from reconciler.auth import Credentials
from reconciler.client import RetryPolicy
from reconciler.emulator import EmulatorServer
from reconciler.errors import AccountError, CredentialsError
from tests.factories import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET, TEST_AUTH_TOKEN, url_of

SUB_KEY, SUB_SECRET = "SK" + "7" * 32, "sub-key-secret"


def resolver(emulator: EmulatorServer, env: dict[str, str], parent: Parent | None = None) -> Resolver:
    return Resolver(parent or Parent(main_credentials(env)), api_base_url=url_of(emulator),
                    retry=RetryPolicy(attempts=1), environ=env, concurrency=4)


def token_env() -> dict[str, str]:
    return {"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN}


async def names(reached: list[tuple[Reached, None]]) -> list[tuple[str, str | None]]:
    return [(who.account.sid, who.account.friendly_name) for who, _ in reached]


def reach(res: Resolver, sids: list[str]) -> list[tuple[str, str | None]]:
    async def nothing(_: Reached) -> None:
        return None

    async def go() -> list[tuple[str, str | None]]:
        return await names(await res.each(sids, nothing))

    return asyncio.run(go())


def test_a_key_is_proven_once_and_an_auth_token_needs_no_request(emulator: EmulatorServer) -> None:
    env = {"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_API_KEY": TEST_API_KEY, "TWILIO_API_SECRET": TEST_API_SECRET}
    res = resolver(emulator, env)
    probe = "GET /2010-04-01/Accounts/{Sid}/IncomingPhoneNumbers.json"
    assert reach(res, [TEST_ACCOUNT_SID]) == [(TEST_ACCOUNT_SID, None)]
    assert reach(res, [TEST_ACCOUNT_SID]) == [(TEST_ACCOUNT_SID, None)]
    assert emulator.stats()[probe] == 1
    before = emulator.stats()["total"]
    assert reach(resolver(emulator, token_env()), [TEST_ACCOUNT_SID]) == [(TEST_ACCOUNT_SID, None)]
    assert emulator.stats()["total"] == before


def test_subaccounts_are_reached_with_their_names_and_own_keys_proven(emulator: EmulatorServer) -> None:
    acme, north = emulator.add_account("Acme"), emulator.add_account("Northside")
    emulator.add_api_key(north.sid, SUB_KEY, SUB_SECRET)
    env = {**token_env(), f"TWILIO_API_KEY_{north.sid}": SUB_KEY, f"TWILIO_API_SECRET_{north.sid}": SUB_SECRET}
    assert reach(resolver(emulator, env), [TEST_ACCOUNT_SID, acme.sid, north.sid]) == [
        (TEST_ACCOUNT_SID, emulator.parent.friendly_name), (acme.sid, "Acme"), (north.sid, "Northside")]


def test_a_subaccounts_key_is_proven_only_against_a_parent_proven_to_own_it(emulator: EmulatorServer) -> None:
    """Without the parent's credentials, or with those of an account that does not own the subaccount, a parent's
    key filed under the subaccount could not be told from the subaccount's own."""
    acme = emulator.add_account("Acme")
    emulator.add_api_key(acme.sid, SUB_KEY, SUB_SECRET)
    env = {f"TWILIO_API_KEY_{acme.sid}": SUB_KEY, f"TWILIO_API_SECRET_{acme.sid}": SUB_SECRET}
    named_only = resolver(emulator, env, Parent(None, CredentialsError("none"), TEST_ACCOUNT_SID))
    with pytest.raises(CredentialsError, match="give the parent account's credentials too") as caught:
        reach(named_only, [acme.sid])
    assert SUB_SECRET not in str(caught.value)
    other = emulator.add_account("Other")
    stranger = {**env, "TWILIO_ACCOUNT_SID": other.sid, "TWILIO_AUTH_TOKEN": other.auth_token}
    with pytest.raises(CredentialsError, match=f"account {acme.sid}: the parent's credentials .* do not reach it"):
        reach(resolver(emulator, stranger), [acme.sid])
    assert reach(resolver(emulator, {**env, **token_env()}), [acme.sid]) == [(acme.sid, "Acme")]


def test_a_subaccount_of_another_parent_is_refused(emulator: EmulatorServer) -> None:
    stranger = "AC" + "9" * 32
    with pytest.raises(AccountError, match=f"account {stranger}: not found with the credentials in use"):
        reach(resolver(emulator, token_env()), [stranger])


def test_a_proof_is_refused_without_a_place_to_ask(emulator: EmulatorServer) -> None:
    given = Given(TEST_ACCOUNT_SID, Credentials(TEST_API_KEY, TEST_API_SECRET, TEST_ACCOUNT_SID),
                  ("TWILIO_API_KEY", "TWILIO_API_SECRET"))
    res = Resolver(Parent(given), api_base_url=None, retry=RetryPolicy(attempts=1), environ={}, concurrency=1)
    with pytest.raises(CredentialsError, match="cannot prove which account TWILIO_API_KEY and TWILIO_API_SECRET"):
        asyncio.run(res.prove(given))
