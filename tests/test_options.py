"""Unit tests of the shared command-line options, on a small click command that takes them all."""

from __future__ import annotations

from typing import Any

import click
import pytest
from click.testing import CliRunner

from reconciler.defaults import (
    DEFAULT_ACCOUNT_CONCURRENCY,
    DEFAULT_ATTEMPTS,
    DEFAULT_BACKOFF,
    DEFAULT_CONCURRENCY,
    DEFAULT_FILE,
    DEFAULT_TIMEOUT,
)
from reconciler.options import (
    accounts_option,
    allow_delete_option,
    api_options,
    concurrency_option,
    envvar_of,
    files_option,
    force_option,
    github_workspace,
    one_account_option,
    target_option,
)

SID = "AC" + "a1" * 16
OTHER = "AC" + "b2" * 16


@click.command()
@click.pass_obj
@files_option
@target_option
@allow_delete_option
@force_option
@concurrency_option
@accounts_option
@api_options
def shared(seen: dict[str, Any], **given: Any) -> None:
    seen.update(given)


@click.command()
@one_account_option
def single(account: str | None) -> None:
    click.echo(repr(account))


ENV = ("RECONCILER_CONCURRENCY", "TWILIO_MESSAGING_BASE_URL", "TWILIO_API_BASE_URL", "RECONCILER_ACCOUNT_CONCURRENCY",
       "RECONCILER_REQUEST_TIMEOUT", "RECONCILER_MAX_ATTEMPTS", "RECONCILER_BACKOFF")


@pytest.fixture(autouse=True)
def _no_settings_from_outside(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def parsed(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    result = CliRunner().invoke(shared, list(args), env=env, obj=seen)
    assert result.exit_code == 0, result.output
    return seen


def refused(command: click.Command, *args: str) -> str:
    result = CliRunner().invoke(command, list(args), obj={})
    assert result.exit_code == 2, result.output
    return result.output


def test_the_defaults_are_the_documented_ones():
    assert parsed() == {
        "files": (DEFAULT_FILE,), "targets": (), "allow_delete": False, "force": False,
        "concurrency": DEFAULT_CONCURRENCY, "accounts": (), "base_url": None, "api_base_url": None,
        "account_concurrency": DEFAULT_ACCOUNT_CONCURRENCY, "request_timeout": DEFAULT_TIMEOUT,
        "max_attempts": DEFAULT_ATTEMPTS, "backoff": DEFAULT_BACKOFF, "verbose": False, "adaptive": True,
        "stats_file": None,
    }


def test_repeatable_options_keep_their_order():
    got = parsed("-f", "b.yaml", "--file", "a.yaml", "--target", "whatsapp:+2", "--target", "whatsapp:+1",
                 "--account", OTHER, "--account", SID)
    assert (got["files"], got["targets"], got["accounts"]) == (
        ("b.yaml", "a.yaml"), ("whatsapp:+2", "whatsapp:+1"), (OTHER, SID))


@pytest.mark.parametrize("path", ["", "  "])
def test_an_empty_path_is_refused_with_a_hint(path):
    out = refused(shared, "-f", "a.yaml", "-f", path)
    assert "an empty path (is the variable in -f \"$VAR\" unset?)" in out


def test_settings_come_from_the_environment_and_the_command_line_wins():
    env = dict(zip(ENV, ["7", "http://127.0.0.1:9", "http://127.0.0.1:8", "3", "0.5", "1", "0"], strict=True))
    got = parsed(env=env)
    assert (got["concurrency"], got["base_url"], got["api_base_url"], got["account_concurrency"]) == (
        7, "http://127.0.0.1:9", "http://127.0.0.1:8", 3)
    assert (got["request_timeout"], got["max_attempts"], got["backoff"]) == (0.5, 1, 0.0)
    assert parsed("--concurrency", "2", env=env)["concurrency"] == 2


@pytest.mark.parametrize("args", [
    ["--concurrency", "0"], ["--concurrency", "101"], ["--account-concurrency", "0"], ["--request-timeout", "0.05"],
    ["--max-attempts", "0"], ["--backoff", "-1"],
])
def test_values_out_of_range_are_refused(args):
    assert "Invalid value for" in refused(shared, *args)


def test_an_account_is_a_sid_as_twilio_writes_it():
    assert parsed("--account", SID)["accounts"] == (SID,)
    assert "is not an account SID" in refused(shared, "--account", "ACnope")
    out = refused(single, "--account", "AC" + SID[2:].upper())
    assert "write the SID's hex digits in lower case" in out
    assert CliRunner().invoke(single, []).output == "None\n"
    assert CliRunner().invoke(single, ["--account", SID]).output == f"{SID!r}\n"


# --------------------------------------------------------------------------- envvar_of


def _refusal(args: list[str]) -> click.ClickException:
    with pytest.raises(click.ClickException) as caught:
        shared.main(args, standalone_mode=False, obj={})
    return caught.value


def test_a_refused_value_from_the_environment_names_its_variable(monkeypatch):
    monkeypatch.setenv("RECONCILER_CONCURRENCY", "500")
    assert envvar_of(_refusal([]), []) == "RECONCILER_CONCURRENCY"


@pytest.mark.parametrize("args", [["--concurrency", "500"], ["--concurrency=500"]])
def test_a_refused_value_given_on_the_command_line_names_no_variable(monkeypatch, args):
    monkeypatch.setenv("RECONCILER_CONCURRENCY", "500")
    assert envvar_of(_refusal(args), args) is None


def test_a_refusal_of_an_option_with_no_variable_names_none(monkeypatch):
    monkeypatch.delenv("RECONCILER_CONCURRENCY", raising=False)
    assert envvar_of(_refusal(["--concurrency", "500"]), ["--concurrency", "500"]) is None
    assert envvar_of(_refusal(["--account", "AC1"]), ["--account", "AC1"]) is None
    assert envvar_of(_refusal(["--no-such-option"]), ["--no-such-option"]) is None


@pytest.mark.parametrize(("env", "expected"), [
    ({"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": "/home/runner/work/r/r"}, "/home/runner/work/r/r"),
    ({"GITHUB_ACTIONS": "true"}, ""),
    ({"GITHUB_WORKSPACE": "/home/runner/work/r/r"}, None),   # not a workflow step: no annotation
    ({"GITHUB_ACTIONS": "false", "GITHUB_WORKSPACE": "/w"}, None),
])
def test_annotations_only_in_a_github_actions_step(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                   expected: str | None) -> None:
    for name in ("GITHUB_ACTIONS", "GITHUB_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert github_workspace() == expected
