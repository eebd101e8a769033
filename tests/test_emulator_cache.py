"""List pages are built from each sender's cached JSON: no change to a sender may leave it stale.

Each test reads a page first (so the cache holds every sender), changes something one way, and
checks the page against senders rendered afresh. The clock is fixed unless a test moves it, so a
change can only show through the invalidation that the test is about.
"""

from __future__ import annotations

import json

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.emulator import EmulatorServer
from reconciler.emulator.store import SenderStore

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _body(n: int, **profile: str) -> dict:
    return {"sender_id": f"whatsapp:+1500555{n:04d}", "profile": {"name": f"S{n}", **profile}}


def listed(store: SenderStore, after: int | None = None, size: int = 1000) -> list[dict]:
    """A page as the list endpoint sends it (cached encodings), after checking it against fresh renders."""
    data, next_after, previous_after, start = store.page_json(after, size)
    senders = json.loads(data)
    assert (senders, next_after, previous_after, start) == store.page(after, size)
    return senders


def by_sid(store: SenderStore) -> dict[str, dict]:
    return {s["sid"]: s for s in listed(store)}


def test_the_page_is_the_senders_encoded_as_the_api_writes_them():
    store = SenderStore()
    store.add(_body(1, about="Ünïcode ☃, a line\u2028separator"))
    data, *_ = store.page_json(None, 20)
    assert data == json.dumps(store.page(None, 20)[0], separators=(",", ":"), ensure_ascii=False).encode()


def test_an_update_is_listed():
    store = SenderStore(transition_delay=60, clock=Clock())
    sid = store.add(_body(1, about="old"))["sid"]
    listed(store)
    store.update(sid, {"profile": {"about": "new"}})
    sender = by_sid(store)[sid]
    assert sender["profile"]["about"] == "new"
    assert sender["status"] == "ONLINE:UPDATING"


def test_a_status_that_settles_later_is_listed():
    clock = Clock()
    store = SenderStore(transition_delay=10, clock=clock)
    sid = store.create(_body(1))["sid"]
    assert by_sid(store)[sid]["status"] == "CREATING"
    clock.now += 11
    sender = by_sid(store)[sid]
    assert sender["status"] == "ONLINE"
    assert sender["properties"] is not None


def test_display_name_review_progress_is_listed():
    clock = Clock()
    store = SenderStore(review_delay=100, clock=clock)
    sid = store.add(_body(1))["sid"]
    store.update(sid, {"profile": {"name": "Renamed"}})
    assert by_sid(store)[sid]["pending_display_name_status"] == "PENDING_REVIEW"
    clock.now += 51
    assert by_sid(store)[sid]["pending_display_name_status"] == "APPROVED"
    clock.now += 50
    sender = by_sid(store)[sid]
    assert sender["pending_display_name_status"] == "COMPLETED"
    assert sender["profile"]["name"] == "Renamed"
    clock.now += 15 * 24 * 3600  # a completed change is reported for 14 days
    assert "pending_display_name_status" not in by_sid(store)[sid]


def test_a_created_sender_is_listed_after_a_read():
    store = SenderStore(clock=Clock())
    store.add(_body(1))
    listed(store)
    sid = store.create(_body(2))["sid"]
    assert [s["sid"] for s in listed(store)][-1] == sid


def test_a_deleted_sender_is_no_longer_listed_or_cached():
    store = SenderStore(clock=Clock())
    sids = [store.add(_body(i))["sid"] for i in range(3)]
    listed(store)
    store.delete(sids[1])
    assert [s["sid"] for s in listed(store)] == [sids[0], sids[2]]
    assert [s["sid"] for s in listed(store, size=1)] == [sids[0]]
    second = store.page(store.page(None, 1)[1], 1)[0]
    assert [s["sid"] for s in second] == [sids[2]]


def test_a_sid_freed_by_a_delete_shows_its_new_owner():
    store = SenderStore(clock=Clock())
    gone = store.add(_body(1, about="deleted"))["sid"]
    listed(store)
    store.delete(gone)
    store.add(_body(2, about="new owner"), sid=gone)
    assert by_sid(store)[gone]["profile"]["about"] == "new owner"


def test_test_hook_state_changes_are_listed():
    store = SenderStore(clock=Clock())
    sid = store.add(_body(1))["sid"]
    listed(store)
    reasons = [{"code": "410", "message": "Number deregistered", "more_info": None}]
    store.set_state(sid, status="OFFLINE", offline_reasons=reasons)
    sender = by_sid(store)[sid]
    assert sender["status"] == "OFFLINE"
    assert sender["offline_reasons"] == reasons


