"""The command line: parse arguments, call the pieces, print, exit.

Every command is a few lines of wiring. Errors of our own (``ReconcilerError``) are caught once, in
:func:`main`, and printed as one line on stderr with exit code 1; a traceback reaching a user is a bug.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from reconciler import __version__
from reconciler.apply import ApplyReport, Settled, apply_plan, report_dict, wait_until_settled
from reconciler.client import (
    DEFAULT_BASE_URL,
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT,
    Credentials,
    RetryPolicy,
    SendersClient,
    check_base_url,
    senders_from_pages,
)
from reconciler.config import DEFAULT_FILE, load_desired
from reconciler.errors import ApiError, ApplyRefused, ConfigError, PlanFileError, ReconcilerError, UnsafePlanError
from reconciler.export import export_senders, to_yaml
from reconciler.models import DesiredState, LiveSender, senders_file_json_schema
from reconciler.plan import Plan, build_plan, offline_description, safety_violations
from reconciler.planfile import check_fresh, dump_plan, load_plan, signing_key, write_plan
from reconciler.render import FORMAT_VERSION, RENDERERS, plan_dict, problems_list, render_text, summary_line

#: Exit codes, documented in docs/cli.md.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2

_F = TypeVar("_F", bound=Callable[..., Any])

#: ``-f/--file``, shared by every command that reads the desired state. The command receives
#: ``files: tuple[str, ...]``, ready for :func:`reconciler.config.load_desired`.
files_option: Callable[[_F], _F] = click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    default=(DEFAULT_FILE,),
    show_default=True,
    metavar="PATH",
    help="Desired-state file, or a directory of *.yaml/*.yml files. Repeat to combine several.",
)

#: Where ``reconciler schema`` says its JSON Schema dialect is.
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Manage Twilio WhatsApp Senders as code.

    Exit codes: 0 success, 1 error, 2 changes or drift (plan --detailed-exitcode, drift).
    """


@cli.command()
@files_option
def validate(files: tuple[str, ...]) -> None:
    """Check desired-state files offline: no credentials, no network.

    Prints a one-line summary and exits 0 when valid; otherwise prints every problem, one a line
    (PATH:LINE:COL: ...), on stderr and exits 1.
    """
    try:
        state = load_desired(files)
    except ConfigError as exc:
        for issue in exc.issues:
            click.echo(str(issue), err=True)
        count = len(exc.issues)
        click.echo(f"{count} error{'s' if count != 1 else ''}: invalid", err=True)
        raise click.exceptions.Exit(EXIT_ERROR) from None
    names = ", ".join(state.sources) if len(state.sources) <= 3 else f"{len(state.sources)} files"
    senders = len(state.senders)
    click.echo(f"{names}: {senders} sender{'s' if senders != 1 else ''}, {len(state.ignore)} ignored: valid")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the desired-state file, for editors.

    Save it and point your editor at it, e.g. with a first line
    "# yaml-language-server: $schema=./senders.schema.json" in senders.yaml.
    """
    document = {"$schema": JSON_SCHEMA_DIALECT, **senders_file_json_schema()}
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (keep it loopback).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False),
    help="JSON file: loaded at start, saved after every write.",
)
@click.option(
    "--seed", "seed_file", type=click.Path(exists=True, dir_okay=False), help='JSON {"senders": [...]} to start from.'
)
@click.option("--account-sid", envvar="TWILIO_ACCOUNT_SID", help="Accepted account SID [env TWILIO_ACCOUNT_SID].")
@click.option("--auth-token", envvar="TWILIO_AUTH_TOKEN", help="Its auth token [env TWILIO_AUTH_TOKEN].")
@click.option("--api-key", envvar="TWILIO_API_KEY", help="Accepted API key SID [env TWILIO_API_KEY].")
@click.option("--api-secret", envvar="TWILIO_API_SECRET", help="Its secret [env TWILIO_API_SECRET].")
@click.option("--public-url", help="Base of the absolute URLs in responses (default: the bound address).")
@click.option(
    "--transition-delay",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds a status takes to settle.",
)
@click.option(
    "--review-delay",
    type=click.FloatRange(0),
    help="Seconds until a new display name is approved and applied (default: never).",
)
@click.option(
    "--latency", default=0.0, show_default=True, type=click.FloatRange(0), help="Seconds added to every request."
)
@click.option(
    "--rate-429",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of requests refused with 429.",
)
@click.option(
    "--retry-after", type=click.FloatRange(0), help="Send Retry-After with every 429 (default: none, as Twilio)."
)
@click.option(
    "--rate-5xx", default=0.0, show_default=True, type=click.FloatRange(0, 1), help="Share of requests answered 500."
)
@click.option(
    "--rate-drop",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of writes committed, then the connection closed.",
)
@click.option(
    "--slow-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of requests delayed by --slow-seconds.",
)
@click.option(
    "--slow-seconds", default=0.0, show_default=True, type=click.FloatRange(0), help="Delay of a slow request."
)
@click.option("--fault-seed", default=0, show_default=True, type=int, help="Seed of the fault sequence.")
def emulator(**options: Any) -> None:
    """Run a local Senders API emulator until Ctrl-C (see docs/emulator.md).

    Prints the base URL on the first line of stdout.
    """
    from reconciler.emulator.cli import run_emulator

    run_emulator(**options)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``reconciler`` console script and ``python -m reconciler``."""
    # A CI runner cancels a job with SIGTERM: treat it as Ctrl-C, so the tool stops cleanly and says
    # so instead of dying silently (apply installs its own handlers while it writes).
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        try:
            signal.signal(signal.SIGTERM, _terminate)
        except ValueError:  # not the main thread: leave signals alone
            pass
    try:
        code = cli.main(args=argv, prog_name="reconciler", standalone_mode=False)
    except ConfigError as exc:
        for issue in exc.issues:  # one a line, PATH:LINE:COL first, so editors and CI can jump to each
            click.echo(str(issue), err=True)
        click.echo(f"Error: {len(exc.issues)} problem(s) in the desired-state file(s); nothing was read or changed", err=True)
        sys.exit(EXIT_ERROR)
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

