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
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler.emulator.accounts import ACCOUNT_SID
from reconciler.emulator.faults import Faults
from reconciler.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.emulator.server import EmulatorServer

_F = TypeVar("_F", bound=Callable[..., Any])


_ACCOUNT_KEYS = frozenset({"sid", "friendly_name", "auth_token", "status", "senders"})


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def load_seed(path: str) -> dict[str, Any]:
    """Read ``{"senders": [...], "accounts": [{"friendly_name", "senders": [...], ...}]}``, both optional.

    Each sender is a create body plus ``status`` and response-only fields; top-level senders are the
    parent's.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReconcilerError(f"cannot read seed file {path}: {exc}") from None
    if not isinstance(data, dict) or not ("senders" in data or "accounts" in data):
        raise ReconcilerError(f'seed file {path}: expected {{"senders": [ {{...}}, ... ], "accounts": [...]}}')
    if not _objects(data.get("senders", [])) or not _objects(data.get("accounts", [])):
        raise ReconcilerError(f'seed file {path}: "senders" and "accounts" must be lists of objects')
    for i, account in enumerate(data.get("accounts", [])):
        unknown = sorted(set(account) - _ACCOUNT_KEYS)
        if unknown or not _objects(account.get("senders", [])):
            what = f"unknown field {unknown[0]!r}" if unknown else '"senders" must be a list of objects'
            raise ReconcilerError(f"seed file {path}: accounts[{i}]: {what}")
    return data


def _seed_senders(server: EmulatorServer, senders: list[dict[str, Any]], where: str, account: str | None) -> None:
    body_keys = ("sender_id", "configuration", "webhook", "profile", "friendly_name")
    for i, item in enumerate(senders):
        body = {k: v for k, v in item.items() if k in body_keys}
        extra = {k: v for k, v in item.items() if k not in body_keys and k != "status"}
        try:
            server.add_sender(body, item.get("status", "ONLINE"), account=account, **extra)
        except ValueError as exc:
            raise ReconcilerError(f"{where}senders[{i}]: {exc}") from None


def seed_server(server: EmulatorServer, seed: dict[str, Any], source: str = "seed") -> None:
    """Add the seed's accounts and senders. An account that exists already (the same ``sid``, or without
    one the same ``friendly_name``) is not made again; its senders are added to it."""
    _seed_senders(server, seed.get("senders", []), f"{source}: ", None)
    for i, entry in enumerate(seed.get("accounts", [])):
        where = f"{source}: accounts[{i}]: "
        known = [a for a in server.accounts() if a.sid == entry.get("sid")] if "sid" in entry else [
            a for a in server.accounts() if a.friendly_name == entry.get("friendly_name")
        ]  # fmt: skip
        if known:
            account = known[0]
        else:
            fields = {k: entry[k] for k in ("sid", "auth_token", "status") if k in entry}
            try:
                account = server.add_account(entry.get("friendly_name"), **fields)
            except ValueError as exc:
                raise ReconcilerError(f"{where}{exc}") from None
        _seed_senders(server, entry.get("senders", []), where, account.sid)


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
    subaccounts: int,
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
    if account_sid and not ACCOUNT_SID.match(account_sid):
        raise click.UsageError("--account-sid must be 'AC' followed by 32 hex digits")
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
            subaccounts=subaccounts,
        )
    except (OSError, ValueError) as exc:
        raise ReconcilerError(f"cannot load state file {state_file}: {exc}") from None
    if seed_file:
        seed = load_seed(seed_file)  # read even when unused, so a broken seed file is noticed
        if any(server.senders(a.sid) for a in server.accounts()):
            logger.info("emulator: %s already holds senders; --seed is not applied again", state_file)
        else:
            seed_server(server, seed, seed_file)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            base_url = server.start(host=host, port=port)
        except OSError as exc:
            raise ReconcilerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        click.echo(base_url)
        sys.stdout.flush()
        accounts = server.accounts()
        for account in accounts:  # SIDs and names, never a token
            kind = "parent account" if account.sid == server.parent.sid else "subaccount"
            logger.info("emulator: %s %s %s (%s)", kind, account.sid, json.dumps(account.friendly_name), account.status)
        logger.info("emulator: %d sender(s) in %d account(s); Ctrl-C stops",
                    sum(len(server.senders(a.sid)) for a in accounts), len(accounts))
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)
    logger.info("emulator: stopped")


def _share(name: str, help: str) -> Callable[[_F], _F]:
    """A probability option, 0 by default."""
    return click.option(name, default=0.0, show_default=True, type=click.FloatRange(0, 1), help=help)


def _seconds(name: str, help: str) -> Callable[[_F], _F]:
    """A duration option in seconds, 0 by default."""
    return click.option(name, default=0.0, show_default=True, type=click.FloatRange(0), help=help)


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
@click.option(
    "--subaccounts", default=0, show_default=True, type=click.IntRange(0, 1000),
    help='Subaccounts "Subaccount 1" ... to serve too, with derived SIDs and tokens (see docs/emulator.md).',
)
@click.option("--public-url", help="Base of the absolute URLs in responses (default: the bound address).")
@_seconds("--transition-delay", "Seconds a status takes to settle.")
@click.option(
    "--review-delay",
    type=click.FloatRange(0),
    help="Seconds until a new display name is approved and applied (default: never).",
)
@_seconds("--latency", "Seconds added to every request.")
@_share("--rate-429", "Share of requests refused with 429.")
@click.option(
    "--retry-after", type=click.FloatRange(0), help="Send Retry-After with every 429 (default: none, as Twilio)."
)
@_share("--rate-5xx", "Share of requests answered 500.")
@_share("--rate-drop", "Share of writes committed, then the connection closed.")
@_share("--slow-rate", "Share of requests delayed by --slow-seconds.")
@_seconds("--slow-seconds", "Delay of a slow request.")
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
