"""The v2010 Accounts resource over HTTP: the accounts a parent reads its subaccounts from, and the
account-scoped list that proves which account a key belongs to (see :mod:`reconciler.emulator.v2010`).

    AccountsApi(accounts, server._principal).register(app)    # the server's middleware authenticates first
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from reconciler.emulator import v2010
from reconciler.emulator.accounts import Accounts, EmulatorAccount, Principal
from reconciler.emulator.validation import ApiProblem
from reconciler.emulator.wire import JSON_HEADERS, json_response


class AccountsApi:
    """The handlers of ``/2010-04-01/Accounts…``; ``principal_of`` says whom a request speaks for."""

    def __init__(self, accounts: Accounts, principal_of: Callable[[web.Request], Principal]):
        self._accounts = accounts
        self._principal_of = principal_of

    def register(self, app: web.Application) -> None:
        app.router.add_get(v2010.ACCOUNTS_PATH, self.list_accounts, allow_head=False)
        app.router.add_get(v2010.ACCOUNT_PATH, self.fetch_account, allow_head=False)
        app.router.add_get(v2010.NUMBERS_PATH, self.list_numbers, allow_head=False)

    def _readable_accounts(self, request: web.Request) -> list[EmulatorAccount]:
        """The accounts these credentials may read; a 401 for a standard API key, as Twilio answers."""
        principal = self._principal_of(request)
        if not principal.reads_accounts:
            raise ApiProblem(401, 20003, "Authenticate")
        return self._accounts.visible(principal)

    async def list_accounts(self, request: web.Request) -> web.Response:
        visible = self._readable_accounts(request)
        text = v2010.accounts_page_json(visible, v2010.parse_accounts_query(request.query), self._accounts.dates)
        return web.Response(text=text, headers=JSON_HEADERS)

    async def fetch_account(self, request: web.Request) -> web.Response:
        sid = request.match_info["Sid"]
        account = next((a for a in self._readable_accounts(request) if a.sid == sid), None)
        if account is None:
            raise v2010.not_found(request.path)
        return json_response(v2010.render_account(account, self._accounts.dates))

    async def list_numbers(self, request: web.Request) -> web.Response:
        """Any credentials may list an account's numbers (a standard key too), for their own account or, for a
        parent's, a subaccount's; any other account's path is not found for them."""
        sid = request.match_info["Sid"]
        if all(a.sid != sid for a in self._accounts.visible(self._principal_of(request))):
            raise v2010.not_found(request.path)
        return json_response(v2010.numbers_page(sid, request.query))
