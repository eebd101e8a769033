"""``emulator_command``, the click command of ``reconciler emulator``, through a group of its own.

The subprocess tests in tests/integration/test_emulator_cli.py run it as a user does; these check
what a group gets when it registers it: options, defaults, environment variables, and a cheap import.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

import reconciler.emulator as emulator_package
from reconciler.emulator import cli as emulator_cli
from reconciler.emulator.cli import emulator_command
from reconciler.errors import ReconcilerError
from tests.factories import REPO_ROOT, clean_env

DEFAULTS = {
    "host": "127.0.0.1",
    "port": 8080,
    "state_file": None,
    "seed_file": None,
    "account_sid": None,
    "auth_token": None,
    "api_key": None,
    "api_secret": None,
    "subaccounts": 0,
    "services": (),
    "services_in": (),
    "public_url": None,
    "transition_delay": 0.0,
    "review_delay": None,
    "latency": 0.0,
    "rate_429": 0.0,
    "retry_after": None,
    "rate_5xx": 0.0,
    "rate_drop": 0.0,
    "slow_rate": 0.0,
    "slow_seconds": 0.0,
    "fault_seed": 0,
    "max_in_flight": None,
}


@click.group()
def group() -> None:
    """A stand-in for the main CLI."""


group.add_command(emulator_command)


@pytest.fixture(autouse=True)
def _emulator_logger():
    """run_emulator gives the emulator's logger a handler on the (captured) stderr: take it off again."""
    logger = logging.getLogger("reconciler.emulator")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


@pytest.fixture
def calls(monkeypatch):
    """What the command passes to run_emulator, instead of serving."""
    seen: list[dict] = []
    monkeypatch.setattr(emulator_cli, "run_emulator", lambda **options: seen.append(options))
    return seen


def invoke(*args: str, env: dict[str, str] | None = None) -> click.testing.Result:
    # No TWILIO_* of the machine running the tests reaches the command.
    base = {k: None for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET")}
    return CliRunner().invoke(group, list(args), env={**base, **(env or {})})


def test_the_command_is_named_emulator_and_says_what_it_does():
    assert emulator_command.name == "emulator"
    assert group.get_command(click.Context(group), "emulator") is emulator_command
    help_text = invoke("emulator", "--help").output
    assert "Run a local Senders API emulator until Ctrl-C (see docs/emulator.md)." in help_text
    assert "Prints the base URL on the first line of stdout." in help_text


def test_no_options_give_the_documented_defaults(calls):
    result = invoke("emulator")
    assert result.exit_code == 0, result.output
    assert calls == [DEFAULTS]


def test_every_option_reaches_run_emulator(calls, tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text('{"senders": []}')
    args = {
        "--host": "::1", "--port": "0", "--state": str(tmp_path / "state.json"), "--seed": str(seed),
        "--account-sid": "AC1", "--auth-token": "t", "--api-key": "SK1", "--api-secret": "s",
        "--subaccounts": "3", "--public-url": "http://proxy:9", "--transition-delay": "1.5", "--review-delay": "4",
        "--latency": "0.25", "--rate-429": "0.1", "--retry-after": "2", "--rate-5xx": "0.2",
        "--rate-drop": "0.3", "--slow-rate": "0.4", "--slow-seconds": "5", "--fault-seed": "7",
        "--max-in-flight": "8",
    }  # fmt: skip
    services = ["--service", "Support line", "--service", "Sales", "--service-in", "Subaccount 1", "Their line"]
    result = invoke("emulator", *[part for pair in args.items() for part in pair], *services)
    assert result.exit_code == 0, result.output
    assert calls == [
        {
            "host": "::1", "port": 0, "state_file": str(tmp_path / "state.json"), "seed_file": str(seed),
            "account_sid": "AC1", "auth_token": "t", "api_key": "SK1", "api_secret": "s", "subaccounts": 3,
            "services": ("Support line", "Sales"), "services_in": (("Subaccount 1", "Their line"),),
            "public_url": "http://proxy:9", "transition_delay": 1.5, "review_delay": 4.0,
            "latency": 0.25, "rate_429": 0.1, "retry_after": 2.0, "rate_5xx": 0.2,
            "rate_drop": 0.3, "slow_rate": 0.4, "slow_seconds": 5.0, "fault_seed": 7,
            "max_in_flight": 8,
        }
    ]  # fmt: skip


def test_credentials_come_from_the_environment(calls):
    env = {"TWILIO_ACCOUNT_SID": "AC2", "TWILIO_AUTH_TOKEN": "tok", "TWILIO_API_KEY": "SK2", "TWILIO_API_SECRET": "sec"}
    assert invoke("emulator", env=env).exit_code == 0
    assert calls == [{**DEFAULTS, "account_sid": "AC2", "auth_token": "tok", "api_key": "SK2", "api_secret": "sec"}]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--port", "70000"], "--port"),
        (["--rate-429", "1.5"], "--rate-429"),
        (["--latency", "-1"], "--latency"),
        (["--max-in-flight", "0"], "--max-in-flight"),
        (["--subaccounts", "1001"], "--subaccounts"),
        (["--subaccounts", "-1"], "--subaccounts"),
        (["--seed", "/nonexistent/seed.json"], "--seed"),
    ],
)
def test_out_of_range_options_are_usage_errors(calls, args, words):
    result = invoke("emulator", *args)
    assert result.exit_code == 2 and words in result.output
    assert calls == []


