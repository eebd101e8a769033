"""Sender models: value checks, the managed-field view, and the JSON Schema."""

from __future__ import annotations

import json
from typing import Any

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from reconciler.models import (
    DEFAULT_LABELS,
    MAX_ABOUT,
    VERTICALS,
    DesiredSender,
    DesiredState,
    LiveSender,
    Profile,
    SendersFile,
    check_e164,
    check_email,
    check_sender_id,
    check_url,
    senders_file_json_schema,
)
from reconciler.models.rules import parse_number
from tests.factories import A, desired


def test_the_spec_lists_22_verticals() -> None:
    assert len(VERTICALS) == 22 and len(set(VERTICALS)) == 22


@pytest.mark.parametrize("number", ["+15017122661", "+442079460958", "+4930901820", "+5511987654321"])
def test_valid_e164_numbers(number: str) -> None:
    assert check_e164(number) == number
    assert check_sender_id("whatsapp:" + number) == "whatsapp:" + number


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("whatsapp:+1 501 712 2661", "'whatsapp:+1 501 712 2661' is not in E.164 form; write 'whatsapp:+15017122661'"),
        ("whatsapp:+1-501-712-2661", "'whatsapp:+1-501-712-2661' is not in E.164 form; write 'whatsapp:+15017122661'"),
        ("whatsapp:+1555", "'whatsapp:+1555' is not a valid phone number"),
        ("+15017122661", "'+15017122661' must be 'whatsapp:' followed by an E.164 number, e.g. 'whatsapp:+15017122661'"),
        ("sms:+15017122661", "'sms:+15017122661' must be 'whatsapp:' followed by an E.164 number, e.g. 'whatsapp:+15017122661'"),
        ("whatsapp:", "'whatsapp:' is not 'whatsapp:' followed by an E.164 number "
                      "(The string supplied did not seem to be a phone number.)"),
    ],
)
def test_sender_id_messages(value: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        check_sender_id(value)
    assert str(info.value) == message


def test_e164_hint_for_a_spaced_number() -> None:
    with pytest.raises(ValueError, match=r"write '\+15017122661'"):
        check_e164("+1 501 712 2661")


@pytest.mark.parametrize("url", ["https://example.com", "http://example.com/a?b=c#d", ""])
def test_urls_accepted(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize("url", ["example.com", "/path", "ftp://example.com", "https://", "https://a b.example.com"])
def test_urls_refused(url: str) -> None:
    with pytest.raises(ValueError, match="is not an absolute http"):
        check_url(url)


def _check_url_by_splitting(value: str) -> str:
    """check_url as it was before its fast path: every URL split by urlsplit."""
    from urllib.parse import urlsplit

    if value == "":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return value


def _same_verdict(value: str) -> None:
    try:
        expected: str | BaseException = _check_url_by_splitting(value)
    except ValueError as exc:
        expected = exc
    try:
        got: str | BaseException = check_url(value)
    except ValueError as exc:
        got = exc
    assert type(got) is type(expected) and str(got) == str(expected)


_URL_CHARS = "htps:/.-[]@?#%:0123456789aZ \t\x00é~"
_URLISH = st.builds(
    lambda scheme, host, port, rest: f"{scheme}{host}{port}{rest}",
    st.sampled_from(["https://", "http://", "HTTP://", "ftp://", "https:", "https:///", "", " https://"]),
    st.text("abz09.-[]:@é", max_size=12),
    st.sampled_from(["", ":", ":443", ":x", ":99999"]),
    st.text(_URL_CHARS, max_size=16),
) | st.text(_URL_CHARS, max_size=30)


@settings(max_examples=1000)
@given(_URLISH)
def test_the_url_fast_path_accepts_and_refuses_exactly_as_urlsplit(value: str) -> None:
    _same_verdict(value)


@pytest.mark.parametrize("url", ["https://[::1]/", "https://[x", "https://a]b/", "https://exämple.com/", "https://a/\tb",
                                 "https://a:port/", "https://a/b c", "https://a.example.com/x?y=[1]#z"])
def test_the_url_fast_path_leaves_edge_cases_to_urlsplit(url: str) -> None:
    _same_verdict(url)


def test_emails() -> None:
    assert check_email("first.last+tag@shop.example.org")
    with pytest.raises(ValueError, match="is not an email address"):
        check_email("nobody")
    with pytest.raises(ValueError, match="Meta allows at most 128"):
        check_email("a" * 120 + "@example.com")


_LABEL = st.text("abcxyzABZ0189_+-", min_size=1, max_size=6)
_EMAILISH = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    st.lists(_LABEL, min_size=1, max_size=3).map(".".join) | st.text("ab.+-_@", max_size=8),
    st.lists(st.text("ab0-", min_size=1, max_size=6), min_size=1, max_size=3),
    st.sampled_from(["com", "io", "test", "local", "LOCALHOST", "c0m", "x", "example", "arpa", "co"]),
) | st.text("ab.@-_+0", max_size=20)


def assert_check_email_agrees_with_email_validator(value: str) -> None:
    """check_email has a fast path for plain addresses; it must accept and refuse exactly as email_validator."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        with pytest.raises(ValueError):
            check_email(value)
    else:
        assert check_email(value) == value


@settings(max_examples=1500)
@given(_EMAILISH)
def test_the_email_fast_path_accepts_only_what_email_validator_accepts(value: str) -> None:
    assert_check_email_agrees_with_email_validator(value)


@pytest.mark.parametrize(
    "value", ["a@ab--cd.com", "a@x.local", "a@localhost", "a..b@example.com", "a@-x.com", "a@x.c0m", "a@example"]
)
def test_the_email_fast_path_leaves_edge_cases_to_email_validator(value: str) -> None:
    assert_check_email_agrees_with_email_validator(value)


def test_plain_strings_become_labelled_objects() -> None:
    p = Profile.model_validate(
        {"emails": ["a@example.com", {"email": "b@example.com", "label": "Work"}], "websites": ["https://x.example.com"]}
    )
    assert p.emails is not None and p.websites is not None
    assert [(e.email, e.label) for e in p.emails] == [("a@example.com", "Email"), ("b@example.com", "Work")]
    assert p.websites[0].label == DEFAULT_LABELS["websites"]


def test_managed_fields_are_exactly_the_fields_present() -> None:
    sender = DesiredSender.model_validate(
        {
            "sender_id": A,
            "webhook": {"callback_url": "https://h.example.com", "fallback_url": ""},
            "profile": {"phone_numbers": ["+15017122662"]},
        }
    )
    assert sender.managed_fields() == {
        "webhook.callback_url": "https://h.example.com",
        "webhook.fallback_url": "",
        "profile.phone_numbers": [{"phone_number": "+15017122662", "label": "Phone"}],
    }


@pytest.mark.parametrize(
    "data",
    [
        {"sender_id": A, "profile": {"about": None}},
        {"sender_id": A, "profile": None},
        {"sender_id": A, "profile": {"emails": [None]}},
        {"sender_id": None},
    ],
)
def test_null_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DesiredSender.model_validate(data)


def test_limits_and_enums() -> None:
    with pytest.raises(ValidationError, match="at most 139"):
        Profile(about="a" * (MAX_ABOUT + 1))
    Profile(about="a" * MAX_ABOUT)
    with pytest.raises(ValidationError):
        Profile.model_validate({"websites": ["https://a.example.com"] * 3})
    with pytest.raises(ValidationError):
        Profile(vertical="Spaceships")
    with pytest.raises(ValidationError):
        desired(A, webhook={"callback_method": "GET"})
    # Twilio publishes POST (and PUT for the other two methods) only: GET is refused like for them.
    with pytest.raises(ValidationError):
        desired(A, webhook={"status_callback_method": "GET"})
    desired(A, webhook={"status_callback_method": "PUT"})


def test_display_names_are_1_to_255_characters() -> None:
    Profile(name="a" * 255)
    with pytest.raises(ValidationError, match="at most 255"):
        Profile(name="a" * 256)
    with pytest.raises(ValidationError, match="at least 1"):
        Profile(name="")


def test_friendly_name_and_account_type_are_managed_fields() -> None:
    sender = desired(A, friendly_name="Front desk", configuration={"account_type": "ISVSubAccount"})
    assert sender.managed_fields() == {"friendly_name": "Front desk", "configuration.account_type": "ISVSubAccount"}
    assert desired(A, configuration={"account_type": ""}).managed_fields() == {"configuration.account_type": ""}
    with pytest.raises(ValidationError):
        desired(A, configuration={"account_type": "Reseller"})
    with pytest.raises(ValidationError):
        desired(A, friendly_name=None)


def test_live_reads_tolerate_nulls_the_spec_allows() -> None:
    sender = LiveSender.model_validate({
        "sid": None, "sender_id": None, "profile": None, "webhook": None, "offline_reasons": [None, {"code": "410"}],
    })
    assert (sender.sid, sender.sender_id, sender.profile, sender.webhook) == ("", "", None, None)
    assert sender.offline_reasons == [{"code": "410"}] and not sender.matchable


def test_pending_display_name_fields_are_read_at_the_top_or_under_profile() -> None:
    nested = LiveSender.model_validate({
        "sid": "XE1", "sender_id": A,
        "profile": {"name": "Old", "pending_display_name": "New", "pending_display_name_status": "PENDING_REVIEW"},
    })
    assert (nested.pending_display_name, nested.pending_display_name_status) == ("New", "PENDING_REVIEW")
    both = LiveSender.model_validate({
        "sid": "XE1", "sender_id": A, "pending_display_name": "Top", "pending_display_name_status": "APPROVED",
        "profile": {"pending_display_name": "Nested", "pending_display_name_status": "PENDING_REVIEW"},
    })
    assert (both.pending_display_name, both.pending_display_name_status) == ("Top", "APPROVED")


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        SendersFile.model_validate({"senders": [], "sneders": []})


def test_waba_id_must_be_a_string_of_digits() -> None:
    with pytest.raises(ValidationError, match="quoted string"):
        desired(A, configuration={"waba_id": 12345678912345})
    with pytest.raises(ValidationError, match="must be digits"):
        desired(A, configuration={"waba_id": "12-34"})


def test_desired_state_refuses_duplicates() -> None:
    s = DesiredSender(sender_id=A)
    with pytest.raises(ValidationError, match="duplicate sender"):
        DesiredState(senders=(s, s))


def test_live_sender_keeps_unknown_fields() -> None:
    live = LiveSender.model_validate({"sid": "XE1", "sender_id": A, "status": "STUBBED", "new_field": 1,
                                      "profile": {"about": "x"}})
    assert live.value("profile.about") == "x" and live.value("webhook.callback_url") is None
    assert live.model_extra == {"new_field": 1}


# --------------------------------------------------------------------------- JSON Schema


def test_schema_has_no_null_and_accepts_string_shorthand() -> None:
    schema = senders_file_json_schema()
    text = json.dumps(schema)
    assert "null" not in text
    assert schema["title"] == "whatsapp-senders-reconciler senders.yaml"
    assert schema["additionalProperties"] is False
    websites = schema["$defs"]["Profile"]["properties"]["websites"]
    assert websites["maxItems"] == 2
    assert {"type": "string", "format": "uri", "pattern": "^https?://"} in websites["items"]["anyOf"]
    assert schema["$defs"]["Profile"]["properties"]["about"]["maxLength"] == 139
    assert schema["$defs"]["Profile"]["properties"]["vertical"]["enum"] == list(VERTICALS)
    assert schema["$defs"]["DesiredSender"]["required"] == ["sender_id"]



def test_schema_follows_the_fields_the_api_allows() -> None:
    defs = senders_file_json_schema()["$defs"]
    assert defs["Configuration"]["properties"]["account_type"]["enum"] == ["ISV", "ISVSubAccount", ""]
    assert defs["DesiredSender"]["properties"]["friendly_name"]["type"] == "string"
    assert "friendly_name" not in defs["SenderDefaults"]["properties"]
    name = defs["Profile"]["properties"]["name"]
    assert (name["minLength"], name["maxLength"]) == (1, 255)
    assert defs["Webhook"]["properties"]["status_callback_method"]["enum"] == ["POST", "PUT"]


def test_ignore_takes_a_live_id_verbatim_but_still_corrects_a_valid_number_written_another_way() -> None:
    assert SendersFile.model_validate({"ignore": ["whatsapp:+1555"]}).ignore == ["whatsapp:+1555"]
    with pytest.raises(ValidationError, match="write 'whatsapp:\\+15017122661'"):
        SendersFile.model_validate({"ignore": ["whatsapp:+1 501 712 2661"]})
    with pytest.raises(ValidationError):
        SendersFile.model_validate({"ignore": ["+15017122661"]})


def test_the_email_fast_path_knows_every_special_use_domain_of_email_validator() -> None:
    """The fast path sends addresses under these domains to email-validator; its list is written out in rules."""
    import email_validator

    from reconciler.models import rules

    last_labels = {name.rsplit(".", 1)[-1].lower() for name in email_validator.SPECIAL_USE_DOMAIN_NAMES}
    assert last_labels <= rules._SPECIAL_USE_DOMAINS


# --------------------------------------------------------------------------- phone numbers: parse_number


def _parsed(parse: Any, number: str) -> Any:
    try:
        return parse(number)
    except phonenumbers.NumberParseException as exc:
        return ("refused", exc.error_type, str(exc))


def _example_numbers() -> list[str]:
    """Every region's example number of every type in E.164, and near misses: a digit more or less, another last
    digit, a zero or a one after the calling code (where national prefixes and Italian leading zeros live)."""
    types = [value for name, value in vars(phonenumbers.PhoneNumberType).items() if name.isupper()]
    out: set[str] = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS | {"001"}):
        for kind in types:
            example = (phonenumbers.example_number_for_type(region, kind) if region != "001"
                       else phonenumbers.example_number_for_non_geo_entity(800))
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            code = len(str(example.country_code)) + 1
            out |= {e164, e164 + "5", e164[:-1], e164[:-1] + str((int(e164[-1]) + 1) % 10),
                    e164[:code] + "0" + e164[code:], e164[:code] + "1" + e164[code:]}
    return sorted(out)


def test_parse_number_reads_every_example_number_exactly_as_phonenumbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The short way of parse_number gives what phonenumbers.parse gives, and it is the way most numbers take."""
    parse = phonenumbers.parse
    slow: list[str] = []

    def counted(number: str, region: str | None) -> phonenumbers.PhoneNumber:
        slow.append(number)
        return parse(number, region)

    monkeypatch.setattr(phonenumbers, "parse", counted)
    numbers = _example_numbers()
    for number in numbers:
        assert _parsed(parse_number, number) == _parsed(lambda n: parse(n, None), number), number
    assert len(numbers) > 5000 and len(slow) < len(numbers) / 2  # the short way is taken, and checked


@settings(max_examples=2000)
@given(st.from_regex(r"\+[0-9]{0,18}", fullmatch=True) | st.from_regex(r"\+?[0-9 ()+-]{0,16}", fullmatch=True))
def test_parse_number_agrees_with_phonenumbers_on_any_digits(number: str) -> None:
    assert _parsed(parse_number, number) == _parsed(lambda n: phonenumbers.parse(n, None), number)


def test_sender_ids_keep_their_verdicts_through_the_short_way() -> None:
    assert check_sender_id("whatsapp:+15017122661") == "whatsapp:+15017122661"
    assert check_sender_id("whatsapp:+390612345678") == "whatsapp:+390612345678"  # an Italian leading zero
    with pytest.raises(ValueError, match="is not a valid phone number"):
        check_sender_id("whatsapp:+15550000")
    with pytest.raises(ValueError, match=r"not in E\.164 form; write 'whatsapp:\+15017122661'"):
        check_sender_id("whatsapp:+1 501 712 2661")
