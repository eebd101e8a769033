"""Every account's senders and Messaging Services (a SenderStore and a ServiceStore each), and the state file
that holds them all.

    stores = AccountStores(accounts, state_file="state.json", transition_delay=2)   # loads the file if it exists
    customer = stores.add("Customer A")            # a subaccount and its (empty) stores; the file is written
    stores.store(customer.sid).create({...})       # the file is written after every change
    stores.services(customer.sid).add("Support")   # its Messaging Services and their pools

Version 2 is ``{"version": 2, "accounts": [{"sid", "friendly_name", "owner_account_sid", "status",
"date_created", "date_updated", "next_seq", "senders": [...], "services": [...]}, ...]}``, the parent first
(``services`` is optional: a file written before the emulator had services loads with none). An auth token
is saved only when it is not the one the emulator derives from the SID (one given in a seed file),
so a file of derived accounts holds no credential. Version 1, ``{"version": 1, "next_seq": N,
"senders": [...]}``, is the parent's senders. No HTTP here.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.emulator.accounts import Accounts, EmulatorAccount, derived_token
from reconciler.emulator.services import ServiceStore
from reconciler.emulator.store import SenderStore
from reconciler.fs import atomic_write

STATE_VERSION = 2


@dataclass(frozen=True)
class SavedAccount:
    """A subaccount as the state file holds it; ``senders`` is what ``SenderStore.load_state`` reads."""

    sid: str
    friendly_name: str
    auth_token: str | None
    status: str
    dates: tuple[float, float] | None
    senders: dict[str, Any]


def read_state(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[SavedAccount], str]:
    """The parent's senders, the subaccounts of a state file, and where the parent's entry is (for
    messages); raises ValueError (or OSError) naming what is wrong."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError('expected {"version": 2, "accounts": [...]}')
    if "accounts" not in data:  # the single-account format: the parent's senders
        return data, [], ""
    entries = data["accounts"]
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise ValueError('"accounts" must be a list of objects, the parent first')
    subaccounts = []
    for i, entry in enumerate(entries[1:], start=1):
        sid, name, status = entry.get("sid"), entry.get("friendly_name"), entry.get("status", "active")
        if not isinstance(sid, str) or not isinstance(name, str) or not isinstance(status, str):
            raise ValueError(f"accounts[{i}] needs 'sid', 'friendly_name' and 'status' as strings")
        created, updated = entry.get("date_created"), entry.get("date_updated")
        dates = (float(created), float(updated)) if _numbers(created, updated) else None
        token = entry.get("auth_token")
        subaccounts.append(SavedAccount(sid, name, token if isinstance(token, str) else None, status, dates, entry))
    return entries[0], subaccounts, "accounts[0]: "


def _numbers(*values: object) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


