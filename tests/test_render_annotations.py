"""Problems as GitHub Actions annotations (reconciler/render/annotations.py): pure, a problem in, a command out."""

from __future__ import annotations

import pytest

from reconciler.accounts.record import AccountPlan, AccountRef
from reconciler.errors import ApiError, ConfigError, ConfigIssue, Location
from reconciler.models import DesiredState, LiveSender
from reconciler.plan import build_plan
from reconciler.render.annotations import (
    MAX_PER_LEVEL,
    Annotation,
    error_annotations,
    escape_data,
    escape_property,
    plan_annotations,
    wanted_senders,
    workflow_commands,
    workspace_path,
)
from tests.factories import A, B, C, desired, live, state

WS = "/home/runner/work/repo/repo"
AC1, AC2 = "AC" + "1" * 32, "AC" + "2" * 32


def test_data_and_properties_are_escaped_as_github_reads_them() -> None:
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext%3A a%2Cb"
    # "%" first: an escape already in the text is not taken for one.
    assert escape_data("%0A") == "%250A" and escape_property("%3A") == "%253A"


@pytest.mark.parametrize(("path", "cwd", "expected"), [
    ("senders.yaml", WS, "senders.yaml"),
    ("accounts/prod/senders.yaml", WS, "accounts/prod/senders.yaml"),
    ("senders.yaml", f"{WS}/accounts", "accounts/senders.yaml"),
    ("../senders.yaml", f"{WS}/accounts", "senders.yaml"),
    (f"{WS}/a/./b/../senders.yaml", "/tmp", "a/senders.yaml"),
    ("/etc/senders.yaml", WS, "/etc/senders.yaml"),           # outside the workspace: as given
    ("../other/senders.yaml", WS, "../other/senders.yaml"),
    (f"{WS}-2/senders.yaml", WS, f"{WS}-2/senders.yaml"),     # a sibling whose name starts the same
])
def test_paths_are_relative_to_the_workspace_when_under_it(path: str, cwd: str, expected: str) -> None:
    assert workspace_path(path, WS, cwd) == expected
    assert workspace_path(path, "", cwd) == path, "no workspace known: the path as given"


def test_an_annotation_carries_the_file_line_and_column() -> None:
    where = Location("accounts/prod/senders.yaml", 12, 7)
    assert Annotation("error", where, "profile.vertical: 'Spaceships' is not one of …").command(WS, WS) == (
        "::error file=accounts/prod/senders.yaml,line=12,col=7::profile.vertical: 'Spaceships' is not one of …")
    assert Annotation("warning", Location("s.yaml", 3), "x").command(WS, WS) == "::warning file=s.yaml,line=3::x"
    assert Annotation("error", Location("s.yaml"), "x").command(WS, WS) == "::error file=s.yaml::x"


def test_a_hostile_file_name_or_message_cannot_end_the_command_or_start_another() -> None:
    where = Location("a,line=1::x\n::add-mask::y.yaml", 2, 3)
    line = Annotation("error", where, "bad\n::stop-commands::t\r\x1b[2J 50%").command(WS, WS)
    assert line == ("::error file=a%2Cline=1%3A%3Ax%0A%3A%3Aadd-mask%3A%3Ay.yaml,line=2,col=3::"
                    "bad\\n::stop-commands::t\\r\\x1b[2J 50%25")
    assert "\n" not in line and line.count("::") == 4  # the command's own two, and the message's text


def test_every_issue_of_an_invalid_file_is_an_error_at_its_place() -> None:
    error = ConfigError([ConfigIssue(Location("senders.yaml", 2, 16), "senders[0].sender_id: not E.164"),
                         ConfigIssue(Location("senders.yaml", 5, 17), "profile.vertical: no", sender_id=B)])
    assert workflow_commands(error_annotations(error), WS, WS) == [
        "::error file=senders.yaml,line=2,col=16::senders[0].sender_id: not E.164",
        f"::error file=senders.yaml,line=5,col=17::sender {B}: profile.vertical: no",
    ]
    assert error_annotations(ApiError("Authenticate", status=401)) == [] and error_annotations(None) == []


