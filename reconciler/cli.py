"""The command line: parse the options, call the session, render, exit.

Each command is a few lines of wiring over :mod:`reconciler.session`; every word printed comes from
:mod:`reconciler.render`. Errors of our own (``ReconcilerError``) are caught once, in :func:`main`, and
printed on stderr with exit code 1; a traceback reaching a user is a bug.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler import __version__
from reconciler.defaults import STDIO
from reconciler.errors import ApplyRefused, Interrupted, ReconcilerError
from reconciler.options import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    LazyGroup,
    Seconds,
    accounts_option,
    allow_delete_option,
    api_options,
    check_apply_usage,
    concurrency_option,
    envvar_of,
    files_option,
    force_option,
    notify_option,
    one_account_option,
    request_log,
    target_option,
)

if TYPE_CHECKING:
    from reconciler.accounts.record import AccountPlan
    from reconciler.session import ApiSettings

# Heavy modules (pydantic models, httpx, rich, the emulator) are imported by the commands that use them.

def api_settings(base_url: str | None, api_base_url: str | None, account_concurrency: int | None,
                 request_timeout: float, max_attempts: int, backoff: float, verbose: bool, adaptive: bool,
                 stats_file: str | None) -> ApiSettings:
    """The API options as settings; ``-v`` turns on the request log. For the commands of other modules too."""
    from reconciler.session import ApiSettings

    request_log(verbose)
    return ApiSettings(base_url or None, request_timeout, max_attempts, backoff, api_base_url or None,
                       account_concurrency, adaptive, stats_file or None)


def _echo_lines(lines: Sequence[str], plans: Sequence[AccountPlan] = (), error: ReconcilerError | None = None) -> None:
    """Lines on stderr; then, in GitHub Actions, the problems of ``plans`` or ``error`` as annotations on their lines."""
    if plans or error is not None:
        from reconciler.offline_cli import annotation_lines

        lines = [*lines, *annotation_lines(plans, error)]
    for line in lines:
        click.echo(line, err=True)


def _json_errors(fmt: str) -> None:
    """With ``--format json``, an error too is a JSON document on stdout, so the artifact is never empty."""
    if fmt == "json":
        obj = click.get_current_context().obj
        if isinstance(obj, dict):
            obj[_JSON_ERRORS] = True


_JSON_ERRORS = "reconciler.json_errors"


@contextmanager
def _planning(words: str | None = None, *, reading: bool = False) -> Iterator[None]:
    """Ctrl-C or SIGTERM while planning (or only ``reading``): one line, nothing was changed; or else ``words``."""
    from reconciler.render.report import INTERRUPTED_PLANNING, INTERRUPTED_READING

    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(words or (INTERRUPTED_READING if reading else INTERRUPTED_PLANNING)) from None


# --------------------------------------------------------------------------- commands


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Manage Twilio WhatsApp Senders as code.

    Exit codes: 0 success, 1 error, 2 changes or drift (plan --detailed-exitcode, drift).
    """


@cli.command()
@files_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="text for people, json for machines, markdown for pull-request comments.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when the plan has any action (gated deletes included).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=str),
              help="Save the plan for 'reconciler apply FILE'; '-': to stdout (the plan shown goes to stderr).")
@allow_delete_option
@force_option
@target_option
@accounts_option
@api_options
def plan(files: tuple[str, ...], fmt: str, detailed_exitcode: bool, out: str | None, allow_delete: bool, force: bool,
         targets: tuple[str, ...], accounts: tuple[str, ...], **options: Any) -> int:
    """Show what apply would change, changing nothing."""
    from reconciler import render
    from reconciler.render.commands import plan_output
    from reconciler.session import Session

    to_stdout = out == STDIO  # the saved plan alone on stdout, for 'reconciler apply -'
    _json_errors("text" if to_stdout else fmt)
    session = Session(api_settings(**options))
    with _planning():
        result = session.plan_run(files, allow_delete=allow_delete, targets=targets, force=force, accounts=accounts,
                                  out=out)
    output = plan_output(result.run.plans, fmt, color=render.wants_color(sys.stderr if to_stdout else sys.stdout),
                         forced=result.forced, out=out, saved=result.saved)
    click.echo(output.stdout, nl=False, err=to_stdout)
    if result.refused is not None:
        raise result.refused
    _echo_lines(output.stderr, result.run.plans)
    if result.document is not None:
        click.echo(result.document, nl=False)
    if result.run.problems:
        return EXIT_ERROR
    return EXIT_CHANGES if detailed_exitcode and result.run.has_changes else EXIT_OK


