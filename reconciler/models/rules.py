"""The rules a sender's values follow: the spec's enums, Meta's limits, and the value checks.

Plain functions and constants, no models: the loader's messages, the emulator and the models share them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import phonenumbers

# phonenumbers compiles a metadata pattern at every use, leaving reuse to ``re``'s own cache; its pattern cache keeps
# them (a bounded set: the metadata's), a quarter of the time of checking a number. Older releases have none.
_enable_pattern_cache = getattr(phonenumbers, "enable_pattern_cache", None)
if _enable_pattern_cache is not None:
    _enable_pattern_cache()

CHANNEL = "whatsapp"
#: The Senders resource, under the Messaging v2 base URL.
SENDERS_PATH = "/v2/Channels/Senders"
SENDER_ID_PREFIX = "whatsapp:"
#: Twilio's shared WhatsApp sandbox number: it may show up in list results and is never ours to manage.
SANDBOX_SENDER_ID = "whatsapp:+14155238886"
#: A Twilio account SID: ``AC`` and 32 lowercase hex digits.
ACCOUNT_SID_PATTERN = r"^AC[0-9a-f]{32}$"
ACCOUNT_SID = re.compile(ACCOUNT_SID_PATTERN)

#: The 22 values the spec allows for ``profile.vertical``.
VERTICALS: tuple[str, ...] = (
    "Alcohol",
    "Automotive",
    "Beauty, Spa and Salon",
    "Clothing and Apparel",
    "Education",
    "Entertainment",
    "Event Planning and Service",
    "Finance and Banking",
    "Food and Grocery",
    "Hotel and Lodging",
    "Matrimony Service",
    "Medical and Health",
    "Non-profit",
    "Online Gambling",
    "OTC Drugs",
    "Other",
    "Physical Gambling",
    "Professional Services",
    "Public Service",
    "Restaurant",
    "Shopping and Retail",
    "Travel and Transportation",
)
WEBHOOK_METHODS: tuple[str, ...] = ("POST", "PUT")
#: The spec gives ``status_callback_method`` no enum; Twilio documents POST and PUT for the other two methods
#: and shows only POST for this one (docs/file-format.md, "Webhook methods").
STATUS_CALLBACK_METHODS: tuple[str, ...] = ("POST", "PUT")
#: ``configuration.account_type`` (the spec's enum; ``""`` clears it).
ACCOUNT_TYPES: tuple[str, ...] = ("ISV", "ISVSubAccount", "")
#: Where the list of verticals comes from, for the messages that refuse another value.
VERTICALS_SOURCE = "the values Twilio documents for the Senders API, which it enforces"
VERIFICATION_METHODS: tuple[str, ...] = ("sms", "voice")

#: Labels the API fills in when a plain string is sent; a plain string in the file means this label.
DEFAULT_LABELS: dict[str, str] = {"emails": "Email", "websites": "Website", "phone_numbers": "Phone"}
#: Keys of the labelled objects, per list field.
LIST_ITEM_KEYS: dict[str, str] = {"emails": "email", "websites": "website", "phone_numbers": "phone_number"}
LIST_ITEM_KEYS_INVERSE: dict[str, str] = {v: k for k, v in LIST_ITEM_KEYS.items()}
#: The sections of a sender, in the order the API and the file show them.
SECTIONS: tuple[str, ...] = ("configuration", "webhook", "profile")
#: Writable fields at the top level of a sender, outside the sections (newer than the spec copy: see the SDK).
TOP_FIELDS: tuple[str, ...] = ("friendly_name",)

# Limits of the WhatsApp Business profile as Meta documents them.
MAX_ABOUT = 139
MAX_DESCRIPTION = 512
MAX_ADDRESS = 256
MAX_EMAIL = 128
MAX_WEBSITE = 256
MAX_WEBSITES = 2
#: Display names are 1–255 characters (Twilio's error 63124 page).
MIN_NAME = 1
MAX_NAME = 255

#: Statuses in which the sender is still moving on its own; a plan shows them, apply --wait waits them out.
TRANSIENT_STATUSES = frozenset({"CREATING", "VERIFYING", "ONLINE:UPDATING"})
#: The statuses of ``pending_display_name_status`` (newer than the spec copy; see the SDK's docstrings).
DISPLAY_NAME_IN_REVIEW = frozenset({"PENDING_REVIEW", "APPROVED"})
DISPLAY_NAME_RETRYABLE = frozenset({"PIN_MISMATCH", "REGISTRATION_FAILED", "EXPIRED"})
DISPLAY_NAME_FAILED = frozenset({"DECLINED"}) | DISPLAY_NAME_RETRYABLE
#: Meta takes one display-name change per number at a time: another name is refused (409 / 63128) in this status.
DISPLAY_NAME_BLOCKING = "PENDING_REVIEW"
#: The pending display-name fields: top level in both SDKs, under ``profile`` on Twilio's 63128 page.
PENDING_NAME_FIELDS: tuple[str, ...] = (
    "pending_display_name", "pending_display_name_status", "pending_display_name_status_date",
)
#: Twilio's error codes the tool treats apart.
CODE_NAME_IN_PROGRESS = 63128
CODE_NAME_DECLINED = 63124

HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
VOICE_APP_SID = re.compile(r"^AP[0-9a-fA-F]{32}$")
WABA_ID = re.compile(r"^[0-9]{1,32}$")


# --------------------------------------------------------------------------- value checks


#: ``+`` and digits, the form every sender id is written in; ``phonenumbers.parse`` reads it without interpretation
#: except for a national prefix (see :func:`parse_number`).
_PLUS_DIGITS = re.compile(r"\+([1-9][0-9]{2,16})")


def parse_number(number: str) -> phonenumbers.PhoneNumber:
    """``phonenumbers.parse(number, None)``, with a short way for the everyday ``+`` and digits.

    For such a number, ``parse`` takes the country calling code (calling codes are a prefix code) and keeps
    the rest as the national number, unless the rest starts with a zero (Italian leading zeros) or with what
    the country's metadata reads as a national prefix (which it may strip). Those, and every other form, go
    to ``parse`` itself. Validating 10,000 sender ids took 0.39 s in ``parse``, a tenth of a whole plan; a
    test holds this to ``parse`` for every region's example numbers and for arbitrary digits.
    """
    match = _PLUS_DIGITS.fullmatch(number)
    plain = _plain_number(match.group(1)) if match is not None else None
    return plain if plain is not None else phonenumbers.parse(number, None)


def _plain_number(digits: str) -> phonenumbers.PhoneNumber | None:
    """The number ``+digits`` as ``parse`` reads it, or None where ``parse`` might read it otherwise."""
    code = next((int(digits[:n]) for n in (1, 2, 3) if int(digits[:n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE), None)
    if code is None:
        return None
    national = digits[len(str(code)):]
    if len(national) < 2 or national[0] == "0":
        return None
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        code, phonenumbers.region_code_for_country_code(code))
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    if prefix and re.match(prefix, national):
        return None
    return phonenumbers.PhoneNumber(country_code=code, national_number=int(national))


def check_e164(number: str) -> str:
    """Return ``number`` if it is a valid E.164 phone number, else raise ValueError with a hint."""
    try:
        parsed = parse_number(number)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{number!r} is not an E.164 phone number ({exc._msg})") from None
    canonical = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{number!r} is not a valid phone number")
    if canonical != number:
        raise ValueError(f"{number!r} is not in E.164 form; write {canonical!r}")
    return number


def check_sender_id(value: str) -> str:
    """``whatsapp:`` followed by a valid E.164 number.

    >>> check_sender_id("whatsapp:+1 501 712 2661")
    Traceback (most recent call last):
    ValueError: 'whatsapp:+1 501 712 2661' is not in E.164 form; write 'whatsapp:+15017122661'
    """
    if not value.startswith(SENDER_ID_PREFIX):
        raise ValueError(f"{value!r} must be 'whatsapp:' followed by an E.164 number, e.g. 'whatsapp:+15017122661'")
    number = value[len(SENDER_ID_PREFIX) :]
    try:
        parsed = parse_number(number)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not 'whatsapp:' followed by an E.164 number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{value!r} is not a valid phone number")
    canonical = SENDER_ID_PREFIX + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if canonical != value:
        raise ValueError(f"{value!r} is not in E.164 form; write {canonical!r}")
    return value


#: A sender id as the API may list it without being ``whatsapp:`` + a valid E.164 number (a test number, say).
VERBATIM_SENDER_ID = re.compile(r"whatsapp:[^\s\x00-\x1f\x7f]+")


def check_ignored_id(value: str) -> str:
    """An ``ignore:`` entry: a sender id, or any other ``whatsapp:`` id without spaces as the API lists it.

    ``export`` writes a live sender it cannot manage (its sender_id is not a valid E.164 number) under
    ``ignore:`` verbatim; a valid number in another form is still refused, with the form to write.

    >>> check_ignored_id("whatsapp:+1555")
    'whatsapp:+1555'
    """
    try:
        return check_sender_id(value)
    except ValueError:
        if not VERBATIM_SENDER_ID.fullmatch(value) or not value.isprintable():
            raise
        return value

#: The everyday shape of an absolute URL: ``http`` or ``https``, a host of ASCII letters, digits, dots and hyphens, an
#: optional port, then printable ASCII without spaces. ``urlsplit`` gives every such URL that scheme, a non-empty
#: netloc and no error (it raises only for brackets or non-ASCII in the netloc), so :func:`check_url` accepts it
#: without splitting it; a property test holds the two together.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:[/?#][!-~]*)?")


def check_url(value: str) -> str:
    """An absolute http(s) URL, or the empty string (which clears the field)."""
    if value == "" or _PLAIN_URL.fullmatch(value):
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return value


#: The everyday shape of an address (ASCII, dot-atom local part, letters-only TLD). Every address of
#: this shape that passes the extra checks in :func:`_plain_email` is one email-validator accepts too
#: (a property test holds them to it), so those skip its slower, general parse.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]{1,64}(?:\.[A-Za-z0-9_+-]+)*@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63}))"
)
#: email-validator's special-use domains (``SPECIAL_USE_DOMAIN_NAMES``), by their last label; written out so that
#: email-validator is imported only for the addresses the fast path leaves to it (a test holds the two together).
_SPECIAL_USE_DOMAINS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def _plain_email(value: str) -> bool:
    match = _PLAIN_EMAIL.fullmatch(value)
    if match is None:
        return False
    domain, tld = match.group(1), match.group(2)
    local = value[: value.index("@")]
    return len(local) <= 64 and "--" not in domain and tld.lower() not in _SPECIAL_USE_DOMAINS


def check_email(value: str) -> str:
    if len(value) > MAX_EMAIL:
        raise ValueError(f"email is {len(value)} characters; Meta allows at most {MAX_EMAIL}")
    if _plain_email(value):
        return value
    from email_validator import EmailNotValidError, validate_email  # 30 ms to import: only for the unusual addresses

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not an email address: {exc}") from None
    return value


def labelled_items(name: str, items: Any) -> list[Any]:
    """A labelled list (``emails``, ``websites``, ``phone_numbers``) as ``{key, label}`` dicts: a string is the
    key with the default label, an absent or empty label reads as the default, anything else is kept."""
    key, label = LIST_ITEM_KEYS[name], DEFAULT_LABELS[name]
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            out.append({key: item, "label": label})
        elif isinstance(item, dict):
            out.append({key: item.get(key), "label": item.get("label") or label})
        else:
            out.append(item)
    return out


def no_null(value: Any) -> Any:
    if value is None:
        raise ValueError("null is not allowed here: leave the field out to stop managing it, or use '' to clear it")
    return value



def check_account_sid(value: str) -> str:
    """An account SID as Twilio writes it (``AC`` + 32 lowercase hex digits)."""
    if ACCOUNT_SID.match(value):
        return value
    lower = value[:2] + value[2:].lower()
    if ACCOUNT_SID.match(lower):
        raise ValueError(f"{value!r}: write the SID's hex digits in lower case, as Twilio shows it: {lower!r}")
    raise ValueError(f"{value!r} is not an account SID: 'AC' followed by 32 hex digits, as the Twilio Console shows it")


def account_sid_problem(value: str) -> str:
    """Why ``TWILIO_ACCOUNT_SID`` is refused. Its value is shown only when it is a SID in other case: anything
    else may be a secret given in the wrong variable (a token swapped with the SID)."""
    lower = value[:2] + value[2:].lower()
    if ACCOUNT_SID.match(lower):
        return (f"TWILIO_ACCOUNT_SID {value!r} is not an account SID as Twilio writes it: write its hex digits in "
                f"lower case ({lower}), so that one account never goes by two names")
    return ("TWILIO_ACCOUNT_SID is not an account SID ('AC' followed by 32 lower-case hex digits); its value is not "
            "shown, in case it is a secret given in the wrong variable")