def _account(sid: str, plan_state: DesiredState, current: list[LiveSender], name: str | None = None) -> AccountPlan:
    return AccountPlan(AccountRef(sid, name), build_plan(plan_state, current), sources=("senders.yaml",))


def test_plan_problems_and_notices_are_marked_at_their_senders_entries() -> None:
    plan = _account(AC1, state(desired(A, profile={"about": "no name"}),
                               desired(B, profile={"name": "Beta"}),
                               desired(C, configuration={"waba_id": "222"})),
                    [live(B, profile={"name": "Beta"}, status="OFFLINE"), live(C, configuration={"waba_id": "111"})])
    assert wanted_senders(plan) == {A, B, C}
    places = {(AC1, A): Location("senders.yaml", 2, 16), (AC1, B): Location("senders.yaml", 4, 16)}
    found = plan_annotations([plan], places)
    assert [(a.level, a.location.line) for a in found] == [("error", 2), ("warning", 4)], "C has no place: none"
    assert found[0].message == f"sender {A}: cannot create: profile.name is required by the API to register a sender"
    assert found[1].message.startswith(f"{B}: ")


def test_a_protected_sender_no_file_declares_is_marked_at_its_protection() -> None:
    plan = _account(AC1, state(protect={B: "team a/senders.yaml:9:5", C: "odd place"}), [live(B), live(C)])
    found = plan_annotations([plan], {})
    assert [(a.level, str(a.location)) for a in found] == [("error", "team a/senders.yaml:9:5")], "C: no place to mark"
    assert found[0].message.startswith(f"sender {B}: protected at team a/senders.yaml:9:5")


def test_in_a_run_of_several_accounts_each_annotation_names_its_account() -> None:
    one = _account(AC1, state(desired(A, profile={"about": "x"})), [], "Shop")
    two = _account(AC2, state(desired(A, profile={"about": "x"})), [])
    places = {(AC1, A): Location("shop/senders.yaml", 3, 5), (AC2, A): Location("other/senders.yaml", 7, 5)}
    lines = workflow_commands(plan_annotations([one, two], places), WS, WS)
    assert lines[0].startswith(f"::error file=shop/senders.yaml,line=3,col=5::account {AC1} (Shop): sender {A}: ")
    assert lines[1].startswith(f"::error file=other/senders.yaml,line=7,col=5::account {AC2}: sender {A}: ")


def test_notices_someone_should_act_on_are_warnings_the_others_notices() -> None:
    refused = live(A, profile={"name": "Old"}, pending_display_name="New", pending_display_name_status="DECLINED")
    waiting = live(B, profile={"name": "Beta"}, status="PENDING_VERIFICATION")
    plan = _account(AC1, state(desired(A, profile={"name": "New"}), desired(B, profile={"name": "Beta"})),
                    [refused, waiting])
    places = {(AC1, A): Location("senders.yaml", 2, 16), (AC1, B): Location("senders.yaml", 4, 16)}
    levels = {a.message.split(": ", 1)[0]: a.level for a in plan_annotations([plan], places)}
    assert levels == {A: "warning", B: "notice"}


def test_no_more_annotations_of_a_level_than_github_shows() -> None:
    many = [Annotation("error", Location("s.yaml", n), f"e{n}") for n in range(1, 30)]
    warnings = [Annotation("warning", Location("s.yaml", n), f"w{n}") for n in range(1, 4)]
    lines = workflow_commands([*many, *warnings], WS, WS)
    assert len(lines) == MAX_PER_LEVEL + 3
    assert lines[MAX_PER_LEVEL - 1].endswith("::e10") and lines[-1] == "::warning file=s.yaml,line=3::w3"
