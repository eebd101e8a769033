"""The value checks of sender models (no models): phone numbers, sender ids, URLs, emails, account SIDs, lists."""

from __future__ import annotations

import doctest
from typing import Any

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.models import (
    VERTICALS,
    check_e164,
    check_email,
    check_sender_id,
    check_url,
    rules,
)
from reconciler.models.rules import check_account_sid, check_ignored_id, labelled_items, no_null, parse_number


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


@settings(max_examples=1000, deadline=None)
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


@settings(max_examples=1500, deadline=None)
@given(_EMAILISH)
def test_the_email_fast_path_accepts_only_what_email_validator_accepts(value: str) -> None:
    assert_check_email_agrees_with_email_validator(value)


@pytest.mark.parametrize(
    "value", ["a@ab--cd.com", "a@x.local", "a@localhost", "a..b@example.com", "a@-x.com", "a@x.c0m", "a@example"]
)
def test_the_email_fast_path_leaves_edge_cases_to_email_validator(value: str) -> None:
    assert_check_email_agrees_with_email_validator(value)


def test_the_email_fast_path_knows_every_special_use_domain_of_email_validator() -> None:
    """The fast path sends addresses under these domains to email-validator; its list is written out in rules."""
    import email_validator

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


@settings(max_examples=2000, deadline=None)
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


# --------------------------------------------------------------------------- account SIDs, ignore entries, lists


def test_an_account_sid_is_ac_and_32_lowercase_hex_digits() -> None:
    sid = "AC" + "0123456789abcdef" * 2
    assert check_account_sid(sid) == sid
    with pytest.raises(ValueError, match=f"write the SID's hex digits in lower case, as Twilio shows it: '{sid}'"):
        check_account_sid("AC" + sid[2:].upper())
    for wrong in ("ac" + sid[2:], sid[:-1], sid + "0", "MG" + sid[2:], ""):
        with pytest.raises(ValueError, match="is not an account SID: 'AC' followed by 32 hex digits"):
            check_account_sid(wrong)


@pytest.mark.parametrize("value", ["whatsapp:+1555", "whatsapp:test-number", "whatsapp:+15017122661"])
def test_an_ignore_entry_may_be_any_whatsapp_id_the_api_lists(value: str) -> None:
    assert check_ignored_id(value) == value


@pytest.mark.parametrize(("value", "said"), [
    ("whatsapp:+1 501 712 2661", "write 'whatsapp:+15017122661'"),   # a valid number, written another way
    ("whatsapp:a b", "is not 'whatsapp:' followed by an E.164 number"),
    ("whatsapp:x\u202ey", "is not 'whatsapp:' followed by an E.164 number"),
    ("+15017122661", "must be 'whatsapp:' followed by an E.164 number"),
])
def test_an_ignore_entry_is_refused_with_what_the_sender_id_check_says(value: str, said: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_ignored_id(value)
    assert said in str(caught.value)


def test_labelled_items_read_strings_and_empty_labels_as_the_default_label() -> None:
    items = ["a@x.example", {"email": "b@x.example", "label": "Work"}, {"email": "c@x.example", "label": ""},
             {"email": "d@x.example"}, 7]
    assert labelled_items("emails", items) == [
        {"email": "a@x.example", "label": "Email"}, {"email": "b@x.example", "label": "Work"},
        {"email": "c@x.example", "label": "Email"}, {"email": "d@x.example", "label": "Email"}, 7]
    assert labelled_items("phone_numbers", ["+15017122661"]) == [{"phone_number": "+15017122661", "label": "Phone"}]


def test_null_is_refused_with_what_to_write_instead() -> None:
    assert no_null("") == "" and no_null(0) == 0
    with pytest.raises(ValueError, match="leave the field out to stop managing it, or use '' to clear it"):
        no_null(None)


def test_the_examples_in_the_docstrings_hold() -> None:
    result = doctest.testmod(rules)
    assert result.attempted >= 2 and result.failed == 0
