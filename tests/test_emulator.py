"""The emulator's HTTP behaviour, checked with httpx against a real server on 127.0.0.1."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from reconciler.emulator import EmulatorServer
from tests.factories import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET, TEST_AUTH_TOKEN

SENDERS = "/v2/Channels/Senders"
SID_RE = re.compile(r"^XE[0-9a-f]{32}$")


def body(n: int = 1, **profile: object) -> dict:
    return {"sender_id": f"whatsapp:+1500555{n:04d}", "profile": {"name": f"Acme {n}", **profile}}


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api(emulator):
    with httpx.Client(base_url=emulator.base_url, auth=(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)) as client:
        yield client


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def slow_emulator(clock):
    """Transitions and reviews take 10 s of a fake clock."""
    with EmulatorServer(transition_delay=10, review_delay=10, clock=clock) as server:
        yield server


def create(api: httpx.Client, payload: dict) -> dict:
    r = api.post(SENDERS, json=payload)
    assert r.status_code == 202, r.text
    return r.json()


def assert_error(r: httpx.Response, status: int, code: int, *words: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    err = r.json()
    assert set(err) == {"code", "message", "more_info", "status"}
    assert err["status"] == status and err["code"] == code
    assert err["more_info"].startswith("https://www.twilio.com/docs/errors/")
    for word in words:
        assert word in err["message"]
    return err


# --------------------------------------------------------------------------- auth


def test_account_sid_and_auth_token_are_accepted(emulator):
    r = httpx.get(emulator.base_url + SENDERS, params={"Channel": "whatsapp"}, auth=(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN))
    assert r.status_code == 200


def test_api_key_and_secret_are_accepted(emulator):
    r = httpx.get(emulator.base_url + SENDERS, params={"Channel": "whatsapp"}, auth=(TEST_API_KEY, TEST_API_SECRET))
    assert r.status_code == 200


@pytest.mark.parametrize(
    "auth",
    [None, (TEST_ACCOUNT_SID, "wrong"), (TEST_API_KEY, TEST_AUTH_TOKEN), ("AC" + "1" * 32, TEST_AUTH_TOKEN)],
    ids=["none", "bad-token", "key-with-token", "other-account"],
)
def test_bad_credentials_get_401_20003(emulator, auth):
    r = httpx.get(emulator.base_url + SENDERS, params={"Channel": "whatsapp"}, auth=auth)
    assert_error(r, 401, 20003)
    assert r.headers["WWW-Authenticate"].startswith("Basic")


def test_garbled_authorization_header_is_401(emulator):
    r = httpx.get(emulator.base_url + SENDERS, params={"Channel": "whatsapp"}, headers={"Authorization": "Basic !!!"})
    assert_error(r, 401, 20003)


def test_without_configured_credentials_anything_is_accepted(caplog):
    with caplog.at_level("WARNING", logger="reconciler.emulator"), EmulatorServer() as server:
        r = httpx.get(server.base_url + SENDERS, params={"Channel": "whatsapp"})
        assert r.status_code == 200
    assert "accepting any credentials" in caplog.text


def test_secrets_are_never_logged(caplog):
    with caplog.at_level("DEBUG"), EmulatorServer(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN) as server:
        httpx.get(server.base_url + SENDERS, params={"Channel": "whatsapp"}, auth=(TEST_ACCOUNT_SID, "nope"))
    assert TEST_AUTH_TOKEN not in caplog.text


def test_responses_carry_a_request_id(api):
    r = api.get(SENDERS, params={"Channel": "whatsapp"})
    assert re.match(r"^RQ[0-9a-f]{32}$", r.headers["T-Request-Id"])


# --------------------------------------------------------------------------- create


def test_create_returns_202_creating_with_labelled_lists(api, emulator):
    sent = body(
        1,
        emails=["support@example.com", {"email": "sales@example.com", "label": "Sales"}, {"email": "x@example.com"}],
        websites=["https://example.com"],
        about="Hello",
        vertical="Other",
    )
    sent["webhook"] = {"callback_url": "https://example.com/hook", "callback_method": "POST"}
    sent["configuration"] = {"waba_id": "12345678912345"}
    got = create(api, sent)
    assert SID_RE.match(got["sid"])
    assert got["status"] == "CREATING"
    assert got["sender_id"] == sent["sender_id"]
    assert got["url"] == f"{emulator.base_url}{SENDERS}/{got['sid']}"
    assert got["profile"]["emails"] == [
        {"email": "support@example.com", "label": "Email"},
        {"email": "sales@example.com", "label": "Sales"},
        {"email": "x@example.com", "label": "Email"},
    ]
    assert got["profile"]["websites"] == [{"website": "https://example.com", "label": "Website"}]
    assert got["profile"]["about"] == "Hello"
    assert got["webhook"]["callback_url"] == "https://example.com/hook"
    assert got["configuration"] == {
        "waba_id": "12345678912345",
        "verification_method": None,
        "verification_code": None,
        "voice_application_sid": None,
        "account_type": None,
    }
    assert got["properties"] is None and got["offline_reasons"] is None
    assert "pending_display_name" not in got and "display_name_status" not in got


def test_phone_numbers_get_the_default_label(api):
    got = create(api, body(1, phone_numbers=["+15017122661", {"phone_number": "+15017122662", "label": "Desk"}]))
    assert got["profile"]["phone_numbers"] == [
        {"phone_number": "+15017122661", "label": "Phone"},
        {"phone_number": "+15017122662", "label": "Desk"},
    ]


def test_duplicate_sender_id_is_409_and_creates_nothing(api, emulator):
    create(api, body(1))
    r = api.post(SENDERS, json=body(1))
    assert_error(r, 409, 63100, "sender_id provided already exists")
    assert len(emulator.senders()) == 1


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"profile": {"name": "A"}}, "sender_id"),
        ({"sender_id": "+15005550001", "profile": {"name": "A"}}, "sender_id"),
        ({"sender_id": "whatsapp:+15005550001"}, "profile.name"),
        ({"sender_id": "whatsapp:+15005550001", "profile": {"name": ""}}, "profile.name"),
        ({**body(), "colour": "red"}, "colour"),
        (body(1, colour="red"), "profile.colour"),
        ({**body(), "webhook": {"callback_url": "https://x", "callback_verb": "POST"}}, "webhook.callback_verb"),
        ({**body(), "configuration": {"wabaid": "1"}}, "configuration.wabaid"),
        (body(1, emails=[{"email": "a@b.c", "kind": "work"}]), "profile.emails[0].kind"),
        (body(1, emails=["not-an-email"]), "profile.emails[0].email"),
        (body(1, websites=["https://a", "https://b", "https://c"]), "profile.websites"),
        (body(1, vertical="Spaceships"), "profile.vertical"),
        (body(1, about=42), "profile.about"),
        ({**body(), "webhook": {"callback_method": "GET"}}, "webhook.callback_method"),
        ({**body(), "configuration": {"verification_method": "fax"}}, "configuration.verification_method"),
        ({**body(), "configuration": {"verification_code": "123456"}}, "configuration.verification_code"),
        ({**body(), "configuration": {"voice_application_sid": "XX1"}}, "configuration.voice_application_sid"),
    ],
)
def test_invalid_create_is_400_63100_naming_the_field(api, emulator, payload, field):
    r = api.post(SENDERS, json=payload)
    assert_error(r, 400, 63100, field)
    assert emulator.senders() == []


def test_invalid_waba_id_is_63101(api):
    assert_error(api.post(SENDERS, json={**body(), "configuration": {"waba_id": "abc"}}), 400, 63101, "waba_id")


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"'])
def test_malformed_body_is_400(api, raw):
    r = api.post(SENDERS, content=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400, 63100)


def test_body_is_read_as_json_whatever_the_content_type(api):
    # Twilio's own verify example sends JSON as text/plain.
    r = api.post(SENDERS, content=json.dumps(body(1)), headers={"Content-Type": "text/plain; charset=utf-8"})
    assert r.status_code == 202


# --------------------------------------------------------------------------- fetch, delete


def test_fetch_and_404(api):
    sid = create(api, body(1))["sid"]
    got = api.get(f"{SENDERS}/{sid}")
    assert got.status_code == 200 and got.json()["sid"] == sid
    missing = "XE" + "0" * 32
    assert_error(api.get(f"{SENDERS}/{missing}"), 404, 20404, missing)
    assert_error(api.post(f"{SENDERS}/{missing}", json={"profile": {"about": "x"}}), 404, 20404)
    assert_error(api.delete(f"{SENDERS}/{missing}"), 404, 20404)


def test_delete_is_204_then_404(api, emulator):
    sid = create(api, body(1))["sid"]
    r = api.delete(f"{SENDERS}/{sid}")
    assert r.status_code == 204 and r.content == b""
    assert_error(api.get(f"{SENDERS}/{sid}"), 404, 20404)
    assert emulator.senders() == []
    # The number is free again.
    create(api, body(1))


def test_unknown_route_is_a_twilio_404(api):
    assert_error(api.get("/v2/Channels/Nope"), 404, 20404)


# --------------------------------------------------------------------------- lifecycle


def test_create_settles_to_online_on_the_next_read_with_no_delay(api):
    sid = create(api, body(1))["sid"]
    got = api.get(f"{SENDERS}/{sid}").json()
    assert got["status"] == "ONLINE"
    assert got["properties"] == {"quality_rating": "HIGH", "messaging_limit": "1K Customers/24hr"}


def test_verification_flow(api):
    sent = {**body(1), "configuration": {"verification_method": "sms"}}
    sid = create(api, sent)["sid"]
    assert api.get(f"{SENDERS}/{sid}").json()["status"] == "PENDING_VERIFICATION"
    bad = api.post(f"{SENDERS}/{sid}", json={"configuration": {"verification_code": "12ab"}})
    assert_error(bad, 400, 63100, "verification_code")
    assert api.get(f"{SENDERS}/{sid}").json()["status"] == "PENDING_VERIFICATION"
    r = api.post(f"{SENDERS}/{sid}", json={"configuration": {"verification_code": "123456"}})
    assert r.status_code == 202
    assert r.json()["status"] == "VERIFYING"
    assert r.json()["configuration"]["verification_code"] is None
    got = api.get(f"{SENDERS}/{sid}").json()
    assert got["status"] == "ONLINE"
    assert got["configuration"]["verification_code"] is None
    assert got["configuration"]["verification_method"] == "sms"


def test_verification_code_refused_when_not_pending(api):
    sid = create(api, body(1))["sid"]
    api.get(f"{SENDERS}/{sid}")
    r = api.post(f"{SENDERS}/{sid}", json={"configuration": {"verification_code": "1234"}})
    assert_error(r, 400, 63100, "PENDING_VERIFICATION")


@pytest.mark.parametrize("code", ["123", "12345678901", "12 34", ""])
def test_verification_code_must_be_4_to_10_digits(api, code):
    sid = create(api, {**body(1), "configuration": {"verification_method": "voice"}})["sid"]
    r = api.post(f"{SENDERS}/{sid}", json={"configuration": {"verification_code": code}})
    assert_error(r, 400, 63100, "verification_code")


def test_transitions_wait_for_the_delay(slow_emulator, clock):
    with httpx.Client(base_url=slow_emulator.base_url) as api:
        sid = create(api, body(1))["sid"]
        clock.now += 9.9
        assert api.get(f"{SENDERS}/{sid}").json()["status"] == "CREATING"
        clock.now += 0.1
        assert api.get(f"{SENDERS}/{sid}").json()["status"] == "ONLINE"
        assert api.post(f"{SENDERS}/{sid}", json={"profile": {"about": "x"}}).json()["status"] == "ONLINE:UPDATING"
        clock.now += 5
        assert api.get(f"{SENDERS}/{sid}").json()["status"] == "ONLINE:UPDATING"
        clock.now += 5
        assert api.get(f"{SENDERS}/{sid}").json()["status"] == "ONLINE"

        vsid = create(api, {**body(2), "configuration": {"verification_method": "sms"}})["sid"]
        clock.now += 10
        assert api.get(f"{SENDERS}/{vsid}").json()["status"] == "PENDING_VERIFICATION"
        api.post(f"{SENDERS}/{vsid}", json={"configuration": {"verification_code": "0000"}})
        clock.now += 9
        assert api.get(f"{SENDERS}/{vsid}").json()["status"] == "VERIFYING"
        clock.now += 1
        assert api.get(f"{SENDERS}/{vsid}").json()["status"] == "ONLINE"


def test_offline_sender_with_reasons(api, emulator):
    sid = create(api, body(1))["sid"]
    reasons = [{"code": "30008", "message": "No delivery", "more_info": "https://www.twilio.com/docs/api/errors/30008"}]
    emulator.update_sender_state(sid, status="OFFLINE", offline_reasons=reasons)
    got = api.get(f"{SENDERS}/{sid}").json()
    assert got["status"] == "OFFLINE" and got["offline_reasons"] == reasons
    # An update does not bring an offline sender online.
    assert api.post(f"{SENDERS}/{sid}", json={"profile": {"about": "x"}}).json()["status"] == "OFFLINE"


def test_unknown_status_round_trips(api, emulator):
    sid = emulator.add_sender(body(1), status="ONLINE:PENDING_VERIFICATION")["sid"]
    assert api.get(f"{SENDERS}/{sid}").json()["status"] == "ONLINE:PENDING_VERIFICATION"
    emulator.update_sender_state(sid, status="UNKNOWN")
    assert emulator.get_sender(sid)["status"] == "UNKNOWN"


# --------------------------------------------------------------------------- update


def test_update_merges_only_the_fields_sent(api):
    sent = body(1, about="old about", address="1 Main St", emails=["a@example.com"], vertical="Other")
    sent["webhook"] = {"callback_url": "https://example.com/a", "callback_method": "POST"}
    sid = create(api, sent)["sid"]
    r = api.post(
        f"{SENDERS}/{sid}",
        json={"profile": {"about": "new about", "websites": ["https://example.org"]}, "webhook": {"fallback_url": ""}},
    )
    assert r.status_code == 202
    got = api.get(f"{SENDERS}/{sid}").json()
    assert got["profile"]["about"] == "new about"
    assert got["profile"]["address"] == "1 Main St"
    assert got["profile"]["vertical"] == "Other"
    assert got["profile"]["emails"] == [{"email": "a@example.com", "label": "Email"}]
    assert got["profile"]["websites"] == [{"website": "https://example.org", "label": "Website"}]
    assert got["webhook"]["callback_url"] == "https://example.com/a"
    assert got["webhook"]["callback_method"] == "POST"
    assert got["webhook"]["fallback_url"] == ""


def test_update_with_null_clears_a_field(api):
    sid = create(api, {**body(1), "configuration": {"voice_application_sid": "AP" + "a" * 32}})["sid"]
    api.post(f"{SENDERS}/{sid}", json={"configuration": {"voice_application_sid": None}, "profile": None})
    got = api.get(f"{SENDERS}/{sid}").json()
    assert got["configuration"]["voice_application_sid"] is None
    assert got["profile"]["name"] == "Acme 1"


def test_update_refuses_unknown_fields_and_changes_nothing(api):
    sid = create(api, body(1, about="kept"))["sid"]
    r = api.post(f"{SENDERS}/{sid}", json={"profile": {"about": "changed", "abuot": "typo"}})
    assert_error(r, 400, 63100, "profile.abuot")
    assert api.get(f"{SENDERS}/{sid}").json()["profile"]["about"] == "kept"


def test_sender_id_and_waba_id_cannot_change(api):
    sid = create(api, {**body(1), "configuration": {"waba_id": "111"}})["sid"]
    assert_error(api.post(f"{SENDERS}/{sid}", json={"sender_id": "whatsapp:+15005559999"}), 400, 63100, "sender_id")
    assert_error(api.post(f"{SENDERS}/{sid}", json={"configuration": {"waba_id": "222"}}), 400, 63100, "waba_id")
    # Sending the current values is harmless.
    ok = api.post(f"{SENDERS}/{sid}", json={"sender_id": "whatsapp:+15005550001", "configuration": {"waba_id": "111"}})
    assert ok.status_code == 202
    assert api.get(f"{SENDERS}/{sid}").json()["configuration"]["waba_id"] == "111"


def test_sdk_only_fields_are_accepted(api):
    sid = create(api, {**body(1), "friendly_name": "desk"})["sid"]
    r = api.post(
        f"{SENDERS}/{sid}",
        json={"friendly_name": "x", "profile": {"use_case": None}, "configuration": {"account_type": "ISV"}},
    )
    assert r.status_code == 202
    assert r.json()["configuration"]["account_type"] == "ISV"


# --------------------------------------------------------------------------- display-name review


def rename(api: httpx.Client, sid: str, name: str, **other: object) -> httpx.Response:
    return api.post(f"{SENDERS}/{sid}", json={"profile": {"name": name, **other}})


def test_rename_goes_to_review_and_keeps_the_active_name(api, emulator):
    sid = emulator.add_sender(body(1))["sid"]
    r = rename(api, sid, "Acme New")
    assert r.status_code == 202
    resp = r.json()
    assert resp["display_name_status"] == "updating"
    assert resp["profile"]["name"] == "Acme 1"
    got = api.get(f"{SENDERS}/{sid}").json()
    assert got["profile"]["name"] == "Acme 1"
    assert got["pending_display_name"] == "Acme New"
    assert got["pending_display_name_status"] == "PENDING_REVIEW"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", got["pending_display_name_status_date"])
    assert "display_name_status" not in got
    # Same name again while in review; the active name: nothing submitted.
    assert rename(api, sid, "Acme New").json()["display_name_status"] == "pending_review"
    assert rename(api, sid, "Acme 1").json()["display_name_status"] == "no_change"
    # Approval is a test's decision when review_delay is None.
    emulator.update_sender_state(sid, pending_display_name_status="APPROVED")
    assert rename(api, sid, "Acme New").json()["display_name_status"] == "updating"
    emulator.update_sender_state(sid, pending_display_name_status="COMPLETED")
    got = api.get(f"{SENDERS}/{sid}").json()
    assert got["profile"]["name"] == "Acme New"
    assert got["pending_display_name"] == "Acme New"
    assert got["pending_display_name_status"] == "COMPLETED"


def test_display_name_status_only_when_the_name_was_sent(api, emulator):
    sid = emulator.add_sender(body(1))["sid"]
    assert "display_name_status" not in api.post(f"{SENDERS}/{sid}", json={"profile": {"about": "x"}}).json()


@pytest.mark.parametrize("failed", ["PIN_MISMATCH", "REGISTRATION_FAILED", "EXPIRED"])
def test_retryable_name_failures_go_back_to_review(api, emulator, failed):
    sid = emulator.add_sender(
        body(1),
        pending_display_name="Acme New",
        pending_display_name_status=failed,
        pending_display_name_status_date="2026-01-01T00:00:00Z",
    )["sid"]
    assert api.get(f"{SENDERS}/{sid}").json()["pending_display_name_status"] == failed
    assert rename(api, sid, "Acme New").json()["display_name_status"] == "updating"
    got = api.get(f"{SENDERS}/{sid}").json()
    assert got["pending_display_name_status"] == "PENDING_REVIEW"
    assert got["pending_display_name_status_date"] != "2026-01-01T00:00:00Z"


def test_declined_name_resubmitted_alone_is_refused_with_metas_reason(api, emulator):
    sid = emulator.add_sender(body(1), pending_display_name="Bad Name", pending_display_name_status="DECLINED",
                              meta_declines={"Bad Name": "Display name does not match the business"})["sid"]
    assert_error(rename(api, sid, "Bad Name"), 400, 63124, "declined by Meta: Display name does not match the business")
    assert api.get(f"{SENDERS}/{sid}").json()["pending_display_name_status"] == "DECLINED"
    unnamed = emulator.add_sender(body(2), pending_display_name="Worse", pending_display_name_status="DECLINED")["sid"]
    assert_error(rename(api, unnamed, "Worse"), 400, 63124, "display name guidelines")


def test_a_name_meta_declines_is_refused_alone_and_an_error_with_other_fields(api, emulator):
    sid = emulator.add_sender(body(1), meta_declines={"Cheap Pills": "Promotional content"})["sid"]
    assert_error(rename(api, sid, "Cheap Pills"), 400, 63124, "'Cheap Pills' was declined by Meta: Promotional content")
    r = rename(api, sid, "Cheap Pills", about="applied")
    assert (r.status_code, r.json()["display_name_status"]) == (202, "error")
    got = api.get(f"{SENDERS}/{sid}").json()
    assert got["profile"] == {**got["profile"], "name": "Acme 1", "about": "applied"}
    assert "pending_display_name_status" not in got


def test_another_name_while_one_is_in_review_is_refused_409_63128(api, emulator):
    sid = emulator.add_sender(body(1))["sid"]
    assert rename(api, sid, "Second").json()["display_name_status"] == "updating"
    assert_error(rename(api, sid, "Third"), 409, 63128, "A display name change is already in progress for this sender")
    assert rename(api, sid, "Second").json()["display_name_status"] == "pending_review"
    assert rename(api, sid, "Acme 1").json()["display_name_status"] == "no_change"
    mixed = rename(api, sid, "Third", about="applied")
    assert (mixed.status_code, mixed.json()["display_name_status"]) == (202, "error")
    got = api.get(f"{SENDERS}/{sid}").json()
    assert (got["pending_display_name"], got["profile"]["about"]) == ("Second", "applied")
    emulator.update_sender_state(sid, pending_display_name_status="DECLINED")
    assert rename(api, sid, "Third").json()["display_name_status"] == "updating"  # that review ended


def test_display_names_are_1_to_255_characters(api, emulator):
    sid = emulator.add_sender(body(1))["sid"]
    assert_error(rename(api, sid, "n" * 256), 400, 63124, "1 to 255 characters")
    assert rename(api, sid, "n" * 255).json()["display_name_status"] == "updating"


def test_friendly_name_is_stored_and_returned(api, emulator):
    sid = create(api, {**body(1), "friendly_name": "Front desk"})["sid"]
    assert api.get(f"{SENDERS}/{sid}").json()["friendly_name"] == "Front desk"
    assert api.post(f"{SENDERS}/{sid}", json={"friendly_name": "Back office"}).json()["friendly_name"] == "Back office"
    listed = api.get(SENDERS, params={"Channel": "whatsapp"}).json()["senders"]
    assert [s["friendly_name"] for s in listed] == ["Back office"]


def test_declined_name_with_other_fields_is_error_but_others_apply(api, emulator):
    sid = emulator.add_sender(body(1), pending_display_name="Bad Name", pending_display_name_status="DECLINED")["sid"]
    r = rename(api, sid, "Bad Name", about="applied")
    assert r.status_code == 202
    assert r.json()["display_name_status"] == "error"
    got = api.get(f"{SENDERS}/{sid}").json()
    assert got["profile"]["about"] == "applied"
    assert got["pending_display_name_status"] == "DECLINED"
    # A different name is a new submission.
    assert rename(api, sid, "Good Name").json()["display_name_status"] == "updating"


def test_review_delay_approves_then_applies(slow_emulator, clock):
    sid = slow_emulator.add_sender(body(1))["sid"]
    with httpx.Client(base_url=slow_emulator.base_url) as api:
        rename(api, sid, "Acme New")
        clock.now += 4.9
        assert api.get(f"{SENDERS}/{sid}").json()["pending_display_name_status"] == "PENDING_REVIEW"
        clock.now += 0.1
        got = api.get(f"{SENDERS}/{sid}").json()
        assert got["pending_display_name_status"] == "APPROVED" and got["profile"]["name"] == "Acme 1"
        clock.now += 4.9
        assert api.get(f"{SENDERS}/{sid}").json()["pending_display_name_status"] == "APPROVED"
        clock.now += 0.1
        got = api.get(f"{SENDERS}/{sid}").json()
        assert got["pending_display_name_status"] == "COMPLETED" and got["profile"]["name"] == "Acme New"
        clock.now += 15 * 24 * 3600
        got = api.get(f"{SENDERS}/{sid}").json()
        assert "pending_display_name" not in got and "pending_display_name_status" not in got


# --------------------------------------------------------------------------- list and paging


def list_page(api: httpx.Client, **params: object) -> httpx.Response:
    return api.get(SENDERS, params={"Channel": "whatsapp", **params})


def test_list_requires_channel(api):
    assert_error(api.get(SENDERS), 400, 20001, "Channel")
    assert_error(api.get(SENDERS, params={"Channel": "sms"}), 400, 20001, "Channel")


@pytest.mark.parametrize("size", ["0", "1001", "ten", "-5"])
def test_list_page_size_bounds(api, size):
    assert_error(list_page(api, PageSize=size), 400, 20001, "PageSize")


def test_list_bad_page_token_is_400(api):
    assert_error(list_page(api, PageToken="garbage!"), 400, 20001, "PageToken")


def test_list_default_page_size_and_meta(api, emulator):
    for n in range(25):
        emulator.add_sender(body(n))
    r = list_page(api)
    assert r.status_code == 200
    page = r.json()
    assert len(page["senders"]) == 20
    meta = page["meta"]
    assert meta["page"] == 0 and meta["page_size"] == 20 and meta["key"] == "senders"
    base = f"{emulator.base_url}{SENDERS}"
    assert meta["first_page_url"] == f"{base}?Channel=whatsapp&PageSize=20&Page=0"
    assert meta["url"] == meta["first_page_url"]
    assert meta["previous_page_url"] is None
    nxt = httpx.URL(meta["next_page_url"])
    assert str(nxt).startswith(base + "?")
    assert nxt.params["Channel"] == "whatsapp" and nxt.params["PageSize"] == "20" and nxt.params["PageToken"]
    second = api.get(meta["next_page_url"]).json()
    assert len(second["senders"]) == 5
    assert second["meta"]["page"] == 1
    assert second["meta"]["next_page_url"] is None
    assert second["meta"]["url"] == meta["next_page_url"]
    assert second["meta"]["previous_page_url"] == meta["first_page_url"]


def test_following_next_page_url_returns_everything_once_in_creation_order(api, emulator):
    sids = [emulator.add_sender(body(n))["sid"] for n in range(23)]
    seen, url, pages = [], f"{SENDERS}?Channel=whatsapp&PageSize=5", 0
    while url:
        data = api.get(url).json()
        seen += [s["sid"] for s in data["senders"]]
        url = data["meta"]["next_page_url"]
        pages += 1
    assert seen == sids and pages == 5


def test_previous_page_url_walks_back(api, emulator):
    for n in range(7):
        emulator.add_sender(body(n))
    p1 = list_page(api, PageSize=3).json()
    p2 = api.get(p1["meta"]["next_page_url"]).json()
    p3 = api.get(p2["meta"]["next_page_url"]).json()
    back = api.get(p3["meta"]["previous_page_url"]).json()
    assert [s["sid"] for s in back["senders"]] == [s["sid"] for s in p2["senders"]]
    assert back["meta"]["page"] == 1


def test_paging_is_stable_when_senders_are_deleted_between_pages(api, emulator):
    sids = [emulator.add_sender(body(n))["sid"] for n in range(6)]
    p1 = list_page(api, PageSize=3).json()
    api.delete(f"{SENDERS}/{sids[1]}")
    p2 = api.get(p1["meta"]["next_page_url"]).json()
    assert [s["sid"] for s in p2["senders"]] == sids[3:]


def test_max_page_size_and_empty_list(api, emulator):
    empty = list_page(api, PageSize=1000).json()
    assert empty["senders"] == [] and empty["meta"]["next_page_url"] is None and empty["meta"]["page_size"] == 1000
    assert list_page(api, Channel="rcs").json()["senders"] == []


def test_public_url_is_used_in_responses():
    with EmulatorServer(public_url="https://emulator.example/") as server:
        server.add_sender(body(1))
        data = httpx.get(server.base_url + SENDERS, params={"Channel": "whatsapp"}).json()
    assert data["meta"]["url"].startswith("https://emulator.example/v2/Channels/Senders?")
    assert data["senders"][0]["url"].startswith("https://emulator.example/v2/Channels/Senders/XE")


# --------------------------------------------------------------------------- hooks, stats, state file


def test_add_sender_and_hooks(emulator):
    got = emulator.add_sender(
        body(1, emails=["a@example.com"]),
        status="OFFLINE",
        offline_reasons=[{"code": "410", "message": "gone", "more_info": None}],
        properties={"quality_rating": "LOW", "messaging_limit": "250 Customers/24hr"},
    )
    assert got["status"] == "OFFLINE" and got["properties"]["quality_rating"] == "LOW"
    assert got["profile"]["emails"] == [{"email": "a@example.com", "label": "Email"}]
    assert emulator.get_sender(got["sid"]) == got
    assert emulator.get_sender("XE" + "f" * 32) is None
    with pytest.raises(KeyError):
        emulator.update_sender_state("XE" + "f" * 32, status="ONLINE")
    with pytest.raises(ValueError, match="already exists"):
        emulator.add_sender(body(1))
    with pytest.raises(ValueError, match=r"profile\.colour"):
        emulator.add_sender(body(2, colour="red"))
    fixed = emulator.add_sender(body(3), sid="XE" + "ab" * 16)
    assert fixed["sid"] == "XE" + "ab" * 16


def test_stats_count_requests_per_route(api, emulator):
    emulator.reset_stats()
    sid = create(api, body(1))["sid"]
    api.get(f"{SENDERS}/{sid}")
    api.get(f"{SENDERS}/{sid}")
    list_page(api)
    api.post(f"{SENDERS}/{sid}", json={"profile": {"about": "x"}})
    api.delete(f"{SENDERS}/{sid}")
    assert emulator.stats() == {
        "total": 6,
        "POST /v2/Channels/Senders": 1,
        "GET /v2/Channels/Senders": 1,
        "GET /v2/Channels/Senders/{Sid}": 2,
        "POST /v2/Channels/Senders/{Sid}": 1,
        "DELETE /v2/Channels/Senders/{Sid}": 1,
    }
    emulator.reset_stats()
    assert emulator.stats() == {"total": 0}


def test_state_file_survives_a_restart(tmp_path):
    state = tmp_path / "state" / "senders.json"
    with EmulatorServer(state_file=state) as server:
        with httpx.Client(base_url=server.base_url) as api:
            a = create(api, body(1, emails=["a@example.com"]))
            b = create(api, {**body(2), "configuration": {"verification_method": "sms"}})
            api.get(f"{SENDERS}/{a['sid']}")
            rename(api, a["sid"], "Renamed")
            api.delete(f"{SENDERS}/{create(api, body(3))['sid']}")
        before = server.senders()
    assert json.loads(state.read_text())["version"] == 2  # every account; version 1 files still load
    assert not list(state.parent.glob("*.tmp"))
    with EmulatorServer(state_file=state) as server:
        assert server.senders() == [
            {**s, "url": s["url"].replace(s["url"].split("/v2/")[0], server.base_url)} for s in before
        ]
        with httpx.Client(base_url=server.base_url) as api:
            assert_error(api.post(SENDERS, json=body(1)), 409, 63100)
            got = api.get(f"{SENDERS}/{b['sid']}").json()
            assert got["status"] == "PENDING_VERIFICATION"
            assert got["profile"]["name"] == "Acme 2"
            # New senders sort after the loaded ones.
            c = create(api, body(4))
            sids = [s["sid"] for s in list_page(api).json()["senders"]]
            assert sids == [a["sid"], b["sid"], c["sid"]]


def test_unknown_status_survives_the_state_file(tmp_path):
    state = tmp_path / "s.json"
    with EmulatorServer(state_file=state) as server:
        sid = server.add_sender(body(1), status="STRANGE_NEW_STATUS")["sid"]
    with EmulatorServer(state_file=state) as server:
        assert server.get_sender(sid)["status"] == "STRANGE_NEW_STATUS"


def test_context_manager_and_stop_twice():
    server = EmulatorServer()
    with server:
        url = server.base_url
        assert httpx.get(url + SENDERS, params={"Channel": "whatsapp"}).status_code == 200
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + SENDERS, params={"Channel": "whatsapp"})


def test_port_in_use_is_reported():
    with EmulatorServer() as first:
        port = int(first.base_url.rsplit(":", 1)[1])
        with pytest.raises(OSError):
            EmulatorServer().start(port=port)


def test_many_concurrent_connections(emulator):
    import asyncio

    async def run() -> list[int]:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
        async with httpx.AsyncClient(base_url=emulator.base_url, auth=auth, limits=limits) as client:
            rs = await asyncio.gather(
                *(client.post(SENDERS, json=body(n)) for n in range(64)),
            )
            return [r.status_code for r in rs]

    assert asyncio.run(run()) == [202] * 64
    assert len(emulator.senders()) == 64
