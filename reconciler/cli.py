"""The command line: parse arguments, call the pieces, print, exit.

Every command is a few lines of wiring. Errors of our own (``ReconcilerError``) are caught once, in
:func:`main`, and printed as one line on stderr with exit code 1; a traceback reaching a user is a bug.
"""

from __future__ import annotations

import sys

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError

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
def emulator(
    host: str,
    port: int,
    state_file: str | None,
    seed_file: str | None,
    account_sid: str | None,
    auth_token: str | None,
    api_key: str | None,
    api_secret: str | None,
    public_url: str | None,
    transition_delay: float,
    review_delay: float | None,
    latency: float,
    rate_429: float,
    retry_after: float | None,
    rate_5xx: float,
    rate_drop: float,
    slow_rate: float,
    slow_seconds: float,
    fault_seed: int,
) -> None:
    """Run a local Senders API emulator until Ctrl-C (see docs/emulator.md).

    Prints the base URL on the first line of stdout.
    """
    from reconciler.emulator.cli import run_emulator

    run_emulator(
        host=host,
        port=port,
        state_file=state_file,
        seed_file=seed_file,
        account_sid=account_sid,
        auth_token=auth_token,
        api_key=api_key,
        api_secret=api_secret,
        public_url=public_url,
        transition_delay=transition_delay,
        review_delay=review_delay,
        latency=latency,
        rate_429=rate_429,
        retry_after=retry_after,
        rate_5xx=rate_5xx,
        rate_drop=rate_drop,
        slow_rate=slow_rate,
        slow_seconds=slow_seconds,
        fault_seed=fault_seed,
    )


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
