"""Pydantic models of a WhatsApp sender: as the desired-state file declares it, and as the API reports it.

Field names mirror the Senders API's create body so Twilio users recognise every one. In a desired
sender, a field that is present is *managed* and one that is absent is *unmanaged*: never compared,
never sent. :meth:`DesiredSender.managed_fields` is the flat view the diff works on.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

CHANNEL = "whatsapp"
#: The Senders resource, under the Messaging v2 base URL.
SENDERS_PATH = "/v2/Channels/Senders"
SENDER_ID_PREFIX = "whatsapp:"
#: Twilio's shared WhatsApp sandbox number: it may show up in list results and is never ours to manage.
SANDBOX_SENDER_ID = "whatsapp:+14155238886"

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
STATUS_CALLBACK_METHODS: tuple[str, ...] = ("GET", "POST", "PUT")
VERIFICATION_METHODS: tuple[str, ...] = ("sms", "voice")

#: Labels the API fills in when a plain string is sent; a plain string in the file means this label.
DEFAULT_LABELS: dict[str, str] = {"emails": "Email", "websites": "Website", "phone_numbers": "Phone"}
#: Keys of the labelled objects, per list field.
LIST_ITEM_KEYS: dict[str, str] = {"emails": "email", "websites": "website", "phone_numbers": "phone_number"}

# Limits of the WhatsApp Business profile as Meta documents them.
MAX_ABOUT = 139
MAX_DESCRIPTION = 512
MAX_ADDRESS = 256
MAX_EMAIL = 128
MAX_WEBSITE = 256
MAX_WEBSITES = 2
MAX_NAME = 256

#: Statuses in which the sender is still moving on its own; a plan shows them, apply --wait waits them out.
TRANSIENT_STATUSES = frozenset({"CREATING", "VERIFYING", "ONLINE:UPDATING"})
#: The statuses of ``pending_display_name_status`` (newer than the spec copy; see the SDK's docstrings).
DISPLAY_NAME_IN_REVIEW = frozenset({"PENDING_REVIEW", "APPROVED"})
DISPLAY_NAME_RETRYABLE = frozenset({"PIN_MISMATCH", "REGISTRATION_FAILED", "EXPIRED"})
DISPLAY_NAME_FAILED = frozenset({"DECLINED"}) | DISPLAY_NAME_RETRYABLE

_HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_VOICE_APP_SID = re.compile(r"^AP[0-9a-fA-F]{32}$")
_WABA_ID = re.compile(r"^[0-9]{1,32}$")


# --------------------------------------------------------------------------- value checks


def check_e164(number: str) -> str:
    """Return ``number`` if it is a valid E.164 phone number, else raise ValueError with a hint."""
    try:
        parsed = phonenumbers.parse(number, None)
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
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not 'whatsapp:' followed by an E.164 number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{value!r} is not a valid phone number")
    canonical = SENDER_ID_PREFIX + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if canonical != value:
        raise ValueError(f"{value!r} is not in E.164 form; write {canonical!r}")
    return value


def check_url(value: str) -> str:
    """An absolute http(s) URL, or the empty string (which clears the field)."""
    if value == "":
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
_SPECIAL_USE_DOMAINS = frozenset(getattr(email_validator, "SPECIAL_USE_DOMAIN_NAMES", ())) | {
    "arpa", "invalid", "local", "localhost", "onion", "test",
}


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
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not an email address: {exc}") from None
    return value


def _no_null(value: Any) -> Any:
    if value is None:
        raise ValueError("null is not allowed here: leave the field out to stop managing it, or use '' to clear it")
    return value


# --------------------------------------------------------------------------- desired state


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _reject_null(cls, value: Any) -> Any:
        return _no_null(value)


class Email(_Strict):
    email: str
    label: str = DEFAULT_LABELS["emails"]

    _check = field_validator("email")(lambda cls, v: check_email(v))


class Website(_Strict):
    website: str = Field(max_length=MAX_WEBSITE)
    label: str = DEFAULT_LABELS["websites"]

    @field_validator("website")
    @classmethod
    def _check(cls, v: str) -> str:
        if v == "":
            raise ValueError("a website cannot be empty")
        return check_url(v)


class PhoneNumber(_Strict):
    phone_number: str
    label: str = DEFAULT_LABELS["phone_numbers"]

    _check = field_validator("phone_number")(lambda cls, v: check_e164(v))


def _labelled(key: str) -> Any:
    """Accept a plain string as shorthand for ``{key: value}`` with the default label."""

    def convert(cls: type, value: Any) -> Any:
        value = _no_null(value)
        if isinstance(value, (list, tuple)):
            return [{key: item} if isinstance(item, str) else item for item in value]
        return value

    return field_validator(LIST_ITEM_KEYS_INVERSE[key], mode="before")(classmethod(convert))


LIST_ITEM_KEYS_INVERSE = {v: k for k, v in LIST_ITEM_KEYS.items()}


class Configuration(_Strict):
    """``configuration`` of a sender. ``verification_code`` is write-only: use ``reconciler verify``."""

    waba_id: str | None = Field(default=None, description="WhatsApp Business Account ID; cannot change once set")
    verification_method: Literal["sms", "voice"] | None = None
    voice_application_sid: str | None = Field(default=None, description="AP... SID; '' turns calling off")

    @field_validator("waba_id", mode="before")
    @classmethod
    def _waba(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            raise ValueError(
                "waba_id must be a quoted string, so no digit is lost: write it in quotes exactly as Meta shows it "
                f"(unquoted, YAML reads it as the number {v}, without any leading zero)"
            )
        return v

    @field_validator("waba_id")
    @classmethod
    def _waba_digits(cls, v: str) -> str:
        if not _WABA_ID.match(v):
            raise ValueError(f"waba_id {v!r} must be digits")
        return v

    @field_validator("voice_application_sid")
    @classmethod
    def _voice(cls, v: str) -> str:
        if v and not _VOICE_APP_SID.match(v):
            raise ValueError(f"voice_application_sid {v!r} must be 'AP' followed by 32 hex digits, or ''")
        return v


class Webhook(_Strict):
    callback_url: str | None = None
    callback_method: Literal["POST", "PUT"] | None = None
    fallback_url: str | None = None
    fallback_method: Literal["POST", "PUT"] | None = None
    status_callback_url: str | None = None
    status_callback_method: Literal["GET", "POST", "PUT"] | None = None

    @field_validator("callback_url", "fallback_url", "status_callback_url")
    @classmethod
    def _urls(cls, v: str) -> str:
        return check_url(v)


class Profile(_Strict):
    name: str | None = Field(default=None, max_length=MAX_NAME, description="Display name; a change is reviewed by Meta")
    about: str | None = Field(default=None, max_length=MAX_ABOUT)
    address: str | None = Field(default=None, max_length=MAX_ADDRESS)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    logo_url: str | None = None
    banner_url: str | None = None
    privacy_url: str | None = None
    terms_of_service_url: str | None = None
    accent_color: str | None = Field(default=None, description="Hex colour, e.g. '#0A84FF'")
    vertical: Literal[VERTICALS] | None = None  # type: ignore[valid-type]
    websites: list[Website] | None = Field(default=None, max_length=MAX_WEBSITES)
    emails: list[Email] | None = None
    phone_numbers: list[PhoneNumber] | None = None

    _websites = _labelled("website")
    _emails = _labelled("email")
    _phones = _labelled("phone_number")

    @field_validator("logo_url", "banner_url", "privacy_url", "terms_of_service_url")
    @classmethod
    def _urls(cls, v: str) -> str:
        return check_url(v)

    @field_validator("accent_color")
    @classmethod
    def _color(cls, v: str) -> str:
        if v and not _HEX_COLOR.match(v):
            raise ValueError(f"accent_color {v!r} must be a hex colour like '#0A84FF', or ''")
        return v


class SenderDefaults(_Strict):
    """The ``defaults:`` block: merged under every sender of the same file; the sender's own values win."""

    configuration: Configuration | None = None
    webhook: Webhook | None = None
    profile: Profile | None = None


