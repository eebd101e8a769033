"""Messaging v1 representations without HTTP: a service, a ChannelSender, the create form, the errors."""

from __future__ import annotations

import pytest

from reconciler.emulator import service_records as sr
from reconciler.emulator.validation import CODE_INVALID_PARAMETER, ApiProblem

ACCOUNT = "AC" + "a" * 32
MG = "MG" + "b" * 32
XE = "XE" + "c" * 32
BASE = "http://127.0.0.1:8080"


def service(**settings: object) -> dict:
    return {"sid": MG, "friendly_name": "Support line", "settings": settings, "date_created": 1_800_000_000.0,
            "date_updated": 1_800_000_060.0, "_emulator": {"seq": 0}}  # fmt: skip


def test_a_service_has_every_field_of_the_specs_example_in_its_order():
    shown = sr.render_service(service(), ACCOUNT, BASE)
    assert list(shown) == [
        "account_sid", "sid", "date_created", "date_updated", "friendly_name", "inbound_request_url",
        "inbound_method", "fallback_url", "fallback_method", "status_callback", "sticky_sender", "mms_converter",
        "smart_encoding", "fallback_to_long_code", "area_code_geomatch", "validity_period", "scan_message_content",
        "synchronous_validation", "usecase", "us_app_to_person_registered", "use_inbound_webhook_on_number",
        "links", "url",
    ]  # fmt: skip
    assert (shown["account_sid"], shown["sid"], shown["friendly_name"]) == (ACCOUNT, MG, "Support line")
    assert (shown["date_created"], shown["date_updated"]) == ("2027-01-15T08:00:00Z", "2027-01-15T08:01:00Z")
    assert shown["url"] == f"{BASE}/v1/Services/{MG}"
    assert shown["links"]["channel_senders"] == f"{BASE}/v1/Services/{MG}/ChannelSenders"
    assert set(shown["links"]) == set(sr.LINKS) and len(sr.LINKS) == 8
    # Twilio's documented defaults, until the create form sets something else.
    assert (shown["inbound_method"], shown["sticky_sender"], shown["validity_period"], shown["usecase"]) == (
        "POST", True, 36000, "undeclared")
    assert sr.render_service(service(sticky_sender=False), ACCOUNT, BASE)["sticky_sender"] is False


def test_a_channel_sender_is_the_specs_shape():
    member = {"sid": XE, "sender": "whatsapp:+447700900123", "date_created": 1_800_000_000.0,
              "date_updated": 1_800_000_000.0, "_emulator": {"seq": 3}}  # fmt: skip
    assert sr.render_channel_sender(member, ACCOUNT, MG, BASE) == {
        "account_sid": ACCOUNT, "messaging_service_sid": MG, "sid": XE, "sender": "whatsapp:+447700900123",
        "sender_type": "WhatsApp", "country_code": "GB", "date_created": "2027-01-15T08:00:00Z",
        "date_updated": "2027-01-15T08:00:00Z", "url": f"{BASE}/v1/Services/{MG}/ChannelSenders/{XE}",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("sender", "country"),
    [("whatsapp:+15017122661", "US"), ("whatsapp:+4915112345678", "DE"), ("whatsapp:+8613800138000", "CN"),
     ("whatsapp:+99912345", None), ("whatsapp:+8881234567", None), ("whatsapp:", None)],
)  # fmt: skip
def test_the_country_is_the_calling_codes_main_country(sender, country):
    assert sr.country_code(sender) == country


def test_the_create_form_gives_the_name_and_the_settings_it_sets():
    name, settings = sr.service_form({
        "FriendlyName": "Support line", "StickySender": "False", "ValidityPeriod": "600", "InboundMethod": "GET",
        "ScanMessageContent": "enable", "Usecase": "marketing", "NotAParameter": "ignored",
    })  # fmt: skip
    assert name == "Support line"
    assert settings == {"sticky_sender": False, "validity_period": 600, "inbound_method": "GET",
                        "scan_message_content": "enable", "usecase": "marketing"}  # fmt: skip


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({}, "Missing required parameter FriendlyName in the post body"),
        ({"FriendlyName": ""}, "FriendlyName"),
        ({"FriendlyName": "x" * 65}, "1 to 64 characters"),
        ({"FriendlyName": "A", "StickySender": "yes"}, "StickySender: 'yes' is not true or false"),
        ({"FriendlyName": "A", "ValidityPeriod": "0"}, "ValidityPeriod"),
        ({"FriendlyName": "A", "ValidityPeriod": "36001"}, "ValidityPeriod"),
        ({"FriendlyName": "A", "FallbackMethod": "PUT"}, "FallbackMethod: 'PUT' is not one of GET, POST"),
    ],
)
def test_a_bad_create_form_is_400_20001_naming_the_parameter(form, words):
    with pytest.raises(ApiProblem) as info:
        sr.service_form(form)
    assert (info.value.status, info.value.code) == (400, CODE_INVALID_PARAMETER)
    assert words in info.value.message


def test_the_pool_errors_are_409_with_twilios_codes_and_name_the_service():
    same = sr.already_in_service(XE, MG)
    assert (same.status, same.code) == (409, 21710) and XE in same.message and MG in same.message
    other = sr.in_another_service(XE, MG)
    assert (other.status, other.code) == (409, 21712) and other.message.endswith(f"another Messaging Service: {MG}")
    missing = sr.service_not_found(MG, "/ChannelSenders")
    assert (missing.status, missing.code) == (404, 20404)
    assert missing.message == f"The requested resource /v1/Services/{MG}/ChannelSenders was not found"


def test_friendly_names_are_1_to_64_characters():
    assert sr.check_friendly_name("x" * 64) == "x" * 64
    for bad in ("", "x" * 65, None, 7):
        with pytest.raises(ValueError, match="1 to 64"):
            sr.check_friendly_name(bad)
