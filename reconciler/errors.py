"""The one exception hierarchy of reconciler.

Lower layers convert foreign exceptions where they enter (``raise ApiError(...) from exc``);
the CLI catches :class:`ReconcilerError` once, prints ``str(error)`` and exits 1.
No message built here may contain a credential.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    """

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
    ):
        self.message = message
        self.status = status
        self.code = code
        self.more_info = more_info
        self.method = method
        self.url = url
        self.sender_id = sender_id
        self.outcome_unknown = outcome_unknown
        #: A write that timed out: the server may still apply it after any read the client makes now.
        self.may_land_later = False
        #: For a refusal of the credentials (401/403): the environment variables they came from, names only.
        self.credential_vars: tuple[str, ...] = ()
        #: The account it happened in (``AC… (name)``), when a run spans several.
        self.account: str | None = None
        super().__init__(self._render())

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

    def for_sender(self, sender_id: str) -> ApiError:
        """The same error, attributed to a sender."""
        copy = ApiError(
            self.message,
            status=self.status,
            code=self.code,
            more_info=self.more_info,
            method=self.method,
            url=self.url,
            sender_id=sender_id,
            outcome_unknown=self.outcome_unknown,
        )
        copy.may_land_later, copy.credential_vars = self.may_land_later, self.credential_vars
        copy.in_account(self.account)
        return copy

    def in_account(self, account: str | None) -> ApiError:
        """This error, attributed to an account (its label: ``AC… (name)``)."""
        self.account = account
        self.args = (self._render(),)
        return self

    @property
    def retryable(self) -> bool:
        """429, 5xx and transport failures (no status) are worth another try."""
        return self.status is None or self.status == 429 or self.status >= 500


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
