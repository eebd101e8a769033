"""The one exception hierarchy of reconciler.

Lower layers convert foreign exceptions where they enter (``raise ApiError(...) from exc``);
the CLI catches :class:`ReconcilerError` once, prints ``str(error)`` and exits 1.
No message built here may contain a credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ReconcilerError(Exception):
    """Base of every error reconciler reports to a user."""


@dataclass(frozen=True)
class Location:
    """Where in a desired-state file something stands (1-based line and column)."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.path
        if self.column is None:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class ConfigIssue:
    """One problem found in a desired-state file.

    >>> str(ConfigIssue(Location("senders.yaml", 12, 7), "profile.vertical: 'Spaceships' is not ...",
    ...     sender_id="whatsapp:+15017122661"))
    "senders.yaml:12:7: sender whatsapp:+15017122661: profile.vertical: 'Spaceships' is not ..."
    """

    location: Location
    message: str
    sender_id: str | None = None

    def __str__(self) -> str:
        who = f"sender {self.sender_id}: " if self.sender_id else ""
        return f"{self.location}: {who}{self.message}"


class ConfigError(ReconcilerError):
    """The desired-state file is invalid. Carries every issue found, not only the first."""

    def __init__(self, issues: list[ConfigIssue] | ConfigIssue):
        self.issues: tuple[ConfigIssue, ...] = (
            (issues,) if isinstance(issues, ConfigIssue) else tuple(issues)
        )
        super().__init__("\n".join(str(i) for i in self.issues))


class ApiError(ReconcilerError):
    """A failed call to the Senders API, with what Twilio said about it.

    ``outcome_unknown`` is true for a write (POST, DELETE) that may have been applied although it
    failed: it timed out, its connection dropped, the API answered 5xx, or a 2xx whose body could not
    be read. False for a read, and for a definite refusal (a 4xx, such as Twilio's 400 / 63100).

    An error is a value: built once with all it knows, never changed after. What a caller learns later
    (the sender, the account, where the credentials came from) goes on a copy, :meth:`with_context`:

    >>> err = ApiError("Authenticate", status=401, code=20003)
    >>> str(err.with_context(sender_id="whatsapp:+15017122661", account="AC1 (shop)"))
    'account AC1 (shop): sender whatsapp:+15017122661: [HTTP 401 / Twilio 20003] Authenticate'
    >>> err.sender_id is None
    True

    Subclasses set their own attributes before calling ``ApiError.__init__``, which ends the construction.
    """

    message: str
    status: int | None
    code: int | None
    more_info: str | None
    method: str | None
    url: str | None
    sender_id: str | None
    outcome_unknown: bool
    #: A write that timed out: the server may still apply it after any read the client makes now.
    may_land_later: bool
    #: For a refusal of the credentials (401/403): the environment variables they came from, names only.
    credential_vars: tuple[str, ...]
    #: The account it happened in (``AC… (name)``), when a run spans several.
    account: str | None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        more_info: str | None = None,
        method: str | None = None,
        url: str | None = None,
        sender_id: str | None = None,
        outcome_unknown: bool = False,
        may_land_later: bool = False,
        credential_vars: tuple[str, ...] = (),
        account: str | None = None,
    ):
        self.message = message
        self.status = status
        self.code = code
        self.more_info = more_info
        self.method = method
        self.url = url
        self.sender_id = sender_id
        self.outcome_unknown = outcome_unknown
        self.may_land_later = may_land_later
        self.credential_vars = tuple(credential_vars)
        self.account = account
        super().__init__(self._render())
        self._built = True

    def __setattr__(self, name: str, value: object) -> None:
        # Python's own bookkeeping (__traceback__, __cause__, __notes__ ...) stays writable.
        if "_built" in self.__dict__ and not (name.startswith("__") and name.endswith("__")):
            raise AttributeError(f"an ApiError is not changed once built: use with_context() for a copy ({name})")
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if "_built" in self.__dict__ and not (name.startswith("__") and name.endswith("__")):
            raise AttributeError(f"an ApiError is not changed once built ({name})")
        super().__delattr__(name)

    def __reduce__(self) -> tuple[Any, ...]:
        # copy and pickle rebuild it through __init__ rather than by setting attributes one by one.
        return (_rebuilt_api_error, (self.message, self._fields()))

    def _fields(self) -> dict[str, Any]:
        """The keyword arguments that build an equal error."""
        return {
            "status": self.status, "code": self.code, "more_info": self.more_info, "method": self.method,
            "url": self.url, "sender_id": self.sender_id, "outcome_unknown": self.outcome_unknown,
            "may_land_later": self.may_land_later, "credential_vars": self.credential_vars, "account": self.account,
        }

    def _render(self) -> str:
        parts = []
        if self.account:
            parts.append(f"account {self.account}:")
        if self.sender_id:
            parts.append(f"sender {self.sender_id}:")
        if self.status is not None or self.code is not None:
            tag = "HTTP " + str(self.status) if self.status is not None else "error"
            if self.code is not None:
                tag += f" / Twilio {self.code}"
            parts.append(f"[{tag}]")
        parts.append(self.message)
        if self.method and self.url:
            parts.append(f"({self.method} {self.url})")
        if self.more_info:
            parts.append(f"see {self.more_info}")
        return " ".join(parts)

    def with_context(
        self,
        *,
        sender_id: str | None = None,
        account: str | None = None,
        credential_vars: tuple[str, ...] | None = None,
        may_land_later: bool | None = None,
        outcome_unknown: bool | None = None,
        attempts: int | None = None,
    ) -> ApiError:
        """A copy of this error (a plain :class:`ApiError`) with what the caller knows besides: each argument
        given replaces the error's own value, the others are kept. ``attempts``: how many times the request was
        sent, said after the message."""
        fields = self._fields()
        given = {"sender_id": sender_id, "account": account, "credential_vars": credential_vars,
                 "may_land_later": may_land_later, "outcome_unknown": outcome_unknown}
        fields.update((name, value) for name, value in given.items() if value is not None)
        message = self.message if attempts is None else f"{self.message} (after {attempts} attempts)"
        return ApiError(message, **fields)


