"""pydantic's validation errors → one sentence each, at its place in the data.

    try:
        SendersFile.model_validate(data)
    except ValidationError as exc:
        for message, path, key in validation_messages(exc):
            ...   # ("unknown key 'abuot'; did you mean 'about'?", ("senders", 0, "profile", "abuot"), True)

``key``: the message is about the key itself, not its value. A required key that is absent is placed
at the mapping that lacks it: its path ends with :data:`MISSING`.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from reconciler.config.reader import DataPath, short
from reconciler.models import (
    ACCOUNT_TYPES,
    STATUS_CALLBACK_METHODS,
    VERIFICATION_METHODS,
    VERTICALS,
    VERTICALS_SOURCE,
    WEBHOOK_METHODS,
    Configuration,
    DesiredSender,
    Email,
    PhoneNumber,
    Profile,
    Safety,
    SenderDefaults,
    SendersFile,
    Webhook,
    Website,
)

#: Ends the path of a required key that is absent.
MISSING = object()

NULL_HINT = "null is not allowed here: leave the field out to stop managing it, or use '' to clear it"

#: The model that holds the keys of a mapping, by the name of the nearest key above it.
_MODEL_BY_PARENT: dict[str, type[BaseModel]] = {
    "": SendersFile,
    "defaults": SenderDefaults,
    "senders": DesiredSender,
    "configuration": Configuration,
    "webhook": Webhook,
    "profile": Profile,
    "websites": Website,
    "emails": Email,
    "phone_numbers": PhoneNumber,
    "safety": Safety,
}

_CHOICES: dict[str, Sequence[str]] = {
    "verification_method": VERIFICATION_METHODS,
    "callback_method": WEBHOOK_METHODS,
    "fallback_method": WEBHOOK_METHODS,
    "status_callback_method": STATUS_CALLBACK_METHODS,
    "vertical": VERTICALS,
    "account_type": ACCOUNT_TYPES,
}
#: Where a list of choices comes from, when the message should say so.
_SOURCES: dict[str, str] = {"vertical": VERTICALS_SOURCE}

#: Errors pydantic reports for a null where a value is expected.
_NULL_KINDS = frozenset({"model_type", "dict_type", "string_type", "list_type", "value_error"})
_TYPE_KINDS = frozenset({"string_type", "list_type", "model_type", "dict_type", "model_attributes_type"})


def validation_messages(exc: ValidationError, reported: Set[DataPath] = frozenset()) -> list[tuple[str, DataPath, bool]]:
    """``(message, path, key)`` for each error, in pydantic's order.

    ``reported``: paths that already have a message (a value whose ``${VAR}`` could not be
    substituted); errors at or under them are left out, so each problem is told once.
    """
    out = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if reported and any(loc[:n] in reported for n in range(1, len(loc) + 1)):
            continue
        out.append(_sentence(error, loc))
    return out


def _sentence(error: ErrorDetails, loc: DataPath) -> tuple[str, DataPath, bool]:
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        return _unknown_key(loc), loc, True
    if kind == "missing":
        return f"{loc[-1]} is required", (*loc[:-1], MISSING), False
    if value is None and kind in _NULL_KINDS:
        return NULL_HINT, loc, False
    return _wording(error, kind, value, loc), loc, False


def _wording(error: ErrorDetails, kind: str, value: Any, loc: DataPath) -> str:
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        return _not_one_of(value, loc, str(ctx.get("expected", "")))
    if kind == "string_too_short":
        return f"{len(value)} characters; at least {ctx.get('min_length')} needed"
    if kind == "string_too_long":
        return f"{len(value)} characters; Meta allows at most {ctx.get('max_length')}"
    if kind == "too_long":
        return f"{len(value)} {loc[-1]}; Meta allows at most {ctx.get('max_length')}"
    if kind in _TYPE_KINDS:
        wanted = {"string_type": "a string", "list_type": "a list"}.get(kind, "a mapping")
        hint = " (quote it)" if kind == "string_type" and isinstance(value, (int, float, bool, date)) else ""
        return f"expected {wanted}, got {kind_of(value)}{hint}"
    message = str(error["msg"])
    return f"{short(value)}: {message[:1].lower()}{message[1:]}"


def _unknown_key(loc: DataPath) -> str:
    parent = next((p for p in reversed(loc[:-1]) if isinstance(p, str)), "")
    model = _MODEL_BY_PARENT.get(parent)
    key = loc[-1]
    if model is None:
        return f"unknown key {key!r}"
    known = list(model.model_fields)
    import difflib  # only for a message that suggests a name

    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r}; did you mean {close[0]!r}?"
    return f"unknown key {key!r}; expected one of: {', '.join(known)}"


def _not_one_of(value: Any, loc: DataPath, expected: str) -> str:
    choices = _CHOICES.get(str(loc[-1]))
    if choices is None:
        return f"{short(value)} is not one of {expected}"
    listed = ", ".join(repr(c) for c in choices)
    import difflib

    close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6) if isinstance(value, str) else []
    if isinstance(value, str) and not close:
        close = [c for c in choices if c.lower() == value.lower()]
    hint = f"; did you mean {close[0]!r}?" if close else ""
    source = _SOURCES.get(str(loc[-1]))
    listed += f" ({source})" if source else ""
    return f"{short(value)} is not one of {listed}{hint}"


def kind_of(value: Any) -> str:
    """What ``value`` is, for a message: ``a number (42)``, ``a list``, ``a date (2024-01-31)``."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({short(value)})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, date):  # YAML reads an unquoted 2024-01-31 as a date
        return f"a date ({value.isoformat()})"
    return f"a {type(value).__name__} ({short(value)})"