def test_a_new_base_url_is_listed():
    store = SenderStore(clock=Clock())
    sid = store.add(_body(1))["sid"]
    listed(store)
    store.base_url = "https://proxy.example"
    assert by_sid(store)[sid]["url"] == f"https://proxy.example/v2/Channels/Senders/{sid}"


def test_a_sequence_number_set_by_the_test_hook_orders_the_pages():
    store = SenderStore(clock=Clock())
    sids = [store.add(_body(i))["sid"] for i in range(3)]
    listed(store)
    emulator_meta = {"seq": 5, "settle_to": None, "settle_at": None, "approve_at": None, "apply_at": None}
    store.set_state(sids[1], _emulator=emulator_meta)  # sequence numbers now 0, 5, 2
    assert [s["sid"] for s in listed(store)] == sids
    # A page starts at the first sender, in creation order, whose number is above the token's.
    assert [s["sid"] for s in listed(store, 1, 1)] == [sids[1]]


def test_a_base_url_with_characters_json_escapes_is_listed():
    store = SenderStore(clock=Clock())
    sid = store.add(_body(1))["sid"]
    store.base_url = 'https://proxy.example/a"b\\c/é'
    assert by_sid(store)[sid]["url"] == f'https://proxy.example/a"b\\c/é/v2/Channels/Senders/{sid}'


def test_a_loaded_state_file_is_listed(tmp_path):
    path = tmp_path / "state.json"
    store = SenderStore(state_file=path, clock=Clock())
    sids = [store.add(_body(i))["sid"] for i in range(3)]
    store.set_state(sids[1], pending_display_name_status="PENDING_REVIEW", pending_display_name="Next")
    expected = store.all()
    loaded = SenderStore(state_file=path, clock=Clock())
    assert listed(loaded) == expected
    assert [s["sid"] for s in listed(loaded, loaded.page(None, 2)[1], 2)] == [sids[2]]


def test_server_hooks_and_public_url_are_listed():
    with EmulatorServer() as server:
        sid = server.add_sender(_body(1))["sid"]

        def page() -> dict:
            response = httpx.get(f"{server.base_url}/v2/Channels/Senders", params={"Channel": "whatsapp"})
            assert response.headers["content-type"] == "application/json; charset=utf-8"
            return {s["sid"]: s for s in response.json()["senders"]}

        page()
        added = server.add_sender(_body(2))["sid"]
        server.update_sender_state(sid, status="OFFLINE")
        server.public_url = "https://proxy.example/"
        senders = page()
        assert list(senders) == [sid, added]
        assert senders[sid]["status"] == "OFFLINE"
        assert senders[added]["url"] == f"https://proxy.example/v2/Channels/Senders/{added}"
        server.public_url = None
        assert page()[sid]["url"] == f"{server.base_url}/v2/Channels/Senders/{sid}"


_ops = st.lists(
    st.tuples(
        st.sampled_from(["create", "add", "update", "name", "delete", "state", "readd", "wait", "base_url", "read"]),
        st.integers(min_value=0, max_value=30),
    ),
    max_size=40,
)


@settings(max_examples=60)
@given(ops=_ops, page_size=st.integers(min_value=1, max_value=7))
def test_any_mix_of_changes_lists_what_a_fresh_render_shows(ops, page_size):
    clock = Clock()
    store = SenderStore(transition_delay=5, review_delay=20, clock=clock)
    made = 0
    for op, k in ops:
        sids = [s["sid"] for s in store.all()]
        sid = sids[k % len(sids)] if sids else None
        if op in ("create", "add") or sid is None:
            (store.create if op == "create" else store.add)(_body(made))
            made += 1
        elif op == "update":
            store.update(sid, {"profile": {"about": f"about {k}"}})
        elif op == "name":  # with about, so a name refused while another is in review still changes the sender
            store.update(sid, {"profile": {"name": f"Name {k}", "about": f"renamed {k}"}})
        elif op == "delete":
            store.delete(sid)
        elif op == "state":
            store.set_state(sid, status=["OFFLINE", "ONLINE", "DRAFT"][k % 3])
        elif op == "readd":  # the same sid, another sender
            store.delete(sid)
            store.add(_body(made, about=f"readded {k}"), sid=sid)
            made += 1
        elif op == "wait":
            clock.now += k
        elif op == "base_url":
            store.base_url = f"https://h{k % 3}.example"
        # Walk every page, as a client does, comparing each with fresh renders.
        after, seen = None, []
        while True:
            seen += listed(store, after, page_size)
            after = store.page(after, page_size)[1]
            if after is None:
                break
        assert seen == store.all()
