"""Fault injection: each kind happens, at the given rate, identically under the same seed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from reconciler.emulator import EmulatorServer, Faults
from reconciler.emulator.faults import FaultInjector

SENDERS = "/v2/Channels/Senders"
PAYLOAD = {"sender_id": "whatsapp:+15005550001", "profile": {"name": "A"}}


def wait_until(condition: Callable[[], object], what: str, limit: float = 10) -> None:
    """Wait for evidence that something happened; ``limit`` only bounds a failing test."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.01)


def emulator_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "senders-emulator"}


class GatedServer(EmulatorServer):
    """An emulator whose waits (latency, slow faults) are recorded and, instead of timed, held at a gate.

    ``open_gate=True``: each wait is only recorded. Otherwise a waiting request stays until
    :meth:`release`; ``holding`` is set once one waits.
    """

    def __init__(self, *, open_gate: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.waits: list[float] = []
        self.holding = threading.Event()
        self._open = open_gate
        self._gate: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    async def _delay(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self._open:
            return
        if self._gate is None:
            self._gate = (asyncio.get_running_loop(), asyncio.Event())
        self.holding.set()
        await self._gate[1].wait()

    def release(self) -> None:
        assert self._gate is not None, "nothing waits at the gate"
        loop, gate = self._gate
        loop.call_soon_threadsafe(gate.set)

    def close_gate(self) -> None:
        """Hold the requests that wait from now on, once those released are through."""
        self._gate = None
        self.holding.clear()


def outcomes(faults: Faults, n: int = 60) -> list[object]:
    """Status codes of ``n`` sequential list requests ("drop" for a closed connection)."""
    out: list[object] = []
    with EmulatorServer(faults=faults) as server, httpx.Client(base_url=server.base_url) as api:
        for _ in range(n):
            try:
                r = api.get(SENDERS, params={"Channel": "whatsapp"})
                out.append((r.status_code, r.headers.get("Retry-After")))
            except httpx.TransportError:
                out.append("drop")
    return out


def test_faults_validate_their_rates():
    with pytest.raises(ValueError, match="rate_429"):
        Faults(rate_429=1.5)
    with pytest.raises(ValueError, match="latency"):
        Faults(latency=-1)


def test_injector_is_deterministic_under_a_seed():
    f = Faults(seed=7, rate_429=0.3, rate_5xx=0.2, rate_drop_after_commit=0.1, slow_rate=0.4)
    a, b = FaultInjector(f), FaultInjector(f)
    assert [a.decide() for _ in range(200)] == [b.decide() for _ in range(200)]
    c = FaultInjector(Faults(seed=8, rate_429=0.3))
    assert [x.throttle for x in (FaultInjector(f).decide() for _ in range(50))] != [
        c.decide().throttle for _ in range(50)
    ]


def test_429_without_retry_after_by_default():
    got = outcomes(Faults(seed=1, rate_429=0.5))
    assert got == outcomes(Faults(seed=1, rate_429=0.5))
    throttled = [o for o in got if o[0] == 429]
    assert 10 < len(throttled) < 50
    assert all(retry is None for _, retry in throttled)
    assert {o[0] for o in got} == {200, 429}


def test_429_body_and_retry_after_header():
    with EmulatorServer(faults=Faults(rate_429=1.0, retry_after=3)) as server:
        r = httpx.get(server.base_url + SENDERS, params={"Channel": "whatsapp"})
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    assert r.json() == {
        "code": 20429,
        "message": "Too Many Requests",
        "more_info": "https://www.twilio.com/docs/errors/20429",
        "status": 429,
    }


def test_5xx_rate_is_deterministic_and_writes_nothing():
    got = outcomes(Faults(seed=3, rate_5xx=0.3))
    assert got == outcomes(Faults(seed=3, rate_5xx=0.3))
    assert {o[0] for o in got} == {200, 500}
    with EmulatorServer(faults=Faults(rate_5xx=1.0)) as server:
        r = httpx.post(server.base_url + SENDERS, json={"sender_id": "whatsapp:+15005550001", "profile": {"name": "A"}})
        assert r.status_code == 500 and r.json()["code"] == 20500
        assert server.senders() == []


def test_dropped_write_is_committed():
    payload = {"sender_id": "whatsapp:+15005550001", "profile": {"name": "A"}}
    with EmulatorServer(faults=Faults(rate_drop_after_commit=1.0)) as server:
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(server.base_url + SENDERS, json=payload)
        [sender] = server.senders()
        # The retry finds the committed sender: a retried create never makes a duplicate.
        r = httpx.post(server.base_url + SENDERS, json=payload)
        assert r.status_code == 409
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(f"{server.base_url}{SENDERS}/{sender['sid']}", json={"profile": {"about": "x"}})
        assert server.get_sender(sender["sid"])["profile"]["about"] == "x"
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.delete(f"{server.base_url}{SENDERS}/{sender['sid']}")
        assert server.senders() == []
        # Reads are never dropped.
        assert httpx.get(server.base_url + SENDERS, params={"Channel": "whatsapp"}).status_code == 200


def test_drop_rate_is_deterministic_under_a_seed():
    def run() -> list[str]:
        out = []
        with (
            EmulatorServer(faults=Faults(seed=5, rate_drop_after_commit=0.5)) as server,
            httpx.Client(base_url=server.base_url) as api,
        ):
            for n in range(30):
                try:
                    r = api.post(
                        SENDERS,
                        json={"sender_id": f"whatsapp:+1500555{n:04d}", "profile": {"name": "A"}},
                    )
                    out.append(str(r.status_code))
                except httpx.RemoteProtocolError:
                    out.append("drop")
            assert len(server.senders()) == 30
        return out

    first = run()
    assert first == run()
    assert "drop" in first and "202" in first


def test_slow_requests_are_held_past_a_client_timeout_as_the_seed_says():
    # Slow requests are held for an hour, so their clients always give up first. Each request is sent
    # once the one before has reached the server, and whether it was held is read from the server's
    # count, not from how long it took.
    faults = Faults(seed=2, slow_rate=0.5, slow_seconds=3600)
    injector = FaultInjector(faults)
    expected = ["held" if injector.decide().slow else "ok" for _ in range(12)]
    before = emulator_threads()
    with EmulatorServer(faults=faults) as server, ThreadPoolExecutor(max_workers=12) as pool:
        ours = emulator_threads() - before
        got, held = [], []
        for n in range(12):
            held_so_far = server.stats().get("fault slow", 0)
            # A held request's client gives up after 2 s; one the seed lets through may take as long as a
            # loaded machine makes it (30 s only stops a hang): the seed, not the scheduler, decides.
            wait = 2 if expected[n] == "held" else 30
            call = pool.submit(httpx.get, server.base_url + SENDERS, params={"Channel": "whatsapp"}, timeout=wait)
            # Counted as the server reads the request, before it is held or answered.
            wait_until(lambda n=n: server.stats()["total"] == n + 1, f"request {n} to reach the server")
            # The server counts a request on arrival and a slow fault a moment later, on its own thread:
            # wait until this one was held or answered, so the count read next is the one decided.
            wait_until(lambda c=call, h=held_so_far: c.done() or server.stats().get("fault slow", 0) > h,
                       f"request {n} to be held or answered")
            if server.stats().get("fault slow", 0) > held_so_far:
                got.append("held")
                held.append(call)
            else:
                got.append("ok")
                assert call.result().status_code == 200
        for call in held:
            assert isinstance(call.exception(), httpx.TimeoutException)
    assert got == expected and "held" in got and "ok" in got
    # Stopping did not wait for the requests still held: the server's thread has ended.
    assert len(ours) == 1 and not any(t.is_alive() for t in ours)


def test_latency_is_added_to_every_request():
    with GatedServer(open_gate=True, faults=Faults(latency=0.05)) as server, httpx.Client(base_url=server.base_url) as api:
        assert api.get(SENDERS, params={"Channel": "whatsapp"}).status_code == 200
        sid = api.post(SENDERS, json=PAYLOAD).json()["sid"]
        assert api.get(f"{SENDERS}/{sid}").status_code == 200
        assert api.delete(f"{SENDERS}/{sid}").status_code == 204
        assert server.waits == [0.05] * 4
    # And the wait is real: a write waits behind it, unanswered and not yet made.
    with EmulatorServer(faults=Faults(latency=3600)) as server:
        with pytest.raises(httpx.TimeoutException):
            httpx.post(server.base_url + SENDERS, json=PAYLOAD, timeout=0.25)
        wait_until(lambda: server.stats()["total"] == 1, "the request to reach the server")
        assert server.senders() == []


def test_set_faults_while_running():
    with EmulatorServer() as server, httpx.Client(base_url=server.base_url) as api:
        assert api.get(SENDERS, params={"Channel": "whatsapp"}).status_code == 200
        server.set_faults(Faults(rate_429=1.0))
        assert server.faults.rate_429 == 1.0
        assert api.get(SENDERS, params={"Channel": "whatsapp"}).status_code == 429
        server.set_faults(Faults())
        assert api.get(SENDERS, params={"Channel": "whatsapp"}).status_code == 200
        assert server.stats()["GET /v2/Channels/Senders"] == 3


def test_writes_only_faults_spare_reads_and_keep_the_sequence():
    faults = Faults(seed=4, rate_429=0.5, rate_5xx=0.3, slow_rate=0.2, writes_only=True)
    injector = FaultInjector(faults)
    reads = [injector.decide(write=False) for _ in range(30)]
    assert all(d == FaultInjector(Faults()).decide() for d in reads)
    # A read still draws its numbers: the writes after it meet what they would under the plain seed.
    plain = FaultInjector(Faults(seed=4, rate_429=0.5, rate_5xx=0.3, slow_rate=0.2))
    for _ in range(30):
        plain.decide()
    assert [injector.decide(write=True) for _ in range(30)] == [plain.decide() for _ in range(30)]
    with EmulatorServer(faults=Faults(rate_429=1.0, rate_5xx=1.0, writes_only=True)) as server:
        assert httpx.get(server.base_url + SENDERS, params={"Channel": "whatsapp"}).status_code == 200
        r = httpx.post(server.base_url + SENDERS, json={"sender_id": "whatsapp:+15005550001", "profile": {"name": "A"}})
        assert r.status_code == 429 and server.senders() == []


def test_stats_count_the_faults_injected():
    faults = Faults(seed=9, rate_429=0.2, rate_5xx=0.2, rate_drop_after_commit=0.3)
    expected = {"fault 429": 0, "fault 5xx": 0, "fault drop": 0}
    injector = FaultInjector(faults)
    with EmulatorServer(faults=faults) as server, httpx.Client(base_url=server.base_url) as api:
        for n in range(40):
            d = injector.decide()
            if d.throttle:
                expected["fault 429"] += 1
            elif d.server_error:
                expected["fault 5xx"] += 1
            elif d.drop_after_commit:
                expected["fault drop"] += 1
            with contextlib.suppress(httpx.RemoteProtocolError):
                api.post(SENDERS, json={"sender_id": f"whatsapp:+1500555{n:04d}", "profile": {"name": "A"}})
        stats = server.stats()
    assert all(expected.values())
    assert {k: stats.get(k, 0) for k in expected} == expected
    assert "fault slow" not in stats


def test_slow_write_is_processed_after_the_client_gave_up():
    with GatedServer(faults=Faults(slow_rate=1.0, slow_seconds=60)) as server:
        with pytest.raises(httpx.TimeoutException):  # held at the gate: no answer can come in time
            httpx.post(server.base_url + SENDERS, json=PAYLOAD, timeout=0.25)
        assert server.holding.wait(10) and server.waits == [60]
        assert server.senders() == []  # the client gave up; the write is still held
        server.release()
        wait_until(server.senders, "the held write to land")
        assert [s["sender_id"] for s in server.senders()] == [PAYLOAD["sender_id"]]


def test_a_client_that_leaves_mid_request_is_not_a_server_error(caplog):
    caplog.set_level(logging.DEBUG)
    with EmulatorServer() as server:
        host, port = server.base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(b"POST /v2/Channels/Senders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{\"sender_id\":")
            wait_until(lambda: server.stats().get("POST /v2/Channels/Senders", 0) >= 1, "the request to arrive")
        wait_until(lambda: server.stats().get("client gone", 0) >= 1, "the server to notice the client left")
        assert server.stats()["client gone"] == 1 and server.senders() == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


# --------------------------------------------------------------------------- concurrency limit


def read(server: EmulatorServer) -> httpx.Response:
    return httpx.get(server.base_url + SENDERS, params={"Channel": "whatsapp"}, timeout=30)


def write(server: EmulatorServer) -> httpx.Response:
    return httpx.post(server.base_url + SENDERS, json=PAYLOAD, timeout=30)


def held(server: GatedServer, pool: ThreadPoolExecutor, send: Callable[[EmulatorServer], httpx.Response], n: int) -> Any:
    """Send a request and return its future once the server holds it: the ``n``-th wait at the gate."""
    call = pool.submit(send, server)
    wait_until(lambda: len(server.waits) >= n, f"request {n} to be held in flight")
    return call


def test_faults_validate_the_in_flight_limit():
    with pytest.raises(ValueError, match="max_in_flight"):
        Faults(max_in_flight=0)


def test_a_request_over_the_in_flight_limit_is_refused_with_20429_and_no_retry_after():
    with GatedServer(faults=Faults(latency=60, max_in_flight=2, writes_only=True)) as server, \
            ThreadPoolExecutor(max_workers=4) as pool:
        first, second = held(server, pool, read, 1), held(server, pool, read, 2)
        assert "fault concurrency" not in server.stats()  # two in flight: within the limit
        third = held(server, pool, write, 3)  # counted as it arrives, then answered after the latency
        assert server.stats()["fault concurrency"] == 1
        server.release()
        assert first.result().status_code == second.result().status_code == 200
        refused = third.result()
        assert refused.status_code == 429 and "Retry-After" not in refused.headers
        assert refused.json()["code"] == 20429 and refused.headers["T-Request-Id"].startswith("RQ")
        assert server.senders() == []  # refused before it was processed
        # Answered requests leave the count: two can be in flight again, and reads are refused as well.
        server.close_gate()
        again = [held(server, pool, write, 4), held(server, pool, write, 5), held(server, pool, read, 6)]
        server.release()
        assert [c.result().status_code for c in again] == [202, 409, 429]
        assert server.stats()["fault concurrency"] == 2 and "fault 429" not in server.stats()


def test_a_refused_request_draws_no_faults_and_leaves_the_sequence_alone():
    faults = Faults(seed=6, rate_429=0.5, latency=60, max_in_flight=1)
    injector = FaultInjector(faults)
    expected = [429 if injector.decide().throttle else 200 for _ in range(12)]
    with GatedServer(faults=faults) as server, ThreadPoolExecutor(max_workers=2) as pool:
        admitted, over = held(server, pool, read, 1), held(server, pool, read, 2)
        server.release()
        assert over.result().status_code == 429
        got = [admitted.result().status_code] + [read(server).status_code for _ in range(11)]
        stats = server.stats()
    assert got == expected and 200 in got and 429 in got
    assert stats["fault concurrency"] == 1 and stats["fault 429"] == expected.count(429)


def test_the_in_flight_limit_is_each_accounts_own():
    with GatedServer(faults=Faults(latency=60, max_in_flight=1), subaccounts=2) as server, \
            ThreadPoolExecutor(max_workers=4) as pool:
        first, second = (a.sid for a in server.accounts()[1:])

        def as_account(sid: str) -> Callable[[EmulatorServer], httpx.Response]:
            # No credentials configured: the Basic user picks the account.
            return lambda s: httpx.get(s.base_url + SENDERS, params={"Channel": "whatsapp"}, auth=(sid, "x"), timeout=30)

        calls = [held(server, pool, read, 1), held(server, pool, as_account(first), 2),
                 held(server, pool, as_account(second), 3)]
        assert "fault concurrency" not in server.stats()  # one in flight per account: each within its limit
        calls.append(held(server, pool, as_account(first), 4))  # the first subaccount's second
        assert server.stats()["fault concurrency"] == 1
        server.release()
        assert [c.result().status_code for c in calls] == [200, 200, 200, 429]
        assert calls[3].result().json()["code"] == 20429 and "Retry-After" not in calls[3].result().headers