class StateFile:
    """Writes the state file from each account's description, senders and services, as they change.

    Each store hands over its content as JSON text made under its own lock; this class has a lock of
    its own and takes no store's, so stores changed on different threads cannot deadlock.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._accounts: dict[str, str] = {}  # sid -> the account's fields as JSON text, parent first
        self._senders: dict[str, str] = {}  # sid -> {"next_seq": N, "senders": [...]} as JSON text
        self._services: dict[str, str] = {}  # sid -> {"services": [...]} as JSON text

    def put_account(self, account: EmulatorAccount, dates: tuple[float, float], *, write: bool = True) -> None:
        fields: dict[str, Any] = {
            "sid": account.sid,
            "friendly_name": account.friendly_name,
            "owner_account_sid": account.owner_account_sid,
            "status": account.status,
            "date_created": dates[0],
            "date_updated": dates[1],
        }
        if account.auth_token != derived_token(account.sid) and not account.is_parent:
            fields["auth_token"] = account.auth_token
        with self._lock:
            self._accounts[account.sid] = json.dumps(fields)
            if write:
                self._write()

    def put_senders(self, sid: str, senders_json: str, *, write: bool = True) -> None:
        with self._lock:
            self._senders[sid] = senders_json
            if write:
                self._write()

    def put_services(self, sid: str, services_json: str, *, write: bool = True) -> None:
        with self._lock:
            self._services[sid] = services_json
            if write:
                self._write()

    def write(self) -> None:
        with self._lock:
            self._write()

    def _write(self) -> None:
        entries = []
        for sid, fields in self._accounts.items():
            senders = self._senders.get(sid, '{"next_seq": 0, "senders": []}')
            services = self._services.get(sid, '{"services": []}')
            # One object: the fields, then the senders, then the services.
            entries.append(fields[:-1] + ", " + senders[1:-1] + ", " + services[1:])
        text = f'{{"version": {STATE_VERSION}, "accounts": [\n' + ",\n".join(entries) + "\n]}\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, text)


class AccountStores:
    """A SenderStore and a ServiceStore per account of ``accounts``, saved together in ``state_file`` (if given),
    which is loaded first when it exists (raising ValueError or OSError naming what is wrong)."""

    def __init__(self, accounts: Accounts, *, state_file: str | os.PathLike[str] | None = None, **options: Any):
        self.accounts = accounts
        self._options = options  # SenderStore's: transition_delay, review_delay, clock
        self._base_url: str | None = None
        self._stores: dict[str, SenderStore] = {}
        self._services: dict[str, ServiceStore] = {}
        self._state = StateFile(state_file) if state_file else None
        self.parent = self._new_store(accounts.parent)
        if state_file and os.path.exists(state_file):
            self._load(state_file)

    def _new_store(self, account: EmulatorAccount) -> SenderStore:
        """The account's senders and its services, which a deleted sender leaves."""
        state, sid = self._state, account.sid
        on_save = None if state is None else (lambda store: state.put_senders(sid, store.state_json()))

        def on_delete(sender_sid: str) -> None:
            self._services[sid].forget_sender(sender_sid)

        store = self._stores[sid] = SenderStore(on_save=on_save, on_delete=on_delete, **self._options)
        on_services = None if state is None else (lambda services: state.put_services(sid, services.state_json()))
        clock = self._options.get("clock", time.time)
        services = self._services[sid] = ServiceStore(sid, store, on_save=on_services, clock=clock)
        if self._base_url:
            store.base_url = self._base_url
            services.set_base_url(self._base_url)
        if state is not None:
            state.put_account(account, self.accounts.dates(sid), write=False)
            state.put_senders(sid, store.state_json(), write=False)
            state.put_services(sid, services.state_json(), write=False)
        return store

    def _load(self, path: str | os.PathLike[str]) -> None:
        parent_senders, saved, where = read_state(path)
        parent_sid = self.accounts.parent.sid
        try:
            self.parent.load_state(parent_senders)
            self._services[parent_sid].load_state(parent_senders)
        except ValueError as exc:
            raise ValueError(f"{where}{exc}") from None
        for i, sub in enumerate(saved, start=1):
            try:
                account = self.accounts.add(
                    sub.friendly_name, sid=sub.sid, auth_token=sub.auth_token, status=sub.status, dates=sub.dates
                )
                self._new_store(account).load_state(sub.senders)
                self._services[account.sid].load_state(sub.senders)
            except ValueError as exc:
                raise ValueError(f"accounts[{i}]: {exc}") from None
        if self._state is not None:
            for sid, store in self._stores.items():
                self._state.put_senders(sid, store.state_json(), write=False)
                self._state.put_services(sid, self._services[sid].state_json(), write=False)

    def store(self, account: str | None) -> SenderStore:
        """The senders of ``account`` (None: the parent); KeyError for an unknown account."""
        return self.parent if account is None else self._stores[account]

    def holding(self, sid: str) -> SenderStore:
        """The store of the account that holds sender ``sid`` (the parent's when none does)."""
        return next((s for s in list(self._stores.values()) if s.get(sid) is not None), self.parent)

    def services(self, account: str | None) -> ServiceStore:
        """The Messaging Services of ``account`` (None: the parent); KeyError for an unknown account."""
        return self._services[self.accounts.parent.sid if account is None else account]

    def holding_service(self, sid: str) -> ServiceStore:
        """The services of the account that has service ``sid``; KeyError when none has."""
        found = next((s for s in list(self._services.values()) if s.get(sid) is not None), None)
        if found is None:
            raise KeyError(sid)
        return found

    def services_holding(self, sender_sid: str) -> list[str]:
        """The services (of whichever account) whose pool holds sender ``sender_sid``."""
        return [sid for services in list(self._services.values()) for sid in services.services_of(sender_sid)]

    def set_base_url(self, url: str) -> None:
        self._base_url = url
        for store in list(self._stores.values()):
            store.base_url = url
        for services in list(self._services.values()):
            services.set_base_url(url)

    def add(self, friendly_name: str, *, write: bool = True, **fields: Any) -> EmulatorAccount:
        """A new subaccount (see :meth:`Accounts.add`) with its own store."""
        account = self.accounts.add(friendly_name, **fields)
        self._new_store(account)
        if self._state is not None and write:
            self._state.write()
        return account

    def numbered(self, count: int) -> None:
        """Make sure "Subaccount 1" ... "Subaccount ``count``" exist; the state file is written once."""
        names = {a.friendly_name for a in self.accounts.all()}
        missing = [f"Subaccount {n}" for n in range(1, count + 1) if f"Subaccount {n}" not in names]
        for name in missing:
            self.add(name, write=False)
        if missing and self._state is not None:
            self._state.write()

    def set_status(self, sid: str, status: str) -> EmulatorAccount:
        account = self.accounts.set_status(sid, status)
        if self._state is not None:
            self._state.put_account(account, self.accounts.dates(sid))
        return account