def test_half_a_credential_pair_is_a_usage_error():
    result = invoke("emulator", "--account-sid", "AC1")
    assert result.exit_code == 2
    assert "give both --account-sid and --auth-token, or neither" in result.output


def test_an_account_sid_of_the_wrong_shape_is_a_usage_error():
    result = invoke("emulator", "--account-sid", "AC1", "--auth-token", "t")
    assert result.exit_code == 2 and "'AC' followed by 32 hex digits" in result.output


@pytest.mark.parametrize(
    ("seed", "words"),
    [
        ({"accounts": [{"friendly_name": "A", "senders": [{"sender_id": "nope", "profile": {"name": "X"}}]}]},
         ["accounts[0]: senders[0]", "sender_id"]),
        ({"accounts": [{"friendly_name": "A", "token": "t"}]}, ["accounts[0]", "'token'"]),
        ({"accounts": [{"friendly_name": "A", "sid": "AC1"}]}, ["accounts[0]", "32 hex digits"]),
        ({"accounts": [{"friendly_name": "A", "status": "asleep"}]}, ["accounts[0]", "'asleep'"]),
        ({"accounts": [{"senders": []}]}, ["accounts[0]", "friendly_name"]),
        ({"accounts": {"friendly_name": "A"}}, ["lists of objects"]),
        ({"nothing": []}, ["expected"]),
        ({"services": [{"friendly_name": "A", "colour": "red"}]}, ["services[0]", "'colour'"]),
        ({"services": [{"friendly_name": "A", "senders": "whatsapp:+15005550001"}]}, ["services[0]", "sender ids"]),
        ({"services": [{"friendly_name": ""}]}, ["services[0]", "1 to 64"]),
        ({"services": [{"friendly_name": "A", "sid": "MG1"}]}, ["services[0]", "32 hex digits"]),
        ({"services": [{"friendly_name": "A", "senders": ["whatsapp:+15005550001"]}]},
         ["services[0]: senders[0]", 'no sender "whatsapp:+15005550001" in this account']),
        ({"accounts": [{"friendly_name": "A", "services": [{"friendly_name": "B", "sid": 5}]}]},
         ["accounts[0]: services[0]"]),
        ({"accounts": [{"friendly_name": "A", "services": {}}]}, ["accounts[0]", '"services"']),
    ],
)  # fmt: skip
def test_a_bad_seed_account_is_named(tmp_path, seed, words):
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    result = invoke("emulator", "--port", "0", "--seed", str(path))
    assert isinstance(result.exception, ReconcilerError), result.output
    for word in words:
        assert word in str(result.exception)
    assert result.output == ""


