"""The emulator's accounts over real loopback HTTP: a parent and subaccounts, each with its own senders and
credentials, the v2010 Accounts resource and who may read what of it, and the state file that keeps them."""

from __future__ import annotations

import base64
import json
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import EmulatorServer
from reconciler.emulator.accounts import AUTH_TOKEN, STANDARD_KEY, Accounts, EmulatorAccount, derived_token, subaccount_sid
from reconciler.emulator.accounts import MAIN_KEY as MAIN_KEY_KIND
from reconciler.emulator.store import SenderStore
from tests.factories import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET, TEST_AUTH_TOKEN

SENDERS = "/v2/Channels/Senders"
ACCOUNTS = "/2010-04-01/Accounts.json"
PARENT = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
SUB_KEY, SUB_SECRET = "SK" + "ab" * 16, "sub-key-secret"
MAIN_KEY, MAIN_SECRET = "SK" + "cd" * 16, "main-key-secret"
ACCOUNT_FIELDS = {"auth_token", "date_created", "date_updated", "friendly_name", "owner_account_sid", "sid",
                  "status", "subresource_uris", "type", "uri"}
PAGE_FIELDS = {"accounts", "end", "first_page_uri", "next_page_uri", "page", "page_size", "previous_page_uri",
               "start", "uri"}
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def body(n: int) -> dict:
    return {"sender_id": f"whatsapp:+1500555{n:04d}", "profile": {"name": f"Acme {n}"}}


@pytest.fixture
def server():
    """The test parent (token and a standard key) with three subaccounts; "Subaccount 3" is closed."""
    with EmulatorServer(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, api_key=TEST_API_KEY,
                        api_secret=TEST_API_SECRET, subaccounts=2) as server:
        server.add_account("Subaccount 3", status="closed")
        yield server


def sub(server: EmulatorServer, n: int) -> EmulatorAccount:
    return server.accounts()[n]


def auth_of(account: EmulatorAccount) -> tuple[str, str]:
    return account.sid, account.auth_token


def get(server: EmulatorServer, path: str, auth: tuple[str, str] | None, **params: object) -> httpx.Response:
    return httpx.get(str(server.base_url) + path, params=params, auth=auth)


def assert_error(r: httpx.Response, status: int, code: int) -> dict:
    assert r.status_code == status, r.text
    err = r.json()
    assert set(err) == {"code", "message", "more_info", "status"} and (err["status"], err["code"]) == (status, code)
    return err


# --------------------------------------------------------------------------- accounts and their senders


def test_subaccounts_get_derived_sids_and_tokens_the_same_on_every_run():
    first, again = (EmulatorServer(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, subaccounts=3)
                    for _ in range(2))
    assert first.accounts() == again.accounts()
    parent, *subs = first.accounts()
    assert parent == first.parent and parent.sid == parent.owner_account_sid == TEST_ACCOUNT_SID
    assert parent.auth_token == TEST_AUTH_TOKEN
    assert [s.friendly_name for s in subs] == ["Subaccount 1", "Subaccount 2", "Subaccount 3"]
    assert len({s.sid for s in subs}) == 3 and len({s.auth_token for s in subs}) == 3
    for s in subs:
        assert s.sid.startswith("AC") and HEX32.match(s.sid[2:]) and HEX32.match(s.auth_token)
        assert s.owner_account_sid == TEST_ACCOUNT_SID and s.status == "active"
    # Another parent, other subaccounts; no parent configured: a derived one, the same every time.
    other = EmulatorServer(account_sid="AC" + "9" * 32, auth_token="t", subaccounts=1)
    assert other.accounts()[1].sid not in {s.sid for s in subs}
    assert EmulatorServer().parent == EmulatorServer().parent and HEX32.match(EmulatorServer().parent.sid[2:])


def test_each_account_sees_only_its_own_senders(server):
    a, b = sub(server, 1), sub(server, 2)
    with httpx.Client(base_url=str(server.base_url), auth=auth_of(a)) as api:
        created = api.post(SENDERS, json=body(1))
        assert created.status_code == 202, created.text
        sid = created.json()["sid"]
        assert [s["sid"] for s in api.get(SENDERS, params={"Channel": "whatsapp"}).json()["senders"]] == [sid]
    assert [s["sid"] for s in server.senders(a.sid)] == [sid]
    assert server.senders() == [] and server.senders(b.sid) == []
    # The same number can be a sender of another account: each account checks its own senders.
    server.add_sender(body(1))
    assert len(server.senders()) == 1
    for auth in (PARENT, auth_of(b), (TEST_API_KEY, TEST_API_SECRET)):
        assert_error(get(server, f"{SENDERS}/{sid}", auth), 404, 20404)
        r = httpx.post(f"{server.base_url}{SENDERS}/{sid}", json={"profile": {"about": "x"}}, auth=auth)
        assert_error(r, 404, 20404)
    # Test hooks find a sender in whichever account holds it.
    assert server.get_sender(sid)["sender_id"] == "whatsapp:+15005550001"
    assert server.update_sender_state(sid, status="OFFLINE")["status"] == "OFFLINE"
    assert server.senders(a.sid)[0]["status"] == "OFFLINE"
    with pytest.raises(KeyError):
        server.senders("AC" + "e" * 32)


