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


_ACCOUNT_KEYS = frozenset({"sid", "friendly_name", "auth_token", "status", "senders", "services"})
_SERVICE_KEYS = frozenset({"sid", "friendly_name", "senders"})


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def load_seed(path: str) -> dict[str, Any]:
    """Read ``{"senders": [...], "services": [...], "accounts": [{"friendly_name", "senders": [...],
    "services": [...], ...}]}``, each optional.

    Each sender is a create body plus ``status`` and response-only fields; each service
    ``{"friendly_name", "sid", "senders": ["whatsapp:+…" or "XE…", ...]}``; top-level ones are the parent's.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReconcilerError(f"cannot read seed file {path}: {exc}") from None
    if not isinstance(data, dict) or not {"senders", "services", "accounts"} & set(data):
        raise ReconcilerError(
            f'seed file {path}: expected {{"senders": [ {{...}}, ... ], "services": [...], "accounts": [...]}}'
        )
    if not all(_objects(data.get(key, [])) for key in ("senders", "services", "accounts")):
        raise ReconcilerError(f'seed file {path}: "senders", "services" and "accounts" must be lists of objects')
    _check_services(data.get("services", []), f"seed file {path}: ")
    for i, account in enumerate(data.get("accounts", [])):
        unknown = sorted(set(account) - _ACCOUNT_KEYS)
        if unknown or not _objects(account.get("senders", [])) or not _objects(account.get("services", [])):
            what = f"unknown field {unknown[0]!r}" if unknown else '"senders" and "services" must be lists of objects'
            raise ReconcilerError(f"seed file {path}: accounts[{i}]: {what}")
        _check_services(account.get("services", []), f"seed file {path}: accounts[{i}]: ")
    return data


def _check_services(services: list[dict[str, Any]], where: str) -> None:
    for i, service in enumerate(services):
        unknown = sorted(set(service) - _SERVICE_KEYS)
        refs = service.get("senders", [])
        if unknown:
            raise ReconcilerError(f"{where}services[{i}]: unknown field {unknown[0]!r}")
        if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
            raise ReconcilerError(f'{where}services[{i}]: "senders" must be a list of sender ids or SIDs')


def _seed_senders(server: EmulatorServer, senders: list[dict[str, Any]], where: str, account: str | None) -> None:
    body_keys = ("sender_id", "configuration", "webhook", "profile", "friendly_name")
    for i, item in enumerate(senders):
        body = {k: v for k, v in item.items() if k in body_keys}
        extra = {k: v for k, v in item.items() if k not in body_keys and k != "status"}
        try:
            server.add_sender(body, item.get("status", "ONLINE"), account=account, **extra)
        except ValueError as exc:
            raise ReconcilerError(f"{where}senders[{i}]: {exc}") from None


def _seed_services(server: EmulatorServer, services: list[dict[str, Any]], where: str, account: str | None) -> None:
    """Add each service (one of that ``sid``, or without one of that name, is not made again) and put the
    senders it names in its pool; a sender may be named by two services (the API alone refuses that)."""
    for i, entry in enumerate(services):
        at = f"{where}services[{i}]: "
        sid, name = entry.get("sid"), entry.get("friendly_name", "")
        existing = [s for s in server.services(account) if (s["sid"] == sid if sid else s["friendly_name"] == name)]
        try:
            service = existing[0] if existing else server.add_service(name, account=account, sid=sid)
        except ValueError as exc:
            raise ReconcilerError(f"{at}{exc}") from None
        senders = server.senders(account)
        for j, ref in enumerate(entry.get("senders", [])):
            sender = next((s["sid"] for s in senders if ref in (s["sid"], s["sender_id"])), None)
            if sender is None:
                raise ReconcilerError(f"{at}senders[{j}]: no sender {json.dumps(ref)} in this account")
            if service["sid"] not in server.services_of(sender):
                server.add_to_service(service["sid"], sender, exclusive=False)


def seed_server(server: EmulatorServer, seed: dict[str, Any], source: str = "seed") -> None:
    """Add the seed's accounts, senders and services. An account that exists already (the same ``sid``, or
    without one the same ``friendly_name``) is not made again; its senders and services are added to it."""
    _seed_senders(server, seed.get("senders", []), f"{source}: ", None)
    _seed_services(server, seed.get("services", []), f"{source}: ", None)
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
        _seed_services(server, entry.get("services", []), where, account.sid)


def create_services(server: EmulatorServer, names: tuple[str, ...], named_in: tuple[tuple[str, str], ...]) -> None:
    """``--service NAME`` (the parent's) and ``--service-in ACCOUNT NAME`` (ACCOUNT: a SID or an account's
    friendly name): each made unless that account has a service of that name already."""
    wanted: list[tuple[str | None, str, str]] = [(None, name, f"--service {json.dumps(name)}") for name in names]
    for account, name in named_in:
        found = [a.sid for a in server.accounts() if account in (a.sid, a.friendly_name)]
        if not found:
            raise ReconcilerError(f"--service-in {json.dumps(account)}: no such account (give its SID or its friendly name)")
        wanted.append((found[0], name, f"--service-in {json.dumps(account)} {json.dumps(name)}"))
    for sid, name, option in wanted:
        if all(s["friendly_name"] != name for s in server.services(sid)):
            try:
                server.add_service(name, account=sid)
            except ValueError as exc:
                raise ReconcilerError(f"{option}: {exc}") from None


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
    services: tuple[str, ...],
    services_in: tuple[tuple[str, str], ...],
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
        if any(server.senders(a.sid) or server.services(a.sid) for a in server.accounts()):
            logger.info("emulator: %s already holds senders or services; --seed is not applied again", state_file)
        else:
            seed_server(server, seed, seed_file)
    create_services(server, services, services_in)
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
        logger.info("emulator: %d sender(s) and %d Messaging Service(s) in %d account(s); Ctrl-C stops",
                    sum(len(server.senders(a.sid)) for a in accounts),
                    sum(len(server.services(a.sid)) for a in accounts), len(accounts))
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
@click.option(
    "--service", "services", multiple=True, metavar="NAME",
    help="A Messaging Service of the parent to serve (repeatable; made unless one of that name exists).",
)
@click.option(
    "--service-in", "services_in", multiple=True, nargs=2, metavar="ACCOUNT NAME",
    help="A Messaging Service of ACCOUNT (its SID or friendly name, e.g. 'Subaccount 1'); repeatable.",
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
