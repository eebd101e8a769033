"""The offline commands' work: checking files with no credentials, the JSON Schema, the accounts' CI matrix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler import __version__
from reconciler.errors import AccountError, ConfigError, Location
from reconciler.models import DesiredState
from reconciler.offline import (
    JSON_SCHEMA_DIALECT,
    account_matrix,
    glance,
    json_schema,
    may_declare_services,
    may_name,
    protections,
    sender_places,
    validate_files,
)
from tests.factories import A, B, C, D, desired

SID = "AC" + "1" * 32
OTHER = "AC" + "2" * 32


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_validate_reads_files_with_no_secret_and_takes_the_account_sid_from_the_environment(tmp_path):
    mine = write(tmp_path, "mine.yaml", f"senders:\n  - sender_id: '{A}'\n")
    theirs = write(tmp_path, "theirs.yaml", f"account: {OTHER}\nsenders:\n  - sender_id: '{B}'\n")
    states = validate_files([mine, theirs], environ={"TWILIO_ACCOUNT_SID": SID})
    assert sorted((s.account, [x.sender_id for x in s.senders]) for s in states) == [(SID, [A]), (OTHER, [B])]
    unnamed = validate_files([mine], environ={})
    assert [s.account for s in unnamed] == [None]


def test_validate_reads_the_file_s_variables_from_the_environment_it_is_given(tmp_path):
    path = write(tmp_path, "vars.yaml", f"senders:\n  - sender_id: '{A}'\n    profile: {{about: '${{ABOUT}}'}}\n")
    [state] = validate_files([path], environ={"ABOUT": "Open 9-5"})
    assert state.senders[0].profile is not None and state.senders[0].profile.about == "Open 9-5"


def test_validate_lists_every_problem_of_every_file(tmp_path):
    one = write(tmp_path, "one.yaml", "senders:\n  - sender_id: 'whatsapp:+1 501 712 2661'\n")
    two = write(tmp_path, "two.yaml", "senders:\n  - sender_id: 'whatsapp:+15017122662'\n    profile: {vertical: x}\n")
    with pytest.raises(ConfigError) as caught:
        validate_files([one, two], environ={})
    assert sorted(Path(i.location.path).name for i in caught.value.issues) == ["one.yaml", "two.yaml"]


def test_protections_are_read_from_the_files_of_one_account_as_they_are_now(tmp_path):
    mine = write(tmp_path, "mine.yaml", f"senders: []\nprotect: [{A}]\n")
    theirs = write(tmp_path, "theirs.yaml", f"account: {OTHER}\nprotect:\n  - {B}\n")
    assert protections([mine, theirs], SID, environ={"TWILIO_ACCOUNT_SID": SID}) == {A: f"{mine}:2:11"}
    assert protections([mine, theirs], OTHER, environ={"TWILIO_ACCOUNT_SID": SID}) == {B: f"{theirs}:3:5"}
    with pytest.raises(ConfigError, match="standard input cannot be read a second time"):
        protections(["<stdin>"], SID, environ={})
    with pytest.raises(ConfigError, match="no such file or directory"):
        protections([str(tmp_path / "gone.yaml")], SID, environ={"TWILIO_ACCOUNT_SID": SID})


def test_the_schema_describes_protect_as_a_list_of_sender_ids():
    protect = json_schema()["properties"]["protect"]
    assert protect["type"] == "array" and protect["items"] == {"type": "string", "pattern": r"^whatsapp:\S+$"}
    assert "no plan may delete" in protect["description"]


def test_the_schema_names_its_dialect_and_the_version():
    schema = json_schema()
    assert schema["$schema"] == JSON_SCHEMA_DIALECT == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:whatsapp-senders-reconciler:senders.yaml:{__version__}"
    assert schema["title"] == "whatsapp-senders-reconciler senders.yaml" and "senders" in schema["properties"]


def _state(account: str | None, count: int) -> DesiredState:
    ids = [A, B, C, "whatsapp:+15017122664", "whatsapp:+15017122665"][:count]
    return DesiredState(senders=tuple(desired(i) for i in ids), account=account, sources=(f"{account}.yaml",))


def test_the_matrix_has_a_row_per_account_with_the_options_that_limit_a_run_to_it():
    assert account_matrix([_state(SID, 2), _state(OTHER, 1)]) == [
        {"account": SID, "senders": 2, "files": [f"{SID}.yaml"], "args": f"--account {SID}"},
        {"account": OTHER, "senders": 1, "files": [f"{OTHER}.yaml"], "args": f"--account {OTHER}"},
    ]


@pytest.mark.parametrize("shards", [None, 1, 2])
def test_the_matrix_has_no_row_that_would_run_every_account(shards):
    """A row without --account runs every account: for files of an account whose SID is not known, none is made."""
    with pytest.raises(AccountError, match=r"None\.yaml: no 'account:' and TWILIO_ACCOUNT_SID is not set"):
        account_matrix([_state(SID, 2), _state(None, 1)], shards)
    assert account_matrix([], shards) == []


def test_shards_take_the_largest_accounts_first_each_to_the_lightest_shard():
    third = "AC" + "3" * 32
    rows = account_matrix([_state(SID, 1), _state(OTHER, 5), _state(third, 2)], shards=2)
    assert rows == [
        {"shard": 1, "accounts": [OTHER], "senders": 5, "args": f"--account {OTHER}"},
        {"shard": 2, "accounts": [third, SID], "senders": 3, "args": f"--account {third} --account {SID}"},
    ]
    assert len(account_matrix([_state(SID, 1)], shards=4)) == 1  # never an empty shard
    assert account_matrix([], shards=3) == []  # no row: an empty one would run every account


def test_sender_places_finds_each_senders_entry_across_the_files(tmp_path: Path) -> None:
    """Where an annotation marks a plan's problem: the line of the sender's ``sender_id``, in the file declaring it."""
    one = tmp_path / "one.yaml"
    one.write_text(f'# main\nsenders:\n  - sender_id: "{A}"\n    profile: {{name: A}}\n  -   sender_id: {B}\n')
    two = tmp_path / "two.yaml"
    two.write_text(f"senders: [{{sender_id: '{C}'}}, {{sender_id: '${{NUMBER}}'}}, {{sender_id: [{D}]}}, x]\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("senders: [\n")
    sources = [str(broken), str(one), str(two), str(tmp_path / "gone.yaml")]
    assert sender_places(sources, {A, B, C, D}) == {
        A: Location(str(one), 3, 16), B: Location(str(one), 5, 18), C: Location(str(two), 1, 23)}
    assert sender_places(sources, set()) == {} and sender_places([], {A}) == {}


def test_a_glance_says_whether_files_may_hold_the_default_account_s_senders(tmp_path: Path) -> None:
    parent, sub, other = "AC" + "a" * 32, "AC" + "b" * 32, "AC" + "c" * 32
    customers = tmp_path / "customers"
    customers.mkdir()
    (customers / "b.yaml").write_text(f"account: {sub}\nsenders: []\n")
    (customers / "c.yml").write_text(f"senders: []\naccount: '{other.lower().replace('ac', 'AC', 1)}'  # Customer C\n")
    (customers / ".hidden.yaml").write_text("senders: []\n")  # not read by a load: not glanced at
    (customers / "notes.txt").write_text("senders: []\n")
    assert not may_name([customers], parent)
    assert may_name([customers], other.upper())  # a SID in any case names the account
    (customers / "d.yaml").write_text("senders: []\n")  # no account: the default one's
    assert may_name([customers], parent)
    (customers / "d.yaml").write_text("account: ${CUSTOMER_D}\nsenders: []\n")  # cannot be told without loading
    assert may_name([customers], parent)
    (customers / "d.yaml").write_text(f"senders:\n  - account: {sub}\naccount:\n  {sub}\n")  # not plainly
    assert may_name([customers], parent)
    (customers / "d.yaml").unlink()
    assert not may_name([customers / "b.yaml", customers / "c.yml"], parent)
    assert may_name([customers / "b.yaml", tmp_path / "missing.yaml"], parent)
    assert may_name(["-"], parent) and may_name([], parent)


def test_a_glance_says_whether_files_may_name_a_service_for_the_default_account(tmp_path: Path) -> None:
    parent, sub = "AC" + "a" * 32, "AC" + "b" * 32
    one = tmp_path / "one.yaml"
    one.write_text(f"# messaging_service: Sales (a comment)\nsenders:\n  - sender_id: '{A}'\n"
                   "    profile: {about: 'messaging_service: in a value'}\n")
    assert not may_declare_services([one], parent)
    one.write_text(f"senders:\n  - {{sender_id: '{A}', messaging_service: Sales}}\n")
    assert may_declare_services([one], parent)
    one.write_text(f"account: {sub}\ndefaults:\n  messaging_service: Sales  # the subaccount's\nsenders: []\n")
    assert not may_declare_services([one], parent) and may_declare_services([one], sub)
    assert not may_declare_services([tmp_path / "gone.yaml"], parent) and not may_declare_services([], parent)
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert not may_declare_services([fifo, "-"], parent)  # not opened: a FIFO would block until written


def test_one_glance_answers_both_questions_as_each_does_alone(tmp_path: Path) -> None:
    parent, sub = "AC" + "a" * 32, "AC" + "b" * 32
    (tmp_path / "main.yaml").write_text(f"senders:\n  - sender_id: '{A}'\n    messaging_service: Sales\n")
    (tmp_path / "sub.yaml").write_text(f"account: {sub}\nsenders: []\n")
    for files, sid in (([tmp_path], parent), ([tmp_path / "sub.yaml"], parent), ([tmp_path / "sub.yaml"], sub)):
        assert glance(files, sid) == (may_name(files, sid), may_declare_services(files, sid))
    assert glance([tmp_path], parent) == (True, True) and glance([tmp_path / "sub.yaml"], parent) == (False, False)
