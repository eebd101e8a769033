"""Every kind of request and response, validated by Stoplight Prism against Twilio's official spec.

Prism runs as a proxy with ``--errors`` in front of the emulator. It reports a violation in one of
three ways, and each fails these tests:

- a request that breaks the spec is not forwarded: Prism answers 422 (or 401) itself, with an
  ``application/problem+json`` body whose ``type`` starts with ``https://stoplight.io/prism/errors#``;
- a response that breaks the spec (severity error) is replaced by a 500 problem of type ``...#VIOLATIONS``;
- lesser violations (warnings) come back in the ``sl-violations`` response header.

Twilio's spec declares no error responses for the Senders paths, so Prism warns "Unable to match the
returned status code" for every 4xx/5xx. That one warning is accepted for the error cases, and only
there: their bodies are checked against Twilio's error shape by the tests themselves.
"""

from __future__ import annotations

import httpx
import pytest

from reconciler.emulator import Faults
from tests.factories import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET, TEST_AUTH_TOKEN
from tests.prism import conforms as ok
from tests.prism import refused_conforming as refused

pytestmark = pytest.mark.prism

SENDERS = "/v2/Channels/Senders"


@pytest.fixture
def api(prism_url):
    with httpx.Client(base_url=prism_url, auth=(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN), timeout=30) as client:
        yield client


def full_body(n: int, **configuration: str) -> dict:
    return {
        "sender_id": f"whatsapp:+1500555{n:04d}",
        "configuration": {"waba_id": "12345678912345", **configuration},
        "webhook": {
            "callback_url": "https://example.com/in",
            "callback_method": "POST",
            "fallback_url": "https://example.com/fallback",
            "fallback_method": "PUT",
            "status_callback_url": "https://example.com/status",
            "status_callback_method": "POST",
        },
        "profile": {
            "name": f"Acme {n}",
            "about": "Hello",
            "address": "1 Main St",
            "description": "We sell things",
            "logo_url": "https://example.com/logo.png",
            "vertical": "Other",
            "websites": [{"website": "https://example.com", "label": "Website"}, "https://help.example.com"],
            "emails": ["support@example.com", {"email": "sales@example.com", "label": "Sales"}],
        },
    }


def test_list_and_paging_through_prism(api, emulator):
    ok(api.get(SENDERS, params={"Channel": "whatsapp"}), 200)
    for n in range(5):
        ok(api.post(SENDERS, json=full_body(n)), 202)
    # Every response shape the list can hold: online, offline with reasons, in name review.
    first = emulator.senders()[0]["sid"]
    reasons = [{"code": "30008", "message": "No delivery", "more_info": "https://www.twilio.com/docs/api/errors/30008"}]
    emulator.update_sender_state(first, status="OFFLINE", offline_reasons=reasons)
    emulator.update_sender_state(
        emulator.senders()[1]["sid"], pending_display_name="New", pending_display_name_status="DECLINED"
    )
    url: str | None = f"{SENDERS}?Channel=whatsapp&PageSize=2"
    seen = []
    while url:
        page = ok(api.get(url), 200).json()
        seen += page["senders"]
        url = page["meta"]["next_page_url"]
        if url:
            assert url.startswith(str(api.base_url))
    assert len(seen) == 5
    last = ok(api.get(SENDERS, params={"Channel": "whatsapp", "PageSize": 1000, "Page": 0}), 200).json()
    assert len(last["senders"]) == 5


def test_create_fetch_update_verify_delete_through_prism(api, emulator):
    created = ok(api.post(SENDERS, json=full_body(1, verification_method="sms")), 202).json()
    sid = created["sid"]
    assert ok(api.get(f"{SENDERS}/{sid}"), 200).json()["status"] == "PENDING_VERIFICATION"
    verifying = ok(api.post(f"{SENDERS}/{sid}", json={"configuration": {"verification_code": "123456"}}), 202).json()
    assert verifying["status"] == "VERIFYING"
    assert ok(api.get(f"{SENDERS}/{sid}"), 200).json()["status"] == "ONLINE"
    update = {
        "webhook": {"callback_url": "https://example.com/new", "callback_method": "PUT"},
        "profile": {"about": "New about", "emails": [{"email": "x@example.com", "label": "Email"}]},
        "configuration": {"voice_application_sid": "AP" + "a" * 32},
    }
    assert ok(api.post(f"{SENDERS}/{sid}", json=update), 202).json()["status"] == "ONLINE:UPDATING"
    renamed = ok(api.post(f"{SENDERS}/{sid}", json={"profile": {"name": "Acme Renamed"}}), 202).json()
    assert renamed["display_name_status"] == "updating"
    got = ok(api.get(f"{SENDERS}/{sid}"), 200).json()
    assert got["pending_display_name_status"] == "PENDING_REVIEW"
    emulator.update_sender_state(sid, pending_display_name_status="COMPLETED")
    assert ok(api.get(f"{SENDERS}/{sid}"), 200).json()["profile"]["name"] == "Acme Renamed"
    ok(api.delete(f"{SENDERS}/{sid}"), 204)


def test_api_key_through_prism(prism_url):
    r = httpx.get(prism_url + SENDERS, params={"Channel": "whatsapp"}, auth=(TEST_API_KEY, TEST_API_SECRET))
    ok(r, 200)