def test_seeded_services_join_their_senders_by_number_or_sid_and_are_not_made_twice():
    from reconciler.emulator.server import EmulatorServer

    server = EmulatorServer(subaccounts=1)
    given = "XE" + "ab" * 16
    seed = {
        "senders": [{"sender_id": "whatsapp:+15005550001", "profile": {"name": "A"}},
                    {"sender_id": "whatsapp:+15005550002", "profile": {"name": "B"}, "sid": given}],
        "services": [{"friendly_name": "Support line", "senders": ["whatsapp:+15005550001", given]},
                     {"friendly_name": "Sales", "sid": "MG" + "cd" * 16, "senders": [given]}],
        "accounts": [{"friendly_name": "Subaccount 1",
                      "senders": [{"sender_id": "whatsapp:+15005550003", "profile": {"name": "C"}}],
                      "services": [{"friendly_name": "Their line", "senders": ["whatsapp:+15005550003"]}]}],
    }  # fmt: skip
    emulator_cli.seed_server(server, seed, "seed.json")
    emulator_cli.seed_server(server, {"services": [{"friendly_name": "Support line", "senders": [given]}]})
    support, sales = server.services()
    assert (support["friendly_name"], sales["sid"]) == ("Support line", "MG" + "cd" * 16)
    assert [m["sender"] for m in server.channel_senders(support["sid"])] == ["whatsapp:+15005550001",
                                                                             "whatsapp:+15005550002"]
    assert server.services_of(given) == [support["sid"], sales["sid"]]  # a seed may say so; the API never does
    sub = server.accounts()[1]
    [theirs] = server.services(sub.sid)
    assert [m["sender"] for m in server.channel_senders(theirs["sid"])] == ["whatsapp:+15005550003"]


def test_service_options_make_each_service_once_in_the_account_named():
    from reconciler.emulator.server import EmulatorServer

    server = EmulatorServer(subaccounts=2)
    sub1, sub2 = server.accounts()[1:]
    for _ in range(2):  # a restart with the same options makes nothing twice
        emulator_cli.create_services(server, ("Support line", "Sales"),
                                     (("Subaccount 1", "Their line"), (sub2.sid, "Their line")))  # fmt: skip
    assert [s["friendly_name"] for s in server.services()] == ["Support line", "Sales"]
    assert [s["friendly_name"] for s in server.services(sub1.sid)] == ["Their line"]
    assert [s["friendly_name"] for s in server.services(sub2.sid)] == ["Their line"]
    with pytest.raises(ReconcilerError, match='--service-in "Nobody": no such account'):
        emulator_cli.create_services(server, (), (("Nobody", "X"),))
    with pytest.raises(ReconcilerError, match="--service \"\": friendly_name must be"):
        emulator_cli.create_services(server, ("",), ())


def test_a_bad_seed_file_is_a_reconciler_error_before_anything_listens(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"senders": [{"sender_id": "nope", "profile": {"name": "X"}}]}))
    result = invoke("emulator", "--port", "0", "--seed", str(seed))
    assert isinstance(result.exception, ReconcilerError)
    assert "senders[0]" in str(result.exception) and "sender_id" in str(result.exception)
    assert result.output == ""  # no base URL: nothing was served


def test_importing_the_command_does_not_load_aiohttp():
    code = (
        "import sys; import reconciler.emulator.cli as c; "
        "print(c.emulator_command.name, 'aiohttp' in sys.modules, 'reconciler.emulator.server' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, env=clean_env(), check=True
    ).stdout
    assert out.split() == ["emulator", "False", "False"]


def test_the_package_still_offers_the_server():
    from reconciler.emulator import EmulatorServer, Faults
    from reconciler.emulator.server import EmulatorServer as FromServer

    assert EmulatorServer is FromServer and Faults(seed=1).seed == 1
    with pytest.raises(AttributeError, match="NoSuchThing"):
        _ = emulator_package.NoSuchThing
