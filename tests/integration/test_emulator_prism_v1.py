"""Messaging v1 on the emulator (Services, ChannelSenders), validated by Stoplight Prism against Twilio's spec.

Prism runs as a proxy with ``--errors`` in front of the emulator, with the extract of Twilio's Messaging v1
spec (``tests/fixtures/twilio_messaging_v1_services.yaml``). As for the Senders API (see
test_emulator_prism.py), a request or response that breaks the spec fails these tests, and the one
warning accepted is the undeclared status of an error answer, whose body the tests check themselves.
"""

from __future__ import annotations

import httpx
import pytest

from reconciler.emulator import Faults
from tests.factories import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET, TEST_AUTH_TOKEN
from tests.prism import conforms, refused_conforming, violations

pytestmark = pytest.mark.prism

SERVICES = "/v1/Services"
MISSING_MG = "MG" + "0" * 32


def pool(service_sid: str) -> str:
    return f"{SERVICES}/{service_sid}/ChannelSenders"


@pytest.fixture
def api(prism_v1_url):
    with httpx.Client(base_url=prism_v1_url, auth=(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN), timeout=30) as client:
        yield client


def senders(emulator, n: int) -> list[str]:
    return [emulator.add_sender({"sender_id": f"whatsapp:+1501712{2000 + i:04d}", "profile": {"name": f"S{i}"}})["sid"]
            for i in range(n)]  # fmt: skip


def test_services_list_paging_create_fetch_delete_through_prism(api, emulator):
    conforms(api.get(SERVICES), 200)
    for n in range(3):
        emulator.add_service(f"Seeded {n}", usecase="marketing", validity_period=600)
    form = {"FriendlyName": "Support line", "StickySender": "false", "InboundRequestUrl": "https://example.com/in",
            "InboundMethod": "GET", "ScanMessageContent": "enable", "ValidityPeriod": "600", "Usecase": "notifications"}
    made = conforms(api.post(SERVICES, data=form), 201).json()
    url: str | None = f"{SERVICES}?PageSize=2"
    seen = []
    while url:
        page = conforms(api.get(url), 200).json()
        seen += [s["sid"] for s in page["services"]]
        url = page["meta"]["next_page_url"]
        if url:
            assert url.startswith(str(api.base_url))
    assert len(seen) == 4 and seen[-1] == made["sid"]
    conforms(api.get(SERVICES, params={"PageSize": 1000, "Page": 0}), 200)
    assert conforms(api.get(f"{SERVICES}/{made['sid']}"), 200).json()["inbound_method"] == "GET"
    conforms(api.delete(f"{SERVICES}/{made['sid']}"), 204)


def test_a_pool_add_list_fetch_remove_through_prism(api, emulator):
    sids = senders(emulator, 3)
    service = emulator.add_service("Support line")["sid"]
    for sid in sids:
        conforms(api.post(pool(service), data={"Sid": sid}), 201)
    url: str | None = f"{pool(service)}?PageSize=2"
    seen = []
    while url:
        page = conforms(api.get(url), 200).json()
        seen += [m["sid"] for m in page["senders"]]
        url = page["meta"]["next_page_url"]
    assert seen == sids
    assert conforms(api.get(f"{pool(service)}/{sids[1]}"), 200).json()["sender_type"] == "WhatsApp"
    conforms(api.delete(f"{pool(service)}/{sids[1]}"), 204)
    # A number whose calling code names no country: country_code is null, which the spec allows.
    odd = emulator.add_sender({"sender_id": "whatsapp:+8881234567", "profile": {"name": "Odd"}})["sid"]
    assert conforms(api.post(pool(service), data={"Sid": odd}), 201).json()["country_code"] is None


def test_api_key_through_prism(prism_v1_url):
    conforms(httpx.get(prism_v1_url + SERVICES, auth=(TEST_API_KEY, TEST_API_SECRET)), 200)


def test_error_answers_through_prism(api, emulator, prism_v1_url):
    sid, other = senders(emulator, 2)
    support, sales = emulator.add_service("Support line")["sid"], emulator.add_service("Sales")["sid"]
    conforms(api.post(pool(support), data={"Sid": sid}), 201)
    refused_conforming(api.post(pool(support), data={"Sid": sid}), 409, 21710)
    assert support in refused_conforming(api.post(pool(sales), data={"Sid": sid}), 409, 21712)["message"]
    refused_conforming(api.post(pool(sales), data={"Sid": "XE" + "0" * 32}), 404, 20404)
    refused_conforming(api.post(pool(MISSING_MG), data={"Sid": other}), 404, 20404)
    refused_conforming(api.get(f"{SERVICES}/{MISSING_MG}"), 404, 20404)
    refused_conforming(api.get(pool(MISSING_MG)), 404, 20404)
    refused_conforming(api.get(f"{pool(sales)}/{sid}"), 404, 20404)
    refused_conforming(api.delete(f"{pool(sales)}/{sid}"), 404, 20404)
    refused_conforming(api.post(SERVICES, data={"FriendlyName": "x" * 65}), 400, 20001)
    refused_conforming(httpx.get(prism_v1_url + SERVICES, auth=(TEST_ACCOUNT_SID, "wrong")), 401, 20003)
    emulator.set_faults(Faults(rate_429=1.0))
    refused_conforming(api.get(SERVICES), 429, 20429)
    emulator.set_faults(Faults(rate_5xx=1.0))
    refused_conforming(api.post(pool(sales), data={"Sid": other}), 500, 20500)
    emulator.set_faults(Faults())


def test_official_sdk_through_prism(prism_v1_url, emulator, monkeypatch):
    twilio_rest = pytest.importorskip("twilio.rest")
    for var in ("TWILIO_REGION", "TWILIO_EDGE"):
        monkeypatch.delenv(var, raising=False)
    client = twilio_rest.Client(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    client.messaging.base_url = prism_v1_url
    seen: list = []
    http = client.http_client
    original = http.request

    def recording(*args, **kwargs):  # the SDK hides response headers: keep the responses to read Prism's
        response = original(*args, **kwargs)
        seen.append(response)
        return response

    monkeypatch.setattr(http, "request", recording)
    sids = senders(emulator, 2)
    services = client.messaging.v1.services
    made = services.create(friendly_name="Support line")
    assert [s.sid for s in services.list(page_size=1)] == [made.sid]
    for sid in sids:
        services(made.sid).channel_senders.create(sid=sid)
    assert [m.sid for m in services(made.sid).channel_senders.list(page_size=1)] == sids
    services(made.sid).channel_senders(sids[0]).fetch()
    services(made.sid).channel_senders(sids[0]).delete()
    services(made.sid).fetch()
    assert len(seen) == 9  # create, 1 page of services, 2 adds, 2 pages of the pool, fetch, delete, fetch
    for response in seen:
        assert "sl-violations" not in {k.lower() for k in response.headers}, response.headers["sl-violations"]
        assert "stoplight.io/prism/errors" not in response.text


def test_the_check_catches_violations(api, emulator):
    """The harness itself: a request and a response that break the v1 spec are both caught."""
    service = emulator.add_service("Support line")["sid"]
    # Prism refuses a Sid that breaks the spec's pattern before the emulator sees it.
    with pytest.raises(AssertionError, match="Request body property Sid must match pattern"):
        conforms(api.post(pool(service), data={"Sid": "XE123"}), 201)
    emulator.add_service("Odd", usecase=7)  # a setting of the wrong type: the spec says string
    with pytest.raises(AssertionError, match="usecase"):
        conforms(api.get(SERVICES), 200)
    assert violations(api.get(f"{SERVICES}/{service}")) == []