def _rebuilt_api_error(message: str, fields: dict[str, Any]) -> ApiError:
    return ApiError(message, **fields)


class CredentialsError(ReconcilerError):
    """Credentials are missing, or would be sent where they must not go."""


class AccountError(ReconcilerError):
    """An account the files name cannot be reached: not found, not active, or no credentials for it."""


@dataclass(frozen=True)
class SafetyViolation:
    """A safety threshold a plan crosses: it would ``kind`` ``count`` of ``total`` senders, over ``limit`` %."""

    kind: str
    count: int
    total: int
    limit: float
    #: The account's label, in a run of several.
    account: str | None = None

    @property
    def percent(self) -> float:
        return 100.0 * self.count / self.total

    def __str__(self) -> str:
        where = f"account {self.account}: " if self.account else ""
        return f"{where}would {self.kind} {self.count} of {self.total} senders ({self.percent:.0f} % > {self.limit:g} %)"


class UnsafePlanError(ReconcilerError):
    """The plan changes more than the safety thresholds allow; the caller may force it."""

    def __init__(self, violations: tuple[SafetyViolation, ...], *, saved: bool | None = None):
        self.violations = violations
        #: For a plan being saved: False when no plan file was written because of it.
        self.saved = saved
        super().__init__("; ".join(str(v) for v in violations))


class StalePlanError(ReconcilerError):
    """A saved plan no longer matches live state; nothing was changed."""


class PlanFileError(ReconcilerError):
    """A saved plan file cannot be read, or was edited after it was written."""


class ApplyRefused(ReconcilerError):
    """Apply was not confirmed (no terminal and no --auto-approve, or the answer was not yes)."""


class OutputError(ReconcilerError):
    """An output file (saved plan, export) cannot be written where it was asked for."""


class Interrupted(ReconcilerError):
    """A person or a signal stopped the run; the message says whether anything may have been changed."""
