"""pydantic's validation errors → one sentence each, at its place in the data.

    try:
        SendersFile.model_validate(data)
    except ValidationError as exc:
        for said in validation_messages(exc, origin_of=interpolation.origin):
            ...   # Message("unknown key 'abuot'; did you mean 'about'?", ("senders", 0, "profile", "abuot"), True)
                  # Message("not an absolute http(s) URL", (..., "callback_url"), False, "${HOOKS}")

``key``: the message is about the key itself, not its value. A required key that is absent is placed
at the mapping that lacks it: its path ends with :data:`MISSING`. A value that came from ``${...}``
(or a mapping or list holding one) is never quoted: the message says what was expected, and ``origin``
names the references, for the loader to show beside the field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Set
from datetime import date
from typing import Any, NamedTuple

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

#: What a field's validator expects, said without the value (for a value from ``${...}``), by the field's name.
_URL = "not an absolute http(s) URL"
_EXPECTED: dict[str, str] = {
    "sender_id": "not 'whatsapp:' followed by a valid phone number in E.164 form, e.g. 'whatsapp:+15017122661'",
    "ignore": "not a sender id as the API lists it: 'whatsapp:' followed by a number, e.g. 'whatsapp:+15017122661'",
    "protect": "not a sender id as the API lists it: 'whatsapp:' followed by a number, e.g. 'whatsapp:+15017122661'",
    "account": "not an account SID: 'AC' followed by 32 hex digits in lower case, as the Twilio Console shows it",
    "callback_url": _URL, "fallback_url": _URL, "status_callback_url": _URL, "logo_url": _URL, "banner_url": _URL,
    "privacy_url": _URL, "terms_of_service_url": _URL, "website": _URL,
    "email": "not an email address Meta accepts",
    "phone_number": "not a valid phone number in E.164 form, e.g. '+15017122661'",
    "waba_id": "must be digits",
    "voice_application_sid": "must be 'AP' followed by 32 hex digits, or ''",
    "accent_color": "must be a hex colour like '#0A84FF', or ''",
}
#: Kinds of error whose pydantic message never holds the value.
_VALUE_FREE_KINDS = frozenset({
    "int_parsing", "int_from_float", "int_type", "float_parsing", "float_type", "bool_parsing", "bool_type",
    "finite_number", "greater_than", "greater_than_equal", "less_than", "less_than_equal", "multiple_of",
})


class Message(NamedTuple):
    text: str
    path: DataPath
    key: bool = False
    #: The ``${...}`` references the value came from; the text then does not quote it.
    origin: str | None = None


def validation_messages(
    exc: ValidationError, reported: Set[DataPath] = frozenset(),
    origin_of: Callable[[DataPath], str | None] | None = None,
) -> list[Message]:
    """One :class:`Message` for each error, in pydantic's order.

    ``reported``: paths that already have a message (a value whose ``${VAR}`` could not be
    substituted); errors at or under them are left out, so each problem is told once. ``origin_of``:
    the ``${...}`` references behind the value at a path, if any (``Interpolation.origin``).
    """
    out = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if reported and any(loc[:n] in reported for n in range(1, len(loc) + 1)):
            continue
        out.append(_sentence(error, loc, origin_of(loc) if origin_of else None))
    return out


def _sentence(error: ErrorDetails, loc: DataPath, origin: str | None = None) -> Message:
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        return Message(_unknown_key(loc), loc, True)
    if kind == "missing":
        return Message(f"{loc[-1]} is required", (*loc[:-1], MISSING))
    if value is None and kind in _NULL_KINDS:
        return Message(NULL_HINT, loc)
    if origin is not None:
        return Message(_expected(error, kind, value, loc), loc, origin=origin)
    return Message(_wording(error, kind, value, loc), loc)


def _expected(error: ErrorDetails, kind: str, value: Any, loc: DataPath) -> str:
    """What was expected, never the value (it came from ``${...}``, and may be anything the environment holds)."""
    ctx = error.get("ctx") or {}
    name = next((str(step) for step in reversed(loc) if isinstance(step, str)), "")
    if kind == "value_error":
        return _EXPECTED.get(name, "not a valid value here")
    if kind == "literal_error":
        choices = _CHOICES.get(name)
        listed = ", ".join(repr(c) for c in choices) if choices else str(ctx.get("expected", ""))
        source = _SOURCES.get(name)
        return f"not one of {listed}" + (f" ({source})" if source else "")
    if kind == "string_too_short":
        return f"too short: at least {ctx.get('min_length')} characters needed"
    if kind == "string_too_long":
        return f"too long: Meta allows at most {ctx.get('max_length')} characters"
    if kind == "too_long" and isinstance(value, list):  # a count of items, not their values
        return f"{len(value)} {loc[-1]}; Meta allows at most {ctx.get('max_length')}"
    if kind in _TYPE_KINDS:
        wanted = {"string_type": "a string", "list_type": "a list"}.get(kind, "a mapping")
        return f"expected {wanted}, got {kind_of(value).split(' (')[0]}"
    if kind in _VALUE_FREE_KINDS:
        message = str(error["msg"])
        return f"{message[:1].lower()}{message[1:]}"
    return "not a valid value here"


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
