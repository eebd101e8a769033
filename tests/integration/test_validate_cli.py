"""``reconciler validate`` and ``reconciler schema`` run as a user runs them: a subprocess, no credentials."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.factories import FIXTURES, REPO_ROOT, clean_env, run_cli

EXAMPLE = REPO_ROOT / "senders.yaml.example"


def test_the_example_validates_with_no_variables_set(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "senders.yaml.example")
    result = run_cli("validate", "-f", "senders.yaml.example", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "senders.yaml.example: 3 senders, 1 ignored: valid\n",
        "",
    )


def test_validate_reads_senders_yaml_by_default(tmp_path: Path) -> None:
    (tmp_path / "senders.yaml").write_text("senders:\n  - sender_id: whatsapp:+15017122661\n")
    result = run_cli("validate", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "senders.yaml: 1 sender, 0 ignored: valid\n")


def test_validate_needs_no_credentials_and_ignores_them(tmp_path: Path) -> None:
    (tmp_path / "senders.yaml").write_text("senders: []\n")
    env = clean_env(TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN="nope", HTTPS_PROXY="http://127.0.0.1:9")
    result = run_cli("validate", env=env, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "senders.yaml: 0 senders, 0 ignored: valid\n")


def test_several_files_and_a_directory(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "config" / "split", tmp_path / "conf")
    (tmp_path / "more.yaml").write_text("senders:\n  - sender_id: whatsapp:+15017122663\n")
    result = run_cli("validate", "-f", "conf", "--file", "more.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "4 files: 4 senders, 1 ignored: valid\n"


def test_errors_are_listed_one_a_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "senders.yaml").write_text(
        "senders:\n"
        "  - sender_id: whatsapp:+1 501 712 2661\n"
        "  - sender_id: whatsapp:+15017122662\n"
        "    profile:\n"
        "      vertical: Spaceships\n"
        "      websites: ['${SITE}']\n"
    )
    result = run_cli("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "senders.yaml:2:16: senders[0].sender_id: 'whatsapp:+1 501 712 2661' is not in E.164 form; "
        "write 'whatsapp:+15017122661'"
    )
    assert lines[1].startswith(
        "senders.yaml:5:17: sender whatsapp:+15017122662: profile.vertical: 'Spaceships' is not one of 'Alcohol', "
    )
    assert lines[2] == (
        "senders.yaml:6:18: sender whatsapp:+15017122662: profile.websites[0]: environment variable SITE is not set "
        "(write ${SITE:-fallback} to give a fallback)"
    )
    assert lines[3:] == ["3 errors: invalid"]
    assert "Traceback" not in result.output


def test_variables_come_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "senders.yaml").write_text(
        "senders:\n  - sender_id: whatsapp:+15017122661\n    webhook: {callback_url: '${HOOKS}/wa'}\n"
    )
    assert run_cli("validate", cwd=tmp_path).returncode == 1
    result = run_cli("validate", cwd=tmp_path, env=clean_env(HOOKS="https://hooks.example.com"))
    assert result.returncode == 0, result.stderr


def test_hostile_files_give_one_line_and_no_traceback(tmp_path: Path) -> None:
    cases = {
        "binary.yaml": (b"\x7fELF\x02\x01\x01\x00\x00", "binary.yaml:1:8: this is a binary file (it holds NUL bytes), not YAML"),
        "latin1.yaml": (b"senders: [caf\xe9]\n", "latin1.yaml:1:14: the file is not UTF-8 (byte 0xe9 at offset 13)"),
        "empty.yaml": (b"", "empty.yaml:1:1: the file is empty; expected a mapping with 'senders:'"),
        "list.yaml": (b"- 1\n", "list.yaml:1:1: the top level must be a mapping with 'senders:', not a list"),
        "tag.yaml": (b"senders: !!python/object:os.system {}\n",
                     "tag.yaml:1:10: tag '!!python/object:os.system' is not allowed: only plain YAML values are read"),
        "syntax.yaml": (b"senders: [\n", "syntax.yaml:2:1: invalid YAML: expected the node content, but found '<stream end>'"),
    }
    for name, (content, _) in cases.items():
        (tmp_path / name).write_bytes(content)
    # One run reads them all (a CLI run costs a second): each is one line, and none stops the others.
    result = run_cli("validate", *(arg for name in cases for arg in ("-f", name)), cwd=tmp_path)
    expected = "".join(f"{message}\n" for _, message in cases.values()) + f"{len(cases)} errors: invalid\n"
    assert (result.returncode, result.stderr) == (1, expected)
    assert "Traceback" not in result.output


def test_missing_file(tmp_path: Path) -> None:
    result = run_cli("validate", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, "senders.yaml: no such file or directory\n1 error: invalid\n")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_given_by_name_is_refused_without_blocking(tmp_path: Path) -> None:
    # Nothing ever writes to the FIFO: reading it would wait for ever (the run's timeout fails the test).
    os.mkfifo(tmp_path / "senders.yaml")
    (tmp_path / "good.yaml").write_text("senders: []\n")
    result = run_cli("validate", "-f", "senders.yaml", "-f", "good.yaml", cwd=tmp_path, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        "senders.yaml: a FIFO, not a regular file: only regular files are read "
        "(a FIFO or a device could block or never end)\n1 error: invalid\n",
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_plan_refuses_a_fifo_without_blocking(tmp_path: Path, emulator_env: dict[str, str]) -> None:
    os.mkfifo(tmp_path / "senders.yaml")
    result = run_cli("plan", "-f", "senders.yaml", env=emulator_env, cwd=tmp_path, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines()[0] == (
        "senders.yaml: a FIFO, not a regular file: only regular files are read (a FIFO or a device could block or never end)"
    )


def test_schema_is_json_schema_of_the_file() -> None:
    result = run_cli("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "whatsapp-senders-reconciler senders.yaml"
    assert set(schema["properties"]) == {"account", "defaults", "senders", "ignore", "protect", "safety"}
    assert schema["$defs"]["Profile"]["properties"]["about"]["maxLength"] == 139


def test_help_mentions_file_option() -> None:
    result = run_cli("validate", "--help")
    assert result.returncode == 0
    assert "-f, --file PATH" in result.stdout and "[default: senders.yaml]" in result.stdout


def test_an_offline_command_s_output_is_whole_however_long(tmp_path: Path) -> None:
    """The offline commands end without the interpreter's teardown: what they printed is flushed first."""
    lines = "".join(f"  - sender_id: whatsapp:+1501712{i:04d}\n    profile: {{about: {i}}}\n" for i in range(3000))
    (tmp_path / "senders.yaml").write_text("senders:\n" + lines)
    result = run_cli("validate", cwd=tmp_path)
    errors = result.stderr.splitlines()
    assert result.returncode == 1 and len(errors) == 3001 and errors[-1] == "3000 errors: invalid", errors[-3:]
    assert all(line.startswith("senders.yaml:") for line in errors[:-1])
    matrix = run_cli("accounts", "--format", "json", "-f", "missing.yaml", cwd=tmp_path)
    assert (matrix.returncode, matrix.stderr) == (1, "missing.yaml: no such file or directory\n1 error: invalid\n")


def test_an_offline_command_runs_the_exit_handlers_of_a_program_that_wraps_it(tmp_path: Path) -> None:
    """A coverage tool or a wrapper registers exit handlers; ending without the teardown still runs them."""
    import subprocess
    import sys

    marker = tmp_path / "ran"
    wrapper = ("import atexit, pathlib, runpy, sys\n"
               f"atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('yes'))\n"
               "sys.argv = ['reconciler', 'validate', '-f', sys.argv[1]]\n"
               "runpy.run_module('reconciler', run_name='__main__', alter_sys=True)\n")
    proc = subprocess.run([sys.executable, "-c", wrapper, str(EXAMPLE)], capture_output=True, text=True,
                          env=clean_env(), cwd=REPO_ROOT, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, f"{EXAMPLE}: 3 senders, 1 ignored: valid\n"), proc.stderr
    assert marker.read_text() == "yes"
