"""The v2010 Accounts handlers without a server: who may read which account, and the routes they serve."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from reconciler.emulator.accounts import AUTH_TOKEN, STANDARD_KEY, Accounts, EmulatorAccount, Principal
from reconciler.emulator.v2010_routes import AccountsApi
from reconciler.emulator.validation import ApiProblem

PARENT = "AC" + "1" * 32


@pytest.fixture
def accounts() -> Accounts:
    accounts = Accounts(EmulatorAccount(PARENT, "token", "Parent account", PARENT), check=True)
    accounts.add("Bakery Ltd")
    return accounts


def call(api: AccountsApi, handler: str, path: str, **match: str) -> dict:
    request = make_mocked_request("GET", path, match_info=match)
    response = asyncio.run(getattr(api, handler)(request))
    assert isinstance(response, web.Response) and response.status == 200
    return json.loads(response.text)


def test_the_routes_are_the_accounts_list_and_fetch_and_the_numbers_list(accounts):
    app = web.Application()
    AccountsApi(accounts, lambda request: Principal(accounts.parent, AUTH_TOKEN)).register(app)
    paths = {(r.method, r.resource.canonical) for r in app.router.routes() if r.resource is not None}
    assert paths == {
        ("GET", "/2010-04-01/Accounts.json"),
        ("GET", "/2010-04-01/Accounts/{Sid}.json"),
        ("GET", "/2010-04-01/Accounts/{Sid}/IncomingPhoneNumbers.json"),
    }


def test_the_principal_decides_what_is_read(accounts):
    sub = accounts.all()[1]
    as_parent = AccountsApi(accounts, lambda request: Principal(accounts.parent, AUTH_TOKEN))
    assert [a["sid"] for a in call(as_parent, "list_accounts", "/2010-04-01/Accounts.json")["accounts"]] == [
        PARENT, sub.sid]
    assert call(as_parent, "fetch_account", f"/2010-04-01/Accounts/{sub.sid}.json", Sid=sub.sid)["friendly_name"] == (
        "Bakery Ltd")
    as_sub = AccountsApi(accounts, lambda request: Principal(sub, AUTH_TOKEN))
    with pytest.raises(ApiProblem) as hidden:
        call(as_sub, "fetch_account", f"/2010-04-01/Accounts/{PARENT}.json", Sid=PARENT)
    assert (hidden.value.status, hidden.value.code) == (404, 20404)
    keyed = AccountsApi(accounts, lambda request: Principal(accounts.parent, STANDARD_KEY))
    with pytest.raises(ApiProblem) as refused:
        call(keyed, "list_accounts", "/2010-04-01/Accounts.json")
    assert (refused.value.status, refused.value.code) == (401, 20003)
    numbers = call(keyed, "list_numbers", f"/2010-04-01/Accounts/{PARENT}/IncomingPhoneNumbers.json", Sid=PARENT)
    assert numbers["incoming_phone_numbers"] == []
