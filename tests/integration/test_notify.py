"""``drift --notify`` through the real CLI: the emulator for the senders, a small webhook on loopback that records
what Apprise sends (``json://``), and one that refuses it; the URL's credentials never printed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler import __version__
from reconciler.emulator import EmulatorServer
from tests.factories import (
    SECRETS,
    TEST_ACCOUNT_SID,
    A,
    B,
    C,
    clean_env,
    free_port,
    run_cli,
    url_of,
    write_yaml,
)
from tests.hostile_server import HostileServer, Request, reply

PASSWORD = "hunter2-notify-pw"
TOKEN = "query-token-4711"


@pytest.fixture
def webhook() -> Iterator[HostileServer]:
    with HostileServer(lambda request: reply(200, {"ok": True})) as server:
        yield server


def notify_url(server: HostileServer | int, path: str = "hook") -> str:
    """A JSON webhook URL with a user, a password and a token in the query, as a real one may carry."""
    port = server if isinstance(server, int) else int(server.base_url.rsplit(":", 1)[1])
    return f"json://ops:{PASSWORD}@127.0.0.1:{port}/{path}?-token={TOKEN}"


def sent(server: HostileServer) -> list[dict[str, object]]:
    return [json.loads(r.body) for r in server.requests]


def no_credentials_in(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text and TOKEN not in text
        for secret in SECRETS:
            assert secret not in text


def desired(tmp_path: Path) -> str:
    return write_yaml(tmp_path, f"""\
        senders:
          - sender_id: "{A}"
            profile: {{name: Acme, about: new}}
          - sender_id: "{B}"
            profile: {{name: Beta}}
        """)


def test_drift_sends_one_message_naming_the_account_the_counts_and_the_changes(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path, webhook: HostileServer
) -> None:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
    emulator.add_sender({"sender_id": C, "profile": {"name": "Rogue"}})
    result = run_cli("drift", "-f", desired(tmp_path), "--notify", notify_url(webhook), "-v", env=emulator_env)
    assert result.returncode == 2, result.output
    (request,) = webhook.requests
    assert request.method == "POST" and request.target == f"/hook?token={TOKEN}"
    (message,) = sent(webhook)
    assert message["type"] == "warning"
    assert message["title"] == "reconciler drift: drift in 1 of 1 account"
    body = str(message["message"])
    assert f"Account {TEST_ACCOUNT_SID}: " in body and "1 to create, 1 to update, 1 to delete (1 gated)." in body
    assert body.endswith(f"Changes:\n  ~ {A}: profile.about\n  + {B}\n  - {C} (gated)")
    no_credentials_in(result.stdout, result.stderr, body)


def test_nothing_is_sent_when_live_matches_the_files(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path, webhook: HostileServer
) -> None:
    f = desired(tmp_path)
    assert run_cli("apply", "-f", f, "--auto-approve", env=emulator_env).returncode == 0
    result = run_cli("drift", "-f", f, "--notify", notify_url(webhook), env=emulator_env)
    assert result.returncode == 0 and webhook.requests == []


def test_an_error_is_sent_as_an_error_and_the_exit_code_stays_1(
    emulator: EmulatorServer, tmp_path: Path, webhook: HostileServer
) -> None:
    env = clean_env(TWILIO_MESSAGING_BASE_URL=url_of(emulator))  # no credentials
    result = run_cli("drift", "-f", desired(tmp_path), "--notify", notify_url(webhook), env=env)
    assert result.returncode == 1 and "TWILIO_ACCOUNT_SID" in result.stderr
    (message,) = sent(webhook)
    assert message["type"] == "failure" and message["title"] == "reconciler drift: error, drift could not be checked"
    assert "TWILIO_ACCOUNT_SID" in str(message["message"])
    broken = write_yaml(tmp_path, "senders: 3\n", name="broken.yaml")
    assert run_cli("drift", "-f", broken, "--notify", notify_url(webhook), env=env).returncode == 1
    assert f"{broken}:1:10" in str(sent(webhook)[1]["message"])


def test_a_problem_is_sent_too(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path,
                               webhook: HostileServer) -> None:
    f = write_yaml(tmp_path, f"senders: []\nprotect: [{A}]\n")
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme"}})
    result = run_cli("drift", "-f", f, "--notify", notify_url(webhook), env=emulator_env)
    assert result.returncode == 1
    (message,) = sent(webhook)
    assert message["type"] == "failure" and "1 account with senders that could not be compared" in str(message["title"])
    assert f"  ✗ {A}: protected at {f}:2:11" in str(message["message"])


@pytest.mark.parametrize("answer", ["refused", "500"])
def test_a_notification_that_cannot_be_sent_is_a_warning_and_keeps_the_exit_code(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path, answer: str
) -> None:
    def fail(request: Request) -> bytes:
        return reply(500, {"error": "down"}, reason="Internal Server Error")

    with HostileServer(fail) as failing:
        url = notify_url(free_port() if answer == "refused" else failing)
        result = run_cli("drift", "-f", desired(tmp_path), "--notify", url, "-v", env=emulator_env)
        assert len(failing.requests) == (1 if answer == "500" else 0)
    assert result.returncode == 2, result.output
    port = url.split("@127.0.0.1:", 1)[1].split("/", 1)[0]
    assert (f"Warning: the notification to JSON (json://127.0.0.1:{port}/…) could not be sent (refused, or not "
            "reached); the exit code is what the check found") in result.stderr
    no_credentials_in(result.stdout, result.stderr)


def test_urls_from_the_environment_are_split_as_apprise_splits_them(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path, webhook: HostileServer
) -> None:
    env = {**emulator_env, "RECONCILER_NOTIFY": f"{notify_url(webhook, 'one')}, {notify_url(webhook, 'two')};"
                                                 f"{notify_url(webhook, 'three')}"}
    result = run_cli("drift", "-f", desired(tmp_path), env=env)
    assert result.returncode == 2, result.output
    assert sorted(r.target.split("?")[0] for r in webhook.requests) == ["/one", "/three", "/two"]


def test_a_url_apprise_cannot_use_is_refused_before_the_run(emulator: EmulatorServer, emulator_env: dict[str, str],
                                                            tmp_path: Path, webhook: HostileServer) -> None:
    bad = f"nonsense://ops:{PASSWORD}@example.invalid/{TOKEN}"
    result = run_cli("drift", "-f", desired(tmp_path), "--notify", notify_url(webhook), "--notify", bad,
                     env=emulator_env)
    assert result.returncode == 1 and webhook.requests == []
    assert "Error: --notify nonsense://…, URL 2 of 2: not a notification URL Apprise can use" in result.stderr
    no_credentials_in(result.stdout, result.stderr)


def test_without_apprise_notify_says_how_to_install_it(emulator_env: dict[str, str], tmp_path: Path) -> None:
    """Apprise made unimportable in the child, as when the extra is not installed."""
    code = ("import sys\nsys.modules['apprise'] = None\nfrom reconciler.__main__ import main\n"
            f"sys.argv = ['reconciler', 'drift', '-f', {desired(tmp_path)!r}, '--notify', 'json://127.0.0.1:9/']\n"
            "main()\n")
    proc = subprocess.run([sys.executable, "-c", code], env=emulator_env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr == ("Error: --notify needs Apprise, which sends the notifications, and it is not installed: "
                           "install reconciler with its 'notify' extra: pip install 'whatsapp-senders-reconciler[notify] "
                           "@ git+https://github.com/whatsapp-senders-reconciler/whatsapp-senders-reconciler"
                           f"@v{__version__}' (or pip install '.[notify]' in a checkout)\n")
    # Without --notify, drift needs no Apprise.
    plain = subprocess.run([sys.executable, "-c", code.replace(", '--notify', 'json://127.0.0.1:9/'", "")],
                           env=emulator_env, capture_output=True, text=True, timeout=60)
    assert plain.returncode == 2 and plain.stdout.startswith("Drift: 2 to create"), plain.stderr