def test_an_api_key_belongs_to_one_account(server):
    a = sub(server, 1)
    server.add_api_key(a.sid, SUB_KEY, SUB_SECRET)
    server.add_sender(body(2), account=a.sid)
    r = get(server, SENDERS, (SUB_KEY, SUB_SECRET), Channel="whatsapp")
    assert [s["sender_id"] for s in r.json()["senders"]] == ["whatsapp:+15005550002"]
    assert_error(get(server, SENDERS, (SUB_KEY, a.auth_token), Channel="whatsapp"), 401, 20003)
    assert_error(get(server, SENDERS, (a.sid, TEST_AUTH_TOKEN), Channel="whatsapp"), 401, 20003)
    with pytest.raises(ValueError, match="another account"):
        server.add_api_key(TEST_ACCOUNT_SID, SUB_KEY, "x")
    with pytest.raises(ValueError, match="no account"):
        server.add_api_key("AC" + "e" * 32, "SK" + "e" * 32, "x")


def test_add_account_refuses_what_twilio_would_not_hold(server):
    for fields, words in [
        ({"sid": "AC123"}, "32 hex"),
        ({"sid": sub(server, 1).sid}, "exists already"),
        ({"status": "asleep"}, "asleep"),
        ({"auth_token": ""}, "auth_token"),
    ]:
        with pytest.raises(ValueError, match=words):
            server.add_account("X", **fields)
    with pytest.raises(ValueError, match="friendly_name"):
        server.add_account("x" * 65)
    given = server.add_account("Given", sid="AC" + "f" * 32, auth_token="given-token")
    assert (given.sid, given.auth_token) == ("AC" + "f" * 32, "given-token")
    assert get(server, SENDERS, auth_of(given), Channel="whatsapp").status_code == 200
    # Without a SID: the one derived from the parent's SID and the subaccount's number (the fifth here).
    assert server.add_account("Fifth").sid == subaccount_sid(TEST_ACCOUNT_SID, 5)


def test_suspended_or_closed_accounts_are_refused_everywhere(server):
    a, closed = sub(server, 1), sub(server, 3)
    for path, params in ((SENDERS, {"Channel": "whatsapp"}), (ACCOUNTS, {}), (f"/2010-04-01/Accounts/{closed.sid}.json", {})):
        r = get(server, path, auth_of(closed), **params)
        assert_error(r, 401, 20003)
        assert r.headers["WWW-Authenticate"].startswith("Basic")
    server.set_account_status(a.sid, "suspended")
    assert_error(get(server, SENDERS, auth_of(a), Channel="whatsapp"), 401, 20003)
    fetched = get(server, f"/2010-04-01/Accounts/{a.sid}.json", PARENT).json()
    assert fetched["status"] == "suspended"  # the parent still reads it
    server.set_account_status(a.sid, "active")
    assert get(server, SENDERS, auth_of(a), Channel="whatsapp").status_code == 200
    # A suspended parent suspends its subaccounts.
    server.set_account_status(TEST_ACCOUNT_SID, "suspended")
    assert_error(get(server, SENDERS, PARENT, Channel="whatsapp"), 401, 20003)
    assert_error(get(server, SENDERS, auth_of(a), Channel="whatsapp"), 401, 20003)
    with pytest.raises(KeyError):
        server.set_account_status("AC" + "e" * 32, "active")


def test_without_configured_credentials_the_basic_user_picks_the_account():
    with EmulatorServer(subaccounts=2) as server:
        a = sub(server, 1)
        server.add_sender(body(1), account=a.sid)
        server.add_sender(body(2))
        server.add_api_key(a.sid, SUB_KEY, SUB_SECRET)

        def listed(auth: tuple[str, str] | None) -> list[str]:
            return [s["sender_id"] for s in get(server, SENDERS, auth, Channel="whatsapp").json()["senders"]]

        assert listed((a.sid, "anything")) == listed((SUB_KEY, "anything")) == ["whatsapp:+15005550001"]
        assert listed(None) == listed(("AC" + "e" * 32, "x")) == listed(("someone", "")) == ["whatsapp:+15005550002"]
        assert len(get(server, ACCOUNTS, None).json()["accounts"]) == 3
        assert [x["sid"] for x in get(server, ACCOUNTS, (a.sid, "x")).json()["accounts"]] == [a.sid]
        server.set_account_status(a.sid, "closed")
        assert_error(get(server, SENDERS, (a.sid, "x"), Channel="whatsapp"), 401, 20003)


