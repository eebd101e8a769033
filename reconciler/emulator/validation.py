"""Create and update bodies as the Senders API checks them, and the errors it answers with.

    fields = validate_body(body, create=True)   # {"configuration": {...}, "webhook": {...}, "profile": {...}}

Every refusal is an :class:`ApiProblem` naming the first offending field; the server turns it into
Twilio's ``{code, message, more_info, status}``. No HTTP here.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.models import (
    ACCOUNT_TYPES,
    CODE_NAME_DECLINED,
    CODE_NAME_IN_PROGRESS,
    DEFAULT_LABELS,
    LIST_ITEM_KEYS,
    MAX_NAME,
    SENDERS_PATH,
    STATUS_CALLBACK_METHODS,
    VERTICALS,
    WEBHOOK_METHODS,
)

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"

#: Error codes (docs/emulator.md lists them).
CODE_NOT_FOUND = 20404
CODE_INVALID_PARAMETER = 20001
CODE_VALIDATION = 63100
CODE_INVALID_WABA = 63101
#: 400: Meta declined the display name; the message carries Meta's reason (Twilio's error 63124).
CODE_DECLINED = CODE_NAME_DECLINED
#: 409: another display-name change is in Meta's review (Twilio's error 63128).
CODE_IN_PROGRESS = CODE_NAME_IN_PROGRESS
#: The message of 63128, as Twilio's error page words it.
IN_PROGRESS_MESSAGE = "A display name change is already in progress for this sender"

#: A sender's SID: ``XE`` and 32 hex digits.
SID_PATTERN = re.compile(r"^XE[0-9a-fA-F]{32}$")
_SENDER_ID = re.compile(r"^whatsapp:\+[1-9][0-9]{5,14}$")
_VOICE_APP_SID = re.compile(r"^AP[0-9a-fA-F]{32}$")
_WABA_ID = re.compile(r"^[0-9]{1,32}$")
_OTP = re.compile(r"^[0-9]{4,10}$")
_PHONE = re.compile(r"^\+[1-9][0-9]{5,14}$")

CONFIG_FIELDS = ("waba_id", "verification_method", "verification_code", "voice_application_sid", "account_type")
WEBHOOK_FIELDS = (
    "callback_url",
    "callback_method",
    "fallback_url",
    "fallback_method",
    "status_callback_url",
    "status_callback_method",
)
PROFILE_FIELDS = (
    "name",
    "about",
    "address",
    "description",
    "logo_url",
    "banner_url",
    "privacy_url",
    "terms_of_service_url",
    "accent_color",
    "vertical",
    "websites",
    "emails",
    "phone_numbers",
)
#: Accepted because the official SDK models it, but not part of the WhatsApp spec: stored, not echoed.
SDK_ONLY_PROFILE_FIELDS = ("use_case",)
#: Newer than the spec copy (twilio-python 9.11+, twilio-node 6.3): stored and echoed.
SDK_ONLY_TOP_FIELDS = ("friendly_name",)
TOP_FIELDS = ("sender_id", "configuration", "webhook", "profile")
LIST_FIELDS = tuple(LIST_ITEM_KEYS)  # emails, websites, phone_numbers
MAX_WEBSITES = 2

#: Each section of a body: its name, its fields, and the fields accepted beyond the spec.
SECTIONS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("configuration", CONFIG_FIELDS, ()),
    ("webhook", WEBHOOK_FIELDS, ()),
    ("profile", PROFILE_FIELDS, SDK_ONLY_PROFILE_FIELDS),
)

ENUMS: dict[str, tuple[str, ...]] = {
    "configuration.verification_method": ("sms", "voice"),
    "configuration.account_type": ACCOUNT_TYPES,
    "webhook.callback_method": WEBHOOK_METHODS,
    "webhook.fallback_method": WEBHOOK_METHODS,
    "webhook.status_callback_method": STATUS_CALLBACK_METHODS,
    "profile.vertical": VERTICALS,
}


class ApiProblem(Exception):
    """A request the API refuses: becomes ``{code, message, more_info, status}``."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": MORE_INFO.format(code=self.code),
            "status": self.status,
        }


def invalid(message: str, code: int = CODE_VALIDATION) -> ApiProblem:
    """A 400: the request names something the API does not accept."""
    return ApiProblem(400, code, message)


def declined(name: str, reason: str) -> ApiProblem:
    """A 400 / 63124: Meta declined ``name``, for ``reason``."""
    return ApiProblem(400, CODE_DECLINED, f"The display name {name!r} was declined by Meta: {reason}")


def in_progress() -> ApiProblem:
    """A 409 / 63128: another display-name change is in Meta's review."""
    return ApiProblem(409, CODE_IN_PROGRESS, IN_PROGRESS_MESSAGE)


def not_found(sid: str) -> ApiProblem:
    """A 404 for the sender ``sid``."""
    return ApiProblem(404, CODE_NOT_FOUND, f"The requested resource {SENDERS_PATH}/{sid} was not found")