target_option = click.option(
    "--target", "targets", multiple=True, metavar="SENDER_ID", help="Limit to this sender id; repeatable."
)
allow_delete_option = click.option(
    "--allow-delete", is_flag=True, help="Allow deleting live senders that are not in the file (irreversible)."
)
force_option = click.option("--force", is_flag=True, help="Proceed even when the plan crosses the safety thresholds.")
concurrency_option = click.option(
    "--concurrency",
    envvar="RECONCILER_CONCURRENCY",
    type=click.IntRange(1, 100),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Writes in flight at once (env RECONCILER_CONCURRENCY).",
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
            "--request-timeout",
            envvar="RECONCILER_REQUEST_TIMEOUT",
            type=click.FloatRange(min=0.1),
            default=DEFAULT_TIMEOUT,
            show_default=True,
            help="Seconds before one request times out (env RECONCILER_REQUEST_TIMEOUT).",
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
            help="Base seconds of the jittered exponential backoff (env RECONCILER_BACKOFF).",
        ),
        click.option("-v", "--verbose", is_flag=True, help="Log each HTTP request on stderr (no credentials)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


class Api:
    """Where and how to reach the API, from the shared options and the environment."""

    def __init__(self, base_url: str, request_timeout: float, max_attempts: int, backoff: float, verbose: bool):
        self.base_url = check_base_url(base_url)
        self.retry = RetryPolicy(attempts=max_attempts, backoff=backoff, timeout=request_timeout)
        self.credentials = Credentials.from_env()
        if verbose:
            logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s", stream=sys.stderr)
            for noisy in ("httpcore", "asyncio"):
                logging.getLogger(noisy).setLevel(logging.WARNING)

    def client(self, concurrency: int = DEFAULT_CONCURRENCY) -> SendersClient:
        return SendersClient(self.credentials, base_url=self.base_url, retry=self.retry, concurrency=concurrency)

    def read(self) -> list[LiveSender]:
        async def go() -> list[LiveSender]:
            async with self.client() as api:
                return await api.list_senders()

        return asyncio.run(go())

    def plan_key(self) -> bytes:
        return signing_key(self.credentials.secret)


def _color(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def _echo_problems(plan: Plan) -> None:
    for problem in plan.problems:
        click.echo(f"Error: sender {problem.sender_id}: {problem.message}", err=True)


def _plan(files, options: dict, *, allow_delete: bool, targets) -> tuple[Api, DesiredState, Plan]:
    try:
        api = Api(**options)
    except ReconcilerError:
        load_desired(files)  # a broken file is the more useful error, and needs no credentials
        raise
    with _long_lived():
        desired, pages = _load_while_reading(files, api)
        live = senders_from_pages(pages)
        del pages
        return api, desired, build_plan(desired, live, allow_delete=allow_delete, targets=targets)


def _load_while_reading(files, api: Api) -> tuple[DesiredState, list[bytes]]:
    """Load the files while the live senders' pages are read: the read waits on the network, the load on the CPU.

    For 10,000 senders, loading takes about 1.5 s of CPU and reading ten pages about a second
    of waiting. The pages stay bytes until the load is done, so the two peaks of memory do not
    add up. A problem in the files is reported as if the read had not started: the read is
    cancelled, not waited for. A failed read is reported once the files are loaded.
    """
    outcome: dict[str, Any] = {}
    started = threading.Event()

    async def read_pages() -> list[bytes]:
        outcome["loop"], outcome["task"] = asyncio.get_running_loop(), asyncio.current_task()
        started.set()
        async with api.client() as client:
            return await client.read_pages()

    def read() -> None:
        try:
            outcome["pages"] = asyncio.run(read_pages())
        except BaseException as exc:  # handed to the main thread below
            outcome["error"] = exc
        finally:
            started.set()

    # The reader needs the GIL briefly and often (a chunk has arrived); at the default 5 ms switch
    # interval it spent longer waiting for the loader to let go than reading.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, 0.001))
    reader = threading.Thread(target=read, name="reconciler-read")
    try:
        reader.start()
        try:
            desired = load_desired(files)
            reader.join()
        except BaseException:  # a ConfigError, or Ctrl-C: stop the read rather than wait for its retries
            started.wait()
            loop, task = outcome.get("loop"), outcome.get("task")
            if loop is not None and task is not None:
                try:
                    loop.call_soon_threadsafe(task.cancel)
                except RuntimeError:  # the read has finished and its loop is closed
                    pass
            reader.join()
            raise
    finally:
        sys.setswitchinterval(interval)
    if "error" in outcome:
        raise outcome["error"]
    return desired, outcome["pages"]


@contextmanager
def _long_lived():
    """Keep the cyclic garbage collector away from what is made inside: it lives until the command ends.

    The desired state, the live senders and the plan are millions of small objects in no cycle. Left
    to the collector, they were walked again at every full collection: a third of the CPU of a plan
    of 10,000 senders. Frozen, later collections (during apply's writes) skip them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


# --------------------------------------------------------------------------- plan


@cli.command()
@files_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="text for people, json for machines, markdown for pull-request comments.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when the plan has any action (gated deletes included).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=str), help="Save the plan for 'reconciler apply FILE'.")
@allow_delete_option
@force_option
@target_option
@api_options
def plan(files, fmt, detailed_exitcode, out, allow_delete, force, targets, **options) -> int:
    """Show what apply would change, changing nothing."""
    api, desired, the_plan = _plan(files, options, allow_delete=allow_delete, targets=targets)
    if fmt == "text":
        click.echo(render_text(the_plan, color=_color(sys.stdout)), nl=False)
    else:
        click.echo(RENDERERS[fmt](the_plan), nl=False)
    unsafe = safety_violations(the_plan, desired.safety)
    if unsafe and not force:
        raise UnsafePlanError("; ".join(unsafe) + "; pass --force to plan and apply it anyway (no plan file was written)")
    for line in unsafe:
        click.echo(f"Warning: {line} (allowed by --force)", err=True)
    if out:
        write_plan(out, dump_plan(the_plan, base_url=api.base_url, key=api.plan_key(), safety=desired.safety,
                                  forced=force, sources=desired.sources))
        click.echo(f"Saved the plan to {out}; apply it with: reconciler apply {out}", err=True)
    if the_plan.problems:
        _echo_problems(the_plan)
        return EXIT_ERROR
    if detailed_exitcode and the_plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


# --------------------------------------------------------------------------- apply


@cli.command()
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=str))
@files_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the plan and each action's outcome as one JSON document on stdout.")
@click.option("--wait", is_flag=True, help="Wait until created and updated senders leave transient statuses.")
@click.option("--timeout", type=click.FloatRange(min=0), default=600, show_default=True, help="Seconds --wait waits at most.")
@allow_delete_option
@force_option
@target_option
@concurrency_option
@api_options
def apply(plan_file, files, auto_approve, fmt, wait, timeout, allow_delete, force, targets, concurrency, **options) -> int:
    """Plan from live state, show the plan, confirm, and apply it.

    With PLAN_FILE (from 'plan --out'), apply exactly that plan, without a prompt, after checking
    that it was not edited and that no sender it touches changed since.
    """
    try:
        if plan_file:
            api = Api(**options)
            given_files = click.get_current_context().get_parameter_source("files") == ParameterSource.COMMANDLINE
            if given_files or targets or allow_delete:
                raise click.UsageError("a saved plan is applied as it is: -f, --target and --allow-delete belong to 'plan'")
            saved = load_plan(plan_file, key=api.plan_key())
            if saved.base_url != api.base_url:
                raise PlanFileError(f"{plan_file}: the plan was made against {saved.base_url}, not {api.base_url}")
            check_fresh(saved, api.read())
            the_plan, safety, forced = saved.plan, saved.safety, saved.forced or force
        else:
            api, desired, the_plan = _plan(files, options, allow_delete=allow_delete, targets=targets)
            safety, forced = desired.safety, force
    except KeyboardInterrupt:
        raise ApplyRefused("interrupted while planning: nothing was changed") from None
    if fmt == "text":
        click.echo(render_text(the_plan, color=_color(sys.stdout)), nl=False)
    the_plan.check_safety(safety, force=forced)
    report, settled, wait_stopped = ApplyReport(), None, False
    if the_plan.allowed_actions:
        if not plan_file:
            _confirm(auto_approve)
        report = asyncio.run(_run_apply(the_plan, api, concurrency))
        if wait and not report.interrupted:
            try:
                settled = _wait(report, api, timeout)
            except KeyboardInterrupt:  # the writes are done: still report them
                wait_stopped = True
                click.echo("\nStopped waiting: the changes below were sent; 'reconciler plan' shows where they stand.",
                           err=True)
    elif fmt == "text":
        click.echo("Nothing to apply.")
    if fmt == "json":
        doc = {"format_version": FORMAT_VERSION, "plan": plan_dict(the_plan), "apply": report_dict(report),
               "wait": None if settled is None else settled_dict(settled)}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        if the_plan.allowed_actions:
            _echo_report(report)
        if settled is not None:
            _echo_settled(settled, timeout)
    _echo_problems(the_plan)
    ok = report.ok and not the_plan.problems and not wait_stopped and (settled is None or not settled.timed_out)
    return EXIT_OK if ok else EXIT_ERROR


def _confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise ApplyRefused("refusing to apply without confirmation: no terminal to ask on; pass --auto-approve")
    answer = click.prompt("Apply these changes? Only 'yes' will be accepted", default="", show_default=False, err=True)
    if answer.strip() != "yes":
        raise ApplyRefused("apply cancelled: nothing was changed")


async def _run_apply(the_plan: Plan, api: Api, concurrency: int) -> ApplyReport:
    stop, abort = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if not stop.is_set():
            stop.set()
            click.echo("\nStopping: no new changes start; waiting for those in flight (signal again to abort them).", err=True)
        else:
            abort.set()

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        loop.add_signal_handler(sig, on_signal)
    total = len(the_plan.allowed_actions)
    try:
        async with api.client(concurrency) as client:
            with _progress(total) as progress:
                return await apply_plan(the_plan, client, concurrency=concurrency, stop=stop, abort=abort,
                                        on_outcome=progress)
    finally:
        for sig, handler in previous.items():
            loop.remove_signal_handler(sig)  # resets to the default action: put back what was there
            signal.signal(sig, handler)


@contextmanager
def _progress(total: int):
    """A progress bar on stderr when it is a terminal and the run is long enough to want one."""
    if total < 10 or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("Applying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("apply", total=total)
        yield lambda _outcome: bar.advance(task)


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


def _wait(report: ApplyReport, api: Api, timeout: float) -> Settled:
    ids = [o.sender_id for o in report.outcomes if o.ok and o.action in ("create", "update")]

    async def go() -> Settled:
        async with api.client() as client:
            return await wait_until_settled(client, ids, timeout=timeout)

    return asyncio.run(go())


def describe_status(sender: LiveSender | None) -> str:
    if sender is None:
        return "not found"
    if sender.status == "PENDING_VERIFICATION":
        return f"PENDING_VERIFICATION: verify it with: reconciler verify {sender.sender_id} --code CODE"
    if sender.status == "OFFLINE":
        return offline_description(sender)
    return str(sender.status)


def _echo_settled(settled: Settled, timeout: float) -> None:
    click.echo("Final statuses:")
    for sender_id, sender in settled.statuses.items():
        click.echo(f"  {sender_id}: {describe_status(sender)}")
    if settled.timed_out:
        click.echo(f"Error: still in transient states after {timeout:g} s: {', '.join(settled.timed_out)}", err=True)


def settled_dict(settled: Settled) -> dict:
    return {
        "timed_out": list(settled.timed_out),
        "senders": [
            {"sender_id": sid, "status": s.status if s else None,
             "offline_reasons": s.offline_reasons if s else None}
            for sid, s in settled.statuses.items()
        ],
    }


# --------------------------------------------------------------------------- drift


@cli.command()
@files_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@target_option
@api_options
def drift(files, fmt, targets, **options) -> int:
    """Read-only drift check for cron jobs: exit 0 in sync, 2 drifted, 1 error.

    Every planned action counts, gated deletes included; a rename waiting for Meta's review does not.
    """
    _, _, the_plan = _plan(files, options, allow_delete=False, targets=targets)
    declined = [n for n in the_plan.notices if n.kind == "rename_failed"]
    drifted = the_plan.has_changes or bool(declined)
    senders = sorted({a.sender_id for a in the_plan.actions} | {n.sender_id for n in declined})
    if fmt == "json":
        doc = {"format_version": FORMAT_VERSION, "drift": drifted, "summary": the_plan.summary(),
               "gated": len(the_plan.gated), "senders": senders, "live_senders": the_plan.live_count,
               "problems": problems_list(the_plan)}
        click.echo(json.dumps(doc, ensure_ascii=False))
    elif drifted:
        line = summary_line(the_plan).replace("Plan:", "Drift:", 1) if the_plan.has_changes else "Drift:"
        if declined:
            line = line.rstrip(".") + f"; {len(declined)} display name(s) refused by Meta."
        click.echo(f"{line} Senders: {', '.join(senders)}")
    else:
        click.echo(f"No drift: live senders match the file ({the_plan.live_count} live senders read).")
    if the_plan.problems:
        _echo_problems(the_plan)
        return EXIT_ERROR
    return EXIT_CHANGES if drifted else EXIT_OK


# --------------------------------------------------------------------------- export


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str), help="Write here instead of stdout.")
@target_option
@api_options
def export(output, targets, **options) -> int:
    """Write the live senders as a senders.yaml, to start managing an existing account."""
    api = Api(**options)
    live = api.read()
    senders, skipped = export_senders(live, targets=targets)
    missing = sorted(set(targets) - {s.sender_id for s in live})
    if missing:
        raise ReconcilerError(f"--target matches no live sender: {', '.join(missing)}")
    header = (f"Exported by reconciler {__version__} from {api.base_url}: {len(senders)} senders.\n"
              "Every field below is managed; remove a field to stop managing it.")
    text = to_yaml(senders, header=header)
    for s in skipped:
        click.echo(f"Warning: sender {s.sender_id}: {s.path} left out, it does not pass validation: {s.reason}", err=True)
    if output:
        write_plan(output, text)
        click.echo(f"Wrote {len(senders)} senders to {output}", err=True)
    else:
        click.echo(text, nl=False)
    return EXIT_OK


# --------------------------------------------------------------------------- verify


@cli.command()
@click.argument("sender_id")
@click.option("--code", envvar="RECONCILER_VERIFICATION_CODE", metavar="CODE",
              help="The one-time code Meta sent (env RECONCILER_VERIFICATION_CODE); asked for when missing.")
@api_options
def verify(sender_id, code, **options) -> int:
    """Submit the verification code (OTP) of a sender in PENDING_VERIFICATION."""
    api = Api(**options)
    current = next((s for s in api.read() if s.sender_id == sender_id), None)
    if current is None:
        raise ReconcilerError(f"sender {sender_id}: not found in the account")
    if current.status != "PENDING_VERIFICATION":
        raise ReconcilerError(f"sender {sender_id}: status is {current.status}, not PENDING_VERIFICATION; nothing to verify")
    if not code:
        if not sys.stdin.isatty():
            raise ReconcilerError("no verification code: pass --code or set RECONCILER_VERIFICATION_CODE")
        code = click.prompt("Verification code", hide_input=True, err=True)

    async def go() -> dict:
        async with api.client() as client:
            try:
                return await client.update(current.sid, {"configuration": {"verification_code": code.strip()}})
            except ApiError as exc:
                raise exc.for_sender(sender_id) from None

    body = asyncio.run(go())
    status = body.get("status") if isinstance(body, dict) else None
    click.echo(f"Submitted the verification code for {sender_id}; status: {status or 'unknown'}.")
    return EXIT_OK


# --------------------------------------------------------------------------- demo


@cli.command()
@click.option("-f", "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=str),
              help="Desired-state file to plan. Default: ./senders.yaml.example, else the copy shipped with reconciler.")
@click.option("--apply", "do_apply", is_flag=True, help="Also apply the plan to the emulator, then plan again.")
def demo(path, do_apply) -> int:
    """Plan the example file against an embedded emulator: no Twilio account needed."""
    from pathlib import Path

    from reconciler.demo import example_path, run_demo

    color = _color(sys.stdout)
    return run_demo(Path(path) if path else example_path(), apply=do_apply, echo=click.echo,
                    render=lambda p: render_text(p, color=color))