def test_a_password_proves_a_key_by_its_secret_and_an_account_by_its_token():
    """Whom a Basic header speaks for, without HTTP; here only a key was configured for the parent, so the
    parent's own token is refused."""
    parent = EmulatorAccount(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, "Parent account", TEST_ACCOUNT_SID)
    accounts = Accounts(parent, check=True, parent_token=False)
    a = accounts.add("A")
    accounts.add_key(a.sid, SUB_KEY, SUB_SECRET)
    accounts.add_key(parent.sid, MAIN_KEY, MAIN_SECRET, main=True)

    def who(user: str, password: str | None) -> tuple[str, tuple[str, str] | None]:
        raw = user if password is None else f"{user}:{password}"
        claimed, principal = accounts.authenticate("Basic " + base64.b64encode(raw.encode()).decode())
        return claimed, (principal.account.sid, principal.kind) if principal else None

    assert who(a.sid, a.auth_token) == (a.sid, (a.sid, AUTH_TOKEN))
    assert who(SUB_KEY, SUB_SECRET) == (a.sid, (a.sid, STANDARD_KEY))
    assert who(MAIN_KEY, MAIN_SECRET) == (parent.sid, (parent.sid, MAIN_KEY_KIND))
    assert who(SUB_KEY, a.auth_token) == (a.sid, None)  # a key is proven by its own secret only
    assert who(parent.sid, TEST_AUTH_TOKEN) == (parent.sid, None)
    assert who(a.sid, None) == (a.sid, None)  # no password at all
    assert who("AC" + "e" * 32, "x") == (parent.sid, None)  # an unknown user claims the parent
    assert accounts.authenticate("Bearer x") == (parent.sid, None)


def test_stats_count_per_account_too(server):
    a = sub(server, 1)
    get(server, SENDERS, auth_of(a), Channel="whatsapp")
    get(server, SENDERS, (a.sid, "wrong"), Channel="whatsapp")
    get(server, ACCOUNTS, PARENT)
    assert server.stats(a.sid) == {"GET /v2/Channels/Senders": 2, "total": 2}
    assert server.stats(TEST_ACCOUNT_SID) == {"GET /2010-04-01/Accounts.json": 1, "total": 1}
    assert server.stats()["total"] == 3 and server.stats(sub(server, 2).sid) == {"total": 0}
    server.reset_stats()
    assert server.stats(a.sid) == {"total": 0}


# --------------------------------------------------------------------------- the Accounts resource


