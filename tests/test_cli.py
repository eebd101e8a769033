"""The CLI's own wiring, through its entry function in-process: options, exit codes, where words go.

Whole user journeys run the CLI as a subprocess in tests/integration/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler import __version__
from reconciler.cli import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, main
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

A = "whatsapp:+15017122661"


def run(*argv: str) -> int:
    with pytest.raises(SystemExit) as stopped:
        main(list(argv))
    code = stopped.value.code
    return code if isinstance(code, int) else EXIT_ERROR


@pytest.fixture
def env(monkeypatch, emulator):
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET", "RECONCILER_PLAN_KEY", "RECONCILER_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", TEST_ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_MESSAGING_BASE_URL", emulator.base_url)
    return emulator


@pytest.fixture
def senders_file(tmp_path: Path) -> str:
    path = tmp_path / "senders.yaml"
    path.write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme}}\n')
    return str(path)


def test_version(capsys):
    assert run("--version") == EXIT_OK
    assert __version__ in capsys.readouterr().out


def test_a_usage_error_exits_1_not_click_s_2(capsys):
    assert run("plan", "--no-such-option") == EXIT_ERROR
    assert "No such option" in capsys.readouterr().err


def test_validate_prints_one_line(senders_file, capsys):
    assert run("validate", "-f", senders_file) == EXIT_OK
    assert capsys.readouterr().out == f"{senders_file}: 1 sender, 0 ignored: valid\n"


def test_validate_lists_every_problem_then_the_count(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("senders:\n  - sender_id: whatsapp:+1501712\n  - sender_id: nope\n")
    assert run("validate", "-f", str(path)) == EXIT_ERROR
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{path}:2:") and err[1].startswith(f"{path}:3:") and err[-1] == "2 errors: invalid"


def test_other_commands_report_a_broken_file_with_the_closing_line(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("senders:\n  - sender_id: nope\n")
    assert run("plan", "-f", str(path)) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.endswith("Error: 1 problem in 1 desired-state file; nothing was read or changed\n")


def test_plan_detailed_exitcode_and_json(env, senders_file, capsys):
    assert run("plan", "-f", senders_file, "--format", "json", "--detailed-exitcode") == EXIT_CHANGES
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"] == {"create": 1, "update": 0, "delete": 0, "pool": 0} and doc["applyable"] is True


def test_a_saved_plan_is_applied_as_it_is(env, senders_file, tmp_path, capsys):
    out = str(tmp_path / "plan.json")
    assert run("plan", "-f", senders_file, "--out", out) == EXIT_OK
    assert run("apply", out, "--target", A) == EXIT_ERROR
    assert "a saved plan is applied as it is" in capsys.readouterr().err
    assert run("apply", out) == EXIT_OK
    assert [s["sender_id"] for s in env.senders()] == [A]


def test_apply_json_when_nothing_is_to_apply(env, senders_file, capsys):
    env.add_sender({"sender_id": A, "profile": {"name": "Acme"}})
    assert run("apply", "-f", senders_file, "--format", "json", "--auto-approve") == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["apply"]["outcomes"] == [] and doc["apply"]["ok"] is True and doc["wait"] is None


def test_apply_without_a_terminal_needs_auto_approve(env, senders_file, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert run("apply", "-f", senders_file) == EXIT_ERROR
    assert "no terminal to ask on; pass --auto-approve" in capsys.readouterr().err
    assert env.senders() == []


def test_drift_exit_codes(env, senders_file, capsys):
    assert run("drift", "-f", senders_file) == EXIT_CHANGES
    assert capsys.readouterr().out.startswith("Drift: 1 to create")
    env.add_sender({"sender_id": A, "profile": {"name": "Acme"}})
    assert run("drift", "-f", senders_file) == EXIT_OK


def test_refused_credentials_name_the_variables_they_came_from(env, senders_file, monkeypatch, capsys):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "not-the-token")
    assert run("plan", "-f", senders_file) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "401" in err and "Hint: the API refused the credentials from TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in err
    assert "not-the-token" not in err


def test_a_base_url_with_the_api_path_is_refused_with_the_origin_to_use(env, senders_file, capsys):
    assert run("plan", "-f", senders_file, "--base-url", env.base_url + "/v2") == EXIT_ERROR
    assert f"give the origin only ({env.base_url})" in capsys.readouterr().err


def test_a_bad_value_from_the_environment_names_the_variable(env, senders_file, monkeypatch, capsys):
    monkeypatch.setenv("RECONCILER_CONCURRENCY", "abc")
    assert run("apply", "-f", senders_file, "--auto-approve") == EXIT_ERROR
    assert "environment variable RECONCILER_CONCURRENCY" in capsys.readouterr().err


def test_a_file_given_as_an_argument_gets_the_f_hint(senders_file, capsys):
    assert run("plan", senders_file) == EXIT_ERROR
    assert f"Hint: desired-state files are given with -f: -f {senders_file}" in capsys.readouterr().err


def test_an_empty_f_path_is_refused(capsys):
    assert run("validate", "-f", "") == EXIT_ERROR
    assert "an empty path" in capsys.readouterr().err


def test_a_failing_json_run_leaves_an_error_document(env, senders_file, monkeypatch, capsys):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "not-the-token")
    assert run("drift", "-f", senders_file, "--format", "json") == EXIT_ERROR
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"]["kind"] == "ApiError" and doc["error"]["status"] == 401


def test_apply_json_needs_auto_approve(env, senders_file, capsys):
    assert run("apply", "-f", senders_file, "--format", "json") == EXIT_ERROR
    assert "--format json needs --auto-approve" in capsys.readouterr().err
    assert env.senders() == []


def test_a_connection_failure_names_the_host_and_the_attempts(senders_file, monkeypatch, capsys):
    from tests.factories import free_port

    monkeypatch.setenv("TWILIO_ACCOUNT_SID", TEST_ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_AUTH_TOKEN)
    port = free_port()
    assert run("plan", "-f", senders_file, "--base-url", f"http://127.0.0.1:{port}", "--max-attempts", "3",
               "--backoff", "0") == EXIT_ERROR
    err = capsys.readouterr().err
    assert f"connection to 127.0.0.1:{port} failed" in err and "(after 3 attempts)" in err
    assert "Retrying" not in err  # not a terminal: no retry lines
