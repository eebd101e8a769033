"""Import in-process, through a session on the emulator: checks before any request, the file written once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.client import Credentials
from reconciler.errors import ConfigError
from reconciler.importing import ImportRefused, import_senders
from reconciler.session import ApiSettings, Session
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, A, B, C

CREDS = Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_ACCOUNT_SID)


@pytest.fixture
def session(emulator) -> Session:
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme"}})
    emulator.add_sender({"sender_id": B, "profile": {"name": "Beta", "about": "Hi"}})
    return Session(ApiSettings(base_url=emulator.base_url, max_attempts=1), credentials=CREDS, environ={})


def test_a_sender_is_added_and_the_next_plan_for_it_is_empty(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "senders.yaml"
    path.write_bytes(b"\xef\xbb\xbf# ours\nsenders: []\n")
    imported = import_senders(session, str(path), [B, B], environ={})
    assert imported.sender_ids == (B,) and imported.remaining == () and imported.skipped == ()
    assert path.read_bytes().startswith(b"\xef\xbb\xbf# ours\nsenders:\n  - sender_id: " + B.encode())  # BOM kept
    assert not session.plan([str(path)], targets=[B]).has_changes


def test_what_the_file_refuses_is_refused_before_any_request(tmp_path: Path) -> None:
    nowhere = Session(ApiSettings(base_url="http://127.0.0.1:9", max_attempts=1), credentials=CREDS, environ={})
    path = tmp_path / "senders.yaml"
    path.write_text(f"senders:\n  - sender_id: {A}\nignore: [{B}]\n")
    with pytest.raises(ImportRefused) as caught:
        import_senders(nowhere, str(path), [A, B, "whatsapp:+14155238886"], environ={})
    assert str(caught.value) == (
        f"nothing was imported: sender {A}: already declared at {path}:2:16; sender {B}: listed under ignore at "
        f"{path}:3:10; take it out of ignore: to manage it; sender whatsapp:+14155238886: this is Twilio's shared "
        "WhatsApp sandbox number; it cannot be managed")


def test_an_invalid_file_is_its_located_errors_and_stays_as_it_was(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "senders.yaml"
    path.write_bytes(b"senders:\n  - sender_id: \xff\n")
    with pytest.raises(ConfigError, match=r"senders\.yaml:2:16: the file is not UTF-8"):
        import_senders(session, str(path), [B], environ={})
    path.write_text("senders: {}\n")
    with pytest.raises(ConfigError):
        import_senders(session, str(path), [B], environ={})
    assert path.read_text() == "senders: {}\n"


def test_one_missing_sender_writes_none(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "senders.yaml"
    path.write_text("senders: []\n")
    with pytest.raises(ImportRefused, match=re.escape(f"sender {C}: not a live sender of account {TEST_ACCOUNT_SID}") + "$"):
        import_senders(session, str(path), [A, C], environ={})
    assert path.read_text() == "senders: []\n"
