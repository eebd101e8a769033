"""The desired state: a sender as the desired-state file declares it, the file, and its JSON Schema.

In a desired sender, a field that is present is *managed* and one that is absent is *unmanaged*: never
compared, never sent. :meth:`DesiredSender.managed_fields` is the flat view the diff works on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

from reconciler.models.pools import MAX_SERVICE_NAME, check_service_ref
from reconciler.models.rules import (
    ACCOUNT_SID_PATTERN,
    DEFAULT_LABELS,
    HEX_COLOR,
    LIST_ITEM_KEYS_INVERSE,
    MAX_ABOUT,
    MAX_ADDRESS,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_WEBSITE,
    MAX_WEBSITES,
    MIN_NAME,
    SECTIONS,
    TOP_FIELDS,
    VERTICALS,
    VOICE_APP_SID,
    WABA_ID,
    check_account_sid,
    check_e164,
    check_email,
    check_ignored_id,
    check_sender_id,
    check_url,
    labelled_items,
    no_null,
)

#: Fields where ``null`` means something: ``messaging_service: null`` is "in no service".
NULLABLE_FIELDS = frozenset({"messaging_service"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _reject_null(cls, value: Any, info: ValidationInfo) -> Any:
        return value if value is None and info.field_name in NULLABLE_FIELDS else no_null(value)


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
        value = no_null(value)
        if isinstance(value, (list, tuple)):
            return [{key: item} if isinstance(item, str) else item for item in value]
        return value

    return field_validator(LIST_ITEM_KEYS_INVERSE[key], mode="before")(classmethod(convert))


class Configuration(_Strict):
    """``configuration`` of a sender. ``verification_code`` is write-only: use ``reconciler verify``."""

    waba_id: str | None = Field(default=None, description="WhatsApp Business Account ID; cannot change once set")
    verification_method: Literal["sms", "voice"] | None = None
    voice_application_sid: str | None = Field(default=None, description="AP... SID; '' turns calling off")
    account_type: Literal["ISV", "ISVSubAccount", ""] | None = Field(
        default=None, description="ISV account type migration: 'ISV' or 'ISVSubAccount'; '' clears it"
    )

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
        if not WABA_ID.match(v):
            raise ValueError(f"waba_id {v!r} must be digits")
        return v

    @field_validator("voice_application_sid")
    @classmethod
    def _voice(cls, v: str) -> str:
        if v and not VOICE_APP_SID.match(v):
            raise ValueError(f"voice_application_sid {v!r} must be 'AP' followed by 32 hex digits, or ''")
        return v


class Webhook(_Strict):
    callback_url: str | None = None
    callback_method: Literal["POST", "PUT"] | None = None
    fallback_url: str | None = None
    fallback_method: Literal["POST", "PUT"] | None = None
    status_callback_url: str | None = None
    status_callback_method: Literal["POST", "PUT"] | None = None

    @field_validator("callback_url", "fallback_url", "status_callback_url")
    @classmethod
    def _urls(cls, v: str) -> str:
        return check_url(v)


class Profile(_Strict):
    name: str | None = Field(
        default=None, min_length=MIN_NAME, max_length=MAX_NAME, description="Display name; a change is reviewed by Meta"
    )
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
        if v and not HEX_COLOR.match(v):
            raise ValueError(f"accent_color {v!r} must be a hex colour like '#0A84FF', or ''")
        return v


#: A Messaging Service as the file names it: its SID or its friendly name.
ServiceRef = Annotated[str, AfterValidator(check_service_ref)]


class SenderDefaults(_Strict):
    """The ``defaults:`` block: merged under every sender of the same file; the sender's own values win."""

    configuration: Configuration | None = None
    webhook: Webhook | None = None
    profile: Profile | None = None
    messaging_service: ServiceRef | None = Field(
        default=None,
        description="The Messaging Service whose sender pool holds the sender: its SID (MG...) or its friendly "
        "name; null: in no service; absent: pools are left alone",
    )

    @property
    def manages_service(self) -> bool:
        """Whether ``messaging_service`` is written (``null`` included): absent, pools are never touched."""
        return "messaging_service" in self.model_fields_set


def _sender_id_input(value: Any) -> Any:
    value = no_null(value)
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML reads an unquoted +15017122661 as a number.
        raise ValueError(f"{value} is a number; a sender is 'whatsapp:' followed by an E.164 number, e.g. 'whatsapp:+{value}'")
    return value


