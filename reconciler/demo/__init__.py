"""``reconciler demo``: the whole loop offline, against an embedded emulator.

The emulator is seeded with live senders derived from the example file, changed so that the plan
shows each kind of action: an update, a create, a gated delete, a rename waiting for Meta's review,
and an ignored sender that is never touched. With ``--apply``, the created sender then waits for its
verification code, as a number that is not a Twilio number does.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from reconciler.client import Credentials
from reconciler.config import load_desired
from reconciler.diff import desired_view, nest
from reconciler.emulator import EmulatorServer
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


def run_demo(path: str | Path | None, *, apply: bool, echo: Callable[[str], None], color: bool = False) -> int:
    """Plan (and optionally apply) ``path`` against a fresh emulator; returns the exit code."""
    path = Path(path) if path else example_path()
    desired = load_desired([path])
    # Throwaway credentials, accepted by this emulator only and never shown.
    creds = Credentials("AC" + secrets.token_hex(16), secrets.token_urlsafe(24))
    server = EmulatorServer(account_sid=creds.username, auth_token=creds.secret)
    with server:
        assert server.base_url is not None  # started
        seed(server, desired)
        echo(f"Started a local Senders API emulator at {server.base_url} with {len(server.senders())} sample "
             "live senders (no Twilio account needed; nothing leaves this machine).\n")
        session = Session(ApiSettings(base_url=server.base_url), credentials=creds)
        run = session.plan([path])
        echo(f"$ reconciler plan -f {path}\n")
        echo(render_plans_text(run.plans, color=color))
        if not apply:
            echo("\nTo apply this plan to the emulator and plan again: reconciler demo --apply")
            echo("To run your own pipeline against an emulator: reconciler emulator (see docs/emulator.md)")
            return 0
        reports = session.apply(run, concurrency=4)
        echo(f"\n$ reconciler apply -f {path} --auto-approve")
        echo(render_reports(reports))
        echo(f"$ reconciler plan -f {path}\n")
        echo(render_plans_text(session.plan([path]).plans, color=color))
        return 0 if all(r.report.ok for r in reports) else 1
