"""The emulator's accounts: a parent, its subaccounts, their credentials, and whom a request speaks for.

    accounts = Accounts(EmulatorAccount(sid, token, "Parent account", sid), check=True)
    customer = accounts.add("Customer A")            # SID and token derived: the same on every run
    accounts.add_key(customer.sid, "SK…", "secret")  # a standard key of that subaccount
    claimed, principal = accounts.authenticate(request.headers.get("Authorization", ""))

As at Twilio, the credentials alone pick the account: an account SID with its auth token, or an API
key with its secret (a key belongs to one account). No HTTP here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

#: An account's SID: ``AC`` and 32 hex digits.
ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
STATUSES = ("active", "suspended", "closed")
#: What Twilio allows for a friendly name.
MAX_NAME = 64
PARENT_NAME = "Parent account"

AUTH_TOKEN = "auth token"
MAIN_KEY = "main key"
STANDARD_KEY = "standard key"


@dataclass(frozen=True)
class EmulatorAccount:
    """One emulated account, as the v2010 Accounts resource shows it."""

    sid: str  # "AC" + 32 hex
    auth_token: str  # 32 hex when derived
    friendly_name: str
    owner_account_sid: str  # the parent's sid; for the parent itself, its own sid
    status: str = "active"  # "active" | "suspended" | "closed"

    @property
    def is_parent(self) -> bool:
        return self.owner_account_sid == self.sid


@dataclass(frozen=True)
class Principal:
    """Whom a request speaks for: an account, and the kind of credential (``AUTH_TOKEN``, ``MAIN_KEY``,
    ``STANDARD_KEY``). A standard key cannot read the Accounts resource; a main key acts as the token."""

    account: EmulatorAccount
    kind: str

    @property
    def reads_accounts(self) -> bool:
        return self.kind != STANDARD_KEY


@dataclass(frozen=True)
class _Key:
    account_sid: str
    secret: str
    main: bool

    @property
    def kind(self) -> str:
        return MAIN_KEY if self.main else STANDARD_KEY


def _derived_hex(*parts: str) -> str:
    return hashlib.sha256("\x00".join(("reconciler-emulator", *parts)).encode()).hexdigest()[:32]


def default_parent_sid() -> str:
    """The parent's SID when none is configured: always the same, so runs and their subaccounts agree."""
    return "AC" + _derived_hex("parent")


def subaccount_sid(parent_sid: str, index: int) -> str:
    """The SID the ``index``-th subaccount (from 1) of ``parent_sid`` gets when none is given."""
    return "AC" + _derived_hex(parent_sid, "subaccount", str(index))


def derived_token(sid: str) -> str:
    """The auth token an account gets when none is given. A test credential, not a secret: keep the
    emulator on loopback."""
    return _derived_hex(sid, "auth_token")


def _basic(header: str) -> tuple[str, str | None] | None:
    """``(user, password)`` of a Basic ``Authorization`` header (password None without a colon); None if
    it is not one."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, (password if sep else None)


def _same(given: str, expected: str) -> bool:
    """Compare secrets in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


