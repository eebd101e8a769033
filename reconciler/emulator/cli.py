"""``reconciler emulator``: run the emulator in the foreground until SIGINT or SIGTERM.

:data:`emulator_command` is the complete click command (options, help, defaults); the main CLI
registers it with ``cli.add_command(emulator_command)``. Importing this module loads neither
aiohttp nor the server: :func:`run_emulator` imports them when it runs.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.emulator.faults import Faults
from reconciler.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.emulator.server import EmulatorServer


def load_seed(path: str) -> list[dict[str, Any]]:
    """Read ``{"senders": [...]}``; each item is a create body plus ``status`` and response-only fields."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReconcilerError(f"cannot read seed file {path}: {exc}") from None
    senders = data.get("senders") if isinstance(data, dict) else None
    if not isinstance(senders, list) or not all(isinstance(s, dict) for s in senders):
        raise ReconcilerError(f'seed file {path}: expected {{"senders": [ {{...}}, ... ]}}')
    return senders


def seed_server(server: EmulatorServer, senders: list[dict[str, Any]], source: str = "seed") -> None:
    body_keys = ("sender_id", "configuration", "webhook", "profile", "friendly_name")
    for i, item in enumerate(senders):
        body = {k: v for k, v in item.items() if k in body_keys}
        extra = {k: v for k, v in item.items() if k not in body_keys and k != "status"}
        try:
            server.add_sender(body, item.get("status", "ONLINE"), **extra)
        except ValueError as exc:
            raise ReconcilerError(f"{source}: senders[{i}]: {exc}") from None


def run_emulator(
    *,
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
    max_in_flight: int | None,
) -> None:
    from reconciler.emulator.server import EmulatorServer

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("reconciler.emulator")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    if bool(account_sid) != bool(auth_token) and not (api_key and api_secret):
        raise click.UsageError("give both --account-sid and --auth-token, or neither")
    faults = Faults(
        seed=fault_seed,
        latency=latency,
        rate_429=rate_429,
        retry_after=retry_after,
        rate_5xx=rate_5xx,
        rate_drop_after_commit=rate_drop,
        slow_rate=slow_rate,
        slow_seconds=slow_seconds,
        max_in_flight=max_in_flight,
    )
    try:
        server = EmulatorServer(
            account_sid=account_sid,
            auth_token=auth_token,
            api_key=api_key,
            api_secret=api_secret,
            state_file=state_file,
            faults=faults,
            transition_delay=transition_delay,
            review_delay=review_delay,
            public_url=public_url,
        )
    except (OSError, ValueError) as exc:
        raise ReconcilerError(f"cannot load state file {state_file}: {exc}") from None
    if seed_file:
        senders = load_seed(seed_file)  # read even when unused, so a broken seed file is noticed
        if server.senders():
            logger.info("emulator: %s already holds senders; --seed is not applied again", state_file)
        else:
            seed_server(server, senders, seed_file)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            base_url = server.start(host=host, port=port)
        except OSError as exc:
            raise ReconcilerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        click.echo(base_url)
        sys.stdout.flush()
        logger.info("emulator: %d sender(s); Ctrl-C stops", len(server.senders()))
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)
    logger.info("emulator: stopped")


@click.command("emulator")
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
@click.option(
    "--max-in-flight",
    type=click.IntRange(1),
    help="Requests in flight at once past which 429 / 20429 answers, without Retry-After (default: no limit).",
)
def emulator_command(**options: Any) -> None:
    """Run a local Senders API emulator until Ctrl-C (see docs/emulator.md).

    Prints the base URL on the first line of stdout.
    """
    run_emulator(**options)
