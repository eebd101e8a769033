"""Desired senders as the file declares them: normalisation, the managed-field view, and the JSON Schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from reconciler.models import (
    DEFAULT_LABELS,
    MAX_ABOUT,
    VERTICALS,
    DesiredSender,
    DesiredState,
    Profile,
    SendersFile,
    senders_file_json_schema,
)
from tests.factories import A, desired


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


# --------------------------------------------------------------------------- JSON Schema


def test_schema_has_no_null_and_accepts_string_shorthand() -> None:
    schema = senders_file_json_schema()
    services = [schema["$defs"][model]["properties"].pop("messaging_service") for model in ("SenderDefaults",
                                                                                            "DesiredSender")]
    assert all({"type": "null"} in service["anyOf"] for service in services)  # "in no service"
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
