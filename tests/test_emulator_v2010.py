"""``reconciler/emulator/v2010.py``: the v2010 Accounts resource as data, without HTTP.

Unit tests of its functions: the dates, an account's shape, the numbers page, the list query's checks and
defaults, and the list page's filters and paging links, followed to the end. Over HTTP, with who may read
what, the resource is tests/test_emulator_accounts.py's.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from reconciler.emulator.accounts import EmulatorAccount
from reconciler.emulator.v2010 import (
    ACCOUNTS_PATH,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    SUBRESOURCES,
    AccountsQuery,
    account_uri,
    accounts_page,
    not_found,
    numbers_page,
    parse_accounts_query,
    render_account,
    rfc2822,
)
from reconciler.emulator.validation import ApiProblem

PARENT = "AC" + "0" * 32
CREATED, UPDATED = 1_438_286_400.0, 1_438_290_000.5  # Thu, 30 Jul 2015 20:00:00 and 21:00:00 UTC


def account(n: int, name: str | None = None, status: str = "active") -> EmulatorAccount:
    sid = PARENT if n == 0 else f"AC{n:032x}"
    return EmulatorAccount(sid, f"{n:032x}", name or f"Account {n}", PARENT, status)


def dates(sid: str) -> tuple[float, float]:
    return CREATED, UPDATED


def refused(query: dict[str, str]) -> ApiProblem:
    with pytest.raises(ApiProblem) as caught:
        parse_accounts_query(query)
    return caught.value


def follow(accounts: list[EmulatorAccount], uri: str | None) -> list[dict[str, Any]]:
    """Every page from ``uri`` on, as a client follows ``next_page_uri``."""
    pages = []
    while uri:
        query = {k: v[0] for k, v in parse_qs(urlsplit(uri).query).items()}
        pages.append(accounts_page(accounts, parse_accounts_query(query), dates))
        uri = pages[-1]["next_page_uri"]
    return pages


def test_dates_are_rfc_2822_in_utc_with_a_plus_zero_offset() -> None:
    assert rfc2822(CREATED) == "Thu, 30 Jul 2015 20:00:00 +0000"
    assert rfc2822(UPDATED) == "Thu, 30 Jul 2015 21:00:00 +0000"  # whole seconds
    assert parsedate_to_datetime(rfc2822(0)).timestamp() == 0


def test_an_account_is_shown_as_twilio_shows_it() -> None:
    sub = account(1, "Acme", "suspended")
    shown = render_account(sub, dates)
    assert shown["uri"] == account_uri(sub.sid) == f"/2010-04-01/Accounts/{sub.sid}.json"
    assert (shown["sid"], shown["auth_token"], shown["friendly_name"], shown["owner_account_sid"], shown["status"],
            shown["type"]) == (sub.sid, sub.auth_token, "Acme", PARENT, "suspended", "Full")
    assert (shown["date_created"], shown["date_updated"]) == (rfc2822(CREATED), rfc2822(UPDATED))
    assert set(shown["subresource_uris"]) == set(SUBRESOURCES)
    assert shown["subresource_uris"]["short_codes"] == f"/2010-04-01/Accounts/{sub.sid}/SMS/ShortCodes.json"


def test_the_numbers_page_is_empty_with_the_page_size_asked_for() -> None:
    page = numbers_page(PARENT, {"PageSize": "5"})
    assert page["incoming_phone_numbers"] == [] and page["page_size"] == 5
    assert page["uri"] == page["first_page_uri"] == f"/2010-04-01/Accounts/{PARENT}/IncomingPhoneNumbers.json?PageSize=5&Page=0"
    assert numbers_page(PARENT, {})["page_size"] == DEFAULT_PAGE_SIZE
    with pytest.raises(ApiProblem) as caught:
        numbers_page(PARENT, {"PageSize": "many"})
    assert (caught.value.status, caught.value.message) == (400, "Invalid PageSize 'many': must be an integer")


def test_not_found_names_the_path_in_twilio_s_404() -> None:
    problem = not_found("/2010-04-01/Accounts/ACx.json")
    assert (problem.status, problem.message) == (404, "The requested resource /2010-04-01/Accounts/ACx.json was not found")


# --------------------------------------------------------------------------- the list query


def test_a_query_without_parameters_is_the_first_page_of_every_account() -> None:
    assert parse_accounts_query({}) == AccountsQuery(None, None, DEFAULT_PAGE_SIZE, 0, 0)
    assert parse_accounts_query({"FriendlyName": "", "Status": ""}) == AccountsQuery(None, None, DEFAULT_PAGE_SIZE, 0, 0)
    assert parse_accounts_query({"PageSize": "10", "Page": "3"}).start == 30
    assert parse_accounts_query({"PageSize": str(MAX_PAGE_SIZE)}).page_size == MAX_PAGE_SIZE


@pytest.mark.parametrize(("query", "message"), [
    ({"Status": "asleep"}, "Invalid Status 'asleep': must be one of active, suspended, closed"),
    ({"PageSize": "0"}, f"Invalid PageSize 0: must be between 1 and {MAX_PAGE_SIZE}"),
    ({"PageSize": "1.5"}, "Invalid PageSize '1.5': must be an integer"),
    ({"Page": "-1"}, "Invalid Page -1: must be at least 0"),
    ({"PageToken": "nonsense"}, "Invalid PageToken: 'nonsense'"),
    ({"PageToken": "PTbm9wZQ"}, "Invalid PageToken: 'PTbm9wZQ'"),  # "nope": not start:N
    ({"PageToken": "PT!!"}, "Invalid PageToken: 'PT!!'"),
])
def test_a_bad_parameter_is_a_400_20001_naming_it(query: dict[str, str], message: str) -> None:
    problem = refused(query)
    assert (problem.status, problem.code, problem.message) == (400, 20001, message)


# --------------------------------------------------------------------------- the list page


def test_following_the_links_gives_every_account_once_with_its_filters_kept() -> None:
    accounts = [account(n, status="closed" if n % 3 == 0 else "active") for n in range(10)]
    pages = follow(accounts, f"{ACCOUNTS_PATH}?Status=active&PageSize=2")
    listed = [a["sid"] for page in pages for a in page["accounts"]]
    assert listed == [a.sid for a in accounts if a.status == "active"]
    assert [(p["page"], p["start"], p["end"]) for p in pages] == [(0, 0, 1), (1, 2, 3), (2, 4, 5)]
    assert all("Status=active" in p["uri"] for p in pages) and pages[-1]["next_page_uri"] is None


def test_the_previous_link_goes_back_one_page_and_the_first_has_none() -> None:
    accounts = [account(n) for n in range(5)]
    first, second, third = follow(accounts, f"{ACCOUNTS_PATH}?PageSize=2")
    assert first["previous_page_uri"] is None
    assert second["previous_page_uri"] == f"{ACCOUNTS_PATH}?PageSize=2&Page=0"  # the first page needs no token
    back = follow(accounts[:], third["previous_page_uri"])[0]
    assert back["accounts"] == second["accounts"] and back["page"] == 1
    assert first["first_page_uri"] == third["first_page_uri"] == f"{ACCOUNTS_PATH}?PageSize=2&Page=0"


def test_a_page_past_the_end_is_empty_and_a_friendly_name_must_match_exactly() -> None:
    accounts = [account(0, "Parent"), account(1, "Acme"), account(2, "Acme Two")]
    past = accounts_page(accounts, parse_accounts_query({"Page": "5", "PageSize": "2"}), dates)
    assert (past["accounts"], past["start"], past["end"], past["next_page_uri"]) == ([], 10, 10, None)
    named = accounts_page(accounts, parse_accounts_query({"FriendlyName": "Acme"}), dates)
    assert [a["friendly_name"] for a in named["accounts"]] == ["Acme"]
    assert named["uri"] == f"{ACCOUNTS_PATH}?FriendlyName=Acme&PageSize={DEFAULT_PAGE_SIZE}&Page=0"


def test_a_page_token_decides_where_the_page_starts_whatever_the_page_number() -> None:
    accounts = [account(n) for n in range(6)]
    second = accounts_page(accounts, parse_accounts_query({"PageSize": "2", "Page": "1"}), dates)
    token = parse_qs(urlsplit(second["next_page_uri"]).query)["PageToken"][0]
    assert token.startswith("PT")
    shifted = parse_accounts_query({"PageSize": "2", "Page": "0", "PageToken": token})
    assert shifted.start == 4 and shifted.page == 0
    assert [a["sid"] for a in accounts_page(accounts, shifted, dates)["accounts"]] == [a.sid for a in accounts[4:]]
