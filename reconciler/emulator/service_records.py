"""Messaging v1 resources as Twilio shows them: a Messaging Service, a ChannelSender (one sender in one
service's pool), the form a service is created from, and the errors of adding a sender. No HTTP here.

    fields = service_form({"FriendlyName": "Support line", "StickySender": "false"})   # checked settings
    render_service(rec, account_sid, base_url)       # every field of the spec's examples, links included
    render_channel_sender(member, account_sid, service_sid, base_url)

A service record is ``{"sid", "friendly_name", "settings": {...}, "date_created", "date_updated",
"_emulator": {"seq"}}`` (dates in seconds since the epoch); a membership record is ``{"sid" (the sender's
XE SID), "sender" ("whatsapp:+…"), "date_created", "date_updated", "_emulator": {"seq"}}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import phonenumbers

from reconciler.emulator.records import iso
from reconciler.emulator.validation import CODE_INVALID_PARAMETER, CODE_NOT_FOUND, ApiProblem, invalid

SERVICES_PATH = "/v1/Services"
SERVICE_PATH = "/v1/Services/{Sid}"
CHANNEL_SENDERS_PATH = "/v1/Services/{MessagingServiceSid}/ChannelSenders"
CHANNEL_SENDER_PATH = "/v1/Services/{MessagingServiceSid}/ChannelSenders/{Sid}"
#: A Messaging Service's SID: ``MG`` and 32 hex digits.
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
#: "It can be up to 64 characters long" (the create parameter's description).
MAX_FRIENDLY_NAME = 64

#: 409: the sender is in this service already (Twilio's 21710, documented for numbers; 409 as recorded for them).
CODE_ALREADY_IN_SERVICE = 21710
#: 409: the sender is in another service (Twilio's 21712, "associated with another Messaging Service").
CODE_IN_ANOTHER_SERVICE = 21712

#: The service settings the create form takes: form name -> (field, kind, default). ``kind`` is "text", "bool",
#: "int" or a tuple of allowed values; the defaults are Twilio's documented ones.
SETTINGS: dict[str, tuple[str, Any, Any]] = {
    "InboundRequestUrl": ("inbound_request_url", "text", None),
    "InboundMethod": ("inbound_method", ("GET", "POST"), "POST"),
    "FallbackUrl": ("fallback_url", "text", None),
    "FallbackMethod": ("fallback_method", ("GET", "POST"), "POST"),
    "StatusCallback": ("status_callback", "text", None),
    "StickySender": ("sticky_sender", "bool", True),
    "MmsConverter": ("mms_converter", "bool", True),
    "SmartEncoding": ("smart_encoding", "bool", True),
    "FallbackToLongCode": ("fallback_to_long_code", "bool", False),
    "AreaCodeGeomatch": ("area_code_geomatch", "bool", True),
    "ValidityPeriod": ("validity_period", "int", 36000),
    "ScanMessageContent": ("scan_message_content", ("inherit", "enable", "disable"), "inherit"),
    "SynchronousValidation": ("synchronous_validation", "bool", False),
    "Usecase": ("usecase", "text", "undeclared"),
    "UseInboundWebhookOnNumber": ("use_inbound_webhook_on_number", "bool", False),
}
#: Where the settings go in a service's representation (the order of the spec's examples).
_FIELD_ORDER = (
    "inbound_request_url", "inbound_method", "fallback_url", "fallback_method", "status_callback", "sticky_sender",
    "mms_converter", "smart_encoding", "fallback_to_long_code", "area_code_geomatch", "validity_period",
    "scan_message_content", "synchronous_validation", "usecase", "us_app_to_person_registered",
    "use_inbound_webhook_on_number",
)  # fmt: skip
#: ``links`` of a service: name -> path under the service, as in the spec's examples.
LINKS = {
    "phone_numbers": "PhoneNumbers", "short_codes": "ShortCodes", "alpha_senders": "AlphaSenders",
    "messages": "Messages", "us_app_to_person": "Compliance/Usa2p",
    "us_app_to_person_usecases": "Compliance/Usa2p/Usecases", "channel_senders": "ChannelSenders",
    "destination_alpha_senders": "DestinationAlphaSenders",
}  # fmt: skip
_MAX_VALIDITY = 36000


def default_settings() -> dict[str, Any]:
    return {field: default for field, _, default in SETTINGS.values()}


def check_friendly_name(name: object) -> str:
    """``name`` if it is a service's friendly name (1 to 64 characters); raises ValueError otherwise."""
    if not isinstance(name, str) or not name or len(name) > MAX_FRIENDLY_NAME:
        raise ValueError(f"friendly_name must be a string of 1 to {MAX_FRIENDLY_NAME} characters")
    return name