@cli.command()
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="The same renderings as 'plan', byte for byte.")
def show(plan_file: str, fmt: str) -> int:
    """Show a saved plan (from 'plan --out') exactly as 'plan' printed it: no credentials, no network.

    The signature is verified when a key is at hand (RECONCILER_PLAN_KEY, or the credentials that signed it),
    and stderr says whether it was.
    """
    from reconciler import render
    from reconciler.render.commands import show_output
    from reconciler.session import read_saved_plan

    _json_errors(fmt)
    run, key_source = read_saved_plan(plan_file)
    output = show_output(run.plans, fmt, key_source, color=render.wants_color(sys.stdout))
    click.echo(output.stdout, nl=False)
    _echo_lines(output.stderr)
    return EXIT_OK


@cli.command()
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=str))
@files_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the plan and each action's outcome as one JSON document on stdout (needs --auto-approve).")
@click.option("--wait", is_flag=True, help="Wait until created and updated senders leave transient statuses.")
@click.option("--timeout", type=Seconds(min=0), default=600, show_default=True,
              help="Seconds --wait waits at most.")
@allow_delete_option
@force_option
@target_option
@accounts_option
@concurrency_option
@api_options
def apply(plan_file: str | None, files: tuple[str, ...], auto_approve: bool, fmt: str, wait: bool, timeout: float,
          allow_delete: bool, force: bool, targets: tuple[str, ...], accounts: tuple[str, ...], concurrency: int,
          **options: Any) -> int:
    """Plan from live state, show the plan, confirm, and apply it.

    With PLAN_FILE (from 'plan --out'), apply exactly that plan, without a prompt, after checking
    that it was not edited, that the credentials reach its accounts, and that no sender it touches
    changed since.
    """
    from reconciler import render
    from reconciler.progress import TerminalApply
    from reconciler.render import accounts as by_account
    from reconciler.render.commands import apply_output
    from reconciler.session import Session

    _json_errors(fmt)
    check_apply_usage(plan_file, files, fmt=fmt, auto_approve=auto_approve, planning=bool(targets or allow_delete or accounts))
    session = Session(api_settings(**options))
    with _planning():
        if plan_file:
            run = session.load_saved_plan(plan_file, force=force)
        else:
            run = session.plan(files, allow_delete=allow_delete, targets=targets, force=force, accounts=accounts)
    color = render.wants_color(sys.stdout)
    if fmt == "text":
        click.echo(by_account.render_plans_text(run.plans, color=color), nl=False)
    text_report = (lambda reports: by_account.render_reports(reports, color=color)) if fmt == "text" else None
    front = TerminalApply(run.allowed_actions, confirmed=auto_approve or bool(plan_file), report=text_report)
    result = session.apply_run(run, front, concurrency=concurrency, wait=timeout if wait else None)
    output = apply_output(run.plans, result.reports, fmt, blocked=result.blocked, settled=result.settled,
                          wait_stopped=result.wait_stopped, timeout=timeout)
    click.echo(output.stdout, nl=False)
    _echo_lines(output.stderr, run.plans if result.blocked else ())
    if output.error is not None:
        raise ApplyRefused(output.error)
    return EXIT_OK if result.ok else EXIT_ERROR