def validate_body(body: Any, *, create: bool) -> dict[str, dict[str, Any]]:
    """Check a create or update body; return ``{section: {field: value}}`` of what it sets.

    Lists come back normalised. Raises :class:`ApiProblem` naming the first offending field.
    """
    if not isinstance(body, dict):
        raise invalid("Invalid request body: must be a JSON object")
    _check_top_level(body)
    out = {name: _check_section(name, body.get(name), fields, extra) for name, fields, extra in SECTIONS}
    _check_configuration(out["configuration"], create=create)
    name = out["profile"].get("name")
    if name is not None and not name.strip():
        raise invalid("Invalid value for profile.name: must be a non-empty string")
    if name is not None and len(name) > MAX_NAME:
        raise invalid(f"Invalid value for profile.name: display names are 1 to {MAX_NAME} characters", CODE_DECLINED)
    if create:
        _check_create(body, out["profile"])
    return out


def _check_top_level(body: dict[str, Any]) -> None:
    for key in body:
        if key not in TOP_FIELDS and key not in SDK_ONLY_TOP_FIELDS:
            raise invalid(f"Unknown field {key}")
    if "friendly_name" in body:
        _check_string("friendly_name", body["friendly_name"])


def _check_section(name: str, block: Any, fields: tuple[str, ...], extra: tuple[str, ...]) -> dict[str, Any]:
    """The fields one section sets, each checked; profile lists normalised."""
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise invalid(f"Invalid value for {name}: must be an object")
    for key in block:
        if key not in fields and key not in extra:
            raise invalid(f"Unknown field {name}.{key}")
    out: dict[str, Any] = {}
    for key, value in block.items():
        path = f"{name}.{key}"
        if name == "profile" and key in LIST_FIELDS:
            out[key] = _normalise_list(path, key, value)
        else:
            _check_string(path, value)
            out[key] = value
    return out


def _check_string(path: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise invalid(f"Invalid value for {path}: must be a string")
    if value is not None and path in ENUMS and value not in ENUMS[path]:
        allowed = ", ".join(repr(v) for v in ENUMS[path])
        raise invalid(f"Invalid value for {path}: {value!r} is not one of {allowed}")


def _check_configuration(cfg: dict[str, Any], *, create: bool) -> None:
    if cfg.get("waba_id") and not _WABA_ID.match(cfg["waba_id"]):
        raise invalid(
            f"Invalid value for configuration.waba_id: {cfg['waba_id']!r} is not a WABA ID", CODE_INVALID_WABA
        )
    vas = cfg.get("voice_application_sid")
    if vas and not _VOICE_APP_SID.match(vas):
        raise invalid(f"Invalid value for configuration.voice_application_sid: {vas!r} is not an AP SID")
    if cfg.get("verification_code") is not None:
        if create:
            raise invalid("configuration.verification_code can only be sent in an update, once the sender is created")
        if not _OTP.match(cfg["verification_code"]):
            raise invalid("Invalid value for configuration.verification_code: must be 4 to 10 digits")


def _check_create(body: dict[str, Any], profile: dict[str, Any]) -> None:
    """What only a create needs: a valid ``sender_id`` and a display name."""
    sender_id = body.get("sender_id")
    if sender_id is None:
        raise invalid("Missing required field sender_id")
    if not isinstance(sender_id, str) or not _SENDER_ID.match(sender_id):
        raise invalid(f"Invalid value for sender_id: {sender_id!r} must be 'whatsapp:' followed by an E.164 number")
    if not profile.get("name"):
        raise invalid("Missing required field profile.name")


def _normalise_list(path: str, field: str, value: Any) -> list[dict[str, str]] | None:
    """A list of plain strings or labelled objects → labelled objects with the default label filled in."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise invalid(f"Invalid value for {path}: must be a list")
    out = [_list_item(f"{path}[{i}]", field, item) for i, item in enumerate(value)]
    if field == "websites" and len(out) > MAX_WEBSITES:
        raise invalid(f"Invalid value for {path}: at most {MAX_WEBSITES} websites are allowed")
    return out


def _list_item(where: str, field: str, item: Any) -> dict[str, str]:
    """One item of ``emails``, ``websites`` or ``phone_numbers``, as a labelled object."""
    key = LIST_ITEM_KEYS[field]
    if isinstance(item, str):
        item = {key: item}
    if not isinstance(item, dict):
        raise invalid(f"Invalid value for {where}: must be a string or an object with {key!r} and 'label'")
    for k in item:
        if k not in (key, "label"):
            raise invalid(f"Unknown field {where}.{k}")
    text = item.get(key)
    if not isinstance(text, str) or not text:
        raise invalid(f"Invalid value for {where}.{key}: must be a non-empty string")
    label = item.get("label")
    if label is None:
        label = DEFAULT_LABELS[field]
    if not isinstance(label, str):
        raise invalid(f"Invalid value for {where}.label: must be a string")
    _check_list_text(where, field, text)
    return {key: text, "label": label}


def _check_list_text(where: str, field: str, text: str) -> None:
    if field == "emails" and "@" not in text:
        raise invalid(f"Invalid value for {where}.email: {text!r} is not an email address")
    if field == "websites" and not text.startswith(("http://", "https://")):
        raise invalid(f"Invalid value for {where}.website: {text!r} is not an http(s) URL")
    if field == "phone_numbers" and not _PHONE.match(text):
        raise invalid(f"Invalid value for {where}.phone_number: {text!r} is not an E.164 number")
