"""The command line: parse arguments, call the pieces, print, exit.

Every command is a few lines of wiring. Errors of our own (``ReconcilerError``) are caught once, in
:func:`main`, and printed as one line on stderr with exit code 1; a traceback reaching a user is a bug.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import dataclass

import click

from reconciler import __version__
from reconciler.apply import ApplyReport, Outcome, apply_plan
from reconciler.client import DEFAULT_BASE_URL, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Credentials, RetryPolicy, SendersClient
from reconciler.config import DEFAULT_FILE, load_desired
from reconciler.errors import ApplyRefused, ReconcilerError
from reconciler.models import DesiredState, LiveSender
from reconciler.plan import Plan, build_plan
from reconciler.render import RENDERERS, render_text

#: Exit codes, documented in docs/cli.md.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Manage Twilio WhatsApp Senders as code.

    Exit codes: 0 success, 1 error, 2 changes or drift (plan --detailed-exitcode, drift).
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``reconciler`` console script and ``python -m reconciler``."""
    try:
        code = cli.main(args=argv, prog_name="reconciler", standalone_mode=False)
    except ReconcilerError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        # click uses 2 for usage errors; here 2 means "changes", so every error is 1.
        sys.exit(EXIT_ERROR)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


# --------------------------------------------------------------------------- shared options

files_option = click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    type=click.Path(path_type=str),
    help="Desired-state file or directory of *.yaml files; repeatable. Default: senders.yaml.",
)


