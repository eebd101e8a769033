"""Twilio's official Python SDK (pinned) drives the emulator: what Twilio publishes must work against it."""

from __future__ import annotations

import pytest

twilio = pytest.importorskip("twilio", reason="the 'test' extra pins twilio==9.13.0")

from twilio.base.exceptions import TwilioException, TwilioRestException  # noqa: E402
from twilio.rest import Client  # noqa: E402
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList as L  # noqa: E402

from tests.factories import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET, TEST_AUTH_TOKEN  # noqa: E402


@pytest.fixture
def senders(emulator, monkeypatch):
    for var in ("TWILIO_REGION", "TWILIO_EDGE"):
        monkeypatch.delenv(var, raising=False)
    client = Client(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    client.messaging.base_url = emulator.base_url
    return client.messaging.v2.channels_senders


def test_sdk_version_is_the_pinned_one():
    assert twilio.__version__ == "9.13.0"


def test_sdk_list_create_fetch_update_verify_delete(senders, emulator):
    for n in range(7):
        emulator.add_sender({"sender_id": f"whatsapp:+1500555{100 + n:04d}", "profile": {"name": f"Seed {n}"}})

    listed = list(senders.stream(channel="whatsapp", page_size=3))
    assert [s.sender_id for s in listed] == [f"whatsapp:+1500555{100 + n:04d}" for n in range(7)]
    assert emulator.stats()["GET /v2/Channels/Senders"] == 3  # followed next_page_url twice

    created = senders.create(
        L.MessagingV2ChannelsSenderRequestsCreate(
            {
                "sender_id": "whatsapp:+15005550006",
                "configuration": {"verification_method": "sms", "waba_id": "12345678912345"},
                "webhook": {"callback_url": "https://example.com/hook", "callback_method": "POST"},
                "profile": {"name": "Acme", "emails": ["support@example.com"], "websites": ["https://example.com"]},
            }
        )
    )
    assert created.sid.startswith("XE") and created.status == "CREATING"
    assert created.profile["emails"] == [{"email": "support@example.com", "label": "Email"}]

    fetched = senders(created.sid).fetch()
    assert fetched.status == "PENDING_VERIFICATION"
    assert fetched.configuration["waba_id"] == "12345678912345"
    assert fetched.webhook["callback_url"] == "https://example.com/hook"

    verified = senders(created.sid).update(
        L.MessagingV2ChannelsSenderRequestsUpdate({"configuration": {"verification_code": "123456"}})
    )
    assert verified.status == "VERIFYING"
    assert senders(created.sid).fetch().status == "ONLINE"

    updated = senders(created.sid).update(
        L.MessagingV2ChannelsSenderRequestsUpdate({"profile": {"about": "Hi", "name": "Acme Two"}})
    )
    assert updated.status == "ONLINE:UPDATING"
    assert updated.display_name_status == "updating"
    assert updated.profile["about"] == "Hi" and updated.profile["name"] == "Acme"
    again = senders(created.sid).fetch()
    assert again.status == "ONLINE"
    assert again.pending_display_name == "Acme Two"
    assert again.pending_display_name_status == "PENDING_REVIEW"
    assert again.pending_display_name_status_date is not None
    assert again.profile["emails"] == [{"email": "support@example.com", "label": "Email"}]

    assert senders(created.sid).delete() is True
    with pytest.raises(TwilioRestException) as err:
        senders(created.sid).fetch()
    assert err.value.status == 404 and err.value.code == 20404


def test_sdk_errors_carry_status_and_code(senders):
    body = {"sender_id": "whatsapp:+15005550006", "profile": {"name": "Acme"}}
    senders.create(L.MessagingV2ChannelsSenderRequestsCreate(body))
    with pytest.raises(TwilioRestException) as dup:
        senders.create(L.MessagingV2ChannelsSenderRequestsCreate(body))
    assert dup.value.status == 409 and dup.value.code == 63100
    assert "sender_id provided already exists" in dup.value.msg


def test_sdk_with_api_key(emulator):
    client = Client(TEST_API_KEY, TEST_API_SECRET, TEST_ACCOUNT_SID)
    client.messaging.base_url = emulator.base_url
    assert list(client.messaging.v2.channels_senders.stream(channel="whatsapp")) == []


def test_sdk_bad_credentials(emulator):
    client = Client(TEST_ACCOUNT_SID, "wrong")
    client.messaging.base_url = emulator.base_url
    with pytest.raises(TwilioException):
        list(client.messaging.v2.channels_senders.stream(channel="whatsapp"))


def sdk(sid: str, secret: str, base_url: str, account_sid: str | None = None) -> Client:
    """A client of the v2010 API and the Senders API, both pointed at the emulator."""
    client = Client(sid, secret, account_sid)
    client.api.base_url = base_url
    client.messaging.base_url = base_url
    return client


def test_sdk_reads_the_accounts_resource(emulator, monkeypatch):
    for var in ("TWILIO_REGION", "TWILIO_EDGE"):
        monkeypatch.delenv(var, raising=False)
    subs = [emulator.add_account(f"Customer {n}") for n in range(3)]
    emulator.set_account_status(subs[2].sid, "suspended")
    parent = sdk(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, emulator.base_url)

    listed = parent.api.v2010.accounts.list(page_size=2)  # follows next_page_uri, relative as v2010 writes it
    assert [a.sid for a in listed] == [TEST_ACCOUNT_SID] + [s.sid for s in subs]
    assert emulator.stats()["GET /2010-04-01/Accounts.json"] == 2
    assert [a.sid for a in parent.api.v2010.accounts.list(status="suspended")] == [subs[2].sid]
    assert [a.sid for a in parent.api.v2010.accounts.list(friendly_name="Customer 1")] == [subs[1].sid]

    fetched = parent.api.v2010.accounts(subs[0].sid).fetch()
    assert (fetched.sid, fetched.friendly_name, fetched.auth_token) == (subs[0].sid, "Customer 0", subs[0].auth_token)
    assert fetched.owner_account_sid == TEST_ACCOUNT_SID and fetched.status == "active" and fetched.type == "Full"
    assert fetched.date_created is not None and fetched.date_created.tzinfo is not None
    assert fetched.uri == f"/2010-04-01/Accounts/{subs[0].sid}.json"

    # The looked-up token reaches that subaccount's senders, and only them.
    emulator.add_sender({"sender_id": "whatsapp:+15005550101", "profile": {"name": "Theirs"}}, account=subs[0].sid)
    customer = sdk(fetched.sid, fetched.auth_token, emulator.base_url)
    assert [s.sender_id for s in customer.messaging.v2.channels_senders.stream(channel="whatsapp")] == [
        "whatsapp:+15005550101"
    ]
    assert list(parent.messaging.v2.channels_senders.stream(channel="whatsapp")) == []
    assert [a.sid for a in customer.api.v2010.accounts.list()] == [subs[0].sid]
    with pytest.raises(TwilioRestException) as other:
        customer.api.v2010.accounts(subs[1].sid).fetch()
    assert other.value.status == 404 and other.value.code == 20404


def test_sdk_with_a_standard_key_cannot_read_accounts(emulator, monkeypatch):
    for var in ("TWILIO_REGION", "TWILIO_EDGE"):
        monkeypatch.delenv(var, raising=False)
    keyed = sdk(TEST_API_KEY, TEST_API_SECRET, emulator.base_url, TEST_ACCOUNT_SID)
    with pytest.raises(TwilioRestException) as refused:
        keyed.api.v2010.accounts(TEST_ACCOUNT_SID).fetch()
    assert refused.value.status == 401 and refused.value.code == 20003
    with pytest.raises(TwilioException) as listed:  # a page the SDK cannot fetch: its response rides along
        keyed.api.v2010.accounts.list()
    assert listed.value.args[1].status_code == 401 and '"code":20003' in listed.value.args[1].text
    emulator.add_api_key(TEST_ACCOUNT_SID, "SK" + "cd" * 16, "main-secret", main=True)
    main = sdk("SK" + "cd" * 16, "main-secret", emulator.base_url, TEST_ACCOUNT_SID)
    assert [a.sid for a in main.api.v2010.accounts.list()] == [TEST_ACCOUNT_SID]


def test_sdk_friendly_name_and_account_type_round_trip(senders):
    created = senders.create(L.MessagingV2ChannelsSenderRequestsCreate({
        "sender_id": "whatsapp:+15005550006", "friendly_name": "Front desk",
        "configuration": {"account_type": "ISV"}, "profile": {"name": "Acme"},
    }))
    assert created.friendly_name == "Front desk" and created.configuration["account_type"] == "ISV"
    updated = senders(created.sid).update(L.MessagingV2ChannelsSenderRequestsUpdate(
        {"friendly_name": "Back office", "configuration": {"account_type": "ISVSubAccount"}}))
    assert updated.friendly_name == "Back office"
    fetched = senders(created.sid).fetch()
    assert fetched.friendly_name == "Back office" and fetched.configuration["account_type"] == "ISVSubAccount"


def test_sdk_sees_63128_and_63124_with_status_and_code(senders, emulator):
    sid = senders.create(L.MessagingV2ChannelsSenderRequestsCreate(
        {"sender_id": "whatsapp:+15005550006", "profile": {"name": "Acme"}})).sid
    assert senders(sid).update(L.MessagingV2ChannelsSenderRequestsUpdate(
        {"profile": {"name": "Second"}})).display_name_status == "updating"
    with pytest.raises(TwilioRestException) as busy:
        senders(sid).update(L.MessagingV2ChannelsSenderRequestsUpdate({"profile": {"name": "Third"}}))
    assert (busy.value.status, busy.value.code) == (409, 63128)
    assert "already in progress" in busy.value.msg
    fetched = senders(sid).fetch()
    assert (fetched.pending_display_name, fetched.pending_display_name_status) == ("Second", "PENDING_REVIEW")
    emulator.update_sender_state(sid, pending_display_name_status="DECLINED", meta_declines={"Second": "Too generic"})
    with pytest.raises(TwilioRestException) as declined:
        senders(sid).update(L.MessagingV2ChannelsSenderRequestsUpdate({"profile": {"name": "Second"}}))
    assert (declined.value.status, declined.value.code) == (400, 63124)
    assert "Too generic" in declined.value.msg


# --------------------------------------------------------------------------- Messaging v1: sender pools


@pytest.fixture
def messaging_v1(emulator, monkeypatch):
    for var in ("TWILIO_REGION", "TWILIO_EDGE"):
        monkeypatch.delenv(var, raising=False)
    client = Client(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    client.messaging.base_url = emulator.base_url
    return client.messaging.v1


def test_sdk_lists_services_and_manages_a_pool(messaging_v1, emulator):
    seeded = [emulator.add_service(f"Seeded {n}") for n in range(3)]
    made = messaging_v1.services.create(friendly_name="Support line", sticky_sender=False)
    assert made.sid.startswith("MG") and (made.friendly_name, made.sticky_sender) == ("Support line", False)
    assert made.account_sid == TEST_ACCOUNT_SID and made.date_created.tzinfo is not None
    assert made.links["channel_senders"] == f"{emulator.base_url}/v1/Services/{made.sid}/ChannelSenders"
    listed = messaging_v1.services.list(page_size=2)  # follows meta.next_page_url
    assert [s.sid for s in listed] == [s["sid"] for s in seeded] + [made.sid]
    assert emulator.stats()["GET /v1/Services"] == 2
    assert messaging_v1.services(made.sid).fetch().friendly_name == "Support line"

    sids = [emulator.add_sender({"sender_id": f"whatsapp:+1500555{n:04d}", "profile": {"name": f"S{n}"}})["sid"]
            for n in range(3)]  # fmt: skip
    pool = messaging_v1.services(made.sid).channel_senders
    added = [pool.create(sid=sid) for sid in sids]
    assert [(a.sid, a.messaging_service_sid, a.sender_type) for a in added] == [(s, made.sid, "WhatsApp") for s in sids]
    assert added[0].sender == "whatsapp:+15005550000" and added[0].country_code == "US"
    assert added[0].date_created is not None and added[0].account_sid == TEST_ACCOUNT_SID
    assert [m.sid for m in pool.list(page_size=2)] == sids
    assert emulator.stats()["GET /v1/Services/{MessagingServiceSid}/ChannelSenders"] == 2
    fetched = pool(sids[1]).fetch()
    assert (fetched.sid, fetched.sender) == (sids[1], "whatsapp:+15005550001")
    assert pool(sids[1]).delete() is True
    assert [m.sid for m in pool.list()] == [sids[0], sids[2]]
    with pytest.raises(TwilioRestException) as gone:
        pool(sids[1]).fetch()
    assert (gone.value.status, gone.value.code) == (404, 20404)
    assert messaging_v1.services(made.sid).delete() is True
    assert emulator.services_of(sids[0]) == []


def test_sdk_sees_the_pool_rules_with_status_and_code(messaging_v1, emulator):
    sid = emulator.add_sender({"sender_id": "whatsapp:+15005550006", "profile": {"name": "Acme"}})["sid"]
    support = messaging_v1.services.create(friendly_name="Support line").sid
    sales = messaging_v1.services.create(friendly_name="Sales").sid
    messaging_v1.services(support).channel_senders.create(sid=sid)
    with pytest.raises(TwilioRestException) as same:
        messaging_v1.services(support).channel_senders.create(sid=sid)
    assert (same.value.status, same.value.code) == (409, 21710)
    with pytest.raises(TwilioRestException) as other:
        messaging_v1.services(sales).channel_senders.create(sid=sid)
    assert (other.value.status, other.value.code) == (409, 21712) and support in other.value.msg
    with pytest.raises(TwilioRestException) as unknown:
        messaging_v1.services(sales).channel_senders.create(sid="XE" + "0" * 32)
    assert (unknown.value.status, unknown.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as no_service:
        messaging_v1.services("MG" + "0" * 32).fetch()
    assert (no_service.value.status, no_service.value.code) == (404, 20404)
    with pytest.raises(TwilioException):  # a list page the SDK cannot fetch: a plain exception, as the notes say
        messaging_v1.services("MG" + "0" * 32).channel_senders.list()


def test_sdk_with_a_subaccounts_key_reaches_its_pools_only(emulator, monkeypatch):
    for var in ("TWILIO_REGION", "TWILIO_EDGE"):
        monkeypatch.delenv(var, raising=False)
    customer = emulator.add_account("Bakery Ltd")
    emulator.add_api_key(customer.sid, "SK" + "ab" * 16, "their-secret")
    theirs = emulator.add_sender({"sender_id": "whatsapp:+15005550101", "profile": {"name": "T"}}, account=customer.sid)
    ours = emulator.add_sender({"sender_id": "whatsapp:+15005550102", "profile": {"name": "O"}})
    client = Client("SK" + "ab" * 16, "their-secret", customer.sid)
    client.messaging.base_url = emulator.base_url
    service = client.messaging.v1.services.create(friendly_name="Orders")
    assert service.account_sid == customer.sid
    client.messaging.v1.services(service.sid).channel_senders.create(sid=theirs["sid"])
    with pytest.raises(TwilioRestException) as foreign:
        client.messaging.v1.services(service.sid).channel_senders.create(sid=ours["sid"])
    assert (foreign.value.status, foreign.value.code) == (404, 20404)
    assert emulator.services() == [] and [s["sid"] for s in emulator.services(customer.sid)] == [service.sid]
