"""Body validation without HTTP: what a body sets, and the first offending field it names."""

from __future__ import annotations

import pytest

from reconciler.emulator.validation import (
    CODE_INVALID_WABA,
    CODE_VALIDATION,
    ApiProblem,
    not_found,
    validate_body,
)

CREATE = {"sender_id": "whatsapp:+15017122661", "profile": {"name": "Acme"}}


def problem(body: object, *, create: bool = True) -> ApiProblem:
    with pytest.raises(ApiProblem) as info:
        validate_body(body, create=create)
    return info.value


def test_a_valid_create_returns_every_section_with_lists_labelled():
    fields = validate_body(
        {**CREATE, "profile": {"name": "Acme", "emails": ["a@example.com", {"email": "b@example.com", "label": "Help"}]},
         "webhook": {"callback_method": "PUT"}},
        create=True,
    )  # fmt: skip
    assert fields == {
        "configuration": {},
        "webhook": {"callback_method": "PUT"},
        "profile": {
            "name": "Acme",
            "emails": [{"email": "a@example.com", "label": "Email"}, {"email": "b@example.com", "label": "Help"}],
        },
    }


def test_an_update_needs_neither_sender_id_nor_name():
    assert validate_body({"configuration": {"verification_code": "123456"}}, create=False)["configuration"] == {
        "verification_code": "123456"
    }


WEBSITES = ["https://a", "https://b", "https://c"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "Invalid request body: must be a JSON object"),
        ({**CREATE, "colour": "red"}, "Unknown field colour"),
        ({**CREATE, "friendly_name": 3}, "Invalid value for friendly_name: must be a string"),
        ({**CREATE, "webhook": "x"}, "Invalid value for webhook: must be an object"),
        (
            {**CREATE, "webhook": {"callback_method": "GET"}},
            "Invalid value for webhook.callback_method: 'GET' is not one of 'POST', 'PUT'",
        ),
        (
            {**CREATE, "webhook": {"status_callback_method": "GET"}},
            "Invalid value for webhook.status_callback_method: 'GET' is not one of 'POST', 'PUT'",
        ),
        (
            {**CREATE, "configuration": {"account_type": "Reseller"}},
            "Invalid value for configuration.account_type: 'Reseller' is not one of 'ISV', 'ISVSubAccount', ''",
        ),
        (
            {**CREATE, "profile": {"name": "A", "websites": ["ftp://x"]}},
            "Invalid value for profile.websites[0].website: 'ftp://x' is not an http(s) URL",
        ),
        (
            {**CREATE, "profile": {"name": "A", "websites": WEBSITES}},
            "Invalid value for profile.websites: at most 2 websites are allowed",
        ),
        (
            {**CREATE, "profile": {"name": "A", "emails": [{"email": "a@b", "label": 1}]}},
            "Invalid value for profile.emails[0].label: must be a string",
        ),
        ({**CREATE, "profile": {"name": " "}}, "Invalid value for profile.name: must be a non-empty string"),
        (
            {**CREATE, "configuration": {"verification_code": "1234"}},
            "configuration.verification_code can only be sent in an update, once the sender is created",
        ),
        ({"profile": {"name": "A"}}, "Missing required field sender_id"),
        (
            {"sender_id": "+15017122661", "profile": {"name": "A"}},
            "Invalid value for sender_id: '+15017122661' must be 'whatsapp:' followed by an E.164 number",
        ),
        ({"sender_id": "whatsapp:+15017122661"}, "Missing required field profile.name"),
    ],
)
def test_refusals_name_the_field(body, message):
    refused = problem(body)
    assert (refused.status, refused.code, refused.message) == (400, CODE_VALIDATION, message)


def test_the_first_offending_field_is_named():
    # Sections in the order configuration, webhook, profile; cross-field checks after every field.
    body = {"sender_id": "bad", "webhook": {"x": 1}, "configuration": {"waba_id": 5}, "profile": {"colour": 1}}
    assert problem(body).message == "Invalid value for configuration.waba_id: must be a string"
    body["configuration"] = {"waba_id": "abc"}
    assert problem(body).message == "Unknown field webhook.x"
    del body["webhook"]
    assert problem(body).message == "Unknown field profile.colour"
    body["profile"] = {"name": "A"}
    refused = problem(body)
    assert refused.code == CODE_INVALID_WABA and "is not a WABA ID" in refused.message


def test_a_verification_code_in_an_update_must_be_4_to_10_digits():
    assert problem({"configuration": {"verification_code": "12"}}, create=False).message == (
        "Invalid value for configuration.verification_code: must be 4 to 10 digits"
    )


def test_problems_have_twilios_error_shape():
    assert not_found("XE" + "0" * 32).body() == {
        "code": 20404,
        "message": f"The requested resource /v2/Channels/Senders/XE{'0' * 32} was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }
