"""The command line's options, defined once and shared by the commands (see docs/cli.md).

Imports only click and :mod:`reconciler.defaults` (the models only when ``--account`` is given, to check
its SID), so ``--help`` stays cheap.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import click
from click.core import ParameterSource

from reconciler.defaults import (
    DEFAULT_ACCOUNT_CONCURRENCY,
    DEFAULT_API_BASE_URL,
    DEFAULT_ATTEMPTS,
    DEFAULT_BACKOFF,
    DEFAULT_BASE_URL,
    DEFAULT_CONCURRENCY,
    DEFAULT_FILE,
    DEFAULT_TIMEOUT,
    STDIO,
)

_F = TypeVar("_F", bound=Callable[..., Any])

#: Exit codes, documented in docs/cli.md.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2

#: 0 (or false, no, off): writes in flight stay at --concurrency whatever the API answers.
ADAPTIVE_ENV = "RECONCILER_ADAPTIVE"
#: A path: each API client appends its request statistics to it as one JSON line when it closes.
STATS_FILE_ENV = "RECONCILER_STATS_FILE"


def _options(*decorators: Callable[[_F], _F]) -> Callable[[_F], _F]:
    def apply(func: _F) -> _F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


class Seconds(click.FloatRange):
    """A number of seconds: a finite float within the range.

    ``nan`` compares false with every bound and ``inf`` passes an open-ended range, so click's
    ``FloatRange`` alone lets both through, to fail later as a traceback or a wait without end.
    """

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{number} is not a finite number of seconds", param, ctx)
        return number


def _no_empty_path(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    if any(not path.strip() for path in value):
        raise click.BadParameter("an empty path (is the variable in -f \"$VAR\" unset?)")
    return value


files_option = click.option(
    "-f", "--file", "files", multiple=True, default=(DEFAULT_FILE,), show_default=True, metavar="PATH",
    callback=_no_empty_path, help="Desired-state file, or a directory of *.yaml/*.yml files. Repeat to combine several.",
)
target_option = click.option(
    "--target", "targets", multiple=True, metavar="SENDER_ID", help="Limit to this sender id; repeatable."
)
allow_delete_option = click.option(
    "--allow-delete", is_flag=True, help="Allow deleting live senders that are not in the file (irreversible)."
)
force_option = click.option("--force", is_flag=True, help="Proceed even when the plan crosses the safety thresholds.")
concurrency_option = click.option(
    "--concurrency", envvar="RECONCILER_CONCURRENCY", type=click.IntRange(1, 100), default=DEFAULT_CONCURRENCY,
    show_default=True, help="Writes in flight at once (env RECONCILER_CONCURRENCY).",
)


def _account_sid(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from reconciler.models import check_account_sid

    if value is None:
        return None
    try:
        return check_account_sid(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _account_sids(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sid for sid in (_account_sid(ctx, param, v) for v in value) if sid)


accounts_option = click.option(
    "--account", "accounts", multiple=True, metavar="AC_SID", callback=_account_sids,
    help="Limit to this account (a SID the files name with 'account:'); repeatable.",
)
one_account_option = click.option(
    "--account", "account", metavar="AC_SID", callback=_account_sid,
    help="The account (or subaccount) to work in; default: the credentials' own. See docs/accounts.md.",
)
api_options = _options(
    click.option("--base-url", envvar="TWILIO_MESSAGING_BASE_URL", metavar="URL",
                 help=f"Senders API base URL (env TWILIO_MESSAGING_BASE_URL) [default: {DEFAULT_BASE_URL}, or as "
                      "TWILIO_REGION / TWILIO_EDGE make it]; plain http only to loopback."),
    click.option("--api-base-url", envvar="TWILIO_API_BASE_URL", metavar="URL",
                 help=f"Twilio REST API base URL, where keys are proven and subaccounts read (env TWILIO_API_BASE_URL) "
                      f"[default: {DEFAULT_API_BASE_URL}, in the region of --base-url; the --base-url itself on "
                      "loopback]."),
    click.option("--account-concurrency", envvar="RECONCILER_ACCOUNT_CONCURRENCY", type=click.IntRange(min=1), metavar="N",
                 default=DEFAULT_ACCOUNT_CONCURRENCY,
                 help="Accounts read and applied at once, at most (env RECONCILER_ACCOUNT_CONCURRENCY) [default: as "
                      "many as the machine and the API keep up with, from 20; see docs/performance.md]."),
    click.option("--request-timeout", envvar="RECONCILER_REQUEST_TIMEOUT", type=Seconds(min=0.1),
                 default=DEFAULT_TIMEOUT, show_default=True,
                 help="Seconds before one request times out (env RECONCILER_REQUEST_TIMEOUT)."),
    click.option("--max-attempts", envvar="RECONCILER_MAX_ATTEMPTS", type=click.IntRange(min=1),
                 default=DEFAULT_ATTEMPTS, show_default=True,
                 help="Attempts per request on 429, 5xx and connection errors (env RECONCILER_MAX_ATTEMPTS)."),
    click.option("--backoff", envvar="RECONCILER_BACKOFF", type=Seconds(min=0), default=DEFAULT_BACKOFF,
                 show_default=True, help="Base seconds of the jittered exponential backoff (env RECONCILER_BACKOFF)."),
    click.option("-v", "--verbose", is_flag=True, help="Log each HTTP request on stderr (no credentials)."),
    # For benchmarks, so hidden: the environment variables are their usual form.
    click.option("--adaptive/--fixed-concurrency", "adaptive", envvar=ADAPTIVE_ENV, default=True, hidden=True,
                 help=f"Fewer writes in flight while the account answers 429, or always --concurrency (env {ADAPTIVE_ENV})."),
    click.option("--stats-file", envvar=STATS_FILE_ENV, metavar="PATH", hidden=True,
                 help=f"Append each API client's request statistics to PATH as a JSON line (env {STATS_FILE_ENV})."),
)


def github_workspace() -> str | None:
    """In a GitHub Actions step (``GITHUB_ACTIONS=true``): ``GITHUB_WORKSPACE``, the root annotations' paths are
    relative to ("" when unset); None elsewhere, where no annotation is printed."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return None
    return os.environ.get("GITHUB_WORKSPACE", "")


#: Notification URLs for ``drift --notify``, separated by spaces, commas or semicolons (as Apprise's ``APPRISE_URLS``).
NOTIFY_ENV = "RECONCILER_NOTIFY"

notify_option = click.option(
    "--notify", "notify", multiple=True, envvar=NOTIFY_ENV, metavar="URL",
    help=f"Send one message here when drift or an error is found: an Apprise URL (Slack, Teams, Discord, e-mail, "
         f"json://...); repeatable (env {NOTIFY_ENV}, URLs separated by spaces or commas). Needs the 'notify' extra.",
)


def check_apply_usage(plan_file: str | None, files: tuple[str, ...], *, fmt: str, auto_approve: bool,
                      planning: bool) -> None:
    """``apply``'s options that cannot go together, refused before anything is read: ``planning`` is any of
    ``--target``, ``--account`` or ``--allow-delete``, which choose what a plan holds."""
    if fmt == "json" and not (auto_approve or plan_file):
        raise click.UsageError("--format json needs --auto-approve: a JSON run shows no plan to review before it asks "
                               "(review it with 'plan', or save it with 'plan --out' and apply that file)")
    given_files = click.get_current_context().get_parameter_source("files") == ParameterSource.COMMANDLINE
    if plan_file and (given_files or planning):
        raise click.UsageError("a saved plan is applied as it is: -f, --target, --account and --allow-delete "
                               "belong to 'plan'")
    if STDIO in files and not plan_file and not auto_approve:
        raise click.UsageError("-f - reads the file from standard input, so there is none left to confirm on: pass "
                               "--auto-approve, or save the plan with 'plan -f - --out FILE' and apply that file")


def envvar_of(error: click.ClickException, args: list[str]) -> str | None:
    """The environment variable a refused option value came from: it is set, and the option was not given."""
    if not isinstance(error, click.BadParameter) or error.param is None:
        return None
    envvar = getattr(error.param, "envvar", None)
    if not isinstance(envvar, str) or os.environ.get(envvar) is None:
        return None
    given = any(arg == opt or arg.startswith(opt + "=") for arg in args for opt in error.param.opts)
    return None if given else envvar


class LazyGroup(click.Group):
    """A command's module is imported only when that command is looked up: the emulator's options and faults, the
    demo's, the offline commands' and import's (so that the others import none of them)."""

    lazy: ClassVar[dict[str, str]] = {
        "emulator": "reconciler.emulator.cli:emulator_command",
        "demo": "reconciler.demo.cli:demo_command",
        "validate": "reconciler.offline_cli:validate",
        "schema": "reconciler.offline_cli:schema",
        "accounts": "reconciler.offline_cli:accounts_command",
        "import": "reconciler.import_cli:import_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, _, attribute = self.lazy[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


def request_log(verbose: bool) -> None:
    """``-v``: each request logged on stderr; otherwise, at a terminal, retries are not silent."""
    import logging  # only for the commands that reach the API

    if verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s", stream=sys.stderr)
        for noisy in ("httpcore", "asyncio"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    elif sys.stderr.isatty():
        retries = logging.getLogger("reconciler.retry")
        retries.addHandler(logging.StreamHandler(sys.stderr))
        retries.propagate = False
