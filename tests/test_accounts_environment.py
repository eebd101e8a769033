"""Credentials from the environment: which variables, which account they are claimed for, nothing shown."""

from __future__ import annotations

import pytest

from reconciler.accounts.environment import account_credentials, given_credentials, main_credentials, secret_of
from reconciler.auth import Credentials
from reconciler.errors import CredentialsError
from tests.factories import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET, TEST_AUTH_TOKEN

SUB = "AC" + "ab" * 16


def test_an_api_key_takes_precedence_and_its_secret_is_hidden() -> None:
    env = {"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
           "TWILIO_API_KEY": TEST_API_KEY, "TWILIO_API_SECRET": TEST_API_SECRET}
    given = main_credentials(env)
    assert (given.account_sid, given.credentials.username, given.credentials.secret) == (
        TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET)
    assert given.is_key and given.variables == ("TWILIO_API_KEY", "TWILIO_API_SECRET")
    assert TEST_API_SECRET not in repr(given) and TEST_API_SECRET not in str(given.credentials)


def test_an_auth_token_is_its_accounts_own() -> None:
    given = main_credentials({"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN})
    assert (given.credentials.username, given.credentials.secret, given.account_sid) == (
        TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_ACCOUNT_SID)
    assert not given.is_key


def test_an_api_key_without_the_account_sid_is_refused() -> None:
    with pytest.raises(CredentialsError, match="TWILIO_ACCOUNT_SID is not set: an API key does not say") as caught:
        main_credentials({"TWILIO_API_KEY": TEST_API_KEY, "TWILIO_API_SECRET": TEST_API_SECRET})
    assert TEST_API_SECRET not in str(caught.value)


@pytest.mark.parametrize("sid", [TEST_ACCOUNT_SID.upper().replace("AC", "AC", 1)[:2] + TEST_ACCOUNT_SID[2:].upper(),
                                 "AC123", " " + TEST_ACCOUNT_SID])
def test_an_account_sid_spelled_otherwise_than_twilio_does_is_refused(sid: str) -> None:
    """Two spellings of one SID would be two accounts: only Twilio's is taken."""
    with pytest.raises(CredentialsError, match=r"TWILIO_ACCOUNT_SID.* is not an account SID") as caught:
        main_credentials({"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN})
    shown = str(caught.value)
    assert (sid in shown) == (sid.strip() == sid and sid[2:].lower() == TEST_ACCOUNT_SID[2:])  # a SID in upper case only


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, ["TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"]),
        ({"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID}, ["TWILIO_AUTH_TOKEN"]),
        ({"TWILIO_API_KEY": TEST_API_KEY}, ["TWILIO_API_SECRET"]),
        ({"TWILIO_API_SECRET": TEST_API_SECRET}, ["TWILIO_API_KEY"]),
    ],
)
def test_missing_credentials_name_the_variables(env: dict[str, str], names: list[str]) -> None:
    with pytest.raises(CredentialsError) as err:
        main_credentials(env)
    for name in names:
        assert name in str(err.value)
    assert TEST_API_SECRET not in str(err.value)


def test_an_accounts_own_key_named_twice_in_two_cases_is_refused() -> None:
    env = {f"TWILIO_AUTH_TOKEN_{SUB}": "token-value-1", f"TWILIO_AUTH_TOKEN_{SUB.upper()}": "token-value-2"}
    with pytest.raises(CredentialsError, match="both give") as caught:
        account_credentials(SUB, env)
    assert "token-value" not in str(caught.value)


def test_credentials_given_by_a_program_need_their_account() -> None:
    assert given_credentials(Credentials(TEST_ACCOUNT_SID, "t", TEST_ACCOUNT_SID)).account_sid == TEST_ACCOUNT_SID
    with pytest.raises(CredentialsError, match="name no account"):
        given_credentials(Credentials(TEST_API_KEY, "s"))


def test_the_default_signing_secret_is_the_main_credentials_and_says_where_from() -> None:
    assert secret_of({"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": "tok"}) == ("tok", "TWILIO_AUTH_TOKEN")
    assert secret_of({}) is None
