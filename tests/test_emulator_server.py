"""``reconciler/emulator/server.py``: the emulator's HTTP side, on a real server on a loopback port.

What no other test reaches: starting and stopping (twice, again, on IPv6 loopback), where absolute URLs
point before and after the server listens, Twilio's error shape for a method a route does not take, a
404 before a complaint about the body, the numbers list every credential may read for the accounts it
reaches, and the counts per account. The Senders API's behaviour is tests/test_emulator.py's; accounts,
tests/test_emulator_accounts.py's; faults, tests/test_emulator_faults.py's.
"""

from __future__ import annotations

import re
import socket

import httpx
import pytest

from reconciler.emulator import EmulatorServer
from tests.factories import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET, TEST_AUTH_TOKEN

SENDERS = "/v2/Channels/Senders"
PARENT = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
ERROR_FIELDS = {"code", "message", "more_info", "status"}


def numbers(sid: str) -> str:
    return f"/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json"


def twilio_error(r: httpx.Response, status: int, code: int) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json") and re.match(r"^RQ[0-9a-f]{32}$", r.headers["T-Request-Id"])
    doc: dict[str, object] = r.json()
    assert set(doc) == ERROR_FIELDS and (doc["status"], doc["code"]) == (status, code)
    return doc


# --------------------------------------------------------------------------- lifecycle


def test_a_running_server_refuses_a_second_start_and_a_stopped_one_starts_again() -> None:
    server = EmulatorServer()
    first = server.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            server.start()
        sender = server.add_sender({"sender_id": "whatsapp:+15017122661", "profile": {"name": "Acme"}})
    finally:
        server.stop()
    second = server.start()
    try:
        assert second.startswith("http://127.0.0.1:")
        listed = httpx.get(second + SENDERS, params={"Channel": "whatsapp"}).json()["senders"]
        assert [s["sid"] for s in listed] == [sender["sid"]] and listed[0]["url"].startswith(second)
    finally:
        server.stop()
    assert first.startswith("http://127.0.0.1:")


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 on this machine")
def test_an_ipv6_loopback_address_is_written_in_brackets() -> None:
    server = EmulatorServer()
    try:
        url = server.start(host="::1")
    except OSError:
        pytest.skip("::1 cannot be bound here")
    try:
        assert re.match(r"^http://\[::1\]:\d+$", url)
        assert httpx.get(url + SENDERS, params={"Channel": "whatsapp"}).status_code == 200
    finally:
        server.stop()


def test_absolute_urls_follow_the_public_url_set_before_or_after_the_start() -> None:
    server = EmulatorServer(public_url="https://proxy.example/base/")
    assert server.public_url == "https://proxy.example/base" and server.base_url is None
    with server:
        sid = server.add_sender({"sender_id": "whatsapp:+15017122661", "profile": {"name": "Acme"}})["sid"]
        page = httpx.get(f"{server.base_url}{SENDERS}", params={"Channel": "whatsapp"}).json()
        assert page["meta"]["url"].startswith("https://proxy.example/base/v2/Channels/Senders?")
        assert page["senders"][0]["url"] == f"https://proxy.example/base{SENDERS}/{sid}"
        server.public_url = None
        assert server.public_url == server.base_url
        assert server.get_sender(sid)["url"] == f"{server.base_url}{SENDERS}/{sid}"  # type: ignore[index]


# --------------------------------------------------------------------------- Twilio's shape for every answer


@pytest.mark.parametrize(("method", "path"), [("PUT", SENDERS), ("PATCH", f"{SENDERS}/XE{'a' * 32}"),
                                              ("HEAD", SENDERS), ("DELETE", SENDERS)])
def test_a_method_the_route_does_not_take_is_405_in_twilio_s_shape(emulator: EmulatorServer, method: str,
                                                                   path: str) -> None:
    r = httpx.request(method, f"{emulator.base_url}{path}", params={"Channel": "whatsapp"}, auth=PARENT)
    if method == "HEAD":
        assert r.status_code == 405 and r.headers["T-Request-Id"].startswith("RQ")  # a HEAD answer has no body
    else:
        assert twilio_error(r, 405, 405)["message"] == "Method Not Allowed"


