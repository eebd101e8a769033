"""``reconciler demo``: the whole loop offline, against an embedded emulator.

The emulator is seeded with live senders derived from the example file, changed so that the plan
shows each kind of action: an update, a create, a gated delete, a rename waiting for Meta's review,
and an ignored sender that is never touched. With ``--apply``, the created sender then waits for its
verification code, as a number that is not a Twilio number does.

Then two customers, each in its own subaccount of the same parent, as an ISV keeps them: one file
per customer names its ``account:``, and one plan covers both, grouped by account. Each customer's
sender joins the sender pool of its Messaging Service, "Appointments" (``messaging_service:``).
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from reconciler.client import Credentials
from reconciler.config import load_desired
from reconciler.diff import desired_view, nest
from reconciler.emulator import EmulatorAccount, EmulatorServer
from reconciler.models import DesiredState
from reconciler.render.accounts import render_plans_text, render_reports
from reconciler.session import ApiSettings, Session

EXAMPLE_NAME = "senders.yaml.example"


def example_path() -> Path:
    """``senders.yaml.example`` in the current directory (a checkout), else the copy shipped in the package."""
    here = Path(EXAMPLE_NAME)
    if here.is_file():
        return here
    return Path(str(resources.files("reconciler.demo").joinpath("senders.yaml")))


def seed(server: EmulatorServer, desired: DesiredState) -> None:
    """Live senders that differ from ``desired`` in the ways worth showing."""
    wanted = list(desired.senders)
    for index, sender in enumerate(wanted):
        body: dict[str, Any] = {"sender_id": sender.sender_id, **nest(desired_view(sender))}
        if index == 0:  # an update: the about text and the fallback URL drifted
            body["profile"]["about"] = "Fresh bread daily."
            body.setdefault("webhook", {})["fallback_url"] = "https://old-fallback.example.com/whatsapp"
            server.add_sender(body)
        elif index == 1:  # a rename in Meta's review: shown, nothing sent
            new_name = body["profile"]["name"]
            body["profile"]["name"] = "Northside Bikes"
            server.add_sender(body, pending_display_name=new_name, pending_display_name_status="PENDING_REVIEW",
                              pending_display_name_status_date="2026-11-20T09:30:00Z")
        # the others do not exist yet: creates
    server.add_sender({"sender_id": "whatsapp:+15017122664", "profile": {"name": "Spring Promo 2025"}})  # gated delete
    for ignored in sorted(desired.ignore):
        server.add_sender({"sender_id": ignored, "profile": {"name": "Managed elsewhere"}})


#: The Messaging Service each customer's sender joins.
SERVICE = "Appointments"
CUSTOMERS = (("Rosewood Bakery Ltd", "whatsapp:+15017122671", "Rosewood Bakery"),
             ("Maple Dental Group", "whatsapp:+15017122672", "Maple Dental Care"))


def customer_files(directory: Path, accounts: list[EmulatorAccount]) -> None:
    """One file per customer, each naming its subaccount."""
    for account, (_, sender_id, name) in zip(accounts, CUSTOMERS, strict=True):
        slug = name.split()[0].lower()
        (directory / f"{slug}.yaml").write_text(
            f"# {account.friendly_name}\naccount: {account.sid}\nsenders:\n  - sender_id: \"{sender_id}\"\n"
            f"    profile:\n      name: {name}\n      about: Book online, or message us here.\n"
            f"    messaging_service: {SERVICE}\n", encoding="utf-8")


def seed_customers(server: EmulatorServer) -> list[EmulatorAccount]:
    """Two subaccounts, each with its Messaging Service: the first has its sender already, with an older about
    text and in no service's pool; the second has none yet."""
    accounts = [server.add_account(customer) for customer, _, _ in CUSTOMERS]
    for account in accounts:
        server.add_service(SERVICE, account=account.sid)
    _, sender_id, name = CUSTOMERS[0]
    server.add_sender({"sender_id": sender_id, "profile": {"name": name, "about": "Bread."}}, account=accounts[0].sid)
    return accounts


def run_demo(path: str | Path | None, *, apply: bool, echo: Callable[[str], None], color: bool = False) -> int:
    """Plan (and optionally apply) ``path`` against a fresh emulator; returns the exit code."""
    path = Path(path) if path else example_path()
    desired = load_desired([path])
    # Throwaway credentials, accepted by this emulator only and never shown.
    sid = "AC" + secrets.token_hex(16)
    creds = Credentials(sid, secrets.token_urlsafe(24), sid)
    server = EmulatorServer(account_sid=creds.username, auth_token=creds.secret)
    with server:
        assert server.base_url is not None  # started
        seed(server, desired)
        echo(f"Started a local Senders API emulator at {server.base_url} with {len(server.senders())} sample "
             "live senders (no Twilio account needed; nothing leaves this machine).\n")
        session = Session(ApiSettings(base_url=server.base_url, api_base_url=server.base_url), credentials=creds)
        run = session.plan([path])
        echo(f"$ reconciler plan -f {path}\n")
        echo(render_plans_text(run.plans, color=color))
        customers = seed_customers(server)
        with tempfile.TemporaryDirectory(prefix="reconciler-demo-") as tmp:
            folder = Path(tmp) / "customers"
            folder.mkdir()
            customer_files(folder, customers)
            echo("\nTwo customers, each in a subaccount of this account: one file per customer names its 'account:'.")
            echo("$ reconciler plan -f customers/\n")
            both = session.plan([folder])
            echo(render_plans_text(both.plans, color=color))
            if not apply:
                echo("\nTo apply these plans to the emulator and plan again: reconciler demo --apply")
                echo("To run your own pipeline against an emulator: reconciler emulator (see docs/emulator.md)")
                echo("Many customers in one repository: docs/accounts.md")
                return 0
            reports = session.apply(run, concurrency=4) + session.apply(both, concurrency=4)
            echo(f"\n$ reconciler apply -f {path} --auto-approve && reconciler apply -f customers/ --auto-approve")
            echo(render_reports(reports))
            echo(f"$ reconciler plan -f {path} -f customers/\n")
            echo(render_plans_text(session.plan([path, folder]).plans, color=color))
        return 0 if all(r.report.ok for r in reports) else 1