def api_options(func):
    """Options of every command that talks to the Senders API, defined once."""
    options = [
        click.option(
            "--base-url",
            envvar="TWILIO_MESSAGING_BASE_URL",
            default=DEFAULT_BASE_URL,
            show_default=True,
            help="Senders API base URL (env TWILIO_MESSAGING_BASE_URL); plain http only to loopback.",
        ),
        click.option(
            "--timeout",
            envvar="RECONCILER_TIMEOUT",
            type=click.FloatRange(min=0.1),
            default=DEFAULT_TIMEOUT,
            show_default=True,
            help="Seconds before one request times out (env RECONCILER_TIMEOUT).",
        ),
        click.option(
            "--max-attempts",
            envvar="RECONCILER_MAX_ATTEMPTS",
            type=click.IntRange(min=1),
            default=RetryPolicy.attempts,
            show_default=True,
            help="Attempts per request on 429, 5xx and connection errors (env RECONCILER_MAX_ATTEMPTS).",
        ),
        click.option(
            "--backoff",
            envvar="RECONCILER_BACKOFF",
            type=click.FloatRange(min=0),
            default=RetryPolicy.backoff,
            show_default=True,
            help="Base seconds of the jittered exponential backoff between attempts (env RECONCILER_BACKOFF).",
        ),
        click.option("-v", "--verbose", is_flag=True, help="Log each HTTP request on stderr (credentials redacted)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


target_option = click.option(
    "--target", "targets", multiple=True, metavar="SENDER_ID", help="Limit to this sender id; repeatable."
)
allow_delete_option = click.option(
    "--allow-delete", is_flag=True, help="Allow deleting live senders that are not in the file (deletion is irreversible)."
)
concurrency_option = click.option(
    "--concurrency",
    envvar="RECONCILER_CONCURRENCY",
    type=click.IntRange(1, 100),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Writes in flight at once (env RECONCILER_CONCURRENCY).",
)


@dataclass(frozen=True)
class ApiSettings:
    base_url: str
    retry: RetryPolicy
    verbose: bool

    @classmethod
    def from_options(cls, base_url: str, timeout: float, max_attempts: int, backoff: float, verbose: bool) -> ApiSettings:
        return cls(base_url, RetryPolicy(attempts=max_attempts, backoff=backoff, timeout=timeout), verbose)

    def client(self, concurrency: int = DEFAULT_CONCURRENCY) -> SendersClient:
        if self.verbose:
            logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s", stream=sys.stderr)
            for noisy in ("httpcore", "asyncio"):
                logging.getLogger(noisy).setLevel(logging.WARNING)
        return SendersClient(Credentials.from_env(), base_url=self.base_url, retry=self.retry, concurrency=concurrency)


def _color(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def _echo_problems(plan: Plan) -> None:
    for problem in plan.problems:
        click.echo(f"Error: sender {problem.sender_id}: {problem.message}", err=True)


def _load_and_plan(files, settings: ApiSettings, *, allow_delete: bool, targets) -> tuple[DesiredState, Plan]:
    desired = load_desired(files or (DEFAULT_FILE,))

    async def fetch() -> list[LiveSender]:
        async with settings.client() as api:
            return await api.list_senders()

    live = asyncio.run(fetch())
    return desired, build_plan(desired, live, allow_delete=allow_delete, targets=targets)


# --------------------------------------------------------------------------- plan


@cli.command()
@files_option
@click.option(
    "--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True, help="Output format."
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when the plan has any action (gated deletes included).")
@allow_delete_option
@target_option
@api_options
def plan(files, fmt, detailed_exitcode, allow_delete, targets, **api) -> int:
    """Show what apply would change, changing nothing."""
    settings = ApiSettings.from_options(**api)
    _, the_plan = _load_and_plan(files, settings, allow_delete=allow_delete, targets=targets)
    if fmt == "text":
        click.echo(render_text(the_plan, color=_color(sys.stdout)), nl=False)
    else:
        click.echo(RENDERERS[fmt](the_plan), nl=False)
    if the_plan.problems:
        _echo_problems(the_plan)
        return EXIT_ERROR
    if detailed_exitcode and the_plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


# --------------------------------------------------------------------------- apply


@cli.command()
@files_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@allow_delete_option
@target_option
@concurrency_option
@api_options
def apply(files, auto_approve, allow_delete, targets, concurrency, **api) -> int:
    """Plan from live state, show the plan, confirm, and apply it."""
    settings = ApiSettings.from_options(**api)
    desired, the_plan = _load_and_plan(files, settings, allow_delete=allow_delete, targets=targets)
    click.echo(render_text(the_plan, color=_color(sys.stdout)), nl=False)
    if not the_plan.allowed_actions:
        if the_plan.problems:
            _echo_problems(the_plan)
            return EXIT_ERROR
        click.echo("Nothing to apply.")
        return EXIT_OK
    _confirm(auto_approve)
    report = asyncio.run(_run_apply(the_plan, settings, concurrency))
    _echo_report(report)
    if the_plan.problems:
        _echo_problems(the_plan)
    return EXIT_OK if report.ok and not the_plan.problems else EXIT_ERROR


def _confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise ApplyRefused("refusing to apply without confirmation: no terminal to ask on; pass --auto-approve")
    answer = click.prompt("Apply these changes? Only 'yes' will be accepted", default="", show_default=False)
    if answer.strip() != "yes":
        raise ApplyRefused("apply cancelled: nothing was changed")


async def _run_apply(the_plan: Plan, settings: ApiSettings, concurrency: int) -> ApplyReport:
    stop, abort = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if not stop.is_set():
            stop.set()
            click.echo("\nStopping: no new changes start; waiting for those in flight (signal again to abort them).", err=True)
        else:
            abort.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    total = len(the_plan.allowed_actions)
    progress = _progress(total)
    try:
        async with settings.client(concurrency) as api:
            with progress:
                task = progress.add_task("Applying", total=total) if progress else None

                def tick(outcome: Outcome) -> None:
                    if progress and task is not None:
                        progress.advance(task)

                return await apply_plan(the_plan, api, concurrency=concurrency, stop=stop, abort=abort, on_outcome=tick)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


class _NoProgress:
    def __bool__(self) -> bool:
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _progress(total: int):
    """A progress bar on a terminal for runs long enough to want one."""
    if total < 10 or not sys.stderr.isatty():
        return _NoProgress()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    )


def _echo_report(report: ApplyReport) -> None:
    marks = {"done": "✓", "failed": "✗", "not_started": "·", "interrupted": "?"}
    click.echo("")
    for o in report.outcomes:
        mark = "!" if o.result == "done" and o.confirmed is False else marks[o.result]
        status = f" [{o.final_status}]" if o.final_status else ""
        text = str(o.error) if o.error else f"sender {o.sender_id}: {o.message}"
        click.echo(f"  {mark} {o.action} {text}{status}")
    if report.confirm_error:
        click.echo(f"  ! could not confirm the outcome from the API: {report.confirm_error}")
    click.echo(report.summary_line())
