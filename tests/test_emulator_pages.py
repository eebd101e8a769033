"""The list endpoints' query and meta without HTTP: page sizes, tokens, absolute page URLs, page bounds."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.emulator.pages import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    V1_DEFAULT_PAGE_SIZE,
    ListQuery,
    decode_token,
    encode_token,
    page_bounds,
    page_meta,
    parse_list_query,
    parse_v1_query,
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


# --------------------------------------------------------------------------- Messaging v1 lists

V1_BASE = "http://127.0.0.1:8080/v1/Services"


def test_a_v1_query_has_no_channel_and_50_by_default():
    assert parse_v1_query({}) == ListQuery(None, V1_DEFAULT_PAGE_SIZE, 0, None) and V1_DEFAULT_PAGE_SIZE == 50
    assert parse_v1_query({"PageSize": "1000", "Page": "7", "PageToken": encode_token(2, 5)}) == ListQuery(None, 1000, 2, 5)
    for size in ("0", "1001", "x"):
        with pytest.raises(ApiProblem) as info:
            parse_v1_query({"PageSize": size})
        assert (info.value.status, info.value.code) == (400, CODE_INVALID_PARAMETER)


def test_v1_meta_carries_no_channel_and_the_lists_key():
    meta = page_meta(V1_BASE, ListQuery(None, 20, 1, 19), next_after=39, previous_after=-1, key="services")
    assert meta["key"] == "services"
    assert meta["first_page_url"] == V1_BASE + "?PageSize=20&Page=0"  # as Twilio's example writes it
    assert {k: v[0] for k, v in parse_qs(urlsplit(meta["next_page_url"]).query).items()} == {
        "PageSize": "20", "Page": "2", "PageToken": encode_token(2, 39)}
    assert meta["previous_page_url"] == V1_BASE + "?PageSize=20&Page=0"


@given(
    seqs=st.lists(st.integers(min_value=0, max_value=200), unique=True).map(sorted),
    size=st.integers(min_value=1, max_value=9),
)
def test_page_bounds_walk_every_item_once_and_back(seqs, size):
    seen, after, starts = [], None, []
    while True:
        start, next_after, previous_after = page_bounds(seqs, after, size)
        starts.append((after, start, previous_after))
        seen += seqs[start : start + size]
        if next_after is None:
            break
        after = next_after
    assert seen == seqs
    for (_, _, previous_after), (before_after, _, _) in zip(starts[1:], starts[:-1], strict=True):
        assert (None if previous_after == -1 else previous_after) == before_after