def test_error_responses_through_prism(api, emulator, prism_url):
    missing = "XE" + "0" * 32
    refused(api.get(f"{SENDERS}/{missing}"), 404, 20404)
    refused(api.post(f"{SENDERS}/{missing}", json={"profile": {"about": "x"}}), 404, 20404)
    refused(api.delete(f"{SENDERS}/{missing}"), 404, 20404)
    ok(api.post(SENDERS, json=full_body(1)), 202)
    refused(api.post(SENDERS, json=full_body(1)), 409, 63100)
    refused(api.post(SENDERS, json={**full_body(2), "unknown": "x"}), 400, 63100)
    refused(api.post(SENDERS, json={"sender_id": "whatsapp:+15005550002", "profile": {"about": "no name"}}), 400, 63100)
    sid = emulator.senders()[0]["sid"]
    refused(api.post(f"{SENDERS}/{sid}", json={"configuration": {"verification_code": "12"}}), 400, 63100)
    refused(api.post(f"{SENDERS}/{sid}", json={"configuration": {"waba_id": "999"}}), 400, 63100)
    refused(
        httpx.get(prism_url + SENDERS, params={"Channel": "whatsapp"}, auth=(TEST_ACCOUNT_SID, "wrong")), 401, 20003
    )
    emulator.set_faults(Faults(rate_429=1.0, retry_after=1))
    refused(api.get(SENDERS, params={"Channel": "whatsapp"}), 429, 20429)
    emulator.set_faults(Faults(rate_5xx=1.0))
    refused(api.get(SENDERS, params={"Channel": "whatsapp"}), 500, 20500)
    emulator.set_faults(Faults())


def test_display_name_refusals_through_prism(api, emulator):
    ok(api.post(SENDERS, json=full_body(1)), 202)
    sid = emulator.senders()[0]["sid"]
    ok(api.post(f"{SENDERS}/{sid}", json={"profile": {"name": "Second"}}), 202)
    err = refused(api.post(f"{SENDERS}/{sid}", json={"profile": {"name": "Third"}}), 409, 63128)
    assert err["message"] == "A display name change is already in progress for this sender"
    assert ok(api.post(f"{SENDERS}/{sid}", json={"profile": {"name": "Second"}}), 202).json()["display_name_status"] == (
        "pending_review")
    emulator.update_sender_state(sid, pending_display_name_status="DECLINED", meta_declines={"Second": "Too generic"})
    assert "Too generic" in refused(api.post(f"{SENDERS}/{sid}", json={"profile": {"name": "Second"}}), 400, 63124)["message"]


def test_friendly_name_and_account_type_through_prism(api):
    body = {**full_body(4, account_type="ISV"), "friendly_name": "Front desk"}
    sid = ok(api.post(SENDERS, json=body), 202).json()["sid"]
    got = ok(api.get(f"{SENDERS}/{sid}"), 200).json()
    assert (got["friendly_name"], got["configuration"]["account_type"]) == ("Front desk", "ISV")
    update = {"friendly_name": "Back office", "configuration": {"account_type": "ISVSubAccount"}}
    assert ok(api.post(f"{SENDERS}/{sid}", json=update), 202).json()["friendly_name"] == "Back office"


def test_official_sdk_through_prism(prism_url, emulator, monkeypatch):
    twilio_rest = pytest.importorskip("twilio.rest")
    from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList as L

    for var in ("TWILIO_REGION", "TWILIO_EDGE"):
        monkeypatch.delenv(var, raising=False)
    client = twilio_rest.Client(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    client.messaging.base_url = prism_url
    last: list[httpx.Response] = []
    # The SDK hides response headers; ask the client to keep them so warnings are seen too.
    http = client.http_client
    original = http.request

    def recording(*args, **kwargs):
        response = original(*args, **kwargs)
        last.append(response)
        return response

    monkeypatch.setattr(http, "request", recording)
    senders = client.messaging.v2.channels_senders
    s = senders.create(L.MessagingV2ChannelsSenderRequestsCreate(full_body(3)))
    senders(s.sid).fetch()
    senders(s.sid).update(L.MessagingV2ChannelsSenderRequestsUpdate({"profile": {"about": "Hi"}}))
    assert [x.sid for x in senders.stream(channel="whatsapp", page_size=1)] == [s.sid]
    senders(s.sid).delete()
    assert len(last) == 5
    for response in last:
        assert "sl-violations" not in {k.lower() for k in response.headers}, response.headers["sl-violations"]
        assert "stoplight.io/prism/errors" not in response.text


def test_the_check_catches_violations(api, emulator):
    """The harness itself: a response and a request that break the spec are both caught."""
    emulator.add_sender({"sender_id": "whatsapp:+15005550009", "profile": {"name": "X"}}, status="NOT_IN_THE_SPEC")
    with pytest.raises(AssertionError, match="enum"):
        ok(api.get(SENDERS, params={"Channel": "whatsapp"}), 200)
    with pytest.raises(AssertionError, match="pagesize"):
        ok(api.get(SENDERS, params={"Channel": "whatsapp", "PageSize": 5000}), 200)
    with pytest.raises(AssertionError, match="callback_method"):
        ok(api.post(SENDERS, json={**full_body(8), "webhook": {"callback_method": "GET"}}), 202)
