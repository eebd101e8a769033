"""Where a value stands in a file, looked up after loading; where each sender's ``messaging_service`` is written."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.config import load_desired
from reconciler.config.places import locate
from reconciler.errors import ConfigError, Location

A, B, C = (f"whatsapp:+1501712266{i}" for i in range(1, 4))
SALES = "MG" + "a" * 32

FILE = f"""\
defaults:
  messaging_service: Sales
senders:
  - sender_id: {A}
  - sender_id: {B}
    messaging_service: null
  - sender_id: {C}
    messaging_service: {SALES}
"""


def _write(tmp_path: Path, text: str, name: str = "senders.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_locate_gives_the_line_and_column_of_a_value(tmp_path: Path) -> None:
    path = _write(tmp_path, FILE)
    assert locate(path, ("defaults", "messaging_service")) == Location(path, 2, 22)
    assert locate(path, ("senders", 2, "messaging_service")) == Location(path, 8, 24)


def test_a_place_the_file_no_longer_holds_is_its_nearest_ancestor(tmp_path: Path) -> None:
    path = _write(tmp_path, FILE)
    assert locate(path, ("senders", 0, "messaging_service")) == Location(path, 4, 5)


def test_a_file_that_cannot_be_read_again_is_named_alone(tmp_path: Path) -> None:
    assert locate(str(tmp_path / "gone.yaml"), ("senders", 0)) == Location(str(tmp_path / "gone.yaml"))


def test_a_file_the_fast_parser_refuses_is_located_by_the_other(tmp_path: Path) -> None:
    path = _write(tmp_path, "ignore: [whatsapp:+15550001]\nsenders:\n  - {sender_id: 'whatsapp:+15017122661'}\n")
    assert locate(path, ("senders", 0, "sender_id")) == Location(path, 3, 17)


def test_defaults_name_the_service_of_the_senders_that_do_not(tmp_path: Path) -> None:
    state = load_desired([_write(tmp_path, FILE)])
    services = {s.sender_id: (s.manages_service, s.messaging_service) for s in state.senders}
    assert services == {A: (True, "Sales"), B: (True, None), C: (True, SALES)}
    assert state.declares_services


def test_each_named_service_is_traced_to_where_it_is_written(tmp_path: Path) -> None:
    path = _write(tmp_path, FILE)
    declared = load_desired([path]).service_declarations
    assert declared == {A: (path, ("defaults", "messaging_service")), C: (path, ("senders", 2, "messaging_service"))}


def test_a_file_without_services_declares_none(tmp_path: Path) -> None:
    state = load_desired([_write(tmp_path, f"senders:\n  - sender_id: {A}\n")])
    assert not state.declares_services and state.service_declarations == {}


def test_a_wrong_service_is_an_error_at_its_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, f"senders:\n  - sender_id: {A}\n    messaging_service: MG{'a' * 30}\n")
    with pytest.raises(ConfigError) as caught:
        load_desired(["senders.yaml"])
    assert str(caught.value) == (f"senders.yaml:3:24: sender {A}: messaging_service: 'MG{'a' * 30}' "
                                 "looks like a Messaging Service SID but has 30 hex digits, not 32")
