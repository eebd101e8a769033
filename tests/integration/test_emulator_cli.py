"""``reconciler emulator`` as a user runs it: a subprocess, stopped by a signal."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.factories import (
    CLI_OUTPUTS,
    REPO_ROOT,
    SECRETS,
    TEST_ACCOUNT_SID,
    TEST_API_KEY,
    TEST_API_SECRET,
    TEST_AUTH_TOKEN,
    clean_env,
)

SENDERS = "/v2/Channels/Senders"


class Running:
    def __init__(self, *args: str, env: dict[str, str]):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "emulator", "--port", "0", *args],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline().strip()  # type: ignore[union-attr]
        if not line.startswith("http://"):
            self.proc.kill()
            raise AssertionError(f"no URL on the first line: {line!r}; stderr: {self.proc.stderr.read()}")  # type: ignore[union-attr]
        self.url = line

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=30)
        CLI_OUTPUTS.append(self.url + "\n" + out + err)
        return self.proc.returncode, out + err


def creds_env() -> dict[str, str]:
    return clean_env(
        TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
        TWILIO_API_KEY=TEST_API_KEY,
        TWILIO_API_SECRET=TEST_API_SECRET,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_runs_until_signalled_and_exits_0(sig):
    run = Running(env=creds_env())
    assert run.url.startswith("http://127.0.0.1:")
    assert httpx.get(run.url + SENDERS, params={"Channel": "whatsapp"}).status_code == 401
    r = httpx.get(run.url + SENDERS, params={"Channel": "whatsapp"}, auth=(TEST_API_KEY, TEST_API_SECRET))
    assert r.status_code == 200
    code, output = run.stop(sig)
    assert code == 0, output
    assert "Traceback" not in output
    for secret in SECRETS:
        assert secret not in output
    assert "accepting any credentials" not in output


def test_without_credentials_it_says_so():
    run = Running(env=clean_env())
    assert httpx.get(run.url + SENDERS, params={"Channel": "whatsapp"}).status_code == 200
    code, output = run.stop()
    assert code == 0 and "accepting any credentials" in output


def test_seed_state_and_restart(tmp_path: Path):
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "senders": [
                    {"sender_id": "whatsapp:+15005550001", "profile": {"name": "Seeded", "emails": ["a@example.com"]}},
                    {
                        "sender_id": "whatsapp:+15005550002",
                        "profile": {"name": "Off"},
                        "status": "OFFLINE",
                        "offline_reasons": [{"code": "410", "message": "gone", "more_info": None}],
                    },
                ]
            }
        )
    )
    state = tmp_path / "state.json"
    run = Running("--seed", str(seed), "--state", str(state), "--transition-delay", "0", env=clean_env())
    data = httpx.get(run.url + SENDERS, params={"Channel": "whatsapp"}).json()
    assert [s["status"] for s in data["senders"]] == ["ONLINE", "OFFLINE"]
    assert data["senders"][0]["profile"]["emails"] == [{"email": "a@example.com", "label": "Email"}]
    created = httpx.post(run.url + SENDERS, json={"sender_id": "whatsapp:+15005550003", "profile": {"name": "New"}})
    assert created.status_code == 202
    assert run.stop()[0] == 0

    again = Running("--state", str(state), "--seed", str(seed), env=clean_env())  # the seed is not applied twice
    names = [
        s["profile"]["name"] for s in httpx.get(again.url + SENDERS, params={"Channel": "whatsapp"}).json()["senders"]
    ]
    assert names == ["Seeded", "Off", "New"]
    assert again.stop()[0] == 0


def test_fault_options_are_applied():
    run = Running("--rate-429", "1", "--retry-after", "2", "--fault-seed", "4", env=clean_env())
    r = httpx.get(run.url + SENDERS, params={"Channel": "whatsapp"})
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    assert run.stop()[0] == 0


def test_bad_seed_file_is_one_line_error(tmp_path: Path, cli):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"senders": [{"sender_id": "nope", "profile": {"name": "X"}}]}))
    result = cli("emulator", "--port", "0", "--seed", str(seed), env=clean_env())
    assert result.returncode == 1
    assert "senders[0]" in result.stderr and "sender_id" in result.stderr
    assert "Traceback" not in result.output


def test_help_lists_the_options(cli):
    result = cli("emulator", "--help", env=clean_env())
    assert result.returncode == 0
    for option in ("--state", "--seed", "--rate-429", "--retry-after", "--rate-drop", "--slow-rate", "--review-delay"):
        assert option in result.stdout


def test_broken_state_file_is_one_line_error(tmp_path: Path, cli):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"senders": [{"status": "ONLINE"}]}))
    result = cli("emulator", "--port", "0", "--state", str(state), env=clean_env())
    assert result.returncode == 1
    assert "cannot load state file" in result.stderr and "senders[0]" in result.stderr
    assert "Traceback" not in result.output


def test_subaccounts_are_served_and_named_on_stderr_without_their_tokens():
    run = Running("--subaccounts", "2", env=creds_env())
    accounts = httpx.get(run.url + "/2010-04-01/Accounts.json", auth=(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)).json()
    parent, *subs = accounts["accounts"]
    assert parent["sid"] == TEST_ACCOUNT_SID and [s["friendly_name"] for s in subs] == ["Subaccount 1", "Subaccount 2"]
    first = (subs[0]["sid"], subs[0]["auth_token"])
    assert httpx.post(run.url + SENDERS, json={"sender_id": "whatsapp:+15005550001", "profile": {"name": "A"}},
                      auth=first).status_code == 202
    assert httpx.get(run.url + SENDERS, params={"Channel": "whatsapp"},
                     auth=(TEST_API_KEY, TEST_API_SECRET)).json()["senders"] == []  # the parent's: none
    code, output = run.stop()
    assert code == 0 and "Traceback" not in output
    for s in subs:
        assert f'subaccount {s["sid"]} "{s["friendly_name"]}" (active)' in output
        assert s["auth_token"] not in output
    assert f"parent account {TEST_ACCOUNT_SID}" in output
    for secret in SECRETS:
        assert secret not in output
    # Another run: the same SIDs and tokens.
    again = Running("--subaccounts", "2", env=creds_env())
    listed = httpx.get(again.url + "/2010-04-01/Accounts.json", auth=(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)).json()
    def credentials(page: dict) -> list[tuple[str, str]]:
        return [(a["sid"], a["auth_token"]) for a in page["accounts"]]

    assert credentials(listed) == credentials(accounts)
    assert again.stop()[0] == 0


def test_seeded_accounts_survive_in_the_state_file(tmp_path: Path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({
        "senders": [{"sender_id": "whatsapp:+15005550001", "profile": {"name": "Parent's"}}],
        "accounts": [
            {"friendly_name": "Customer \u00e9\n", "senders": [{"sender_id": "whatsapp:+15005550002",
                                                          "profile": {"name": "Theirs"}, "status": "OFFLINE"}]},
            {"friendly_name": "Subaccount 1", "senders": [{"sender_id": "whatsapp:+15005550003",
                                                           "profile": {"name": "Numbered"}}]},
        ],
    }))
    state = tmp_path / "state.json"

    def senders_by_account(url: str) -> dict[str, list[str]]:
        out = {}
        for account in httpx.get(url + "/2010-04-01/Accounts.json").json()["accounts"]:
            page = httpx.get(url + SENDERS, params={"Channel": "whatsapp"}, auth=(account["sid"], "x")).json()
            out[account["friendly_name"]] = [s["profile"]["name"] for s in page["senders"]]
        return out

    run = Running("--subaccounts", "1", "--seed", str(seed), "--state", str(state), env=clean_env())
    expected = {"Parent account": ["Parent's"], "Subaccount 1": ["Numbered"], "Customer \u00e9\n": ["Theirs"]}
    assert senders_by_account(run.url) == expected
    code, output = run.stop()
    assert code == 0 and '"Customer \\u00e9\\n"' in output  # the name escaped, on one line
    again = Running("--subaccounts", "1", "--seed", str(seed), "--state", str(state), env=clean_env())
    assert senders_by_account(again.url) == expected  # loaded, the seed not applied twice
    code, output = again.stop()
    assert code == 0 and "not applied again" in output


def test_services_from_options_and_the_seed_are_served_and_kept(tmp_path: Path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({
        "senders": [{"sender_id": "whatsapp:+15005550001", "profile": {"name": "Parent's"}}],
        "services": [{"friendly_name": "Support line", "senders": ["whatsapp:+15005550001"]}],
    }))
    state = tmp_path / "state.json"
    args = ("--subaccounts", "1", "--seed", str(seed), "--state", str(state), "--service", "Support line",
            "--service", "Sales", "--service-in", "Subaccount 1", "Their line")

    def services_by_account(url: str) -> dict[str, list[tuple[str, list[str]]]]:
        out = {}
        for account in httpx.get(url + "/2010-04-01/Accounts.json").json()["accounts"]:
            auth = (account["sid"], "x")
            services = httpx.get(url + "/v1/Services", auth=auth).json()["services"]
            out[account["friendly_name"]] = [
                (s["friendly_name"], [m["sender"] for m in httpx.get(s["links"]["channel_senders"], auth=auth)
                                      .json()["senders"]])
                for s in services
            ]
        return out

    expected = {"Parent account": [("Support line", ["whatsapp:+15005550001"]), ("Sales", [])],
                "Subaccount 1": [("Their line", [])]}
    run = Running(*args, env=clean_env())
    assert services_by_account(run.url) == expected  # "Support line" of the seed is not made again
    code, output = run.stop()
    assert code == 0 and "1 sender(s) and 3 Messaging Service(s) in 2 account(s)" in output
    again = Running(*args, env=clean_env())
    assert services_by_account(again.url) == expected  # loaded; neither the seed nor the options add twice
    assert again.stop()[0] == 0


def test_a_service_in_an_unknown_account_is_one_line_error(cli):
    result = cli("emulator", "--port", "0", "--service-in", "Nobody", "Sales", env=clean_env())
    assert result.returncode == 1 and '--service-in "Nobody": no such account' in result.stderr
    assert "Traceback" not in result.output and "http://" not in result.stdout
