"""``reconciler/config/loader.py``: files → models, merged per account, every issue at ``file:line:col``.

The cases no other test reaches: what ``-f`` expands to, one account's files against several, the account
of a file that also has problems, ``merge_defaults`` on its own, and the order issues come in. The file
format's rules and messages are tests/test_config.py's; accounts end to end, tests/test_accounts.py's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config.loader import YAML_SUFFIXES, load_accounts, load_desired, load_file, merge_defaults
from reconciler.errors import ConfigError
from reconciler.models import SendersFile

A, B, C = (f"whatsapp:+1501712266{i}" for i in range(1, 4))
SUB1, SUB2 = "AC" + "1" * 32, "AC" + "2" * 32


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(name: str, text: str) -> str:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return name


def sender(number: str, name: str = "Shop") -> str:
    return f'  - sender_id: "{number}"\n    profile: {{name: "{name}"}}\n'


def issues(paths: list[str], **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_accounts(paths, environ={}, **kwargs)  # type: ignore[arg-type]
    return [str(issue) for issue in caught.value.issues]


# --------------------------------------------------------------------------- which files


def test_one_path_may_be_given_as_a_plain_string(here: Path) -> None:
    write("s.yaml", "senders:\n" + sender(A))
    assert [s.sender_id for s in load_desired("s.yaml", environ={}).senders] == [A]  # not read letter by letter


def test_a_directory_gives_its_own_yaml_files_only(here: Path) -> None:
    assert YAML_SUFFIXES == (".yaml", ".yml")
    write("d/a.yaml", "senders:\n" + sender(A))
    write("d/nested/b.yaml", "senders:\n" + sender(B))  # not read: a directory is not searched below its level
    write("d/c.YAML", "not: [read\n")
    write("d/.d.yml", "not: [read\n")
    Path("d/e.yml").mkdir()  # a directory with a YAML name
    state = load_desired(["d"], environ={})
    assert [s.sender_id for s in state.senders] == [A] and state.sources == ("d/a.yaml",)


def test_every_missing_path_is_reported_with_the_problems_of_the_files_that_exist(here: Path) -> None:
    write("bad.yaml", "senders:\n  - sender_id: nope\n")
    Path("empty").mkdir()
    got = issues(["missing.yaml", "bad.yaml", "empty"])
    assert got[:2] == ["missing.yaml: no such file or directory", "empty: the directory holds no *.yaml or *.yml files"]
    assert got[2].startswith("bad.yaml:2:16: senders[0].sender_id: ")


# --------------------------------------------------------------------------- accounts


def test_one_account_s_loader_refuses_files_of_several_accounts_naming_them(here: Path) -> None:
    write("a.yaml", "senders:\n" + sender(A))
    write("b.yaml", f"account: {SUB1}\nsenders:\n" + sender(B))
    with pytest.raises(ConfigError) as caught:
        load_desired(["a.yaml", "b.yaml"], environ={})
    assert [str(i) for i in caught.value.issues] == [
        f"b.yaml: the files name several accounts (the credentials' account, {SUB1})"]


def test_files_without_an_account_belong_to_the_default_one(here: Path) -> None:
    write("a.yaml", "senders:\n" + sender(A))
    write("b.yaml", f"account: {SUB1}\nsenders:\n" + sender(B))
    states = load_accounts(["a.yaml", "b.yaml"], environ={}, default_account=SUB1)
    assert [(s.account, s.sources) for s in states] == [(SUB1, ("a.yaml", "b.yaml"))]


def test_a_file_with_problems_still_counts_for_its_account(here: Path) -> None:
    """The account of a file that fails validation is read from its data, so a number it shares with another
    account is reported too, beside its own problem."""
    write("acme.yaml", f"account: {SUB1}\nsenders:\n" + sender(A) + "    webhook: {callback_url: ftp://x}\n")
    write("north.yaml", f"account: {SUB2}\nsenders:\n" + sender(A))
    got = issues(["acme.yaml", "north.yaml"])
    assert got[0] == (f"acme.yaml:3:16: sender {A}: declared under two accounts: also under {SUB2} at north.yaml:3:16; "
                      "a number belongs to one account")
    assert got[1].startswith(f"acme.yaml:5:29: sender {A}: webhook.callback_url: ")
    assert got[2].startswith(f"north.yaml:3:16: sender {A}: declared under two accounts: also under {SUB1} at ")


def test_ignore_and_safety_are_each_account_s_own(here: Path) -> None:
    write("acme.yaml", f"account: {SUB1}\nsenders:\n" + sender(A) + "safety: {min_senders: 1}\n")
    write("north.yaml", f'account: {SUB2}\nsenders: []\nignore: ["{A}"]\nsafety: {{min_senders: 2}}\n')
    acme, north = load_accounts(["acme.yaml", "north.yaml"], environ={})
    assert (acme.safety.min_senders, acme.ignore) == (1, frozenset())
    assert (north.safety.min_senders, north.ignore, north.senders) == (2, frozenset({A}), ())


# --------------------------------------------------------------------------- issues


def test_issues_come_file_by_file_each_file_s_by_line(here: Path) -> None:
    write("a.yaml", f'senders:\n  - sender_id: "{A}"\n    profile: {{about: 7}}\n  - sender_id: nope\n')
    write("b.yaml", "senders: []\nsafety: {min_senders: x}\n")
    got = issues(["b.yaml", "a.yaml"])
    assert [i.split(":", 2)[:2] for i in got] == [["b.yaml", "2"], ["a.yaml", "3"], ["a.yaml", "4"]]


def test_an_invalid_sender_id_is_reported_once_not_as_a_duplicate_too(here: Path) -> None:
    write("s.yaml", "senders:\n  - sender_id: nope\n  - sender_id: nope\n")
    got = issues(["s.yaml"])
    assert len(got) == 2 and not any("duplicate" in i for i in got)


def test_an_unreadable_path_is_one_issue_not_an_exception(here: Path) -> None:
    Path("dir.yaml").mkdir()
    with pytest.raises(ConfigError) as caught:
        load_file("dir.yaml", environ={})
    (issue,) = caught.value.issues
    assert str(issue).startswith("dir.yaml: a directory, not a regular file")


# --------------------------------------------------------------------------- defaults


def test_merge_defaults_leaves_a_file_without_defaults_as_it_is() -> None:
    model = SendersFile.model_validate({"senders": [{"sender_id": A}], "defaults": {}})
    assert merge_defaults(model) == list(model.senders) and merge_defaults(model)[0] is model.senders[0]


def test_merge_defaults_fills_each_section_a_sender_lacks_and_keeps_what_it_sets() -> None:
    model = SendersFile.model_validate({
        "defaults": {"configuration": {"waba_id": "123"}, "webhook": {"callback_method": "POST"}},
        "senders": [{"sender_id": A, "webhook": {"callback_method": "PUT", "callback_url": "https://h.example/a"}},
                    {"sender_id": B, "profile": {"name": "Beta"}}],
    })
    a, b = merge_defaults(model)
    assert a.managed_fields() == {"configuration.waba_id": "123", "webhook.callback_method": "PUT",
                                  "webhook.callback_url": "https://h.example/a"}
    assert b.managed_fields() == {"configuration.waba_id": "123", "webhook.callback_method": "POST",
                                  "profile.name": "Beta"}
    assert model.senders[1].webhook is None  # the file's own model is not changed
