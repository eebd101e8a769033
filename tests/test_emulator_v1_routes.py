"""Messaging v1 on the emulator over real loopback HTTP: Services, their pools (ChannelSenders), the pool
rules and their errors, accounts kept apart, faults, statistics and the state file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import EmulatorServer, Faults
from reconciler.emulator.store import SenderStore
from tests.factories import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET, TEST_AUTH_TOKEN

SERVICES = "/v1/Services"
PARENT = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
MISSING_MG = "MG" + "0" * 32
MISSING_XE = "XE" + "0" * 32
MG_RE = re.compile(r"^MG[0-9a-f]{32}$")
CHANNEL_SENDER_FIELDS = ["account_sid", "messaging_service_sid", "sid", "sender", "sender_type", "country_code",
                         "date_created", "date_updated", "url"]  # fmt: skip


def body(n: int) -> dict:
    return {"sender_id": f"whatsapp:+1500555{n:04d}", "profile": {"name": f"Acme {n}"}}


def pool(service_sid: str) -> str:
    return f"{SERVICES}/{service_sid}/ChannelSenders"


@pytest.fixture
def api(emulator):
    with httpx.Client(base_url=emulator.base_url, auth=PARENT) as client:
        yield client


def assert_error(r: httpx.Response, status: int, code: int, *words: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json") and r.headers["T-Request-Id"].startswith("RQ")
    err = r.json()
    assert set(err) == {"code", "message", "more_info", "status"} and (err["status"], err["code"]) == (status, code)
    assert err["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    for word in words:
        assert word in err["message"]
    return err


def walk(api: httpx.Client, path: str, key: str, page_size: int) -> tuple[list[dict], int]:
    """Every item of a v1 list, following ``meta.next_page_url`` as given; and the number of pages."""
    items, pages, url = [], 0, f"{path}?PageSize={page_size}"
    while url:
        r = api.get(url)
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {key, "meta"} and page["meta"]["key"] == key
        items += page[key]
        pages += 1
        url = page["meta"]["next_page_url"]
    return items, pages


# --------------------------------------------------------------------------- services


def test_services_are_listed_in_creation_order_with_v2_style_paging(api, emulator):
    made = [emulator.add_service(f"Service {n}") for n in range(5)]
    r = api.get(SERVICES)
    assert r.status_code == 200 and r.headers["T-Request-Id"].startswith("RQ")
    meta = r.json()["meta"]
    base = f"{emulator.base_url}{SERVICES}"
    assert meta == {"page": 0, "page_size": 50, "first_page_url": f"{base}?PageSize=50&Page=0",
                    "previous_page_url": None, "url": f"{base}?PageSize=50&Page=0", "next_page_url": None,
                    "key": "services"}  # fmt: skip
    assert r.json()["services"] == made
    listed, pages = walk(api, SERVICES, "services", 2)
    assert [s["sid"] for s in listed] == [s["sid"] for s in made] and pages == 3
    second = api.get(api.get(f"{SERVICES}?PageSize=2").json()["meta"]["next_page_url"]).json()["meta"]
    assert (second["page"], second["previous_page_url"]) == (1, f"{base}?PageSize=2&Page=0")
    assert len(api.get(SERVICES, params={"PageSize": 1000}).json()["services"]) == 5
    for bad in ({"PageSize": 0}, {"PageSize": 1001}, {"PageToken": "nope"}):
        assert_error(api.get(SERVICES, params=bad), 400, 20001)


def test_a_service_is_created_from_a_form_and_fetched(api, emulator):
    r = api.post(SERVICES, data={"FriendlyName": "Support line", "StickySender": "false", "Usecase": "notifications"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert MG_RE.match(made["sid"]) and made["account_sid"] == TEST_ACCOUNT_SID
    assert (made["friendly_name"], made["sticky_sender"], made["usecase"]) == ("Support line", False, "notifications")
    assert made["url"] == f"{emulator.base_url}{SERVICES}/{made['sid']}"
    assert made["links"]["channel_senders"] == f"{made['url']}/ChannelSenders"
    assert api.get(f"{SERVICES}/{made['sid']}").json() == made
    assert emulator.services() == [made]
    again = api.post(SERVICES, data={"FriendlyName": "Support line"}).json()  # names need not be unique
    assert again["sid"] != made["sid"] and [s["friendly_name"] for s in emulator.services()] == ["Support line"] * 2


def test_a_bad_service_create_is_400_20001_and_makes_nothing(api, emulator):
    assert_error(api.post(SERVICES, data={}), 400, 20001, "Missing required parameter FriendlyName")
    assert_error(api.post(SERVICES, json={"FriendlyName": "Support"}), 400, 20001, "FriendlyName")  # not a form
    assert_error(api.post(SERVICES, data={"FriendlyName": "x" * 65}), 400, 20001, "64")
    assert_error(api.post(SERVICES, data={"FriendlyName": "A", "MmsConverter": "maybe"}), 400, 20001, "MmsConverter")
    assert emulator.services() == []


def test_unknown_services_are_404_20404_and_delete_is_204(api, emulator):
    err = assert_error(api.get(f"{SERVICES}/{MISSING_MG}"), 404, 20404)
    assert err["message"] == f"The requested resource /v1/Services/{MISSING_MG} was not found"
    assert_error(api.get(f"{SERVICES}/not-a-sid"), 404, 20404)
    assert_error(api.delete(f"{SERVICES}/{MISSING_MG}"), 404, 20404)
    sender = emulator.add_sender(body(1))["sid"]
    support = emulator.add_service("Support line")["sid"]
    emulator.add_to_service(support, sender)
    assert api.delete(f"{SERVICES}/{support}").status_code == 204
    assert_error(api.get(f"{SERVICES}/{support}"), 404, 20404)
    assert emulator.services_of(sender) == [] and emulator.get_sender(sender) is not None  # the sender stays
    # An update of a service is not emulated: the route answers 405 in Twilio's shape.
    assert_error(api.post(f"{SERVICES}/{MISSING_MG}", data={"FriendlyName": "x"}), 405, 405)


# --------------------------------------------------------------------------- ChannelSenders


def test_a_sender_is_added_listed_fetched_and_removed(api, emulator):
    sid = emulator.add_sender(body(1))["sid"]
    support = emulator.add_service("Support line")["sid"]
    r = api.post(pool(support), data={"Sid": sid})
    assert r.status_code == 201, r.text
    added = r.json()
    assert list(added) == CHANNEL_SENDER_FIELDS
    assert added == {
        "account_sid": TEST_ACCOUNT_SID, "messaging_service_sid": support, "sid": sid,
        "sender": "whatsapp:+15005550001", "sender_type": "WhatsApp", "country_code": "US",
        "date_created": added["date_created"], "date_updated": added["date_created"],
        "url": f"{emulator.base_url}{pool(support)}/{sid}",
    }  # fmt: skip
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", added["date_created"])
    listed = api.get(pool(support)).json()
    assert listed["senders"] == [added] and listed["meta"]["key"] == "senders"
    assert listed["meta"]["first_page_url"] == f"{emulator.base_url}{pool(support)}?PageSize=50&Page=0"
    assert api.get(f"{pool(support)}/{sid}").json() == added
    assert emulator.channel_senders(support) == [added] and emulator.services_of(sid) == [support]
    assert api.delete(f"{pool(support)}/{sid}").status_code == 204
    assert_error(api.get(f"{pool(support)}/{sid}"), 404, 20404)
    assert_error(api.delete(f"{pool(support)}/{sid}"), 404, 20404)
    assert api.get(pool(support)).json()["senders"] == [] and emulator.get_sender(sid) is not None


def test_one_service_per_sender_21710_in_this_one_21712_in_another(api, emulator):
    sid = emulator.add_sender(body(1))["sid"]
    support, sales = emulator.add_service("Support line")["sid"], emulator.add_service("Sales")["sid"]
    assert api.post(pool(support), data={"Sid": sid}).status_code == 201
    err = assert_error(api.post(pool(support), data={"Sid": sid}), 409, 21710)
    assert err["message"] == f"The sender {sid} is already in the Messaging Service {support}"
    err = assert_error(api.post(pool(sales), data={"Sid": sid}), 409, 21712)
    assert err["message"] == f"The sender {sid} is associated with another Messaging Service: {support}"
    assert emulator.services_of(sid) == [support] and emulator.channel_senders(sales) == []
    # Moving it is leaving the old pool first, then joining the new one.
    assert api.delete(f"{pool(support)}/{sid}").status_code == 204
    assert api.post(pool(sales), data={"Sid": sid}).status_code == 201
    assert emulator.services_of(sid) == [sales]


def test_a_bad_add_is_refused_in_order_404_service_400_body_404_sender(api, emulator):
    sid = emulator.add_sender(body(1))["sid"]
    support = emulator.add_service("Support line")["sid"]
    assert_error(api.post(pool(MISSING_MG), json={"Sid": sid}), 404, 20404)  # the service first
    assert_error(api.get(pool(MISSING_MG)), 404, 20404)
    assert_error(api.get(f"{pool(MISSING_MG)}/{sid}"), 404, 20404)
    assert_error(api.post(pool(support), json={"Sid": sid}), 400, 20001, "Missing required parameter Sid")  # JSON
    assert_error(api.post(pool(support), data={}), 400, 20001, "Missing required parameter Sid in the post body")
    assert_error(api.post(pool(support), data={"Sid": "XE123"}), 400, 20001, "'XE' followed by 32 hex digits")
    err = assert_error(api.post(pool(support), data={"Sid": MISSING_XE}), 404, 20404)
    assert err["message"] == f"The requested resource /v2/Channels/Senders/{MISSING_XE} was not found"
    assert emulator.channel_senders(support) == []
    # Only a form is read: the same text sent as another type has no parameters.
    r = api.post(pool(support), content=f"Sid={sid}".encode(), headers={"Content-Type": "text/plain"})
    assert_error(r, 400, 20001, "Missing required parameter Sid")
    assert api.post(pool(support), content=f"Sid={sid}".encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}).status_code == 201


def test_deleting_a_sender_through_the_senders_api_takes_it_out_of_its_pool(api, emulator):
    a, b = emulator.add_sender(body(1))["sid"], emulator.add_sender(body(2))["sid"]
    support = emulator.add_service("Support line")["sid"]
    for sid in (a, b):
        assert api.post(pool(support), data={"Sid": sid}).status_code == 201
    assert api.delete(f"/v2/Channels/Senders/{a}").status_code == 204
    assert [m["sid"] for m in api.get(pool(support)).json()["senders"]] == [b]
    assert_error(api.get(f"{pool(support)}/{a}"), 404, 20404)


def test_a_pool_pages_in_joining_order(api, emulator):
    sids = [emulator.add_sender(body(n))["sid"] for n in range(7)]
    support = emulator.add_service("Support line")["sid"]
    for sid in reversed(sids):
        assert api.post(pool(support), data={"Sid": sid}).status_code == 201
    listed, pages = walk(api, pool(support), "senders", 3)
    assert [m["sid"] for m in listed] == list(reversed(sids)) and pages == 3


# --------------------------------------------------------------------------- accounts and credentials


def test_each_account_has_its_own_services_and_reaches_only_its_own_senders(emulator):
    customer = emulator.add_account("Bakery Ltd")
    theirs = emulator.add_sender(body(1), account=customer.sid)["sid"]
    ours = emulator.add_sender(body(2))["sid"]
    their_service = emulator.add_service("Their line", account=customer.sid)["sid"]
    our_service = emulator.add_service("Our line")["sid"]
    url = str(emulator.base_url)
    as_customer = httpx.Client(base_url=url, auth=(customer.sid, customer.auth_token))
    as_parent = httpx.Client(base_url=url, auth=PARENT)
    with as_customer, as_parent:
        assert [s["sid"] for s in as_customer.get(SERVICES).json()["services"]] == [their_service]
        assert [s["sid"] for s in as_parent.get(SERVICES).json()["services"]] == [our_service]
        assert as_customer.get(f"{SERVICES}/{their_service}").json()["account_sid"] == customer.sid
        assert_error(as_parent.get(f"{SERVICES}/{their_service}"), 404, 20404)  # the parent's token: its own only
        assert_error(as_parent.post(pool(our_service), data={"Sid": theirs}), 404, 20404)  # another account's sender
        assert_error(as_customer.post(pool(their_service), data={"Sid": ours}), 404, 20404)
        added = as_customer.post(pool(their_service), data={"Sid": theirs})
        assert added.status_code == 201 and added.json()["account_sid"] == customer.sid
        assert_error(as_parent.get(f"{pool(their_service)}/{theirs}"), 404, 20404)
    with httpx.Client(base_url=url, auth=(TEST_API_KEY, TEST_API_SECRET)) as keyed:  # the parent's standard key
        assert [s["sid"] for s in keyed.get(SERVICES).json()["services"]] == [our_service]


@pytest.mark.parametrize("auth", [None, (TEST_ACCOUNT_SID, "wrong"), ("AC" + "9" * 32, TEST_AUTH_TOKEN)])
def test_bad_credentials_are_401_20003_on_every_v1_route(emulator, auth):
    support = emulator.add_service("Support line")["sid"]
    sid = emulator.add_sender(body(1))["sid"]
    with httpx.Client(base_url=str(emulator.base_url), auth=auth) as client:
        for r in (client.get(SERVICES), client.post(SERVICES, data={"FriendlyName": "x"}),
                  client.get(f"{SERVICES}/{support}"), client.get(pool(support)),
                  client.post(pool(support), data={"Sid": sid}), client.delete(f"{pool(support)}/{sid}")):  # fmt: skip
            assert_error(r, 401, 20003)
            assert r.headers["WWW-Authenticate"] == 'Basic realm="Twilio API"'
    assert len(emulator.services()) == 1 and emulator.services_of(sid) == []


def test_a_suspended_accounts_credentials_are_refused_on_v1_too(emulator):
    customer = emulator.add_account("Bakery Ltd")
    emulator.set_account_status(customer.sid, "suspended")
    assert_error(httpx.get(f"{emulator.base_url}{SERVICES}", auth=(customer.sid, customer.auth_token)), 401, 20003)


# --------------------------------------------------------------------------- faults and statistics


def test_faults_and_statistics_cover_the_v1_routes():
    with EmulatorServer(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN) as server:
        sid = server.add_sender(body(1))["sid"]
        support = server.add_service("Support line")["sid"]
        base = str(server.base_url)
        with httpx.Client(base_url=base, auth=PARENT) as api:
            server.set_faults(Faults(rate_5xx=1.0))
            assert_error(api.get(SERVICES), 500, 20500)
            assert_error(api.post(pool(support), data={"Sid": sid}), 500, 20500)
            assert server.services_of(sid) == []  # a 5xx is not processed
            server.set_faults(Faults(rate_drop_after_commit=1.0))
            with pytest.raises(httpx.RemoteProtocolError):
                api.post(pool(support), data={"Sid": sid})
            assert server.services_of(sid) == [support]  # committed, then the answer lost
            assert_error(httpx.post(base + pool(support), data={"Sid": sid}, auth=PARENT), 409, 21710)
            with pytest.raises(httpx.RemoteProtocolError):
                httpx.delete(f"{base}{pool(support)}/{sid}", auth=PARENT)
            assert server.services_of(sid) == []
            assert httpx.get(base + pool(support), auth=PARENT).status_code == 200  # reads are never dropped
            server.set_faults(Faults(rate_429=1.0, writes_only=True))
            assert httpx.get(base + SERVICES, auth=PARENT).status_code == 200
            assert_error(httpx.post(base + pool(support), data={"Sid": sid}, auth=PARENT), 429, 20429)
        stats = server.stats()
        assert stats["GET /v1/Services"] == 2
        assert stats["POST /v1/Services/{MessagingServiceSid}/ChannelSenders"] == 4
        assert stats["DELETE /v1/Services/{MessagingServiceSid}/ChannelSenders/{Sid}"] == 1
        assert stats["GET /v1/Services/{MessagingServiceSid}/ChannelSenders"] == 1
        assert (stats["fault 5xx"], stats["fault drop"], stats["fault 429"]) == (2, 2, 1)
        assert server.stats(TEST_ACCOUNT_SID)["GET /v1/Services"] == 2


def test_v1_urls_follow_the_public_url():
    with EmulatorServer(public_url="http://proxy.example:9/") as server:
        support = server.add_service("Support line")["sid"]
        shown = httpx.get(f"{server.base_url}{SERVICES}").json()
        assert shown["services"][0]["url"] == f"http://proxy.example:9/v1/Services/{support}"
        assert shown["meta"]["url"].startswith("http://proxy.example:9/v1/Services?")


# --------------------------------------------------------------------------- test hooks


def test_hooks_put_a_sender_in_two_pools_only_when_asked(emulator):
    sid = emulator.add_sender(body(1))["sid"]
    support, sales = emulator.add_service("Support line")["sid"], emulator.add_service("Sales")["sid"]
    emulator.add_to_service(support, sid)
    with pytest.raises(ValueError, match="another Messaging Service"):
        emulator.add_to_service(sales, sid)
    emulator.add_to_service(sales, sid, exclusive=False)
    assert emulator.services_of(sid) == [support, sales]
    emulator.remove_from_service(support, sid)
    assert emulator.services_of(sid) == [sales]
    with pytest.raises(KeyError):
        emulator.remove_from_service(support, sid)
    with pytest.raises(KeyError):
        emulator.channel_senders(MISSING_MG)
    with pytest.raises(KeyError):
        emulator.add_to_service(MISSING_MG, sid)
    other = emulator.add_account("Bakery Ltd")
    their_service = emulator.add_service("Theirs", account=other.sid)["sid"]
    with pytest.raises(ValueError, match="was not found"):  # a sender of another account
        emulator.add_to_service(their_service, sid)
    assert [s["sid"] for s in emulator.services(other.sid)] == [their_service]


# --------------------------------------------------------------------------- the state file


def held(server: EmulatorServer) -> dict[str, list[tuple]]:
    """Each account's services and pools, without the URLs (a restarted server listens on another port)."""
    return {
        a.sid: [(s["sid"], s["friendly_name"], s["date_created"],
                 [(m["sid"], m["sender"], m["date_created"]) for m in server.channel_senders(s["sid"])])
                for s in server.services(a.sid)]
        for a in server.accounts()
    }  # fmt: skip


