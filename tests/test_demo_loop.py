"""``reconciler/demo/loop.py``: the demo's example, its seeded emulator, its customers' files, and its run.

In-process, against a real emulator on 127.0.0.1. Its promises: the seeded live senders make the plan show
each kind of action (an update, a create, a gated delete, a rename in review, an ignored sender left
alone); the customers' files each name their subaccount; ``run_demo`` plans any valid file, shows no
credential, and colours only when asked. The README's ``reconciler demo`` itself is tests/integration/test_demo.py's.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from reconciler.config import load_accounts, load_desired
from reconciler.demo.loop import CUSTOMERS, EXAMPLE_NAME, customer_files, example_path, run_demo, seed, seed_customers
from reconciler.emulator import EmulatorServer
from reconciler.models import LiveSender
from reconciler.plan import build_plan
from tests.factories import REPO_ROOT, write_yaml

EXAMPLE = REPO_ROOT / EXAMPLE_NAME
DELETE_CANDIDATE = "whatsapp:+15017122664"


def test_the_example_is_the_checkout_s_when_there_is_one_else_the_packaged_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    packaged = example_path()
    assert packaged.is_file() and packaged.name == "senders.yaml" and packaged.parent.name == "demo"
    (tmp_path / EXAMPLE_NAME).write_text("senders: []\n")
    assert example_path() == Path(EXAMPLE_NAME)


def test_the_seeded_live_senders_make_the_plan_show_each_kind_of_action() -> None:
    desired = load_desired([EXAMPLE], environ={})
    first, second, *created = [s.sender_id for s in desired.senders]
    with EmulatorServer() as server:
        seed(server, desired)
        live = [LiveSender.model_validate(s) for s in server.senders()]
    plan = build_plan(desired, live)
    kinds = {a.sender_id: (a.action, a.allowed) for a in plan.actions}
    assert kinds == {first: ("update", True), **{c: ("create", True) for c in created},
                     DELETE_CANDIDATE: ("delete", False)}
    update = next(a for a in plan.actions if a.sender_id == first)
    assert {c.path for c in update.changes} == {"profile.about", "webhook.fallback_url"}
    (rename,) = [n for n in plan.notices if n.sender_id == second]
    assert (rename.kind, rename.status) == ("rename_pending", "PENDING_REVIEW")
    ignored = sorted(desired.ignore)
    assert ignored and all(i in {s.sender_id for s in live} for i in ignored)
    assert not {a.sender_id for a in plan.actions} & set(ignored)


def test_each_customer_file_names_its_subaccount_and_the_first_already_has_its_sender(tmp_path: Path) -> None:
    with EmulatorServer() as server:
        accounts = seed_customers(server)
        customer_files(tmp_path, accounts)
        states = load_accounts([tmp_path], environ={})
        assert [a.friendly_name for a in accounts] == [name for name, _, _ in CUSTOMERS]
        assert sorted(s.account for s in states) == sorted(a.sid for a in accounts)
        by_account = {s.account: s for s in states}
        for account, (_, sender_id, name) in zip(accounts, CUSTOMERS, strict=True):
            (wanted,) = by_account[account.sid].senders
            assert (wanted.sender_id, wanted.profile and wanted.profile.name) == (sender_id, name)
        first, second = ([LiveSender.model_validate(s) for s in server.senders(a.sid)] for a in accounts)
        assert [s.sender_id for s in first] == [CUSTOMERS[0][1]] and second == []
        assert server.senders() == []  # the parent's senders are the first part's, not the customers'


def test_run_demo_plans_any_valid_file_and_shows_no_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens: list[str] = []
    real = secrets.token_urlsafe
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n=None: tokens.append(real(n)) or tokens[-1])  # watched only
    own = write_yaml(tmp_path, 'senders:\n  - sender_id: "whatsapp:+15017122661"\n    profile: {name: Acme, about: Hi}\n')
    said: list[str] = []
    assert run_demo(own, apply=False, echo=said.append) == 0
    out = "\n".join(said)
    assert re.search(r"Started a local Senders API emulator at http://127\.0\.0\.1:\d+ with 2 sample live senders", out)
    assert f"$ reconciler plan -f {own}\n" in said
    assert "~ whatsapp:+15017122661 (update" in out and "- whatsapp:+15017122664 (delete" in out
    assert "To apply these plans to the emulator and plan again: reconciler demo --apply" in out
    assert len(tokens) == 1 and tokens[0] not in out  # the emulator's auth token
    assert "\x1b[" not in out


def test_run_demo_colours_only_when_asked(tmp_path: Path) -> None:
    own = write_yaml(tmp_path, 'senders:\n  - sender_id: "whatsapp:+15017122661"\n    profile: {name: Acme}\n')
    said: list[str] = []
    assert run_demo(Path(own), apply=False, echo=said.append, color=True) == 0
    assert "\x1b[33m" in "".join(said)  # the update, in yellow