def test_an_update_of_an_unknown_sender_is_404_before_its_body_is_judged(emulator: EmulatorServer) -> None:
    sid = "XE" + "f" * 32
    r = httpx.post(f"{emulator.base_url}{SENDERS}/{sid}", content=b"{not json", auth=PARENT)
    assert twilio_error(r, 404, 20404)["message"] == f"The requested resource {SENDERS}/{sid} was not found"


def test_every_answer_has_a_request_id_of_its_own(emulator: EmulatorServer) -> None:
    with httpx.Client(base_url=str(emulator.base_url)) as api:
        answers = [api.get(SENDERS, params={"Channel": "whatsapp"}, auth=PARENT),
                   api.get(SENDERS, params={"Channel": "whatsapp"}, auth=("AC" + "9" * 32, "wrong")),
                   api.get(f"{SENDERS}/XE{'0' * 32}", auth=PARENT)]
    assert [r.status_code for r in answers] == [200, 401, 404]
    ids = [r.headers["T-Request-Id"] for r in answers]
    assert len(set(ids)) == 3 and all(re.match(r"^RQ[0-9a-f]{32}$", i) for i in ids)


# --------------------------------------------------------------------------- the numbers list


def test_the_numbers_list_is_an_empty_v2010_page_of_the_account_asked_for(emulator: EmulatorServer) -> None:
    r = httpx.get(f"{emulator.base_url}{numbers(TEST_ACCOUNT_SID)}", params={"PageSize": "1"}, auth=PARENT)
    assert r.status_code == 200
    uri = f"{numbers(TEST_ACCOUNT_SID)}?PageSize=1&Page=0"
    assert r.json() == {"incoming_phone_numbers": [], "end": 0, "first_page_uri": uri, "next_page_uri": None,
                        "page": 0, "page_size": 1, "previous_page_uri": None, "start": 0, "uri": uri}
    bad = httpx.get(f"{emulator.base_url}{numbers(TEST_ACCOUNT_SID)}", params={"PageSize": "0"}, auth=PARENT)
    assert twilio_error(bad, 400, 20001)["message"] == "Invalid PageSize 0: must be between 1 and 1000"


def test_any_credentials_list_the_numbers_of_the_accounts_they_reach_and_no_other(emulator: EmulatorServer) -> None:
    """A standard key may list its own account's numbers (the Accounts resource it may not read); a parent's
    credentials reach a subaccount's; a subaccount's never reach its parent's or a sibling's."""
    acme, north = emulator.add_account("Acme"), emulator.add_account("Northside")

    def status(sid: str, auth: tuple[str, str]) -> int:
        return httpx.get(f"{emulator.base_url}{numbers(sid)}", auth=auth).status_code

    key = (TEST_API_KEY, TEST_API_SECRET)
    assert [status(sid, key) for sid in (TEST_ACCOUNT_SID, acme.sid)] == [200, 200]
    assert status(acme.sid, PARENT) == 200
    own = (acme.sid, acme.auth_token)
    assert status(acme.sid, own) == 200
    for other in (TEST_ACCOUNT_SID, north.sid, "AC" + "e" * 32):
        r = httpx.get(f"{emulator.base_url}{numbers(other)}", auth=own)
        assert twilio_error(r, 404, 20404)["message"] == f"The requested resource {numbers(other)} was not found"


# --------------------------------------------------------------------------- counts


def test_counts_per_account_are_copies_and_an_account_never_seen_has_none(emulator: EmulatorServer) -> None:
    acme = emulator.add_account("Acme")
    httpx.get(f"{emulator.base_url}{SENDERS}", params={"Channel": "whatsapp"}, auth=(acme.sid, acme.auth_token))
    counts = emulator.stats(acme.sid)
    assert counts == {"total": 1, f"GET {SENDERS}": 1}
    counts["total"] = 99
    assert emulator.stats(acme.sid)["total"] == 1 and emulator.stats()["total"] == 1
    assert emulator.stats("AC" + "e" * 32) == {"total": 0}
    emulator.reset_stats()
    assert emulator.stats(acme.sid) == {"total": 0}
