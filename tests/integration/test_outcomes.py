"""A write whose answer is lost is never called failed: the confirming read settles it, through the real CLI.

Where a test needs one exact sequence of faults, the CLI talks to the emulator through a scripted relay
(:class:`Scripted`, on :class:`tests.hostile_server.HostileServer`): the n-th request of a method is
answered 500 without reaching the emulator, or reaches it and has its answer dropped.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from urllib.parse import urlsplit

from reconciler.emulator import Faults
from tests.factories import run_cli, server_env
from tests.hostile_server import DROP, HostileServer, Request, reply

A, B = "whatsapp:+15017122661", "whatsapp:+15017122662"


def write(tmp_path) -> str:
    path = tmp_path / "senders.yaml"
    path.write_text("senders:\n" + "".join(f'  - sender_id: "{s}"\n    profile: {{name: "Shop {s[-1]}"}}\n' for s in (A, B)))
    return str(path)


def apply_json(f: str, env: dict[str, str]) -> tuple[int, dict, str]:
    result = run_cli("apply", "-f", f, "--auto-approve", "--format", "json", "--max-attempts", "1", env=env)
    assert "Traceback" not in result.output
    return result.returncode, json.loads(result.stdout), result.stderr


def test_a_write_committed_then_dropped_is_settled_as_done(emulator, emulator_env, tmp_path):
    emulator.set_faults(Faults(rate_drop_after_commit=1.0, writes_only=True))
    code, doc, _ = apply_json(write(tmp_path), emulator_env)
    outcomes = {o["sender_id"]: o for o in doc["apply"]["outcomes"]}
    assert {o["result"] for o in outcomes.values()} == {"done"}, outcomes
    assert all(o["confirmed"] is True and o["error"] is not None for o in outcomes.values())
    assert "the answer was lost" in outcomes[A]["message"] and outcomes[A]["sid"]
    assert doc["apply"]["summary"]["failed"] == 0 and code == 0
    assert {s["sender_id"] for s in emulator.senders()} == {A, B}


def test_a_5xx_before_the_write_is_settled_as_not_applied_not_failed(emulator, emulator_env, tmp_path):
    emulator.set_faults(Faults(rate_5xx=1.0, writes_only=True))
    f = write(tmp_path)
    code, doc, _ = apply_json(f, emulator_env)
    assert code == 1
    assert {o["result"] for o in doc["apply"]["outcomes"]} == {"not_applied"}
    assert doc["apply"]["summary"]["not_applied"] == 2 and doc["apply"]["summary"]["failed"] == 0
    text = run_cli("apply", "-f", f, "--auto-approve", "--max-attempts", "1", env=emulator_env)
    assert "Apply finished with errors: 0 done, 2 not applied." in text.stdout and " failed" not in text.stdout
    emulator.set_faults(Faults())
    assert run_cli("apply", "-f", f, "--auto-approve", env=emulator_env).returncode == 0
    assert {s["sender_id"] for s in emulator.senders()} == {A, B}



SERVER_ERROR = {"code": 20500, "message": "Internal Server Error", "more_info": "https://www.twilio.com/docs/errors/20500",
                "status": 500}


class Scripted:
    """Relays every request to ``upstream``, but for the faults ``script`` names by (method, n-th request of that
    method, from 1): ``"5xx"`` answers 500 and sends nothing on; ``"drop"`` sends it on, then drops the answer."""

    def __init__(self, upstream: str, script: dict[tuple[str, int], str]):
        self.upstream = urlsplit(upstream)
        self.script = script
        self.seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> bytes:
        with self._lock:
            self.seen[request.method] += 1
            fault = self.script.get((request.method, self.seen[request.method]))
        if fault == "5xx":
            return reply(500, SERVER_ERROR, reason="Internal Server Error")
        connection = http.client.HTTPConnection(self.upstream.hostname or "", self.upstream.port, timeout=30)
        try:
            headers = {k: v for k, v in request.headers.items() if k not in ("host", "connection", "accept-encoding")}
            connection.request(request.method, request.target, body=request.body or None, headers=headers)
            answer = connection.getresponse()
            status, reason, body = answer.status, answer.reason, answer.read()
        finally:
            connection.close()
        return DROP if fault == "drop" else reply(status, raw=body, reason=reason)


def one_create(tmp_path) -> str:
    path = tmp_path / "one.yaml"
    path.write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: "Shop A"}}\n')
    return str(path)


# The create is made, its answer dropped; the retry meets 409; the list read that would adopt the sender
# fails on both attempts. GET 1 is the plan's read.
APPLIED_THEN_UNREAD = {("POST", 1): "drop", ("GET", 2): "5xx", ("GET", 3): "5xx"}


def test_a_create_applied_then_refused_409_whose_adopting_read_fails_is_settled_done(emulator, tmp_path):
    relay = Scripted(emulator.base_url or "", APPLIED_THEN_UNREAD)
    with HostileServer(relay) as server:
        env = server_env(server.base_url, RECONCILER_MAX_ATTEMPTS="2", RECONCILER_BACKOFF="0.001")
        result = run_cli("apply", "-f", one_create(tmp_path), "--auto-approve", "--format", "json", env=env)
    assert relay.seen == {"GET": 4, "POST": 2}, relay.seen  # the confirming read is GET 4
    (outcome,) = json.loads(result.stdout)["apply"]["outcomes"]
    assert (outcome["result"], outcome["confirmed"]) == ("done", True), outcome
    assert outcome["message"] == "existed already and matches the file" and result.returncode == 0
    assert [s["sender_id"] for s in emulator.senders()] == [A]


def test_when_the_confirming_read_fails_too_the_create_is_unknown_never_failed(emulator, emulator_env, tmp_path):
    relay = Scripted(emulator.base_url or "", {**APPLIED_THEN_UNREAD, ("GET", 4): "5xx", ("GET", 5): "5xx"})
    f = one_create(tmp_path)
    with HostileServer(relay) as server:
        env = server_env(server.base_url, RECONCILER_MAX_ATTEMPTS="2", RECONCILER_BACKOFF="0.001")
        result = run_cli("apply", "-f", f, "--auto-approve", env=env)
    assert relay.seen == {"GET": 5, "POST": 2}, relay.seen
    assert result.returncode == 1 and "Traceback" not in result.output
    assert f"? create sender {A}: the API says this sender exists already (HTTP 409), but it could not be compared " \
           "with the file (HTTP 500 / Twilio 20500: Internal Server Error); outcome unknown" in result.stdout
    assert result.stdout.rstrip().endswith("Apply finished with errors: 0 done, 1 outcome unknown."), result.stdout
    assert "failed" not in result.stdout.replace("could not confirm", "")
    # It had been applied all along; a re-run finds nothing to do.
    assert [s["sender_id"] for s in emulator.senders()] == [A]
    again = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert again.returncode == 0 and "Nothing to apply." in again.stdout, again.output
