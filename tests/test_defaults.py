"""The documented defaults: the numbers in docs/cli.md and in the client are the ones in reconciler.defaults."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler import defaults
from reconciler.client import RetryPolicy, SendersClient
from reconciler.defaults import (
    DEFAULT_ACCOUNT_CONCURRENCY,
    DEFAULT_API_BASE_URL,
    DEFAULT_ATTEMPTS,
    DEFAULT_BACKOFF,
    DEFAULT_BASE_URL,
    DEFAULT_CONCURRENCY,
    DEFAULT_FILE,
    DEFAULT_TIMEOUT,
)

CLI_DOC = (Path(__file__).parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")


def _row(variable: str) -> str:
    """The options table's row for ``variable``."""
    return next(line for line in CLI_DOC.splitlines() if line.startswith("|") and f"`{variable}`" in line)


def _documented(variable: str) -> str:
    """The default column of the options table's row for ``variable``."""
    return _row(variable).split("|")[3].strip()


@pytest.mark.parametrize(("variable", "value"), [
    ("TWILIO_MESSAGING_BASE_URL", DEFAULT_BASE_URL),
    ("TWILIO_API_BASE_URL", DEFAULT_API_BASE_URL),
    ("RECONCILER_ACCOUNT_CONCURRENCY", DEFAULT_ACCOUNT_CONCURRENCY),
    ("RECONCILER_REQUEST_TIMEOUT", DEFAULT_TIMEOUT),
    ("RECONCILER_MAX_ATTEMPTS", DEFAULT_ATTEMPTS),
    ("RECONCILER_BACKOFF", DEFAULT_BACKOFF),
])
def test_the_options_table_documents_each_default(variable, value):
    shown = _documented(variable)
    if value is None:  # no fixed default: the option caps something that adapts
        assert shown.startswith("none"), shown
    elif isinstance(value, str):
        assert shown.startswith(f"`{value}`"), shown
    else:
        assert float(shown) == value, shown


def test_the_docs_give_the_write_concurrency_and_the_file():
    assert re.search(rf"env `RECONCILER_CONCURRENCY`, default {DEFAULT_CONCURRENCY}\b", CLI_DOC)
    assert f"Defaults to `{DEFAULT_FILE}` in the current directory" in CLI_DOC


def test_the_client_s_own_defaults_are_the_documented_ones():
    policy = RetryPolicy()
    assert (policy.attempts, policy.backoff, policy.timeout) == (DEFAULT_ATTEMPTS, DEFAULT_BACKOFF, DEFAULT_TIMEOUT)
    assert f"capped at {policy.max_backoff:g} s" in _row("RECONCILER_BACKOFF")
    given = SendersClient.__init__.__kwdefaults__
    assert (given["base_url"], given["concurrency"]) == (DEFAULT_BASE_URL, DEFAULT_CONCURRENCY)


def test_the_defaults_import_nothing():
    """``--help`` shows them: loading the module must cost nothing."""
    code = ("import sys; before = set(sys.modules); import reconciler.defaults; "
            "print(sorted(set(sys.modules) - before - {'reconciler', 'reconciler.defaults'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert {name for name in vars(defaults) if name.isupper()} == {
        "DEFAULT_FILE", "DEFAULT_BASE_URL", "DEFAULT_API_BASE_URL", "DEFAULT_ACCOUNT_CONCURRENCY", "DEFAULT_CONCURRENCY",
        "DEFAULT_TIMEOUT", "DEFAULT_ATTEMPTS", "DEFAULT_BACKOFF", "STDIO", "STDIN_NAME"}


def test_dash_is_documented_as_standard_input_and_output():
    assert defaults.STDIO == "-"
    assert f"`-f {defaults.STDIO}` reads a file from standard input, named `{defaults.STDIN_NAME}`" in CLI_DOC
