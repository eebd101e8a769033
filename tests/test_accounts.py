"""Many accounts without a server: files grouped by account, per-account credentials, hosts, renderings, the matrix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.accounts.environment import account_credentials
from reconciler.accounts.record import AccountPlan, AccountRef, AccountReport
from reconciler.apply import ApplyReport, Outcome
from reconciler.auth import twilio_url
from reconciler.client import Credentials
from reconciler.config import load_accounts
from reconciler.errors import ConfigError, CredentialsError
from reconciler.offline import account_matrix
from reconciler.plan import build_plan
from reconciler.render.accounts import (
    plans_dict,
    render_apply_all_json,
    render_drift_all,
    render_drift_all_json,
    render_plans_markdown,
    render_plans_text,
    render_reports,
)
from reconciler.render.text import render_text
from reconciler.session import ApiSettings, Session
from tests.factories import A, B, C, desired, live, state

PARENT = "AC" + "a" * 32
SUB1 = "AC" + "1" * 32
SUB2 = "AC" + "2" * 32


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(name: str, text: str) -> str:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return name


def sender(number: str, name: str = "Shop") -> str:
    return f'  - sender_id: "{number}"\n    profile: {{name: "{name}"}}\n'


# --------------------------------------------------------------------------- files → accounts


def test_files_merge_per_account_in_the_order_accounts_first_appear(here: Path) -> None:
    write("d/0-main.yaml", "senders:\n" + sender(A))
    write("d/1-acme.yaml", f"account: {SUB1}\nsenders:\n" + sender(B) + "safety: {min_senders: 0}\n")
    write("d/2-north.yaml", f"account: {SUB2}\nsenders:\n" + sender(C))
    write("d/3-acme-more.yaml", f"account: {SUB1}\nignore: [\"{A}\"]\nsafety: {{min_senders: 1}}\n")
    with pytest.raises(ConfigError) as caught:  # safety: once per account
        load_accounts(["d"], environ={})
    assert [str(i) for i in caught.value.issues] == [
        "d/1-acme.yaml:5:1: safety: may be set in one file only; set again at d/3-acme-more.yaml:3:1",
        "d/3-acme-more.yaml:3:1: safety: may be set in one file only; already set at d/1-acme.yaml:5:1",
    ]
    write("d/3-acme-more.yaml", f"account: {SUB1}\nignore: [\"{A}\"]\n")
    states = load_accounts(["d"], environ={}, default_account=PARENT)
    assert [(s.account, [x.sender_id for x in s.senders], sorted(s.ignore)) for s in states] == [
        (PARENT, [A], []), (SUB1, [B], [A]), (SUB2, [C], [])]
    assert states[1].sources == ("d/1-acme.yaml", "d/3-acme-more.yaml") and states[1].safety.min_senders == 0


def test_a_file_naming_the_parent_merges_with_the_files_that_name_none(here: Path) -> None:
    write("a.yaml", "senders:\n" + sender(A))
    write("b.yaml", f"account: {PARENT}\nsenders:\n" + sender(B))
    (one,) = load_accounts(["a.yaml", "b.yaml"], environ={}, default_account=PARENT)
    assert one.account == PARENT and [s.sender_id for s in one.senders] == [A, B]
    assert [s.account for s in load_accounts(["a.yaml", "b.yaml"], environ={})] == [None, PARENT]


def test_a_number_under_two_accounts_is_refused_at_both_places(here: Path) -> None:
    write("acme.yaml", f"account: {SUB1}\nsenders:\n" + sender(A))
    write("north.yaml", f"account: {SUB2}\nsenders:\n" + sender(B) + sender(A))
    with pytest.raises(ConfigError) as caught:
        load_accounts(["acme.yaml", "north.yaml"], environ={})
    assert [str(i) for i in caught.value.issues] == [
        f"acme.yaml:3:16: sender {A}: declared under two accounts: also under {SUB2} at north.yaml:5:16; "
        "a number belongs to one account",
        f"north.yaml:5:16: sender {A}: declared under two accounts: also under {SUB1} at acme.yaml:3:16; "
        "a number belongs to one account",
    ]


@pytest.mark.parametrize(("value", "message"), [
    ("AC123", "'AC123' is not an account SID: 'AC' followed by 32 hex digits"),
    ("AC" + "A" * 32, "write the SID's hex digits in lower case, as Twilio shows it: 'AC" + "a" * 32 + "'"),
    ("SK" + "a" * 32, "is not an account SID"),
])
def test_an_account_that_is_not_a_sid_is_refused_with_its_line(here: Path, value: str, message: str) -> None:
    write("s.yaml", f"senders: []\naccount: {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_accounts(["s.yaml"], environ={})
    (issue,) = caught.value.issues
    assert str(issue).startswith("s.yaml:2:10: account: ") and message in str(issue)


# --------------------------------------------------------------------------- credentials and hosts


def test_an_accounts_own_credentials_come_from_variables_named_with_its_sid() -> None:
    key = {f"TWILIO_API_KEY_{SUB1.upper()}": "SKkey", f"TWILIO_API_SECRET_{SUB1}": "keysecret",
           f"TWILIO_AUTH_TOKEN_{SUB1}": "token1", f"TWILIO_AUTH_TOKEN_{SUB2}": "token2"}
    found = account_credentials(SUB1, key)
    assert found is not None
    creds = found.credentials
    assert (creds.username, creds.secret, creds.account_sid, found.variables) == (
        "SKkey", "keysecret", SUB1, (f"TWILIO_API_KEY_{SUB1.upper()}", f"TWILIO_API_SECRET_{SUB1}"))
    assert found.is_key
    assert "keysecret" not in repr(found) and "keysecret" not in str(creds)
    token = account_credentials(SUB2, key)
    assert token is not None and (token.credentials.username, token.credentials.secret) == (SUB2, "token2")
    assert not token.is_key
    assert account_credentials(PARENT, key) is None
    with pytest.raises(CredentialsError, match=f"TWILIO_API_KEY_{SUB1} is set but TWILIO_API_SECRET_{SUB1} is not"):
        account_credentials(SUB1, {f"TWILIO_API_KEY_{SUB1}": "SKkey"})


@pytest.mark.parametrize(("env", "url"), [
    ({}, "https://messaging.twilio.com"),
    ({"TWILIO_REGION": "ie1"}, "https://messaging.ie1.twilio.com"),
    ({"TWILIO_EDGE": "sydney"}, "https://messaging.sydney.us1.twilio.com"),
    ({"TWILIO_EDGE": "dublin", "TWILIO_REGION": "ie1"}, "https://messaging.dublin.ie1.twilio.com"),
])
def test_region_and_edge_make_the_host_as_twilios_sdks_do(env: dict[str, str], url: str) -> None:
    assert twilio_url("messaging", env) == url
    assert twilio_url("api", env) == url.replace("messaging", "api")


def test_the_accounts_resource_is_beside_the_senders_api_on_twilios_hosts_only() -> None:
    creds = Credentials(PARENT, "t", PARENT)
    region = Session(ApiSettings(), credentials=creds, environ={"TWILIO_REGION": "ie1", "TWILIO_EDGE": "dublin"})
    assert (region.base_url, region.api_base_url) == ("https://messaging.dublin.ie1.twilio.com",
                                                      "https://api.dublin.ie1.twilio.com")
    given = Session(ApiSettings(base_url="https://messaging.au1.twilio.com"), credentials=creds, environ={})
    assert given.api_base_url == "https://api.au1.twilio.com"
    local = Session(ApiSettings(base_url="http://127.0.0.1:8080"), credentials=creds, environ={})
    assert local.api_base_url == "http://127.0.0.1:8080"  # the emulator serves both; never Twilio's for a local run
    both = Session(ApiSettings(base_url="http://127.0.0.1:8080", api_base_url="http://127.0.0.1:8081"),
                   credentials=creds, environ={})
    assert both.api_base_url == "http://127.0.0.1:8081"
    refused = Session(ApiSettings(api_base_url="http://api.example.com"), credentials=creds, environ={})
    with pytest.raises(CredentialsError, match="plain http"):  # said by the first step that would use it
        refused.read_live()


def test_a_region_that_is_no_host_label_is_refused() -> None:
    with pytest.raises(CredentialsError, match=r"TWILIO_REGION 'ie1\.evil\.example/' is not a host-name label"):
        twilio_url("messaging", {"TWILIO_REGION": "ie1.evil.example/"})


# --------------------------------------------------------------------------- renderings


def two_accounts() -> list[AccountPlan]:
    acme = build_plan(state(desired(A, profile={"name": "Acme", "about": "new"})), [live(A, profile={"name": "Acme"})])
    north = build_plan(state(desired(B, profile={"name": "North"})), [])
    return [AccountPlan(AccountRef(SUB1, "Acme \x1b[31mBakery"), acme), AccountPlan(AccountRef(SUB2, None), north)]


def test_a_plan_of_one_account_is_headed_by_its_sid_over_the_plan() -> None:
    plan = two_accounts()[0].plan
    assert render_plans_text([AccountPlan(AccountRef(PARENT), plan)]) == f"Account {PARENT}:\n" + render_text(plan)


def test_the_text_plan_is_grouped_by_account_with_totals_and_names_escaped() -> None:
    text = render_plans_text(two_accounts())
    assert text.startswith(f"Account {SUB1} (Acme \\x1b[31mBakery):\n")
    assert f"\nAccount {SUB2}:\n" in text and "\x1b" not in text
    assert text.index(A) < text.index(f"Account {SUB2}") < text.index(B)
    assert text.rstrip().endswith("Plan across 2 accounts: 1 to create, 1 to update, 0 to delete.")


def test_the_json_plan_has_the_totals_and_names_each_items_account() -> None:
    doc = plans_dict(two_accounts())
    assert doc["summary"] == {"create": 1, "update": 1, "delete": 0, "pool": 0} and doc["applyable"] is True
    assert [(a["sender_id"], a["account"]) for a in doc["actions"]] == [(A, SUB1), (B, SUB2)]
    assert [(a["sid"], a["summary"]) for a in doc["accounts"]] == [
        (SUB1, {"create": 0, "update": 1, "delete": 0, "pool": 0}), (SUB2, {"create": 1, "update": 0, "delete": 0, "pool": 0})]
    json.dumps(doc)


def test_the_markdown_plan_has_a_section_per_account_under_the_totals() -> None:
    md = render_plans_markdown(two_accounts())
    assert md.startswith("### reconciler plan\n\n**Plan across 2 accounts: 1 to create, 1 to update, 0 to delete.**")
    assert f"#### Account `{SUB1}`" in md and f"#### Account `{SUB2}`" in md


def test_drift_names_each_account_and_exits_on_any() -> None:
    plans = two_accounts()
    in_sync = AccountPlan(AccountRef(PARENT), build_plan(state(), []))
    text = render_drift_all([in_sync, *plans])
    assert text.splitlines()[0].startswith(f"Account {PARENT}: No drift")
    assert text.splitlines()[-1] == "Drift in 2 of 3 accounts."
    doc = json.loads(render_drift_all_json([in_sync, *plans]))
    assert doc["drift"] is True and [a["drift"] for a in doc["accounts"]] == [False, True, True]
    assert doc["senders"] == [A, B]


def test_apply_reports_per_account_and_in_total() -> None:
    ok = ApplyReport([Outcome("update", A, "done", "updated", sid="XE1", fields=1, confirmed=True)])
    bad = ApplyReport([Outcome("create", B, "failed", "refused")])
    reports = [AccountReport(AccountRef(SUB1, "Acme"), ok), AccountReport(AccountRef(SUB2), bad)]
    text = render_reports(reports)
    assert f"Account {SUB1} (Acme):" in text and text.rstrip().endswith("Across 2 accounts: 1 done, 1 failed; see above.")
    doc = json.loads(render_apply_all_json(two_accounts(), reports, None))
    assert doc["apply"]["ok"] is False and doc["apply"]["summary"]["done"] == 1
    assert [(o["sender_id"], o["account"]) for o in doc["apply"]["outcomes"]] == [(A, SUB1), (B, SUB2)]


# --------------------------------------------------------------------------- the CI matrix


def test_the_matrix_has_a_row_per_account_or_balanced_shards(here: Path) -> None:
    write("main.yaml", "senders:\n" + sender(A))
    write("acme.yaml", f"account: {SUB1}\nsenders:\n" + sender(B) + sender(C))
    write("north.yaml", f"account: {SUB2}\nsenders:\n" + sender("whatsapp:+15017122669"))
    states = load_accounts(["main.yaml", "acme.yaml", "north.yaml"], environ={}, default_account=PARENT)
    rows = account_matrix(states)
    assert [(r["account"], r["senders"], r["args"]) for r in rows] == [
        (PARENT, 1, f"--account {PARENT}"), (SUB1, 2, f"--account {SUB1}"), (SUB2, 1, f"--account {SUB2}")]
    shards = account_matrix(states, 2)
    assert [(s["shard"], s["senders"]) for s in shards] == [(1, 2), (2, 2)]
    assert sorted(a for s in shards for a in s["accounts"]) == sorted([PARENT, SUB1, SUB2])
    assert len(account_matrix(states, 8)) == 3  # never an empty shard