def test_the_state_file_keeps_services_and_pools_per_account(tmp_path: Path):
    state = tmp_path / "state.json"
    with EmulatorServer(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, state_file=state,
                        subaccounts=1) as server:  # fmt: skip
        customer = server.accounts()[1]
        ours = server.add_sender(body(1))["sid"]
        theirs = server.add_sender(body(2), account=customer.sid)["sid"]
        with httpx.Client(base_url=str(server.base_url), auth=PARENT) as api:
            support = api.post(SERVICES, data={"FriendlyName": "Support line"}).json()["sid"]
            assert api.post(pool(support), data={"Sid": ours}).status_code == 201
        their_service = server.add_service("Their line", account=customer.sid)["sid"]
        server.add_to_service(their_service, theirs)
        before = held(server)
    saved = json.loads(state.read_text())
    parent_entry, customer_entry = saved["accounts"]
    assert [s["friendly_name"] for s in parent_entry["services"]] == ["Support line"]
    assert [m["sid"] for m in parent_entry["services"][0]["channel_senders"]] == [ours]
    assert [m["sid"] for m in customer_entry["services"][0]["channel_senders"]] == [theirs]
    with EmulatorServer(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, state_file=state,
                        subaccounts=1) as again:  # fmt: skip
        assert held(again) == before
        with httpx.Client(base_url=str(again.base_url), auth=PARENT) as api:  # the rules hold after a restart
            assert_error(api.post(pool(support), data={"Sid": ours}), 409, 21710)


def test_a_state_file_written_before_services_existed_loads_with_none(tmp_path: Path):
    state = tmp_path / "old.json"
    SenderStore(state_file=state).add(body(1))
    with EmulatorServer(state_file=state) as server:
        assert server.services() == [] and len(server.senders()) == 1
        server.add_service("Support line")
    assert [s["friendly_name"] for s in json.loads(state.read_text())["accounts"][0]["services"]] == ["Support line"]