def test_the_parent_lists_every_account_in_twilios_shape(server):
    r = get(server, ACCOUNTS, PARENT)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    page = r.json()
    assert set(page) == PAGE_FIELDS
    assert [a["sid"] for a in page["accounts"]] == [a.sid for a in server.accounts()]
    assert (page["page"], page["page_size"], page["start"], page["end"]) == (0, 50, 0, 3)
    assert page["next_page_uri"] is None and page["previous_page_uri"] is None
    assert page["uri"] == page["first_page_uri"] == "/2010-04-01/Accounts.json?PageSize=50&Page=0"
    first, second = page["accounts"][:2]
    assert set(first) == ACCOUNT_FIELDS
    assert first["owner_account_sid"] == first["sid"] == TEST_ACCOUNT_SID and first["auth_token"] == TEST_AUTH_TOKEN
    a = sub(server, 1)
    assert second["sid"] == a.sid and second["auth_token"] == a.auth_token
    assert second["owner_account_sid"] == TEST_ACCOUNT_SID and second["friendly_name"] == "Subaccount 1"
    assert (second["status"], second["type"]) == ("active", "Full")
    assert second["uri"] == f"/2010-04-01/Accounts/{a.sid}.json"
    assert second["subresource_uris"]["messages"] == f"/2010-04-01/Accounts/{a.sid}/Messages.json"
    assert re.match(r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000$", second["date_created"])
    assert parsedate_to_datetime(second["date_updated"]).utcoffset().total_seconds() == 0
    fetched = get(server, f"/2010-04-01/Accounts/{a.sid}.json", PARENT).json()
    assert fetched == second


def test_the_list_filters_and_pages(server):
    closed = get(server, ACCOUNTS, PARENT, Status="closed").json()
    assert [a["friendly_name"] for a in closed["accounts"]] == ["Subaccount 3"]
    assert closed["uri"] == "/2010-04-01/Accounts.json?Status=closed&PageSize=50&Page=0"
    named = get(server, ACCOUNTS, PARENT, FriendlyName="Subaccount 2").json()["accounts"]
    assert [a["sid"] for a in named] == [sub(server, 2).sid]
    assert get(server, ACCOUNTS, PARENT, FriendlyName="Subaccount").json()["accounts"] == []  # exact match only
    seen, uri, pages = [], ACCOUNTS + "?PageSize=1", []
    while uri:
        page = httpx.get(str(server.base_url) + uri, auth=PARENT).json()
        pages.append(page)
        seen += [a["sid"] for a in page["accounts"]]
        uri = page["next_page_uri"]
    assert seen == [a.sid for a in server.accounts()]
    assert [(p["page"], p["start"], p["end"]) for p in pages] == [(0, 0, 0), (1, 1, 1), (2, 2, 2), (3, 3, 3)]
    back = httpx.get(str(server.base_url) + pages[2]["previous_page_uri"], auth=PARENT).json()
    assert back["accounts"] == pages[1]["accounts"]
    assert get(server, ACCOUNTS, PARENT, PageSize=2, Page=1).json()["accounts"] == pages[2]["accounts"] + pages[3]["accounts"]


def test_a_page_of_a_thousand_is_served_from_each_account_s_kept_encoding_and_changes_with_it(server):
    for n in range(997):
        server.add_account(f"Customer {n}")
    everyone = server.accounts()
    first = get(server, ACCOUNTS, PARENT, PageSize=1000).json()
    assert len(first["accounts"]) == 1000 and first["next_page_uri"] is not None
    assert [a["sid"] for a in first["accounts"]] == [a.sid for a in everyone[:1000]]
    assert first["accounts"][1::333] == [get(server, f"/2010-04-01/Accounts/{a.sid}.json", PARENT).json()
                                         for a in everyone[1:1000:333]]
    server.set_account_status(sub(server, 1).sid, "suspended")
    again = get(server, ACCOUNTS, PARENT, PageSize=1000).json()
    assert again["accounts"][1] == {**first["accounts"][1], "status": "suspended",
                                    "date_updated": again["accounts"][1]["date_updated"]}
    last = httpx.get(str(server.base_url) + again["next_page_uri"], auth=PARENT).json()
    assert [a["sid"] for a in last["accounts"]] == [everyone[-1].sid] and last["next_page_uri"] is None


@pytest.mark.parametrize("params", [{"PageSize": "0"}, {"PageSize": "1001"}, {"PageSize": "x"}, {"Page": "-1"},
                                    {"Status": "asleep"}, {"PageToken": "nonsense"}])
def test_a_bad_list_query_is_400_20001(server, params):
    assert_error(get(server, ACCOUNTS, PARENT, **params), 400, 20001)


def test_a_subaccount_sees_only_itself(server):
    a, b = sub(server, 1), sub(server, 2)
    listed = get(server, ACCOUNTS, auth_of(a)).json()
    assert [x["sid"] for x in listed["accounts"]] == [a.sid] and listed["accounts"][0]["auth_token"] == a.auth_token
    assert get(server, f"/2010-04-01/Accounts/{a.sid}.json", auth_of(a)).json()["sid"] == a.sid
    for other in (b.sid, TEST_ACCOUNT_SID, "AC" + "e" * 32):
        err = assert_error(get(server, f"/2010-04-01/Accounts/{other}.json", auth_of(a)), 404, 20404)
        assert f"/2010-04-01/Accounts/{other}.json" in err["message"]


def test_unknown_accounts_are_404_in_twilios_shape(server):
    for path in ("/2010-04-01/Accounts/AC" + "e" * 32 + ".json", "/2010-04-01/Accounts/nonsense.json"):
        assert_error(get(server, path, PARENT), 404, 20404)


def test_a_standard_key_cannot_read_accounts_and_a_main_key_can(server):
    a = sub(server, 1)
    server.add_api_key(a.sid, SUB_KEY, SUB_SECRET)
    server.add_api_key(TEST_ACCOUNT_SID, MAIN_KEY, MAIN_SECRET, main=True)
    for key in ((TEST_API_KEY, TEST_API_SECRET), (SUB_KEY, SUB_SECRET)):
        assert_error(get(server, ACCOUNTS, key), 401, 20003)
        assert_error(get(server, f"/2010-04-01/Accounts/{a.sid}.json", key), 401, 20003)
        assert get(server, SENDERS, key, Channel="whatsapp").status_code == 200  # the senders it may reach
    main = get(server, ACCOUNTS, (MAIN_KEY, MAIN_SECRET)).json()
    assert [x["sid"] for x in main["accounts"]] == [x.sid for x in server.accounts()]
    assert get(server, f"/2010-04-01/Accounts/{a.sid}.json", (MAIN_KEY, MAIN_SECRET)).json()["auth_token"] == a.auth_token


# --------------------------------------------------------------------------- the state file


def test_state_keeps_every_account_and_its_senders(tmp_path: Path):
    state = tmp_path / "state.json"
    with EmulatorServer(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, state_file=state,
                        subaccounts=2) as server:
        a, b = sub(server, 1), sub(server, 2)
        given = server.add_account("Given", sid="AC" + "f" * 32, auth_token="given-token", status="suspended")
        with httpx.Client(base_url=str(server.base_url)) as api:
            assert api.post(SENDERS, json=body(1), auth=auth_of(a)).status_code == 202
            assert api.post(SENDERS, json=body(2), auth=PARENT).status_code == 202
        server.add_sender(body(3), account=b.sid, status="OFFLINE")
        server.set_account_status(a.sid, "closed")
        accounts = server.accounts()
        senders = {x.sid: server.senders(x.sid) for x in accounts}
    saved = state.read_text()
    assert json.loads(saved)["version"] == 2
    # Derived tokens are not written (they are derived again); a given one is, as the seed held it.
    assert a.auth_token not in saved and b.auth_token not in saved and TEST_AUTH_TOKEN not in saved
    assert given.auth_token in saved
    with EmulatorServer(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, state_file=state,
                        subaccounts=2) as again:
        assert again.accounts() == accounts  # --subaccounts makes no second "Subaccount 1"
        assert {x.sid: [s["sid"] for s in again.senders(x.sid)] for x in accounts} == {
            sid: [s["sid"] for s in held] for sid, held in senders.items()
        }
        assert [s["status"] for s in again.senders(b.sid)] == ["OFFLINE"]
        r = get(again, SENDERS, auth_of(a), Channel="whatsapp")
        assert_error(r, 401, 20003)  # still closed
        created = httpx.post(f"{again.base_url}{SENDERS}", json=body(9), auth=auth_of(b))
        assert created.status_code == 202
        assert get(again, f"/2010-04-01/Accounts/{given.sid}.json", PARENT).json()["status"] == "suspended"
    with EmulatorServer(state_file=state, subaccounts=3) as third:  # another parent: the subaccounts stay
        assert [x.friendly_name for x in third.accounts()[1:]] == ["Subaccount 1", "Subaccount 2", "Given",
                                                                   "Subaccount 3"]
        assert len(third.senders(b.sid)) == 2 and len(third.senders()) == 1


def test_a_state_file_of_the_single_account_format_is_the_parents(tmp_path: Path):
    state = tmp_path / "old.json"
    old = SenderStore(state_file=state)
    sid = old.add(body(1))["sid"]
    assert json.loads(state.read_text())["version"] == 1
    with EmulatorServer(state_file=state, subaccounts=1) as server:
        assert [s["sid"] for s in server.senders()] == [sid]
        assert server.senders(sub(server, 1).sid) == []
    assert json.loads(state.read_text())["version"] == 2  # written again with every account


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ({"version": 2, "accounts": []}, "the parent first"),
        ({"version": 2, "accounts": [{"senders": [{"sid": "XE1"}]}]}, "accounts[0]: senders[0]"),
        ({"version": 2, "accounts": [{"senders": []}, {"friendly_name": "x"}]}, "accounts[1] needs"),
        ({"version": 2, "accounts": [{"senders": []}, {"sid": "AC1", "friendly_name": "x"}]}, "accounts[1]: sid"),
        ({"version": 2, "accounts": [{"senders": []}, {"sid": "AC" + "1" * 32, "friendly_name": "x",
                                                       "senders": [{"status": "ONLINE"}]}]}, "accounts[1]: senders[0]"),
    ],
)
def test_a_broken_state_file_names_the_account(tmp_path: Path, content, words):
    state = tmp_path / "state.json"
    state.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=re.escape(words)):
        EmulatorServer(state_file=state)


def test_derived_tokens_are_what_the_accounts_carry():
    server = EmulatorServer(subaccounts=1)
    a = sub(server, 1)
    assert a.auth_token == derived_token(a.sid)