#: ``whatsapp:`` + an E.164 number, checked with phonenumbers.
SenderId = Annotated[str, BeforeValidator(_sender_id_input), AfterValidator(check_sender_id)]
#: An ``ignore:`` entry: a sender id, or a live id that is not one, verbatim.
IgnoredId = Annotated[str, BeforeValidator(_sender_id_input), AfterValidator(check_ignored_id)]


class DesiredSender(SenderDefaults):
    """One sender as the desired-state file declares it."""

    sender_id: SenderId = Field(
        description="'whatsapp:' followed by an E.164 number",
        examples=["whatsapp:+15017122661"],
        json_schema_extra={"pattern": r"^whatsapp:\+[1-9][0-9]{1,14}$"},
    )
    friendly_name: str | None = Field(default=None, description="The sender's label in the Twilio Console")

    def managed_fields(self) -> dict[str, Any]:
        """The managed fields as a flat ``{"profile.about": value}`` map of plain JSON values.

        Labelled lists are lists of ``{key, label}`` dicts, an absent or empty label read as the default one.
        """
        # One dump of what the file set (nested models keep their own set fields), instead of a full dump per
        # section sifted by ``model_fields_set``: the diff calls this once per sender.
        dumped = self.model_dump(mode="json", exclude_unset=True)
        out: dict[str, Any] = {}
        for name in TOP_FIELDS:
            if name in dumped:
                out[name] = dumped[name]
        for section in SECTIONS:
            block = dumped.get(section)
            if block is None:
                continue
            for name, value in block.items():
                out[f"{section}.{name}"] = labelled_items(name, value) if type(value) is list else value
        return out


class Safety(_Strict):
    """Thresholds apply refuses to cross without ``--force``."""

    max_update_percent: float = Field(default=30.0, ge=0, le=100)
    max_delete_percent: float = Field(default=30.0, ge=0, le=100)
    min_senders: int = Field(default=10, ge=0, description="thresholds apply only when at least this many senders exist")


class SendersFile(_Strict):
    """The whole desired-state file (``senders.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, title="whatsapp-senders-reconciler senders.yaml")

    account: Annotated[str, AfterValidator(check_account_sid)] | None = Field(
        default=None,
        description="The Twilio account (or subaccount) SID these senders belong to; "
        "absent: the account of the credentials in use",
        json_schema_extra={"pattern": ACCOUNT_SID_PATTERN},
    )
    defaults: SenderDefaults | None = None
    senders: list[DesiredSender] = Field(default_factory=list)
    ignore: list[IgnoredId] = Field(
        default_factory=list,
        description="live senders this file does not manage, as the API lists them",
        json_schema_extra={"items": {"type": "string", "pattern": r"^whatsapp:\S+$"}},
    )
    protect: list[IgnoredId] = Field(
        default_factory=list,
        description="live senders no plan may delete, even with --allow-delete and --force; "
        "lifting a protection is a change of this list",
        json_schema_extra={"items": {"type": "string", "pattern": r"^whatsapp:\S+$"}},
    )
    safety: Safety | None = None


class DesiredState(BaseModel):
    """All desired-state files merged: what the plan is computed from."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    senders: tuple[DesiredSender, ...] = ()
    ignore: frozenset[str] = frozenset()
    #: Sender id → where a file protects it (``senders.yaml:12:5``): no plan deletes these.
    protect: dict[str, str] = Field(default_factory=dict)
    safety: Safety = Field(default_factory=Safety)
    sources: tuple[str, ...] = ()
    #: The account SID the files name; None: the account of the credentials in use.
    account: str | None = None
    #: Per sender that declares ``messaging_service``: the file and the place in its data where it is written
    #: (its own field, or the file's ``defaults:``), to point at when the service cannot be found.
    service_declarations: Mapping[str, tuple[str, tuple[str | int, ...]]] = Field(default_factory=dict)

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

    @property
    def declares_services(self) -> bool:
        """Whether any sender declares ``messaging_service``: only then are the account's pools read."""
        return any(s.manages_service for s in self.senders)


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
    for model in ("SenderDefaults", "DesiredSender"):  # the one field where null means something
        field = schema["$defs"][model]["properties"]["messaging_service"]
        field.pop("type", None)
        field["anyOf"] = [{"type": "string", "minLength": 1, "maxLength": MAX_SERVICE_NAME}, {"type": "null"}]
    schema["description"] = (
        "Desired state of Twilio WhatsApp senders for reconciler. A field that is present is managed; "
        "a field that is absent is never compared nor sent; '' clears a field."
    )
    return schema