class Accounts:
    """The parent and its subaccounts (parent first, then in creation order) and the API keys.

    ``check=False``: no credentials were configured, so passwords are not checked: a Basic user that
    is a known account SID (or key SID) speaks for that account, anything else for the parent.
    ``parent_token``: whether the parent's auth token is accepted (it is not when only a key was
    configured). Thread-safe: the server's event loop and test hooks share it.
    """

    def __init__(
        self,
        parent: EmulatorAccount,
        *,
        check: bool,
        parent_token: bool = True,
        clock: Callable[[], float] = time.time,
    ):
        if not ACCOUNT_SID.match(parent.sid):
            raise ValueError(f"account SID {parent.sid!r} must be 'AC' followed by 32 hex digits")
        self.check = check
        self._parent_token = parent_token
        self._clock = clock
        self._lock = threading.Lock()
        self._parent_sid = parent.sid
        self._accounts: dict[str, EmulatorAccount] = {parent.sid: parent}
        now = clock()
        self._dates: dict[str, tuple[float, float]] = {parent.sid: (now, now)}
        self._keys: dict[str, _Key] = {}

    @property
    def parent(self) -> EmulatorAccount:
        with self._lock:
            return self._accounts[self._parent_sid]

    def all(self) -> list[EmulatorAccount]:
        with self._lock:
            return list(self._accounts.values())

    def get(self, sid: str) -> EmulatorAccount | None:
        with self._lock:
            return self._accounts.get(sid)

    def dates(self, sid: str) -> tuple[float, float]:
        """``(created, updated)`` of an account, in seconds since the epoch."""
        with self._lock:
            return self._dates[sid]

    # ------------------------------------------------------------------ changes

    def add(
        self,
        friendly_name: str,
        *,
        sid: str | None = None,
        auth_token: str | None = None,
        status: str = "active",
        dates: tuple[float, float] | None = None,
    ) -> EmulatorAccount:
        """A new subaccount of the parent; raises ValueError naming what is wrong."""
        _check_new_account(friendly_name, sid, auth_token, status)
        with self._lock:
            if sid is None:
                sid = self._next_subaccount_sid()
            elif sid in self._accounts:
                raise ValueError(f"account {sid} exists already")
            account = EmulatorAccount(sid, auth_token or derived_token(sid), friendly_name, self._parent_sid, status)
            self._accounts[sid] = account
            now = self._clock()
            self._dates[sid] = dates or (now, now)
            return account

    def _next_subaccount_sid(self) -> str:
        """The derived SID of the next subaccount: numbered after the accounts so far, skipping SIDs in use.
        Call with the lock held."""
        index = len(self._accounts)  # the parent and the subaccounts before: this one's number
        while subaccount_sid(self._parent_sid, index) in self._accounts:
            index += 1
        return subaccount_sid(self._parent_sid, index)

    def add_key(self, account_sid: str, key_sid: str, secret: str, *, main: bool = False) -> None:
        """An API key of ``account_sid``: a main key acts as its auth token, a standard one cannot read
        the Accounts resource."""
        if not key_sid or not secret:
            raise ValueError("an API key needs its SID and its secret")
        with self._lock:
            if account_sid not in self._accounts:
                raise ValueError(f"no account {account_sid}")
            if key_sid in self._accounts or (key_sid in self._keys and self._keys[key_sid].account_sid != account_sid):
                raise ValueError(f"{key_sid} is another account's already")
            self._keys[key_sid] = _Key(account_sid, secret, main)

    def set_status(self, sid: str, status: str) -> EmulatorAccount:
        """Suspend, close or reactivate an account; raises KeyError for an unknown SID."""
        _check_status(status)
        with self._lock:
            account = replace(self._accounts[sid], status=status)
            self._accounts[sid] = account
            self._dates[sid] = (self._dates[sid][0], self._clock())
            return account

    # ------------------------------------------------------------------ requests

    def authenticate(self, header: str) -> tuple[str, Principal | None]:
        """The SID of the account a request claims (for its concurrency limit) and whom it speaks for,
        or None when it is refused: wrong credentials, or an account that is not active."""
        user, password = _basic(header) or (None, None)
        with self._lock:
            key, account = self._named_by(user)
            claimed = account or self._accounts[self._parent_sid]  # an unknown user claims the parent
            if self.check and not self._proven(key, account, password):
                return claimed.sid, None
            principal = Principal(claimed, key.kind if key else AUTH_TOKEN)
            return claimed.sid, principal if self._active(claimed) else None

    def _named_by(self, user: str | None) -> tuple[_Key | None, EmulatorAccount | None]:
        """The API key and the account a Basic user names (a key names its own account), each None when
        unknown. Call with the lock held."""
        key = self._keys.get(user) if user else None
        return key, self._accounts.get(key.account_sid if key else user or "")

    def _proven(self, key: _Key | None, account: EmulatorAccount | None, password: str | None) -> bool:
        """Whether ``password`` proves the credential: the key's secret, or else the account's auth token
        (the parent's only when it is accepted). Compared in constant time."""
        if password is None or account is None:
            return False
        if key is not None:
            return _same(password, key.secret)
        return _same(password, account.auth_token) and (not account.is_parent or self._parent_token)

    def _active(self, account: EmulatorAccount) -> bool:
        """Whether an account may be used: itself and its parent active, as a suspended parent at Twilio
        suspends its subaccounts. Call with the lock held."""
        return account.status == "active" and self._accounts[account.owner_account_sid].status == "active"

    def visible(self, principal: Principal) -> list[EmulatorAccount]:
        """The accounts these credentials may read: the parent's see every account, a subaccount's only itself."""
        if principal.account.is_parent:
            return self.all()
        current = self.get(principal.account.sid)
        return [current] if current is not None else []


def _check_new_account(friendly_name: object, sid: object, auth_token: object, status: object) -> None:
    """Raise ValueError naming what is wrong with a new subaccount's fields (``sid`` and ``auth_token``: None
    to derive them)."""
    if not isinstance(friendly_name, str) or not friendly_name or len(friendly_name) > MAX_NAME:
        raise ValueError(f"friendly_name must be a string of 1 to {MAX_NAME} characters")
    if sid is not None and (not isinstance(sid, str) or not ACCOUNT_SID.match(sid)):
        raise ValueError(f"sid {sid!r} must be 'AC' followed by 32 hex digits")
    if auth_token is not None and (not isinstance(auth_token, str) or not auth_token):
        raise ValueError("auth_token must be a non-empty string")
    _check_status(status)


def _check_status(status: object) -> None:
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
