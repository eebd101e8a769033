"""The composition layer in-process, without click, against the emulator on a loopback port."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from reconciler.client import Credentials
from reconciler.errors import ConfigError, CredentialsError, PlanFileError, ReconcilerError, StalePlanError
from reconciler.session import ApiSettings, Interrupts, Session, json_schema, validate_files
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

A, B = "whatsapp:+15017122661", "whatsapp:+15017122662"


@pytest.fixture
def session(emulator) -> Session:
    return Session(ApiSettings(base_url=emulator.base_url, max_attempts=1),
                   credentials=Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_ACCOUNT_SID), environ={})


def write(tmp_path: Path, *senders: str) -> str:
    path = tmp_path / "senders.yaml"
    lines = ["senders:"] + [f'  - sender_id: "{s}"\n    profile: {{name: "Shop {s[-1]}"}}' for s in senders]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_plan_apply_plan_converges(session, emulator, tmp_path):
    f = write(tmp_path, A, B)
    run = session.plan([f])
    (planned,) = run.accounts
    assert planned.account.sid == TEST_ACCOUNT_SID
    assert [a.action for a in planned.plan.actions] == ["create", "create"]
    (report,) = session.apply(run, concurrency=2)
    assert report.report.ok and report.report.summary()["done"] == 2 and report.account == planned.account
    assert {s["sender_id"] for s in emulator.senders()} == {A, B}
    assert not session.plan([f]).has_changes


def test_a_stop_requested_before_apply_starts_no_write(session, emulator, tmp_path):
    announced = threading.Event()
    interrupts = Interrupts(on_stop=announced.set)
    interrupts.request()
    (only,) = session.apply(session.plan([write(tmp_path, A)]), interrupts=interrupts)
    report = only.report
    assert announced.is_set() and report.interrupted
    assert [o.result for o in report.outcomes] == ["not_started"]
    assert emulator.senders() == []


def test_each_outcome_is_handed_over_as_it_lands(session, tmp_path):
    seen = []
    (only,) = session.apply(session.plan([write(tmp_path, A, B)]), on_outcome=seen.append)
    report = only.report
    assert sorted(o.sender_id for o in seen) == [A, B] == sorted(o.sender_id for o in report.outcomes)


def test_a_broken_file_is_reported_before_missing_credentials(tmp_path):
    f = tmp_path / "senders.yaml"
    f.write_text("senders:\n  - sender_id: whatsapp:+1501712\n")
    with pytest.raises(ConfigError):
        Session(ApiSettings(), environ={}).plan([str(f)])


def test_missing_credentials_are_one_error(tmp_path):
    with pytest.raises(CredentialsError, match="no Twilio credentials"):
        Session(ApiSettings(), environ={}).plan([write(tmp_path, A)])


def test_saved_plan_round_trip_and_staleness(session, emulator, tmp_path):
    f = write(tmp_path, A)
    run = session.plan([f])
    out = tmp_path / "plan.json"
    session.save_plan(out, run)
    assert TEST_AUTH_TOKEN not in out.read_text()
    (loaded,) = session.load_saved_plan(out).accounts
    (planned,) = run.accounts
    assert loaded.plan.actions == planned.plan.actions and loaded.safety == planned.safety
    assert loaded.account.sid == TEST_ACCOUNT_SID
    emulator.add_sender({"sender_id": A, "profile": {"name": "Someone else"}})
    with pytest.raises(StalePlanError, match="planned create, but it exists now"):
        session.load_saved_plan(out)


def test_a_saved_plan_from_another_endpoint_is_refused(session, emulator, tmp_path):
    out = tmp_path / "plan.json"
    session.save_plan(out, session.plan([write(tmp_path, A)]))
    other = Session(ApiSettings(base_url="http://127.0.0.2:9"), credentials=session.credentials, environ={})
    with pytest.raises(PlanFileError, match="was made against"):
        other.load_saved_plan(out)


def test_export_then_plan_is_empty(session, emulator, tmp_path):
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "Costs ${5}"}})
    exported = session.export()
    assert exported.count == 1 and "$${5}" in exported.text
    path = tmp_path / "exported.yaml"
    path.write_text(exported.text)
    assert not session.plan([str(path)]).has_changes


def test_export_of_an_unknown_target_is_an_error(session):
    with pytest.raises(ReconcilerError, match="--target matches no live sender"):
        session.export([A])


def test_verify_submits_the_code_of_a_pending_sender(session, emulator):
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme"}}, status="PENDING_VERIFICATION")
    sender, reached = session.pending_verification(A)
    assert session.verify(sender, " 123456 ", reached) is not None
    with pytest.raises(ReconcilerError, match="not found"):
        session.pending_verification(B)


def test_validate_and_schema_need_no_network(tmp_path):
    ((state),) = validate_files([write(tmp_path, A)], environ={})
    assert [s.sender_id for s in state.senders] == [A] and state.account is None
    document = json_schema()
    assert document["$schema"].startswith("https://json-schema.org/") and json.dumps(document)
