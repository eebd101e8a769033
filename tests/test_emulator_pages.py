"""The list endpoint's query and meta without HTTP: page sizes, tokens, absolute page URLs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.emulator.pages import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ListQuery,
    decode_token,
    encode_token,
    page_meta,
    parse_list_query,
)
from reconciler.emulator.validation import CODE_INVALID_PARAMETER, ApiProblem

BASE = "http://127.0.0.1:8080/v2/Channels/Senders"


@given(page=st.integers(min_value=0, max_value=10**6), after=st.integers(min_value=-1, max_value=10**9))
def test_a_token_decodes_to_what_was_encoded(page, after):
    assert decode_token(encode_token(page, after)) == (page, after)


@pytest.mark.parametrize("token", ["x", "cDE", "bm9wZQ", "cHg6YTI"])  # not base64, "p1", "nope", "px:a2"
def test_a_token_not_made_here_is_400_20001(token):
    with pytest.raises(ApiProblem) as info:
        decode_token(token)
    assert (info.value.status, info.value.code) == (400, CODE_INVALID_PARAMETER)
    assert info.value.message == f"Invalid PageToken: {token!r}"


def test_query_defaults_and_bounds():
    assert parse_list_query({"Channel": "whatsapp"}) == ListQuery("whatsapp", DEFAULT_PAGE_SIZE, 0, None)
    assert parse_list_query({"Channel": "rcs", "PageSize": str(MAX_PAGE_SIZE), "PageToken": encode_token(3, 41)}) == (
        ListQuery("rcs", MAX_PAGE_SIZE, 3, 41)
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "Missing required parameter Channel"),
        ({"Channel": "sms"}, "Invalid Channel 'sms': supported values are whatsapp and rcs"),
        ({"Channel": "whatsapp", "PageSize": "ten"}, "Invalid PageSize 'ten': must be an integer"),
        ({"Channel": "whatsapp", "PageSize": "0"}, f"Invalid PageSize 0: must be between 1 and {MAX_PAGE_SIZE}"),
    ],
)
def test_bad_queries_are_400_20001(query, message):
    with pytest.raises(ApiProblem) as info:
        parse_list_query(query)
    assert (info.value.code, info.value.message) == (CODE_INVALID_PARAMETER, message)


def params(url: str | None) -> dict[str, str]:
    assert url is not None and url.startswith(BASE + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_meta_of_a_middle_page_links_both_ways():
    meta = page_meta(BASE, ListQuery("whatsapp", 2, 3, 7), next_after=9, previous_after=4)
    assert (meta["page"], meta["page_size"], meta["key"]) == (3, 2, "senders")
    assert params(meta["first_page_url"]) == {"Channel": "whatsapp", "PageSize": "2", "Page": "0"}
    assert params(meta["url"]) == {"Channel": "whatsapp", "PageSize": "2", "Page": "3", "PageToken": encode_token(3, 7)}
    assert params(meta["next_page_url"])["PageToken"] == encode_token(4, 9)
    assert params(meta["previous_page_url"])["PageToken"] == encode_token(2, 4)


def test_meta_of_the_first_and_last_pages():
    first = page_meta(BASE, ListQuery("whatsapp", 20, 0, None), next_after=None, previous_after=None)
    assert first["previous_page_url"] is None and first["next_page_url"] is None
    assert first["url"] == first["first_page_url"]
    second = page_meta(BASE, ListQuery("whatsapp", 20, 1, 19), next_after=None, previous_after=-1)
    assert params(second["previous_page_url"]) == {"Channel": "whatsapp", "PageSize": "20", "Page": "0"}
