"""The real CLI against a server that misbehaves: every surprise ends in one ``Error:`` line and exit code 1.

Each test runs ``python -m reconciler plan`` in a subprocess against :class:`tests.hostile_server.HostileServer`
on 127.0.0.1, which trickles, drops, loops its pages, sends mistyped JSON or writes escape sequences into
its messages. The subprocess timeout is a guard against a hang, not a measure: no test reads the clock.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import re

import pytest

from reconciler.client import MAX_ANSWER_BYTES, Credentials, RetryPolicy, SendersClient
from reconciler.errors import ApiError
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, CliResult, clean_env, run_cli
from tests.hostile_server import DROP, Flood, HostileServer, Request, Trickle, reply

SENDERS = "/v2/Channels/Senders"
#: Raw control characters, and the escapes that must show instead.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]")


def sender(i: int, **fields: object) -> dict:
    return {"sid": f"XE{i:032x}", "sender_id": f"whatsapp:+1501712{i:04d}", "status": "ONLINE",
            "profile": {"name": f"S{i}"}, **fields}


def page(senders: list, next_url: object = None, **meta: object) -> bytes:
    return reply(200, {"senders": senders, "meta": {"next_page_url": next_url, "key": "senders", **meta}})


def plan(server: HostileServer | None, tmp_path, *extra: str, base_url: str | None = None) -> CliResult:
    f = tmp_path / "senders.yaml"
    f.write_text("senders: []\n")
    env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
                    TWILIO_MESSAGING_BASE_URL=base_url or (server.base_url if server else ""))
    return run_cli("plan", "-f", str(f), "--max-attempts", "1", "--backoff", "0", *extra, env=env, timeout=90)


def error_line(result: CliResult) -> str:
    """The one ``Error:`` line of a failed run, checked: exit code 1, no traceback, nothing raw on the terminal."""
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output, result.output
    assert not RAW.search(result.output), repr(result.output)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and result.stderr.rstrip("\n").endswith(errors[0]), result.stderr
    assert result.stdout == "", result.stdout
    return errors[0]


# --------------------------------------------------------------------------- a deadline per attempt


@pytest.mark.parametrize("start", [
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", id="headers"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
                 b'{"senders": [], "pad": "', id="body"),
])
def test_an_answer_trickled_a_byte_at_a_time_ends_at_the_request_timeout(tmp_path, start):
    """Each byte comes well within the timeout; the answer never ends. Only a deadline per attempt stops it."""
    trickle = Trickle(start, byte=b"a", interval=0.1)
    with HostileServer(lambda request: trickle) as server:
        result = plan(server, tmp_path, "--request-timeout", "2")
        [request] = server.requests
    line = error_line(result)
    assert "timed out: no complete answer within 2s" in line and f"GET {SENDERS}" in line, line
    assert request.sent > len(start)  # the server was still trickling when the client gave up


def test_every_attempt_has_its_own_deadline(tmp_path):
    with HostileServer(lambda request: Trickle(b"HTTP/1.1 200 OK\r\n", interval=0.1)) as server:
        result = plan(server, tmp_path, "--request-timeout", "1", "--max-attempts", "3")
        attempts = server.requests
    assert "timed out" in error_line(result)
    assert len(attempts) == 3


# --------------------------------------------------------------------------- endless lists


def test_empty_pages_that_always_link_to_another_are_refused(tmp_path):
    tokens = itertools.count()

    def answer(request: Request) -> bytes:
        return page([], f"{server.base_url}{SENDERS}?Channel=whatsapp&PageSize=1000&PageToken={next(tokens)}")

    with HostileServer(answer) as server:
        result = plan(server, tmp_path)
        requests = server.requests
    line = error_line(result)
    assert "empty page that links to a next page" in line and f"GET {SENDERS}" in line, line
    assert len(requests) == 1


def test_pages_past_what_the_api_counts_are_refused(tmp_path):
    """2 senders at 1 a page fill 2 pages; with the margin, the 5th page is not read."""
    tokens = itertools.count(1)

    def answer(request: Request) -> bytes:
        n = next(tokens)
        return page([sender(n)], f"{server.base_url}{SENDERS}?PageToken={n}", total=2, page_size=1)

    with HostileServer(answer) as server:
        result = plan(server, tmp_path)
        requests = server.requests
    line = error_line(result)
    assert "past 4 pages, which 2 senders at 1 a page fill" in line, line
    assert f"{server.base_url}{SENDERS}?PageToken=4" in line  # the URL it refused to follow
    assert len(requests) == 4


# --------------------------------------------------------------------------- mistyped answers


NESTED = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(("answer", "expected"), [
    pytest.param(reply(200, {"senders": [], "meta": "next"}), "has a 'meta' that is a string, not an object", id="meta-str"),
    pytest.param(reply(200, {"senders": [], "meta": {"next_page_url": {"u": 1}}}), "meta.next_page_url that is an object",
                 id="next-object"),
    pytest.param(reply(200, ["senders"]), "the list response is a list, not an object", id="body-list"),
    pytest.param(reply(204), "the API answered with an empty body", id="204"),
    pytest.param(reply(200, raw=b'{"senders": ["\xff\xfe"]}'), "a body that is not JSON", id="not-utf8"),
    pytest.param(reply(200, raw=NESTED), "a body that is not JSON", id="nested-100000"),
    pytest.param(reply(200, raw=b"not gzip at all", headers={"Content-Encoding": "gzip"}), "unreadable answer: DecodingError",
                 id="bad-gzip"),
    pytest.param(reply(200, {"senders": [sender(1), None]}), "(senders[1] on page 1): it is null, not an object", id="item-null"),
    pytest.param(DROP, "failed: RemoteProtocolError: Server disconnected without sending a response", id="drop"),
    pytest.param(reply(200, raw=b'{"senders": [', headers={"Content-Length": "100"}), "failed: RemoteProtocolError",
                 id="cut-short"),
])
def test_a_mistyped_or_broken_list_answer_is_one_error_line(tmp_path, answer, expected):
    """A sample of the shapes tests/test_client.py tries one by one, through the whole CLI."""
    with HostileServer(lambda request: answer) as server:
        line = error_line(plan(server, tmp_path))
    assert expected in line, line


def test_the_gzip_check_is_not_fooled_by_a_valid_gzip_body(tmp_path):
    """The DecodingError case above fails for the encoding, not for gzip support: a real gzip body is read."""
    body = gzip.compress(b'{"senders": [], "meta": {"next_page_url": null}}')
    answer = reply(200, raw=body, headers={"Content-Encoding": "gzip"})
    with HostileServer(lambda request: answer) as server:
        result = plan(server, tmp_path)
    assert result.returncode == 0 and "No changes" in result.stdout, result.output


@pytest.mark.parametrize(("item", "expected"), [
    pytest.param(sender(1, profile="Acme"), "Error: sender whatsapp:+15017120001: the API returned a sender this tool "
                 "cannot read: profile: Input should be a valid dictionary", id="by-sender-id"),
    pytest.param({"sid": "XE" + "a" * 32, "sender_id": 15017122661},
                 f"cannot read (sid XE{'a' * 32}): sender_id: Input should be a valid string", id="by-sid"),
    pytest.param({"status": 5, "profile": []}, "cannot read (senders[1] on page 1): status: Input should be a valid "
                 "string; profile: Input should be a valid dictionary", id="by-place"),
])
def test_a_malformed_live_sender_is_named_on_one_line(tmp_path, item, expected):
    answer = reply(200, {"senders": [sender(0), item], "meta": {}})
    with HostileServer(lambda request: answer) as server:
        line = error_line(plan(server, tmp_path))
    assert expected in line, line


# --------------------------------------------------------------------------- the API's words, escaped


HOSTILE_TEXT = "bad value\n\x1b[2J\x1b[31mfake prompt$ \r\x9b\u202eevil"
ESCAPED = "bad value\\n\\x1b[2J\\x1b[31mfake prompt$ \\r\\x9b\\u202eevil"


def test_twilio_s_message_is_escaped_in_the_error_line_and_the_verbose_log(tmp_path):
    answers = iter([reply(503, {"code": 20500, "message": HOSTILE_TEXT, "status": 503}, reason="Unavailable"),
                    reply(400, {"code": 20001, "message": HOSTILE_TEXT, "more_info": "https://x.test/\x1b]8;;", "status": 400})])
    with HostileServer(lambda request: next(answers)) as server:
        result = plan(server, tmp_path, "-v", "--max-attempts", "2")
    line = error_line(result)
    assert line == f"Error: [HTTP 400 / Twilio 20001] {ESCAPED} (GET {SENDERS}) see https://x.test/\\x1b]8;;", line
    retried = [log for log in result.stderr.splitlines() if log.startswith("reconciler.http: retrying after:")]
    assert len(retried) == 1 and ESCAPED in retried[0], result.stderr


def test_a_next_page_url_with_controls_is_escaped_in_the_verbose_log_and_the_error(tmp_path):
    """Non-ASCII controls reach the wire percent-encoded (and the log escaped); ASCII ones are refused, escaped."""
    def answer(request: Request) -> bytes:
        if "PageToken=2" in request.target:
            return page([sender(2)], f"{server.base_url}{SENDERS}?PageToken=3\x1b[2J")
        return page([sender(1)], f"{server.base_url}{SENDERS}?PageToken=2\u202e\x9b")

    with HostileServer(answer) as server:
        result = plan(server, tmp_path, "-v")
        targets = [r.target for r in server.requests]
    line = error_line(result)
    assert targets[1] == f"{SENDERS}?PageToken=2%E2%80%AE%C2%9B", targets
    assert f"{SENDERS}?PageToken=2\\u202e\\x9b -> 200" in result.stderr, result.stderr
    assert "the URL cannot be requested" in line and "PageToken=3\\x1b[2J" in line, line


# --------------------------------------------------------------------------- credentials in a URL


SECRET_PARTS = ("se/cr", "cr?et", "et#x")


def test_a_base_url_with_userinfo_is_refused_without_echoing_it(tmp_path):
    result = plan(None, tmp_path, "-v", base_url="https://AC1:se/cr?et#x@messaging.twilio.com")
    line = error_line(result)
    assert "must not hold credentials" in line, line
    assert not [part for part in SECRET_PARTS if part in result.output], result.output


def test_a_next_page_url_with_userinfo_is_refused_without_echoing_it(tmp_path):
    def answer(request: Request) -> bytes:
        host = server.base_url.removeprefix("http://")
        return page([sender(1)], f"http://AC1:se/cr?et#x@{host}{SENDERS}?PageToken=2")

    with HostileServer(answer) as server:
        result = plan(server, tmp_path, "-v")
        requests = server.requests
    line = error_line(result)
    assert "refusing to send the credentials there" in line and "http://***@127.0.0.1" in line, line
    assert not [part for part in SECRET_PARTS if part in result.output], result.output
    assert f"GET {SENDERS} -> 200" in result.stderr and len(requests) == 1


# --------------------------------------------------------------------------- writes over a real socket


def _write(server: HostileServer, attempts: int = 1, timeout: float = 30) -> ApiError:
    async def go() -> None:
        creds = Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
        policy = RetryPolicy(attempts=attempts, backoff=0, timeout=timeout)
        async with SendersClient(creds, base_url=server.base_url, retry=policy) as api:
            await api.create({"sender_id": "whatsapp:+15017122661", "profile": {"name": "A"}})

    with pytest.raises(ApiError) as caught:
        asyncio.run(go())
    return caught.value


@pytest.mark.parametrize(("answer", "unknown"), [
    pytest.param(DROP, True, id="drop"),
    pytest.param(Trickle(b"HTTP/1.1 202 Accepted\r\n"), True, id="trickle"),
    pytest.param(reply(202, None), True, id="empty-202"),
    pytest.param(reply(202, ["ok"]), True, id="list-202"),
    pytest.param(reply(500, {"code": 20500, "message": "Internal", "status": 500}), True, id="500"),
    pytest.param(reply(400, {"code": 63100, "message": "Invalid profile.vertical", "status": 400}), False, id="400"),
])
def test_a_write_s_outcome_is_unknown_unless_the_api_refused_it(answer, unknown):
    with HostileServer(lambda request: answer) as server:
        # Only the trickle needs the deadline to end; an answer that comes gets all the time a loaded machine takes.
        err = _write(server, timeout=1 if isinstance(answer, Trickle) else 30)
        [request] = server.requests
    assert request.method == "POST" and request.body  # the write reached the server
    assert err.outcome_unknown is unknown, err


# --------------------------------------------------------------------------- the size of an answer

SUB = "AC" + "5" * 32
MIB = 1024 * 1024
#: A successful answer's head with no Content-Length: the body runs until the server closes the connection.
OPEN_ENDED = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"


def test_an_accounts_answer_without_end_is_refused_once_it_passes_the_cap(tmp_path):
    """300 MB of an account's friendly name: read as it streams in, and refused at 32 MiB, not held whole."""
    flood = Flood(OPEN_ENDED + b'{"sid": "' + SUB.encode() + b'", "friendly_name": "', b"a" * MIB, times=300)

    def answer(request: Request) -> Flood | bytes:
        return flood if request.target.startswith("/2010-04-01/Accounts/") else page([])

    f = tmp_path / "senders.yaml"
    f.write_text(f"account: {SUB}\nsenders: []\n")
    with HostileServer(answer) as server:
        env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
                        TWILIO_MESSAGING_BASE_URL=server.base_url, TWILIO_API_BASE_URL=server.base_url)
        result = run_cli("plan", "-f", str(f), "--max-attempts", "1", env=env, timeout=90)
        [request] = [r for r in server.requests if r.target.startswith("/2010-04-01/Accounts/")]
    line = error_line(result)
    host = server.base_url.removeprefix("http://")
    assert f"the answer from {host} is larger than {MAX_ANSWER_BYTES:,} bytes, the most this client reads" in line
    assert f"(GET /2010-04-01/Accounts/{SUB}.json)" in line and f"account {SUB}" in line, line
    assert MAX_ANSWER_BYTES < request.sent < 300 * MIB  # the client stopped reading: the server could not send it all


