"""Numbers of seconds given on the command line or in the environment: refused with click's one line when
they are not finite or not in range, before anything is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import clean_env, run_cli

SID = "AC" + "0" * 32
#: Nothing listens there: a value that got through would be used against it, not refused up front.
NOWHERE = "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("nan", "nan is not a finite number of seconds"),
        ("NaN", "nan is not a finite number of seconds"),
        ("inf", "inf is not a finite number of seconds"),
        ("1e400", "inf is not a finite number of seconds"),
        ("-inf", "-inf is not in the range x>=0.1."),
        ("-1", "-1.0 is not in the range x>=0.1."),
        ("0", "0.0 is not in the range x>=0.1."),
    ],
)
def test_a_request_timeout_that_is_no_duration_is_one_line(tmp_path: Path, value: str, why: str) -> None:
    (tmp_path / "senders.yaml").write_text("senders: []\n")
    env = clean_env(TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="x", TWILIO_MESSAGING_BASE_URL=NOWHERE)
    result = run_cli("plan", "--request-timeout", value, env=env, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines()[-1] == f"Error: Invalid value for '--request-timeout': {why}"
    assert "Traceback" not in result.output


def test_a_request_timeout_from_the_environment_is_checked_alike(tmp_path: Path) -> None:
    (tmp_path / "senders.yaml").write_text("senders: []\n")
    env = clean_env(TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="x", TWILIO_MESSAGING_BASE_URL=NOWHERE,
                    RECONCILER_REQUEST_TIMEOUT="nan")
    result = run_cli("plan", env=env, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines()[-2:] == [
        "Error: Invalid value for '--request-timeout': nan is not a finite number of seconds",
        "Hint: the value came from the environment variable RECONCILER_REQUEST_TIMEOUT",
    ]


@pytest.mark.parametrize(("args", "option"), [(["plan", "--backoff", "inf"], "--backoff"),
                                              (["plan", "--backoff", "nan"], "--backoff"),
                                              (["apply", "--wait", "--timeout", "nan"], "--timeout"),
                                              (["apply", "--wait", "--timeout", "inf"], "--timeout")])
def test_other_durations_must_be_finite_too(tmp_path: Path, args: list[str], option: str) -> None:
    (tmp_path / "senders.yaml").write_text("senders: []\n")
    env = clean_env(TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="x", TWILIO_MESSAGING_BASE_URL=NOWHERE)
    result = run_cli(*args, env=env, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for '{option}': {args[-1]} is not a finite number of seconds"
    )
