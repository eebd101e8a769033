"""Secrets stay secret: no token or API secret in any output, file, log, message or repr, and
credentials go only to the API's own host, over https unless that host is loopback.

The last test of this file greps every CLI output the suite captured so far (``CLI_OUTPUTS``), so it
covers the other integration tests too when the whole suite runs; this file's own battery of runs
makes the check meaningful when it runs alone.
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.accounts.environment import main_credentials
from reconciler.apply import ApplyReport, apply_plan
from reconciler.client import Credentials, RetryPolicy, SendersClient, check_base_url
from reconciler.config import load_desired
from reconciler.emulator import EmulatorServer, Faults
from reconciler.errors import ApiError, CredentialsError
from reconciler.plan import build_plan
from tests.factories import (
    CLI_OUTPUTS,
    SECRETS,
    TEST_ACCOUNT_SID,
    TEST_API_KEY,
    TEST_API_SECRET,
    TEST_AUTH_TOKEN,
    A,
    B,
    C,
    clean_env,
    run_cli,
    url_of,
)
from tests.hostile_server import HostileServer, Request, reply

WRONG_TOKEN = "wrong_" + "t0ken" * 5
PLAN_KEY = "plankey_" + "k3y" * 8
GITHUB_TOKEN = "ghs_" + "g1thub" * 6


def forms(user: str, secret: str) -> list[str]:
    """A secret as it could leak: itself, or inside a Basic Authorization header."""
    basic = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return [secret, basic, basic.rstrip("=")]


FORBIDDEN = [
    *forms(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN),
    *forms(TEST_API_KEY, TEST_API_SECRET),
    *forms(TEST_ACCOUNT_SID, WRONG_TOKEN),
    PLAN_KEY,
    GITHUB_TOKEN,
]
assert set(SECRETS) <= set(FORBIDDEN)


def leaks(text: str) -> list[str]:
    return [s for s in FORBIDDEN if s in text]


# --------------------------------------------------------------------------- reprs and messages


def test_reprs_and_messages_of_credentials_config_and_errors_hold_no_secret(tmp_path: Path) -> None:
    given = main_credentials({"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN})
    given_key = main_credentials({"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_API_KEY": TEST_API_KEY,
                                  "TWILIO_API_SECRET": TEST_API_SECRET})
    creds, key = given.credentials, given_key.credentials
    shown = [repr(creds), str(creds), repr(key), str(key), f"{creds!r} {key}", repr(RetryPolicy()), repr(given),
             repr(given_key)]

    def unauthorised(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": 20003, "message": "Authenticate", "status": 401,
                                         "more_info": "https://www.twilio.com/docs/errors/20003"})

    async def go() -> ApiError:
        async with SendersClient(key, base_url="https://messaging.twilio.com",
                                 transport=httpx.MockTransport(unauthorised)) as api:
            shown.append(repr(api))
            with pytest.raises(ApiError) as caught:
                await api.list_senders()
            return caught.value

    err = asyncio.run(go())
    assert err.status == 401 and err.code == 20003
    shown += [str(err), repr(err), repr(err.with_context(sender_id="whatsapp:+15017122661")), repr(err.__dict__)]
    for bad in ("htp://AC1:" + TEST_AUTH_TOKEN + "@h", "https://AC1:" + TEST_AUTH_TOKEN + "@messaging.twilio.com",
                "AC1:" + TEST_AUTH_TOKEN + "@h/x", "http://u:" + TEST_AUTH_TOKEN + "@h:notaport"):
        with pytest.raises(CredentialsError) as caught:
            check_base_url(bad)
        shown += [str(caught.value), repr(caught.value)]
    f = tmp_path / "senders.yaml"
    f.write_text('senders:\n  - sender_id: "whatsapp:+15017122661"\n    profile: {name: A}\n')
    state = load_desired([f])
    shown += [repr(state), str(state), repr(state.senders[0])]
    for text in shown:
        assert not leaks(text), text


# --------------------------------------------------------------------------- where credentials go


@pytest.mark.parametrize(("command", "url"), [
    (["plan"], "http://messaging.twilio.com"),
    (["apply", "--auto-approve"], "http://10.0.0.1:8080"),
    (["drift"], "http://127.0.0.1.example.com"),
    (["export"], "http://localhost.example.net"),
    (["verify", "whatsapp:+15017122661", "--code", "1"], "http://[fe80::1]:8080"),
])
def test_credentials_never_go_over_plain_http_off_loopback(tmp_path: Path, command: list[str], url: str) -> None:
    f = tmp_path / "senders.yaml"
    f.write_text('senders:\n  - sender_id: "whatsapp:+15017122661"\n    profile: {name: A}\n')
    files = ["-f", str(f)] if command[0] in ("plan", "apply", "drift") else []
    env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
                    TWILIO_MESSAGING_BASE_URL=url)
    result = run_cli(*command, *files, env=env, timeout=30)
    assert result.returncode == 1 and "refusing to send credentials over plain http" in result.stderr, result.output
    assert "Traceback" not in result.output


class _RecordingServer(http.server.ThreadingHTTPServer):
    """A loopback server that answers every GET with ``reply`` and records the request headers in ``seen``."""

    def __init__(self, reply: dict[str, Any]):
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.reply = reply
        self.seen: list[dict[str, str]] = []


class _Recorder(http.server.BaseHTTPRequestHandler):
    server: _RecordingServer

    def do_GET(self) -> None:
        self.server.seen.append(dict(self.headers))
        body = json.dumps(self.server.reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(reply: dict[str, Any]) -> _RecordingServer:
    server = _RecordingServer(reply)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_next_page_on_another_host_is_not_sent_the_credentials(tmp_path: Path) -> None:
    """The API's next_page_url is followed as given, but only on the API's own host."""
    elsewhere = _serve({"senders": [], "meta": {"next_page_url": None}})
    origin = f"http://127.0.0.1:{elsewhere.server_address[1]}"
    next_page = f"{origin}/v2/Channels/Senders?Channel=whatsapp&PageSize=1000&PageToken=x"
    api = _serve({"senders": [], "meta": {"next_page_url": next_page}})
    try:
        f = tmp_path / "senders.yaml"
        f.write_text("senders: []\n")
        env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
                        TWILIO_MESSAGING_BASE_URL=f"http://127.0.0.1:{api.server_address[1]}")
        result = run_cli("plan", "-f", str(f), env=env)
        assert result.returncode == 1 and "refusing to send the credentials there" in result.stderr, result.output
        assert len(api.seen) == 1 and api.seen[0]["Authorization"].startswith("Basic ")
        assert elsewhere.seen == []
    finally:
        api.shutdown()
        elsewhere.shutdown()


@pytest.mark.parametrize("next_url", ["http://evil.example/v2/Channels/Senders?PageToken=x",
                                      "https://evil.example/v2/Channels/Senders?PageToken=x",
                                      "https://messaging.twilio.com:8443/v2/Channels/Senders?PageToken=x",
                                      "https://user:pw@messaging.twilio.com/v2/Channels/Senders?PageToken=x"])
def test_client_refuses_a_next_page_off_its_origin(next_url: str) -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(200, json={"senders": [], "meta": {"next_page_url": next_url}})

    async def go() -> None:
        creds = Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
        async with SendersClient(creds, transport=httpx.MockTransport(handler)) as api:
            await api.list_senders()

    with pytest.raises(ApiError, match="refusing to send the credentials there") as caught:
        asyncio.run(go())
    assert len(sent) == 1 and "pw" not in str(caught.value)


def test_client_follows_a_next_page_on_its_own_origin() -> None:
    one = [{"sid": "XE" + "0" * 32, "sender_id": "whatsapp:+15017122661"}]  # an empty page may not link onward
    pages = iter([
        {"senders": one, "meta": {"next_page_url": "https://messaging.twilio.com:443/v2/Channels/Senders?PageToken=2"}},
        {"senders": one, "meta": {"next_page_url": "/v2/Channels/Senders?PageToken=3"}},
        {"senders": [], "meta": {"next_page_url": None}},
    ])

    async def go() -> int:
        creds = Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json=next(pages)))
        async with SendersClient(creds, transport=transport) as api:
            await api.list_senders()
            return api.stats.requests

    assert asyncio.run(go()) == 3


# --------------------------------------------------------------------------- a wide battery of CLI runs


P = "whatsapp:+15017122669"


@pytest.fixture
def stateful_emulator(tmp_path: Path) -> Iterator[EmulatorServer]:
    server = EmulatorServer(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, api_key=TEST_API_KEY,
                            api_secret=TEST_API_SECRET, state_file=tmp_path / "emulator-state.json")
    server.start(host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        server.stop()


def test_no_secret_in_any_output_or_file_of_a_wide_set_of_cli_runs(stateful_emulator: EmulatorServer, tmp_path: Path) -> None:
    em = stateful_emulator
    em.add_sender({"sender_id": C, "profile": {"name": "Old"}})
    em.add_sender({"sender_id": P, "profile": {"name": "Pending"}}, status="PENDING_VERIFICATION")
    f = tmp_path / "senders.yaml"
    f.write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme, about: "${{ABOUT:-hi}}"}}\n'
                 f'  - sender_id: "{B}"\n    profile: {{name: Beta}}\n  - sender_id: "{P}"\n    profile: {{name: Pending}}\n')
    broken = tmp_path / "broken.yaml"
    broken.write_text('senders:\n  - sender_id: "whatsapp:+1"\n    profile: {vertical: Spaceships}\n'
                      '  - !!python/object:os.system x\n')
    token_env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
                          TWILIO_MESSAGING_BASE_URL=url_of(em))
    key_env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_API_KEY=TEST_API_KEY,
                        TWILIO_API_SECRET=TEST_API_SECRET, TWILIO_MESSAGING_BASE_URL=url_of(em),
                        RECONCILER_PLAN_KEY=PLAN_KEY)
    wrong_env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN=WRONG_TOKEN,
                          TWILIO_MESSAGING_BASE_URL=url_of(em))
    faulty_env = {**token_env, "RECONCILER_MAX_ATTEMPTS": "2", "RECONCILER_BACKOFF": "0"}
    half_key_env = clean_env(TWILIO_API_KEY=TEST_API_KEY, TWILIO_MESSAGING_BASE_URL=url_of(em))
    cred_url_env = {**token_env, "TWILIO_MESSAGING_BASE_URL": url_of(em).replace(
        "http://", f"http://{TEST_ACCOUNT_SID}:{TEST_AUTH_TOKEN}@")}
    saved, saved_key, exported = tmp_path / "plan.json", tmp_path / "plan-key.json", tmp_path / "exported.yaml"
    v = "--verbose"
    runs = [
        (("validate", "-f", str(f)), token_env, 0),
        (("validate", "-f", str(broken)), token_env, 1),
        (("plan", "-f", str(f), v), token_env, 0),
        (("plan", "-f", str(f), "--format", "json", v), key_env, 0),
        (("plan", "-f", str(f), "--format", "markdown"), key_env, 0),
        (("plan", "-f", str(f), "--allow-delete", "--out", str(saved), v), token_env, 0),
        (("plan", "-f", str(f), "--out", str(saved_key)), key_env, 0),
        (("plan", "-f", str(broken), v), token_env, 1),
        (("plan", "-f", str(f), v), wrong_env, 1),
        (("drift", "-f", str(f), v), wrong_env, 1),
        (("export", v), wrong_env, 1),
        (("plan", "-f", str(f)), half_key_env, 1),
        (("plan", "-f", str(f), v), cred_url_env, 1),
        (("apply", str(saved), v), key_env, 1),  # signed with another key: refused
        (("apply", str(saved), v), token_env, 0),
        (("apply", str(saved_key), v), key_env, 1),  # stale now
        (("drift", "-f", str(f), v), token_env, 0),
        (("drift", "-f", str(f), "--format", "json", v), key_env, 0),
        (("verify", P, "--code", "123456", v), key_env, 0),
        (("verify", P, "--code", "123456", v), key_env, 1),  # no longer pending
        (("export", "-o", str(exported), v), key_env, 0),
        (("export", "--target", A, v), token_env, 0),
        (("apply", "-f", str(exported), "--auto-approve", "--format", "json", v), key_env, 0),
    ]
    for args, env, expected in runs:
        result = run_cli(*args, env=env)
        assert result.returncode == expected, (args, result.output)
        assert "Traceback" not in result.output, (args, result.output)
        assert not leaks(result.output), (args, leaks(result.output), result.output)
    # Retries running out, with the verbose log on.
    em.set_faults(Faults(seed=3, rate_5xx=1.0, writes_only=True))
    f.write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme, about: changed}}\n')
    result = run_cli("apply", "-f", str(f), "--auto-approve", v, env=faulty_env)
    assert result.returncode == 1 and "Twilio 20500" in result.output and not leaks(result.output)
    em.set_faults(Faults())
    # The verbose log shows the requests, never a header with the credentials.
    verbose = run_cli("plan", "-f", str(f), v, env=key_env)
    assert "GET /v2/Channels/Senders" in verbose.stderr and "Authorization" not in verbose.output
    assert "Basic " not in verbose.output and not leaks(verbose.output)
    # Every file the runs wrote: saved plans, the export, the emulator's state file.
    written = [saved, saved_key, exported, tmp_path / "emulator-state.json"]
    for path in written:
        assert path.exists(), path
        assert not leaks(path.read_text()), path


# --------------------------------------------------------------------------- ${VAR} cannot read a secret


@contextmanager
def recording_relay(em: EmulatorServer) -> Iterator[HostileServer]:
    """A loopback relay in front of the emulator that keeps every request, body included."""
    upstream = httpx.Client(base_url=url_of(em))

    def forward(request: Request) -> bytes:
        headers = {k: v for k, v in request.headers.items() if k not in ("host", "content-length", "connection")}
        answer = upstream.request(request.method, request.target, headers=headers, content=request.body)
        return reply(answer.status_code, raw=answer.content)

    with HostileServer(forward) as relay:
        em.public_url = relay.base_url  # next_page_url and the like lead back through the relay
        try:
            yield relay
        finally:
            em.public_url = None
            upstream.close()


#: Halves of the auth token, each read under an innocent name: together they would be the token.
HALVES = (TEST_AUTH_TOKEN[:17], TEST_AUTH_TOKEN[17:])
#: Every credential set, and how a file refers to it: by name, through a fallback, copied under another name.
VAR_ENV = {
    "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN, "TWILIO_API_SECRET": TEST_API_SECRET, "RECONCILER_PLAN_KEY": PLAN_KEY,
    "GITHUB_TOKEN": GITHUB_TOKEN, "ALIAS": TEST_API_SECRET, "PART1": HALVES[0], "PART2": HALVES[1],
    "DEPLOY_NOTE": f"shipped with {PLAN_KEY}", "GREETING": "Fresh bread daily",
}
VAR_FILE = f"""\
senders:
  - sender_id: "{A}"
    profile:
      name: Acme
      about: "${{TWILIO_AUTH_TOKEN}}"
      description: "${{TWILIO_API_SECRET:-none}}"
      address: "${{RECONCILER_PLAN_KEY}}"
      websites: ["https://example.com/${{GITHUB_TOKEN}}"]
  - sender_id: "{B}"
    profile:
      name: "${{ALIAS}}"
      about: "key ${{PART1}}${{PART2}}"
      description: "${{DEPLOY_NOTE}}"
      address: "${{GREETING}}"