SECTIONS: tuple[str, ...] = ("configuration", "webhook", "profile")


def _sender_id_input(value: Any) -> Any:
    value = _no_null(value)
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML reads an unquoted +15017122661 as a number.
        raise ValueError(f"{value} is a number; a sender is 'whatsapp:' followed by an E.164 number, e.g. 'whatsapp:+{value}'")
    return value


#: ``whatsapp:`` + an E.164 number, checked with phonenumbers.
SenderId = Annotated[str, BeforeValidator(_sender_id_input), AfterValidator(check_sender_id)]


class DesiredSender(SenderDefaults):
    """One sender as the desired-state file declares it."""

    sender_id: SenderId = Field(
        description="'whatsapp:' followed by an E.164 number",
        examples=["whatsapp:+15017122661"],
        json_schema_extra={"pattern": r"^whatsapp:\+[1-9][0-9]{1,14}$"},
    )

    def managed_fields(self) -> dict[str, Any]:
        """The managed fields as a flat ``{"profile.about": value}`` map of plain JSON values.

        Labelled lists are lists of ``{key, label}`` dicts with the default labels filled in.
        """
        out: dict[str, Any] = {}
        for section in SECTIONS:
            model = getattr(self, section)
            if model is None:
                continue
            full = model.model_dump(mode="json")  # nested defaults (labels) filled in
            for name in type(model).model_fields:
                if name in model.model_fields_set:
                    out[f"{section}.{name}"] = full[name]
        return out


