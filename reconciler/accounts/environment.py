"""Credentials from the environment, and the names of the variables they came from (never their values).

    given = main_credentials(os.environ)          # TWILIO_ACCOUNT_SID with a token or an API key
    own = account_credentials("AC…", os.environ)  # TWILIO_AUTH_TOKEN_AC… or TWILIO_API_KEY_AC… + secret

What is found here is only *claimed* for an account: :mod:`reconciler.accounts.reach` proves it before
any request reads or writes with it. An auth token proves itself (it is issued for the account whose SID
is its user name); an API key does not say whose it is, so ``TWILIO_ACCOUNT_SID`` must name the account
it is given for, as Twilio's own SDKs require.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.auth import Credentials
from reconciler.errors import CredentialsError
from reconciler.models import ACCOUNT_SID, account_sid_problem

#: Per-account credentials: these names followed by ``_`` and the account SID.
ACCOUNT_TOKEN_PREFIX = "TWILIO_AUTH_TOKEN_"
ACCOUNT_KEY_PREFIX = "TWILIO_API_KEY_"
ACCOUNT_SECRET_PREFIX = "TWILIO_API_SECRET_"
#: Every variable whose value is a secret of the tool's (the plan key is read in :mod:`reconciler.planfile`).
SECRET_VARIABLES = ("TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET", "RECONCILER_PLAN_KEY")


@dataclass(frozen=True)
class Given:
    """Credentials claimed for ``account_sid``, and the variables they came from (for a refusal's message)."""

    account_sid: str
    credentials: Credentials = field(repr=False)
    variables: tuple[str, ...]

    @property
    def is_key(self) -> bool:
        """An API key (``SK…``): which account it belongs to must be proven with a request."""
        return self.credentials.username != self.account_sid


def main_credentials(environ: Mapping[str, str] | None = None) -> Given:
    """The environment's credentials, as Twilio's tools read them: an API key pair takes precedence over the
    auth token, and either needs ``TWILIO_ACCOUNT_SID`` (a key alone does not say which account it is in)."""
    env = os.environ if environ is None else environ
    sid = _sid(env.get("TWILIO_ACCOUNT_SID") or None)
    key, key_secret = env.get("TWILIO_API_KEY"), env.get("TWILIO_API_SECRET")
    token = env.get("TWILIO_AUTH_TOKEN")
    if key or key_secret:
        if not (key and key_secret):
            other = "TWILIO_API_SECRET" if key else "TWILIO_API_KEY"
            raise CredentialsError(f"{other} is not set (TWILIO_API_KEY and TWILIO_API_SECRET go together)")
        if sid is None:
            raise CredentialsError(
                "TWILIO_ACCOUNT_SID is not set: an API key does not say which account it belongs to, so give that "
                "account's SID in TWILIO_ACCOUNT_SID (the key is checked to belong to it before it is used)")
        return Given(sid, Credentials(key, key_secret, sid), ("TWILIO_API_KEY", "TWILIO_API_SECRET"))
    if sid and token:
        return Given(sid, Credentials(sid, token, sid), ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"))
    missing = [name for name, value in (("TWILIO_ACCOUNT_SID", sid), ("TWILIO_AUTH_TOKEN", token)) if not value]
    raise CredentialsError(
        f"no Twilio credentials: set {' and '.join(missing)} "
        "(or TWILIO_API_KEY and TWILIO_API_SECRET with TWILIO_ACCOUNT_SID)"
    )


def given_credentials(credentials: Credentials) -> Given:
    """Credentials a program gives directly, for the account their ``account_sid`` names."""
    sid = _sid(credentials.account_sid)
    if sid is None:
        raise CredentialsError("the credentials name no account: give their account_sid")
    return Given(sid, credentials, ())


def _sid(value: str | None) -> str | None:
    """``TWILIO_ACCOUNT_SID`` as Twilio writes SIDs; any other spelling would name one account twice."""
    if value is None or ACCOUNT_SID.match(value):
        return value
    raise CredentialsError(account_sid_problem(value))



def account_credentials(account_sid: str, environ: Mapping[str, str] | None = None) -> Given | None:
    """An account's own credentials from the environment; None when not given.

    ``TWILIO_API_KEY_<SID>`` with ``TWILIO_API_SECRET_<SID>`` (taking precedence, as for the main
    credentials), or ``TWILIO_AUTH_TOKEN_<SID>``. The SID in the name is matched in any case, as CI
    systems often upper-case secret names. For many accounts, :class:`AccountVariables` reads the
    environment once.
    """
    return AccountVariables(environ).of(account_sid)


class AccountVariables:
    """The environment's per-account credentials, gathered in one pass: :func:`account_credentials` for each of
    1,000 accounts read the whole environment 1,000 times."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        env = os.environ if environ is None else environ
        self._found: dict[str, list[tuple[str, str, str]]] = {}  # SID upper-cased → (prefix, name, value)
        for name, value in env.items():
            for prefix in (ACCOUNT_TOKEN_PREFIX, ACCOUNT_KEY_PREFIX, ACCOUNT_SECRET_PREFIX):
                if name.startswith(prefix) and value:
                    self._found.setdefault(name[len(prefix):].upper(), []).append((prefix, name, value))

    def of(self, account_sid: str) -> Given | None:
        """:func:`account_credentials` of ``account_sid``."""
        found: dict[str, tuple[str, str]] = {}
        for prefix, name, value in self._found.get(account_sid.upper(), ()):
            if prefix in found:
                raise CredentialsError(f"{found[prefix][0]} and {name} both give {prefix}{account_sid}: keep one")
            found[prefix] = (name, value)
        key, secret = found.get(ACCOUNT_KEY_PREFIX), found.get(ACCOUNT_SECRET_PREFIX)
        if key and secret:
            return Given(account_sid, Credentials(key[1], secret[1], account_sid), (key[0], secret[0]))
        if key or secret:
            have, other = (key, ACCOUNT_SECRET_PREFIX) if key else (secret, ACCOUNT_KEY_PREFIX)
            assert have is not None
            raise CredentialsError(f"{have[0]} is set but {other}{account_sid} is not: an API key and its secret go "
                                   "together")
        token = found.get(ACCOUNT_TOKEN_PREFIX)
        if token:
            return Given(account_sid, Credentials(account_sid, token[1], account_sid), (token[0],))
        return None


def secret_of(environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """The main credentials' secret and the variable it came from (a saved plan's default signing key); None
    when the environment gives none."""
    try:
        given = main_credentials(environ)
    except CredentialsError:
        return None
    return given.credentials.secret, given.variables[-1]