"""
#: What the error names for each reference: the reference and the rule, or the variable whose value it would hold.
VAR_REFUSALS = [
    "profile.about: ${TWILIO_AUTH_TOKEN}: variables named TWILIO_* are not read by ${...}",
    "profile.description: ${TWILIO_API_SECRET:-...}: variables named TWILIO_* are not read by ${...}",
    "profile.address: ${RECONCILER_PLAN_KEY}: variables named RECONCILER_* are not read by ${...}",
    "profile.websites[0]: ${GITHUB_TOKEN}: variables named GITHUB_* are not read by ${...}",
    "profile.name: ${ALIAS}: the value would hold the value of TWILIO_API_SECRET",
    "profile.about: ${PART1}, ${PART2}: the value would hold the value of TWILIO_AUTH_TOKEN",
    "profile.description: ${DEPLOY_NOTE}: the value would hold the value of RECONCILER_PLAN_KEY",
]


def var_leaks(text: str) -> list[str]:
    return leaks(text) + [half for half in HALVES if half in text]


def test_a_file_cannot_read_a_credential_through_a_variable(stateful_emulator: EmulatorServer, tmp_path: Path) -> None:
    """A pull request's file that refers to the credentials, in every way, fails every command that reads it; no
    credential appears in any output, saved plan, or request the API received."""
    em = stateful_emulator
    f = tmp_path / "senders.yaml"
    f.write_text(VAR_FILE)
    saved = tmp_path / "plan.json"
    with recording_relay(em) as relay:
        env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_API_KEY=TEST_API_KEY,
                        TWILIO_MESSAGING_BASE_URL=relay.base_url, **VAR_ENV)
        runs = [
            ("validate", "-f", str(f)),
            ("plan", "-f", str(f)),
            ("plan", "-f", str(f), "--out", str(saved)),
            ("plan", "-f", str(f), "--format", "markdown"),
            ("plan", "-f", str(f), "--format", "json"),
            ("apply", "-f", str(f), "--auto-approve"),
            ("drift", "-f", str(f), "--format", "json"),
        ]
        for args in runs:
            result = run_cli(*args, env=env)
            assert result.returncode == 1, (args, result.output)
            assert "Traceback" not in result.output, (args, result.output)
            assert not var_leaks(result.output), (args, var_leaks(result.output))
            for refusal in VAR_REFUSALS:
                assert refusal in result.output, (args, refusal, result.output)
            assert "Fresh bread daily" not in result.output  # the innocent value is never needed to explain anything
        requests = relay.requests
        # The control: with the references gone, the same environment plans and applies through the relay.
        f.write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme, about: "${{GREETING}}"}}\n')
        applied = run_cli("apply", "-f", str(f), "--auto-approve", env=env)
        control = relay.requests[len(requests):]
    assert not saved.exists()
    assert all(r.method == "GET" for r in requests), [(r.method, r.target) for r in requests]
    assert [r.body for r in requests if var_leaks(r.body.decode("utf-8", "replace"))] == []
    assert em.senders() == [] or not var_leaks(json.dumps(em.senders()))
    assert applied.returncode == 0, applied.output
    posted = [r.body.decode() for r in control if r.method == "POST"]
    assert len(posted) == 1 and "Fresh bread daily" in posted[0] and not var_leaks(posted[0])


def test_the_allow_list_limits_what_files_read_through_the_real_cli(emulator: EmulatorServer, tmp_path: Path) -> None:
    """RECONCILER_FILE_VARS names the only variables a file may read; offline validate applies it as plan does."""
    f = tmp_path / "senders.yaml"
    f.write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: "${{NAME}}", about: "${{ABOUT:-hi}}"}}\n')
    env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
                    TWILIO_MESSAGING_BASE_URL=url_of(emulator), NAME="Acme", ABOUT="unlisted",
                    RECONCILER_FILE_VARS="NAME")
    for command in ("validate", "plan"):
        result = run_cli(command, "-f", str(f), env=env)
        assert result.returncode == 1, result.output
        assert ("profile.about: ${ABOUT:-...}: RECONCILER_FILE_VARS is set and does not list it, so ${...} "
                "does not read it; see docs/file-format.md") in result.stderr
        assert "unlisted" not in result.output and not leaks(result.output)
    listed = run_cli("plan", "-f", str(f), env={**env, "RECONCILER_FILE_VARS": "NAME, ABOUT"})
    assert listed.returncode == 0 and "unlisted" in listed.stdout, listed.output


def test_an_invalid_value_from_a_variable_is_named_not_quoted(emulator: EmulatorServer, tmp_path: Path) -> None:
    f = tmp_path / "senders.yaml"
    f.write_text(f'senders:\n  - sender_id: "{A}"\n    webhook: {{callback_url: "${{HOOKS_BASE}}/in"}}\n')
    env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
                    TWILIO_MESSAGING_BASE_URL=url_of(emulator), HOOKS_BASE="hooks of acme-internal-7731")
    for command in ("validate", "plan"):
        result = run_cli(command, "-f", str(f), env=env)
        assert result.returncode == 1, result.output
        assert "webhook.callback_url (from ${HOOKS_BASE}): not an absolute http(s) URL" in result.stderr
        assert "acme-internal-7731" not in result.output


# --------------------------------------------------------------------------- everything the suite printed


def test_apply_in_process_leaves_no_secret_in_outcomes(emulator: EmulatorServer, tmp_path: Path) -> None:
    """The report's reprs (outcomes, errors) hold no secret, failures included."""
    f = tmp_path / "senders.yaml"
    f.write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme}}\n')
    emulator.set_faults(Faults(rate_5xx=1.0, writes_only=True))

    async def go() -> ApplyReport:
        creds = Credentials(TEST_API_KEY, TEST_API_SECRET, TEST_ACCOUNT_SID)
        async with SendersClient(creds, base_url=url_of(emulator), retry=RetryPolicy(attempts=2, backoff=0)) as api:
            plan = build_plan(load_desired([f]), await api.list_senders())
            return await apply_plan(plan, api, concurrency=2)

    report = asyncio.run(go())
    (outcome,) = report.outcomes
    assert outcome.result == "not_applied" and outcome.error is not None and outcome.error.code == 20500
    assert not leaks(repr(report)) and not leaks(repr(outcome.error))


def test_zz_no_secret_in_any_cli_output_captured_by_the_suite() -> None:
    """Runs last in this file; with the whole suite, CLI_OUTPUTS holds every earlier test's CLI runs."""
    assert len(CLI_OUTPUTS) >= 25
    leaked = [(i, leaks(text)) for i, text in enumerate(CLI_OUTPUTS) if leaks(text)]
    assert leaked == []
