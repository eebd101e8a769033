"""One account's Messaging Services and their pools without HTTP: the pool rules, paging, the saved form."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.emulator.services import ServiceStore, derived_service_sid
from reconciler.emulator.store import SenderStore
from reconciler.emulator.validation import ApiProblem

ACCOUNT = "AC" + "a" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def senders_and_services(n: int = 3) -> tuple[SenderStore, ServiceStore, list[str]]:
    senders = SenderStore()
    services = ServiceStore(ACCOUNT, senders, clock=Clock())
    senders.on_delete = services.forget_sender
    sids = [senders.add({"sender_id": f"whatsapp:+1500555{i:04d}", "profile": {"name": f"S{i}"}})["sid"]
            for i in range(n)]  # fmt: skip
    return senders, services, sids


def problem(call, *args, **kwargs) -> tuple[int, int, str]:
    with pytest.raises(ApiProblem) as info:
        call(*args, **kwargs)
    return info.value.status, info.value.code, info.value.message


def test_a_sender_joins_one_pool_and_the_api_refuses_a_second():
    _, services, (a, b, _) = senders_and_services()
    support, sales = services.add("Support line")["sid"], services.add("Sales")["sid"]
    joined = services.join(support, a)
    assert (joined["sid"], joined["messaging_service_sid"], joined["sender"]) == (a, support, "whatsapp:+15005550000")
    assert problem(services.join, support, a)[:2] == (409, 21710)
    status, code, message = problem(services.join, sales, a)
    assert (status, code) == (409, 21712) and message.endswith(support)  # names the service that holds it
    assert services.services_of(a) == [support]
    services.join(support, b)
    assert [m["sid"] for m in services.members(support)] == [a, b] and services.members(sales) == []


def test_unknown_services_and_senders_are_404():
    senders, services, (a, _, _) = senders_and_services()
    support = services.add("Support line")["sid"]
    missing_service = "MG" + "0" * 32
    assert problem(services.join, missing_service, a) == (
        404, 20404, f"The requested resource /v1/Services/{missing_service}/ChannelSenders was not found")
    assert problem(services.join, support, "XE" + "0" * 32)[:2] == (404, 20404)
    assert problem(services.join, support, "not-a-sid")[:2] == (404, 20404)
    assert problem(services.fetch_member, support, a)[:2] == (404, 20404)  # a sender, not in this pool
    assert problem(services.leave, support, a)[:2] == (404, 20404)
    assert problem(services.fetch, missing_service)[:2] == (404, 20404)
    assert problem(services.members, missing_service)[:2] == (404, 20404)
    assert senders.get(a) is not None  # refusals change nothing


def test_leaving_a_pool_and_deleting_a_service_keep_the_sender():
    senders, services, (a, b, _) = senders_and_services()
    support = services.add("Support line")["sid"]
    services.join(support, a)
    services.join(support, b)
    services.leave(support, a)
    assert [m["sid"] for m in services.members(support)] == [b] and services.services_of(a) == []
    services.delete(support)
    assert services.all() == [] and services.services_of(b) == [] and senders.get(b) is not None
    assert problem(services.delete, support)[:2] == (404, 20404)


def test_a_deleted_sender_leaves_every_pool_even_two():
    senders, services, (a, b, _) = senders_and_services()
    support, sales = services.add("Support line")["sid"], services.add("Sales")["sid"]
    services.join(support, a)
    services.join(sales, a, exclusive=False)  # as a test hook may: the API never does
    services.join(sales, b)
    assert services.services_of(a) == [support, sales]
    senders.delete(a)
    assert services.services_of(a) == []
    assert services.members(support) == [] and [m["sid"] for m in services.members(sales)] == [b]


def test_derived_sids_are_the_same_on_every_run_and_differ_per_name_and_ordinal():
    _, one, _ = senders_and_services(0)
    _, two, _ = senders_and_services(0)
    first = [one.add(name)["sid"] for name in ("Support", "Support", "Sales")]
    assert first == [two.add(name)["sid"] for name in ("Support", "Support", "Sales")]
    assert len(set(first)) == 3 and first[0] == derived_service_sid(ACCOUNT, "Support", 0)
    assert one.add("Given", sid="MG" + "1" * 32)["sid"] == "MG" + "1" * 32
    for bad, words in (({"sid": "MG1"}, "32 hex digits"), ({"sid": "MG" + "1" * 32}, "exists already"),
                       ({"colour": "red"}, "unknown service setting 'colour'")):  # fmt: skip
        with pytest.raises(ValueError, match=words):
            one.add("X", **bad)
    with pytest.raises(ValueError, match="1 to 64"):
        one.add("")


def test_api_creates_get_random_sids_and_keep_their_settings():
    _, services, _ = senders_and_services(0)
    made = services.create("Support line", {"sticky_sender": False})
    again = services.create("Support line", {})
    assert made["sid"] != again["sid"] and made["sid"].startswith("MG") and len(made["sid"]) == 34
    assert services.fetch(made["sid"])["sticky_sender"] is False and again["sticky_sender"] is True
    assert [s["friendly_name"] for s in services.all()] == ["Support line", "Support line"]  # names need not be unique


@given(
    n=st.integers(min_value=0, max_value=25),
    left=st.sets(st.integers(min_value=0, max_value=24)),
    size=st.integers(min_value=1, max_value=7),
)
def test_paging_a_pool_returns_each_member_once_in_joining_order(n, left, size):
    _, services, sids = senders_and_services(n)
    support = services.add("Support line")["sid"]
    for sid in reversed(sids):  # joining order, not creation order
        services.join(support, sid)
    for i in left:
        if i < n:
            services.leave(support, sids[i])
    seen, after = [], None
    while True:
        items, after, _ = services.member_page(support, after, size)
        seen += [m["sid"] for m in items]
        if after is None:
            break
    assert seen == [sid for i, sid in reversed(list(enumerate(sids))) if i not in left]


def test_the_saved_form_loads_back_and_drops_members_whose_sender_is_gone():
    senders, services, (a, b, c) = senders_and_services()
    saved: list[str] = []
    services.on_save = lambda store: saved.append(store.state_json())
    support, sales = services.add("Support line", usecase="marketing")["sid"], services.add("Sales")["sid"]
    services.join(sales, b)
    services.join(support, a)
    services.join(support, c)
    entry = json.loads(saved[-1])
    assert [s["sid"] for s in entry["services"]] == [support, sales]
    assert [m["sid"] for m in entry["services"][0]["channel_senders"]] == [a, c]
    senders.delete(c)  # as if the file were written between the delete and its pool's update
    again = ServiceStore(ACCOUNT, senders, clock=Clock())
    again.load_state(entry)
    assert again.all() == services.all()
    assert [m["sid"] for m in again.members(support)] == [a] and again.services_of(b) == [sales]
    assert again.fetch(support)["usecase"] == "marketing"
    assert again.join(support, b, exclusive=False)["sid"] == b  # numbering goes on after the loaded ones
    assert [m["sid"] for m in again.members(support)] == [a, b]


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"services": {}}, '"services" must be a list'),
        ({"services": [{"sid": "MG1", "friendly_name": "A"}]}, "services[0] needs a 'sid'"),
        ({"services": [{"sid": "MG" + "1" * 32}]}, "services[0]: friendly_name"),
        ({"services": [{"sid": "MG" + "1" * 32, "friendly_name": "A", "channel_senders": [{"sid": "XE1"}]}]},
         "services[0]: channel_senders[0]"),
        ({"services": [{"sid": "MG" + "1" * 32, "friendly_name": "A"}] * 2}, "appears twice"),
    ],
)  # fmt: skip
def test_a_broken_saved_form_names_the_place(entry, words):
    _, services, _ = senders_and_services(0)
    with pytest.raises(ValueError) as info:
        services.load_state(entry)
    assert words in str(info.value)


def test_an_entry_without_services_loads_none():
    _, services, _ = senders_and_services(0)
    services.load_state({"next_seq": 0, "senders": []})
    assert services.all() == []