@cli.command()
@files_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@target_option
@accounts_option
@notify_option
@api_options
def drift(files: tuple[str, ...], fmt: str, targets: tuple[str, ...], accounts: tuple[str, ...],
          notify: tuple[str, ...], **options: Any) -> int:
    """Read-only drift check for cron jobs: exit 0 in sync, 2 drifted (in any account), 1 error.

    Every planned action counts, gated deletes included; a rename waiting for Meta's review does not.
    """
    from reconciler.notify import Notifications
    from reconciler.render.commands import drift_output
    from reconciler.session import Session

    _json_errors(fmt)
    notifications = Notifications(notify)  # before the run: no Apprise, or a URL it cannot use, is an error
    with _planning(), notifications.of_errors(_echo_lines):
        run = Session(api_settings(**options)).plan(files, targets=targets, accounts=accounts)
    output = drift_output(run.plans, fmt)
    click.echo(output.stdout, nl=False)
    _echo_lines([*output.stderr, *notifications.of_drift(run.plans)], run.plans)
    if run.problems:
        return EXIT_ERROR
    return EXIT_CHANGES if run.drifted else EXIT_OK


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str), help="Write here, not to stdout ('-': stdout).")
@click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
@target_option
@one_account_option
@api_options
def export(output: str | None, force: bool, targets: tuple[str, ...], account: str | None, **options: Any) -> int:
    """Write the live senders as a senders.yaml, to start managing an existing account.

    With --account, the senders of that (sub)account, in a file that starts with its 'account:'.
    """
    from reconciler.render.commands import export_output
    from reconciler.session import Session, write_file

    if output and output != STDIO and not force and Path(output).exists():
        raise click.UsageError(f"{output} exists: pass --force to overwrite it (its comments would be lost)")
    with _planning(reading=True):
        exported = Session(api_settings(**options)).export(targets, account=account)
    if output and output != STDIO:
        write_file(output, exported.text)
    shown = export_output(exported.text, exported.count, exported.skipped, output)
    _echo_lines(shown.stderr)
    click.echo(shown.stdout, nl=False)
    return EXIT_OK


@cli.command()
@click.argument("sender_id")
@click.option("--code", envvar="RECONCILER_VERIFICATION_CODE", metavar="CODE",
              help="The one-time code Meta sent (env RECONCILER_VERIFICATION_CODE); asked for when missing.")
@one_account_option
@api_options
def verify(sender_id: str, code: str | None, account: str | None, **options: Any) -> int:
    """Submit the verification code (OTP) of a sender in PENDING_VERIFICATION.

    SENDER_ID is the sender's 'whatsapp:+E164' id, or its XE... SID.
    """
    from reconciler.render.report import interrupted_verifying
    from reconciler.session import Session

    session = Session(api_settings(**options))
    with _planning(reading=True):
        sender, reached = session.pending_verification(sender_id, account)
    if not code:
        if not sys.stdin.isatty():
            raise ReconcilerError("no verification code: pass --code or set RECONCILER_VERIFICATION_CODE")
        code = click.prompt("Verification code", hide_input=True, err=True)
    with _planning(interrupted_verifying(sender.sender_id)):  # the code may have reached the API
        status = session.verify(sender, str(code), reached)
    click.echo(f"Submitted the verification code for {sender.sender_id}; status: {status or 'unknown'}.")
    return EXIT_OK


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``reconciler`` console script and ``python -m reconciler``."""
    # A CI runner cancels a job with SIGTERM: treat it as Ctrl-C, so the tool stops cleanly and says
    # so instead of dying silently (apply turns both into stop requests while it writes).
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            signal.signal(signal.SIGTERM, signal.default_int_handler)
    meta: dict[str, Any] = {}
    try:
        code = cli.main(args=argv, prog_name="reconciler", standalone_mode=False, obj=meta)
    except ReconcilerError as exc:
        from reconciler import render

        if meta.get(_JSON_ERRORS):
            with contextlib.suppress(OSError):
                click.echo(render.render_error_json(exc), nl=False)
        _echo_lines(render.error_lines(exc), error=exc)
        sys.exit(EXIT_ERROR)
    except click.exceptions.Abort:  # Ctrl-C or Ctrl-D outside the places that say more
        from reconciler.progress import interrupted_words

        _echo_lines(["", f"Error: {interrupted_words(meta)}"])
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        from reconciler.render.words import usage_hints

        exc.show()
        _echo_lines(usage_hints(exc.format_message(), envvar_of(exc, sys.argv[1:] if argv is None else argv)))
        # click uses 2 for usage errors; here 2 means "changes", so every error is 1.
        sys.exit(EXIT_ERROR)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:  # stdout or stderr closed or full: say so once, where it can still be said
        with contextlib.suppress(OSError):
            click.echo(f"Error: cannot write the output: {exc.strerror or exc}", err=True)
        _discard_stdout()
        sys.exit(EXIT_ERROR)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _discard_stdout() -> None:
    """What could not be written is dropped, so the interpreter's last flush does not fail a second time."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