class Safety(_Strict):
    """Thresholds apply refuses to cross without ``--force``."""

    max_update_percent: float = Field(default=30.0, ge=0, le=100)
    max_delete_percent: float = Field(default=30.0, ge=0, le=100)
    min_senders: int = Field(default=10, ge=0, description="thresholds apply only when at least this many senders exist")


class SendersFile(_Strict):
    """The whole desired-state file (``senders.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="whatsapp-senders-reconciler senders.yaml")

    defaults: SenderDefaults | None = None
    senders: list[DesiredSender] = Field(default_factory=list)
    ignore: list[SenderId] = Field(
        default_factory=list,
        description="live senders this file does not manage",
        json_schema_extra={"items": {"type": "string", "pattern": r"^whatsapp:\+[1-9][0-9]{1,14}$"}},
    )
    safety: Safety | None = None


# --------------------------------------------------------------------------- live state


class LiveSender(BaseModel):
    """A sender as the API reports it. Tolerant: unknown fields are kept, unknown statuses are plain strings."""

    model_config = ConfigDict(extra="allow", frozen=True)

    sid: str
    sender_id: str
    status: str | None = None
    configuration: dict[str, Any] | None = None
    webhook: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None
    offline_reasons: list[dict[str, Any]] | None = None
    pending_display_name: str | None = None
    pending_display_name_status: str | None = None
    pending_display_name_status_date: str | None = None
    url: str | None = None

    def value(self, path: str) -> Any:
        """The value at a dotted path such as ``profile.about`` (None when absent)."""
        section, _, name = path.partition(".")
        block = getattr(self, section, None)
        if not isinstance(block, dict):
            return None
        return block.get(name)

    @property
    def is_transient(self) -> bool:
        return self.status in TRANSIENT_STATUSES


class DesiredState(BaseModel):
    """All desired-state files merged: what the plan is computed from."""

    model_config = ConfigDict(frozen=True)

    senders: tuple[DesiredSender, ...] = ()
    ignore: frozenset[str] = frozenset()
    safety: Safety = Safety()
    sources: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> DesiredState:
        seen = set()
        for s in self.senders:
            if s.sender_id in seen:
                raise ValueError(f"duplicate sender {s.sender_id}")
            seen.add(s.sender_id)
        return self

    def by_id(self) -> dict[str, DesiredSender]:
        return {s.sender_id: s for s in self.senders}


# --------------------------------------------------------------------------- JSON Schema


class _NoNullSchema(GenerateJsonSchema):
    """JSON Schema without ``null``: the file refuses nulls (leave a field out instead)."""

    def nullable_schema(self, schema: Any) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: Any) -> JsonSchemaValue:
        if schema.get("default", ...) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


def senders_file_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``senders.yaml`` as editors should see it.

    Matches what the loader accepts: no ``null`` anywhere, and ``emails``/``websites``/``phone_numbers``
    items as plain strings or labelled objects.
    """
    schema = SendersFile.model_json_schema(schema_generator=_NoNullSchema)
    profile = schema["$defs"]["Profile"]["properties"]
    shorthand = {
        "websites": {"type": "string", "format": "uri", "pattern": "^https?://"},
        "emails": {"type": "string", "format": "email"},
        "phone_numbers": {"type": "string", "pattern": r"^\+[1-9][0-9]{1,14}$"},
    }
    for name, plain in shorthand.items():
        items = profile[name]["items"]
        profile[name]["items"] = {"anyOf": [plain, items]}
    schema["description"] = (
        "Desired state of Twilio WhatsApp senders for reconciler. A field that is present is managed; "
        "a field that is absent is never compared nor sent; '' clears a field."
    )
    return schema
