"""reconciler.planfile: saved plans are signed, verified, bound to their key and checked for freshness."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.accounts.record import AccountPlan, AccountRef
from reconciler.errors import ConfigError, ConfigIssue, Location, PlanFileError, StalePlanError
from reconciler.models import LivePools, Safety, Service
from reconciler.plan import Plan, build_plan
from reconciler.planfile import SavedPlan, check_fresh, check_protected, dump_plan, load_plan, signing_key
from tests.factories import TEST_API_SECRET, TEST_AUTH_TOKEN, A, B, C, D, desired, live, state

BASE_URL = "http://127.0.0.1:8080"
ACCOUNT = "AC" + "1" * 32
SUB = "AC" + "2" * 32
KEY = signing_key(TEST_AUTH_TOKEN, environ={})
LIVE = [
    live(A, profile={"name": "Acme", "about": "old"}),
    live(C, profile={"name": "Gone"}),
    live(D, profile={"name": "Waiting"}, status="PENDING_VERIFICATION"),
]


def sample_plan() -> Plan:
    """An update, a create, an allowed delete, a notice (D awaits verification) and a problem."""
    wanted = state(
        desired(A, profile={"name": "Acme", "about": "new"}),
        desired(B, profile={"name": "Beta", "emails": ["b@beta.example"]}),
        desired(D, profile={"name": "Waiting"}),
        desired("whatsapp:+15017122669", profile={"about": "a create without a name"}),
    )
    return build_plan(wanted, LIVE, allow_delete=True)


def saved(tmp_path: Path, plan: Plan | None = None, key: bytes = KEY) -> Path:
    path = tmp_path / "plan.json"
    entry = AccountPlan(AccountRef(ACCOUNT, "Main"), plan or sample_plan(), Safety(max_delete_percent=50),
                        sources=("senders.yaml",))
    path.write_text(dump_plan([entry], base_url=BASE_URL, key=key, forced=True))
    return path


def edit(path: Path, change: Any) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def test_a_saved_plan_loads_back_as_the_same_plan(tmp_path: Path) -> None:
    plan = sample_plan()
    assert {a.action for a in plan.actions} == {"create", "update", "delete"} and plan.notices and plan.problems
    loaded = load_plan(saved(tmp_path, plan), key=KEY)
    (entry,) = loaded.accounts
    assert entry.plan == plan
    assert [a.body for a in entry.plan.actions] == [a.body for a in plan.actions]  # the exact bodies to send
    assert (loaded.base_url, loaded.forced, entry.safety) == (BASE_URL, True, Safety(max_delete_percent=50))
    assert (entry.account.sid, entry.account.friendly_name, entry.sources) == (ACCOUNT, "Main", ("senders.yaml",))
    assert loaded.path == str(tmp_path / "plan.json") and loaded.created_at.endswith("Z")


def test_each_account_is_saved_with_its_own_plan_and_sid(tmp_path: Path) -> None:
    other = build_plan(state(desired(C, profile={"name": "Sub"})), [])
    path = tmp_path / "plan.json"
    path.write_text(dump_plan([AccountPlan(AccountRef(ACCOUNT), sample_plan(), Safety()),
                               AccountPlan(AccountRef(SUB, "Customer"), other, Safety(min_senders=0))], base_url=BASE_URL,
                              key=KEY, forced=False))
    loaded = load_plan(path, key=KEY)
    assert [(a.account.sid, a.plan) for a in loaded.accounts] == [(ACCOUNT, sample_plan()), (SUB, other)]
    edit(path, lambda doc: doc["accounts"][1].update(sid=ACCOUNT))  # moved to another account: signature breaks
    with pytest.raises(PlanFileError, match="signature does not match"):
        load_plan(path, key=KEY)


def test_an_entry_without_an_account_sid_is_refused(tmp_path: Path) -> None:
    path = saved(tmp_path)
    edit(path, lambda doc: doc["accounts"][0].update(sid=None))
    with pytest.raises(PlanFileError, match=r"the saved plan is incomplete .*not an account SID"):
        load_plan(path, key=None)


def test_the_file_is_signed_and_holds_no_secret(tmp_path: Path) -> None:
    text = saved(tmp_path).read_text()
    assert json.loads(text)["signature"].startswith("hmac-sha256:")
    assert TEST_AUTH_TOKEN not in text and KEY.hex() not in text


@pytest.mark.parametrize(
    "change",
    [
        lambda doc: doc["accounts"][0]["actions"][0]["body"]["profile"].update(about="Evil"),
        lambda doc: doc["accounts"][0]["actions"].pop(),
        lambda doc: doc.update(base_url="https://elsewhere.example"),
        lambda doc: doc.update(forced=False),
        # One hex digit changed (to another digit, whatever it was).
        lambda doc: doc.update(signature=doc["signature"][:-1] + ("1" if doc["signature"][-1] == "0" else "0")),
        lambda doc: doc.pop("signature"),
    ],
    ids=["body", "action-removed", "base-url", "forced", "signature", "no-signature"],
)
def test_an_edited_file_is_refused(tmp_path: Path, change: Any) -> None:
    path = saved(tmp_path)
    edit(path, change)
    with pytest.raises(PlanFileError, match="signature does not match: it was edited after it was written"):
        load_plan(path, key=KEY)


def test_a_file_signed_with_another_key_is_refused(tmp_path: Path) -> None:
    path = saved(tmp_path, key=signing_key(TEST_API_SECRET, environ={}))
    with pytest.raises(PlanFileError, match="written with other credentials") as caught:
        load_plan(path, key=KEY)
    assert "RECONCILER_PLAN_KEY" in str(caught.value)


def test_the_key_comes_from_the_plan_key_variable_or_one_way_from_the_secret() -> None:
    assert signing_key(TEST_AUTH_TOKEN, environ={}) == KEY
    assert signing_key(TEST_API_SECRET, environ={}) != KEY
    assert TEST_AUTH_TOKEN.encode() not in KEY and len(KEY) == 32
    shared = {"RECONCILER_PLAN_KEY": "team-key"}
    assert signing_key(TEST_AUTH_TOKEN, environ=shared) == signing_key(TEST_API_SECRET, environ=shared) != KEY
    assert signing_key(TEST_AUTH_TOKEN, environ={"RECONCILER_PLAN_KEY": ""}) == KEY  # empty: not set


def test_a_plan_is_fresh_while_its_senders_are_unchanged(tmp_path: Path) -> None:
    loaded = load_plan(saved(tmp_path), key=KEY)
    entry = loaded.accounts[0]
    check_fresh(loaded, entry, LIVE)
    # A status is no change of the sender: Twilio moves statuses by itself.
    check_fresh(loaded, entry, [LIVE[0], LIVE[1], live(D, profile={"name": "Waiting"}, status="ONLINE")])
    # A sender the plan does not touch may come and go.
    check_fresh(loaded, entry, [*LIVE, live("whatsapp:+15017122668")])


def test_a_stale_plan_is_refused_naming_each_sender_and_why(tmp_path: Path) -> None:
    loaded: SavedPlan = load_plan(saved(tmp_path), key=KEY)
    now = [live(A, profile={"name": "Acme", "about": "changed by hand"}), live(B), LIVE[2]]
    with pytest.raises(StalePlanError) as caught:
        check_fresh(loaded, loaded.accounts[0], now)
    message = str(caught.value)
    assert message.startswith(f"the saved plan {loaded.path} is stale; nothing was changed.")
    assert f"{A} (changed since the plan)" in message
    assert f"{B} (planned create, but it exists now)" in message
    assert f"{C} (deleted since the plan)" in message
    assert D not in message and message.endswith("Run plan again.")


def test_an_unknown_format_version_is_refused(tmp_path: Path) -> None:
    path = saved(tmp_path)
    edit(path, lambda doc: doc.update(format_version="99"))
    with pytest.raises(PlanFileError, match=r"plan format '99' is not supported \(this is 3\)"):
        load_plan(path, key=KEY)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a saved plan (JSONDecodeError"),
        (b"\xff\xfe\x00", "not a saved plan (UnicodeDecodeError"),
        ('{"kind": "something-else"}', "not a reconciler saved plan"),
        ("[1, 2]", "not a reconciler saved plan"),
    ],
    ids=["not-json", "not-utf8", "other-kind", "not-an-object"],
)
def test_a_file_that_is_not_a_saved_plan_is_one_clear_error(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "plan.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(PlanFileError) as caught:
        load_plan(path, key=KEY)
    assert str(caught.value).startswith(f"{path}: {message}") and "\n" not in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match=r"plan\.json: no such plan file$"):
        load_plan(tmp_path / "plan.json", key=KEY)


def test_a_plan_read_from_stdin_is_named_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = saved(tmp_path).read_text()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    loaded = load_plan("-", key=KEY)
    assert loaded.path == "<stdin>" and loaded.accounts[0].plan == sample_plan()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(PlanFileError, match=r"^<stdin>: standard input is empty; pipe a saved plan into it"):
        load_plan("-", key=KEY)


def test_only_the_string_dash_is_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    saved(tmp_path).rename(tmp_path / "-")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"")))
    assert load_plan(Path("-"), key=KEY).path == "-" and load_plan("./-", key=KEY).path == "./-"


def test_a_plan_that_deletes_a_sender_protected_now_is_refused(tmp_path: Path) -> None:
    loaded = load_plan(saved(tmp_path), key=KEY)  # the sample plan deletes C
    entry = loaded.accounts[0]
    check_protected(loaded, entry, lambda: {A: "senders.yaml:9:5"})  # A is updated, not deleted: no matter
    with pytest.raises(StalePlanError) as caught:
        check_protected(loaded, entry, lambda: {C: "senders.yaml:12:5"})
    assert str(caught.value) == (f"the saved plan {loaded.path} deletes senders the files protect now; nothing was "
                                 f"changed: {C} (protected at senders.yaml:12:5). Run plan again.")


def test_the_protections_are_read_only_for_a_plan_that_deletes(tmp_path: Path) -> None:
    loaded = load_plan(saved(tmp_path, build_plan(state(desired(A, profile={"name": "Acme"})), LIVE)), key=KEY)
    assert not any(a.action == "delete" for a in loaded.accounts[0].plan.allowed_actions)

    def unreadable() -> dict[str, str]:
        raise AssertionError("read although nothing is deleted")

    check_protected(loaded, loaded.accounts[0], unreadable)


def test_a_plan_that_deletes_is_refused_when_its_files_cannot_be_read(tmp_path: Path) -> None:
    loaded = load_plan(saved(tmp_path), key=KEY)

    def gone() -> dict[str, str]:
        raise ConfigError(ConfigIssue(Location("senders.yaml"), "no such file or directory"))

    with pytest.raises(PlanFileError) as caught:
        check_protected(loaded, loaded.accounts[0], gone)
    assert str(caught.value) == (f"{loaded.path}: the plan deletes senders, and the files it was made from "
                                 "(senders.yaml) cannot be read to check that none is protected now: senders.yaml: no "
                                 "such file or directory; nothing was changed")


def test_a_plan_that_moves_a_sender_goes_stale_when_its_pools_change(tmp_path: Path) -> None:
    sales, support = "MG" + "a" * 32, "MG" + "b" * 32
    services = (Service(sales, "Sales"), Service(support, "Support"))
    before = LivePools.of(services, {support: [LIVE[0].sid]})
    plan = build_plan(state(desired(A, profile={"name": "Acme", "about": "new"}, messaging_service="Sales"),
                            desired(B, profile={"name": "Beta"}, messaging_service="Sales")), LIVE[:1], pools=before)
    loaded = load_plan(saved(tmp_path, plan), key=KEY)
    entry = loaded.accounts[0]
    assert [a.action for a in entry.plan.actions] == ["update", "pool", "create", "pool"]
    check_fresh(loaded, entry, LIVE[:1], before)
    check_fresh(loaded, entry, LIVE[:1], LivePools.of(services, {support: [LIVE[0].sid], sales: ["XE" + "9" * 32]}))
    for moved in ({sales: [LIVE[0].sid]}, {}):
        with pytest.raises(StalePlanError, match=re.escape(f"{A} (changed since the plan)")):
            check_fresh(loaded, entry, LIVE[:1], LivePools.of(services, moved))
    with pytest.raises(StalePlanError):
        check_fresh(loaded, entry, LIVE[:1])  # pools not read: not known to hold