def service_form(form: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The friendly name and the settings of a create form; a 400 / 20001 naming the first bad parameter.

    Parameters the create operation does not take are ignored, as form APIs do.
    """
    name = form.get("FriendlyName")
    if name is None:
        raise invalid("Missing required parameter FriendlyName in the post body", CODE_INVALID_PARAMETER)
    try:
        check_friendly_name(name)
    except ValueError:
        raise invalid(f"Invalid parameter FriendlyName: 1 to {MAX_FRIENDLY_NAME} characters", CODE_INVALID_PARAMETER) from None
    settings = {}
    for param, (field, kind, _) in SETTINGS.items():
        if param in form:
            settings[field] = _setting(param, kind, form[param])
    return name, settings


def _setting(param: str, kind: Any, text: str) -> Any:
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise invalid(f"Invalid parameter {param}: {text!r} is not true or false", CODE_INVALID_PARAMETER)
        return text.lower() == "true"
    if kind == "int":
        if not text.isdigit() or not 1 <= int(text) <= _MAX_VALIDITY:
            raise invalid(f"Invalid parameter {param}: must be an integer from 1 to {_MAX_VALIDITY}", CODE_INVALID_PARAMETER)
        return int(text)
    if isinstance(kind, tuple) and text not in kind:
        allowed = ", ".join(kind)
        raise invalid(f"Invalid parameter {param}: {text!r} is not one of {allowed}", CODE_INVALID_PARAMETER)
    return text


def service_url(base_url: str, sid: str) -> str:
    return f"{base_url}{SERVICES_PATH}/{sid}"


def render_service(rec: dict[str, Any], account_sid: str, base_url: str) -> dict[str, Any]:
    """A service as ``GET /v1/Services/{Sid}`` shows it."""
    url = service_url(base_url, rec["sid"])
    settings = {**default_settings(), "us_app_to_person_registered": False, **rec["settings"]}
    return {
        "account_sid": account_sid,
        "sid": rec["sid"],
        "date_created": iso(rec["date_created"]),
        "date_updated": iso(rec["date_updated"]),
        "friendly_name": rec["friendly_name"],
        **{field: settings[field] for field in _FIELD_ORDER},
        "links": {name: f"{url}/{path}" for name, path in LINKS.items()},
        "url": url,
    }


def render_channel_sender(member: dict[str, Any], account_sid: str, service_sid: str, base_url: str) -> dict[str, Any]:
    """One sender in a service's pool, as ``GET /v1/Services/{MG}/ChannelSenders/{XE}`` shows it."""
    return {
        "account_sid": account_sid,
        "messaging_service_sid": service_sid,
        "sid": member["sid"],
        "sender": member["sender"],
        "sender_type": "WhatsApp",
        "country_code": country_code(member["sender"]),
        "date_created": iso(member["date_created"]),
        "date_updated": iso(member["date_updated"]),
        "url": f"{service_url(base_url, service_sid)}/ChannelSenders/{member['sid']}",
    }


def country_code(sender: str) -> str | None:
    """The main country of the number's calling code (``whatsapp:+1…`` → ``US``, ``+44`` → ``GB``); None when
    there is none (no calling code, or a non-geographic one such as +888)."""
    digits = sender.rpartition("+")[2]
    for length in (1, 2, 3):
        if digits[:length].isdigit() and int(digits[:length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            region = phonenumbers.region_code_for_country_code(int(digits[:length]))
            # "001" is the region of non-geographic codes (+800, +888, ...): no country to name.
            return None if region in (phonenumbers.UNKNOWN_REGION, phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY) else region
    return None


def service_not_found(sid: str, rest: str = "") -> ApiProblem:
    """A 404 / 20404 for a service (and what is under it) these credentials do not reach."""
    return ApiProblem(404, CODE_NOT_FOUND, f"The requested resource {SERVICES_PATH}/{sid}{rest} was not found")


def already_in_service(sender_sid: str, service_sid: str) -> ApiProblem:
    return ApiProblem(
        409, CODE_ALREADY_IN_SERVICE, f"The sender {sender_sid} is already in the Messaging Service {service_sid}"
    )


def in_another_service(sender_sid: str, other_service_sid: str) -> ApiProblem:
    return ApiProblem(
        409,
        CODE_IN_ANOTHER_SERVICE,
        f"The sender {sender_sid} is associated with another Messaging Service: {other_service_sid}",
    )
