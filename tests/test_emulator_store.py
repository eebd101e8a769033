"""``reconciler/emulator/store.py``: one account's senders, without HTTP, on a clock the test moves.

What no other test reaches directly: the store's own refusals (as ``ApiProblem`` for the API, as
``ValueError``/``KeyError`` for the test hooks), the status an update leaves and when it settles, the
state file written after every change and read back with its sequence, and ``on_save``. Paging
invariants are tests/test_emulator_state.py's; the cached list encodings, tests/test_emulator_cache.py's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator.store import STATE_VERSION, SenderStore
from reconciler.emulator.validation import ApiProblem

T0 = 1_800_000_000.0
A, B, C = (f"whatsapp:+1501712266{i}" for i in range(1, 4))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def body(sender_id: str = A, **sections: Any) -> dict[str, Any]:
    return {"sender_id": sender_id, "profile": {"name": "Acme"}, **sections}


def problem(call: Any) -> ApiProblem:
    with pytest.raises(ApiProblem) as caught:
        call()
    return caught.value


# --------------------------------------------------------------------------- the API's operations


def test_a_created_sender_settles_when_its_delay_has_passed_and_not_before() -> None:
    clock = Clock()
    store = SenderStore(transition_delay=5, clock=clock)
    plain = store.create(body(A))
    verified = store.create(body(B, configuration={"verification_method": "sms"}))
    assert plain["status"] == verified["status"] == "CREATING"
    clock.now += 4.9
    assert store.fetch(plain["sid"])["status"] == "CREATING"
    clock.now += 0.1
    assert store.fetch(plain["sid"])["status"] == "ONLINE"
    assert store.fetch(verified["sid"])["status"] == "PENDING_VERIFICATION"


def test_an_update_of_an_online_sender_is_updating_until_its_delay_has_passed() -> None:
    clock = Clock()
    store = SenderStore(transition_delay=2, clock=clock)
    sid = store.add(body(A))["sid"]
    assert store.update(sid, {"profile": {"about": "new"}})["status"] == "ONLINE:UPDATING"
    clock.now += 1
    assert store.update(sid, {"profile": {"about": "newer"}})["status"] == "ONLINE:UPDATING"  # the delay starts again
    clock.now += 1.5
    assert store.fetch(sid)["status"] == "ONLINE:UPDATING"
    clock.now += 0.5
    assert store.fetch(sid) == {**store.fetch(sid), "status": "ONLINE"}
    offline = store.add(body(B), status="OFFLINE")["sid"]
    assert store.update(offline, {"profile": {"about": "x"}})["status"] == "OFFLINE"  # only an online one updates


def test_an_update_may_repeat_the_sender_id_but_not_change_it() -> None:
    store = SenderStore()
    sid = store.add(body(A))["sid"]
    assert store.update(sid, {"sender_id": A, "profile": {"about": "x"}})["profile"]["about"] == "x"
    refused = problem(lambda: store.update(sid, {"sender_id": B}))
    assert (refused.status, refused.message) == (400, "sender_id cannot be changed")
    assert store.fetch(sid)["sender_id"] == A


def test_a_waba_id_is_set_once_and_then_kept() -> None:
    store = SenderStore()
    sid = store.add(body(A))["sid"]
    assert store.update(sid, {"configuration": {"waba_id": "111"}})["configuration"]["waba_id"] == "111"
    assert store.update(sid, {"configuration": {"waba_id": "111"}})["configuration"]["waba_id"] == "111"  # the same
    refused = problem(lambda: store.update(sid, {"configuration": {"waba_id": "222"}}))
    assert refused.message == "configuration.waba_id cannot be changed"


def test_a_verification_code_is_taken_only_while_the_sender_waits_for_one() -> None:
    clock = Clock()
    store = SenderStore(transition_delay=1, clock=clock)
    waiting = store.add(body(A), status="PENDING_VERIFICATION")["sid"]
    online = store.add(body(B))["sid"]
    refused = problem(lambda: store.update(online, {"configuration": {"verification_code": "123456"}}))
    assert refused.message.endswith("while the sender is PENDING_VERIFICATION (it is ONLINE)")
    assert store.update(waiting, {"configuration": {"verification_code": "123456"}})["status"] == "VERIFYING"
    clock.now += 1
    assert store.fetch(waiting)["status"] == "ONLINE"


def test_a_sender_id_is_one_sender_s_until_it_is_deleted() -> None:
    store = SenderStore()
    first = store.create(body(A))["sid"]
    taken = problem(lambda: store.create(body(A)))
    assert (taken.status, taken.message) == (409, "sender_id provided already exists")
    store.delete(first)
    again = store.create(body(A))["sid"]
    assert again != first and [s["sid"] for s in store.all()] == [again]


@pytest.mark.parametrize("operation", ["fetch", "update", "delete"])
def test_an_unknown_sid_is_404(operation: str) -> None:
    store = SenderStore()
    sid = "XE" + "f" * 32
    call = {"fetch": lambda: store.fetch(sid), "update": lambda: store.update(sid, {"profile": {"about": "x"}}),
            "delete": lambda: store.delete(sid)}[operation]
    assert problem(call).status == 404
    assert store.get(sid) is None


def test_each_sender_s_url_is_under_the_base_url_of_the_moment() -> None:
    store = SenderStore()
    sid = store.add(body(A))["sid"]
    store.base_url = "http://127.0.0.1:8080"
    assert store.fetch(sid)["url"] == f"http://127.0.0.1:8080/v2/Channels/Senders/{sid}"
    assert store.base_url == "http://127.0.0.1:8080"


# --------------------------------------------------------------------------- paging edges


def test_a_page_after_the_last_sender_is_empty_and_points_back() -> None:
    store = SenderStore()
    for n in (A, B, C):
        store.create(body(n))
    _, last_after, _, _ = store.page(None, 2)
    assert last_after is not None
    senders, next_after, previous_after, start = store.page(last_after, 2)
    assert ([s["sender_id"] for s in senders], next_after, previous_after, start) == ([C], None, -1, 2)
    assert store.page(10**9, 2)[:2] == ([], None)
    assert store.page_json(10**9, 2)[0] == b"[]"


# --------------------------------------------------------------------------- the state file


def test_the_state_file_is_written_after_every_change_and_read_back_with_its_sequence(tmp_path: Path) -> None:
    state = tmp_path / "deep" / "state.json"
    store = SenderStore(state_file=state)
    a = store.create(body(A))["sid"]
    doc = json.loads(state.read_text())
    assert (doc["version"], doc["next_seq"], [s["sid"] for s in doc["senders"]]) == (STATE_VERSION, 1, [a])
    b = store.add(body(B))["sid"]
    store.delete(a)
    doc = json.loads(state.read_text())
    assert (doc["next_seq"], [s["sid"] for s in doc["senders"]]) == (2, [b])
    again = SenderStore(state_file=state)
    c = again.create(body(C))["sid"]
    assert [s["sid"] for s in again.all()] == [b, c]  # a new sender sorts after the loaded ones
    assert again.create(body(A))["sid"] not in (a, b, c)  # a deleted sender's number may come back
    assert not list(state.parent.glob("*.tmp"))


def test_state_json_is_what_load_state_reads_back() -> None:
    store = SenderStore()
    store.add(body(A), status="OFFLINE")
    store.create(body(B))
    copy = SenderStore()
    copy.load_state(json.loads(store.state_json()))
    assert copy.all() == store.all()
    assert copy.create(body(C))["sid"] not in {s["sid"] for s in store.all()}
    assert json.loads(copy.state_json())["next_seq"] == 3


@pytest.mark.parametrize(("data", "words"), [
    ([], 'expected {"version": 1, "senders": [...]}'),
    ({"senders": {}}, 'expected {"version": 1, "senders": [...]}'),
    ({"senders": [{"sid": "XE1"}]}, "senders[0] needs at least 'sid' and 'sender_id'"),
    ({"senders": [{"sid": "XE1", "sender_id": A}, "x"]}, "senders[1] needs at least 'sid' and 'sender_id'"),
])
def test_a_broken_state_is_a_value_error_naming_what_is_wrong(data: Any, words: str) -> None:
    with pytest.raises(ValueError) as caught:
        SenderStore().load_state(data)
    assert str(caught.value) == words


def test_a_state_file_that_is_not_json_is_refused_when_the_store_is_made(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{half")
    with pytest.raises(ValueError):
        SenderStore(state_file=state)


def test_on_save_is_called_after_every_change_instead_of_writing_the_file(tmp_path: Path) -> None:
    saved: list[int] = []
    store = SenderStore(state_file=tmp_path / "unused.json", on_save=lambda s: saved.append(len(s.all())))
    sid = store.create(body(A))["sid"]
    store.update(sid, {"profile": {"about": "x"}})
    store.add(body(B))
    store.set_state(sid, status="OFFLINE")
    store.delete(sid)
    assert saved == [1, 1, 2, 2, 1] and not (tmp_path / "unused.json").exists()


# --------------------------------------------------------------------------- test hooks


def test_seeding_refuses_what_the_api_would_refuse_as_a_value_error() -> None:
    store = SenderStore()
    store.add(body(A))
    with pytest.raises(ValueError, match=f"^{re.escape(A)}: sender_id provided already exists$"):
        store.add(body(A))
    with pytest.raises(ValueError, match=r"profile\.name"):
        store.add({"sender_id": B})
    with pytest.raises(ValueError, match=r"^sid 'XE1' must be 'XE' followed by 32 hex digits$"):
        store.add(body(B), sid="XE1")
    taken = store.all()[0]["sid"]
    with pytest.raises(ValueError, match=f"^sid {taken} exists already$"):
        store.add(body(C), sid=taken)
    assert [s["sender_id"] for s in store.all()] == [A]


def test_set_state_may_give_a_sender_a_new_sid_and_refuses_an_unknown_one() -> None:
    store = SenderStore()
    old = store.add(body(A))["sid"]
    new = "XE" + "ab" * 16
    assert store.set_state(old, sid=new, status="OFFLINE")["sid"] == new
    assert store.get(old) is None and (store.get(new) or {})["status"] == "OFFLINE"
    assert store.fetch(new)["sender_id"] == A
    problem(lambda: store.create(body(A)))  # the number is still taken, by the renamed record
    with pytest.raises(KeyError):
        store.set_state(old, status="ONLINE")
