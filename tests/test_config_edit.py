"""Senders added to a file's text: every byte already there kept, the new entries indented as the file's own."""

from __future__ import annotations

import pytest

from reconciler.config import load_text
from reconciler.config.edit import SendersText
from reconciler.errors import ConfigError, Location
from tests.factories import A, B, C

NEW = ({"sender_id": B, "profile": {"name": "Beta", "emails": ["b@beta.example"]}}, ["not managed: x"])


def added(before: str, *entries: tuple[dict[str, object], list[str]]) -> str:
    """The text with ``entries`` (default: NEW) added; it must load, and declare every sender once."""
    after = SendersText(before, "s.yaml").with_senders(list(entries) or [NEW])
    _, state = load_text(after, "s.yaml", environ={})
    assert len(state.senders) == len({s.sender_id for s in state.senders})
    return after


def test_entries_follow_the_last_sender_in_the_file_s_own_indents() -> None:
    before = (f"senders:\n    # first\n    -   sender_id: {A}\n        profile:\n            name: Acme   # kept\n\n"
              "# what follows\nignore: []\n")
    assert added(before) == (
        f"senders:\n    # first\n    -   sender_id: {A}\n        profile:\n            name: Acme   # kept\n"
        f"    # not managed: x\n    -   sender_id: {B}\n        profile:\n            name: Beta\n"
        "            emails:\n                -   b@beta.example\n"
        "\n# what follows\nignore: []\n")


def test_a_sequence_at_the_key_s_column_stays_so() -> None:
    before = f"senders:\n- sender_id: {A}\n  profile: {{name: Acme}}\n"
    assert added(before, ({"sender_id": B}, [])) == before + f"- sender_id: {B}\n"


def test_a_comment_indented_under_the_last_sender_stays_with_it() -> None:
    before = f"senders:\n  - sender_id: {A}\n    # about A, still\n# about what follows\n"
    assert added(before, ({"sender_id": B}, [])) == (
        f"senders:\n  - sender_id: {A}\n    # about A, still\n  - sender_id: {B}\n# about what follows\n")


def test_no_senders_key_adds_one_at_the_end() -> None:
    assert added(f"ignore: [{C}]", ({"sender_id": B}, [])) == f"ignore: [{C}]\nsenders:\n  - sender_id: {B}\n"


def test_an_empty_flow_list_becomes_a_block_and_its_comment_stays() -> None:
    before = f"senders: [ ]   # none yet\nignore: [{C}]\n"
    assert added(before, ({"sender_id": B}, [])) == f"senders:   # none yet\n  - sender_id: {B}\nignore: [{C}]\n"


def test_line_endings_and_a_missing_last_newline_are_kept() -> None:
    before = f"senders:\r\n  - sender_id: {A}"
    assert added(before, ({"sender_id": B}, [])) == f"senders:\r\n  - sender_id: {A}\r\n  - sender_id: {B}\r\n"


def test_a_line_separator_counts_as_a_line_as_yaml_counts_it() -> None:
    before = f'senders:\n  - sender_id: {A}\n    friendly_name: "a\u2028b"\nignore: []\n'
    assert added(before, ({"sender_id": B}, [])) == (
        f'senders:\n  - sender_id: {A}\n    friendly_name: "a\u2028b"\n  - sender_id: {B}\nignore: []\n')


def test_values_are_written_as_yaml_reads_them_back() -> None:
    tricky = {"sender_id": B, "profile": {"name": "Yes", "about": "#1: 'quoted' & {braces}", "address": "123"}}
    _, state = load_text(added(f"senders:\n  - sender_id: {A}\n", (tricky, [])), "s.yaml", environ={})
    profile = state.by_id()[B].profile
    assert profile is not None and (profile.name, profile.about, profile.address) == ("Yes", tricky["profile"]["about"],
                                                                                      "123")


@pytest.mark.parametrize(("before", "where"), [
    (f"senders: [{{sender_id: '{A}'}}]\n", "s.yaml:1:10: senders: is a flow list"),
    (f"{{senders: [{{sender_id: '{A}'}}]}}\n", "s.yaml:1:1: the file is one flow mapping"),
])
def test_flow_styles_that_cannot_take_a_line_are_refused(before: str, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SendersText(before, "s.yaml").with_senders([NEW])
    assert str(caught.value).startswith(where)


def test_declared_and_ignored_senders_are_located() -> None:
    text = SendersText(f"senders:\n  - sender_id: {A}\n  - {{sender_id: '{B}'}}\nignore:\n  - {C}\n", "s.yaml")
    assert text.declared() == {A: Location("s.yaml", 2, 16), B: Location("s.yaml", 3, 17)}
    assert text.ignored() == {C: Location("s.yaml", 5, 5)}
    assert text.with_senders([]) == text.text
