"""Fault injection: each kind happens, at the given rate, identically under the same seed."""

from __future__ import annotations

import time

import httpx
import pytest

from reconciler.emulator import EmulatorServer, Faults
from reconciler.emulator.faults import FaultInjector

SENDERS = "/v2/Channels/Senders"


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


def test_slow_responses_exceed_a_client_timeout():
    # Slow is far beyond the client's timeout, and the timeout far beyond a normal answer, so a
    # busy machine cannot blur the two.
    faults = Faults(seed=2, slow_rate=0.5, slow_seconds=60)
    with EmulatorServer(faults=faults) as server, httpx.Client(base_url=server.base_url, timeout=0.5) as api:
        got = []
        for _ in range(12):
            try:
                api.get(SENDERS, params={"Channel": "whatsapp"})
                got.append("ok")
            except httpx.TimeoutException:
                got.append("timeout")
        started = time.perf_counter()
    assert time.perf_counter() - started < 10  # stopping does not wait for the held requests
    injector = FaultInjector(faults)
    expected = ["timeout" if injector.decide().slow else "ok" for _ in range(12)]
    assert got == expected and "timeout" in got and "ok" in got


def test_latency_is_added_to_every_request():
    with EmulatorServer(faults=Faults(latency=0.05)) as server, httpx.Client(base_url=server.base_url) as api:
        start = time.perf_counter()
        for _ in range(4):
            api.get(SENDERS, params={"Channel": "whatsapp"})
        assert time.perf_counter() - start >= 0.2


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
            try:
                api.post(SENDERS, json={"sender_id": f"whatsapp:+1500555{n:04d}", "profile": {"name": "A"}})
            except httpx.RemoteProtocolError:
                pass
        stats = server.stats()
    assert all(expected.values())
    assert {k: stats.get(k, 0) for k in expected} == expected
    assert "fault slow" not in stats


def test_slow_write_is_processed_after_the_client_gave_up():
    payload = {"sender_id": "whatsapp:+15005550001", "profile": {"name": "A"}}
    with EmulatorServer(faults=Faults(slow_rate=1.0, slow_seconds=0.3)) as server:
        with pytest.raises(httpx.TimeoutException):
            httpx.post(server.base_url + SENDERS, json=payload, timeout=0.05)
        server.set_faults(Faults())
        # Poll the state (no fixed sleep): the write lands once the server's delay is over.
        deadline = time.monotonic() + 5
        while not server.senders() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [s["sender_id"] for s in server.senders()] == [payload["sender_id"]]


def test_a_client_that_leaves_mid_request_is_not_a_server_error(caplog):
    import logging
    import socket

    caplog.set_level(logging.DEBUG)
    with EmulatorServer() as server:
        host, port = server.base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(b"POST /v2/Channels/Senders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{\"sender_id\":")
            deadline = time.monotonic() + 5
            while server.stats().get("POST /v2/Channels/Senders", 0) < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
        deadline = time.monotonic() + 5
        while server.stats().get("client gone", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.stats()["client gone"] == 1 and server.senders() == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