def _read(server: HostileServer, cap: int, how: str = "get") -> object:
    async def go() -> object:
        policy = RetryPolicy(attempts=1, backoff=0, timeout=10)
        async with SendersClient(Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN), base_url=server.base_url, retry=policy,
                                 max_answer_bytes=cap) as api:
            if how == "create":
                return await api.create({"sender_id": "whatsapp:+15017122661"})
            if how == "list":
                return await api.list_senders()
            return await api.get_json(f"/2010-04-01/Accounts/{SUB}.json")

    return asyncio.run(go())


def _body_of(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    return b'{"a": "' + b"x" * (size - 9) + b'"}'


@pytest.mark.parametrize("how", ["get", "list"])
def test_an_answer_at_the_cap_is_read_and_one_byte_more_is_refused(how):
    body = _body_of(1000) if how == "get" else json.dumps({"senders": [sender(1)], "meta": {}, "p": ""}).encode()
    cap = len(body)
    with HostileServer(lambda request: reply(200, raw=body)) as server:
        assert _read(server, cap, how)
        with pytest.raises(ApiError) as caught:
            _read(server, cap - 1, how)
    assert f"is larger than {cap - 1:,} bytes, the most this client reads" in str(caught.value)
    assert caught.value.method == "GET" and not caught.value.outcome_unknown


def test_a_declared_length_past_the_cap_is_refused_unread():
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 300000000\r\n\r\n"
    with HostileServer(lambda request: Flood(head + b'{"a": "', b"x" * MIB, times=300)) as server:
        with pytest.raises(ApiError, match=r"is larger than 1,000 bytes.*\(GET /2010-04-01/Accounts/"):
            _read(server, 1000)
        [request] = server.requests
    assert request.sent < 300 * MIB


def test_a_streamed_answer_is_refused_whole_without_a_length():
    flood = Flood(OPEN_ENDED + b'{"a": "', b"x" * 100, times=50)
    with HostileServer(lambda request: flood) as server, pytest.raises(ApiError, match=r"is larger than 1,000 bytes"):
        _read(server, 1000)


def test_a_write_s_answer_past_the_cap_leaves_its_outcome_unknown():
    with HostileServer(lambda request: reply(201, raw=_body_of(5000))) as server, pytest.raises(ApiError) as caught:
        _read(server, 1000, "create")
    assert caught.value.outcome_unknown and "the change may have been applied" in str(caught.value)


def test_an_error_s_body_past_the_cap_is_cut_and_the_refusal_kept():
    big = reply(400, {"code": 63100, "message": "Invalid " + "x" * 5000, "status": 400}, reason="Bad Request")
    with HostileServer(lambda request: big) as server, pytest.raises(ApiError) as caught:
        _read(server, 1000, "create")
    assert (caught.value.status, caught.value.outcome_unknown) == (400, False)
    assert "Bad Request" in str(caught.value)  # the cut body is no JSON: the reason phrase speaks
