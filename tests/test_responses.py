"""Unit tests of reading the API's answers with no trust in their shape: plain JSON values in, senders or one
ApiError out (the client's tests drive the same functions through HTTP)."""

from __future__ import annotations

import doctest
import json

import pytest

from reconciler import responses
from reconciler.errors import ApiError
from reconciler.responses import (
    PAGE_MARGIN,
    error_fields,
    is_count,
    kind_of,
    live_sender,
    page_limit,
    page_parts,
    retry_after,
    senders_from_pages,
)
from tests.factories import A, B, sid_of

URL = "/v2/Channels/Senders"


def sender(sender_id: str = A, **fields: object) -> dict[str, object]:
    return {"sid": sid_of(sender_id), "sender_id": sender_id, "status": "ONLINE", **fields}


def page(*senders: object) -> bytes:
    return json.dumps({"senders": list(senders), "meta": {}}).encode()


@pytest.mark.parametrize(("value", "kind"), [
    (None, "null"), (True, "true"), (False, "false"), (0, "a number"), (1.5, "a number"), ("", "a string"),
    ([], "a list"), ({}, "an object"), (b"x", "bytes"),
])
def test_kind_of_words_a_json_value(value, kind):
    assert kind_of(value) == kind


@pytest.mark.parametrize(("value", "counts"), [
    (0, True), (7, True), (-1, False), (True, False), (1.0, False), ("3", False), (None, False),
])
def test_a_count_is_a_json_integer_of_zero_or_more(value, counts):
    assert is_count(value) is counts


# --------------------------------------------------------------------------- list pages


def test_a_page_s_parts_are_its_senders_its_meta_and_the_next_url():
    meta = {"next_page_url": "https://x.test/v2/Channels/Senders?PageToken=2", "page_size": 2}
    assert page_parts({"senders": [1, 2], "meta": meta}, URL) == ([1, 2], meta, meta["next_page_url"])


@pytest.mark.parametrize("meta", [None, {}, {"next_page_url": None}, {"next_page_url": ""}])
def test_a_page_without_a_next_url_is_the_last(meta):
    senders, _, next_url = page_parts({"senders": [], "meta": meta}, URL)
    assert senders == [] and next_url is None


@pytest.mark.parametrize(("body", "said"), [
    ([], "is a list, not an object"),
    ("oops", "is a string, not an object"),
    ({}, "has no 'senders' array"),
    ({"senders": {"a": 1}}, "has no 'senders' array"),
    ({"senders": [], "meta": []}, "has a 'meta' that is a list, not an object"),
    ({"senders": [], "meta": {"next_page_url": 7}}, "has a meta.next_page_url that is a number, not a URL"),
])
def test_a_page_of_the_wrong_shape_is_one_api_error_naming_the_request(body, said):
    with pytest.raises(ApiError) as caught:
        page_parts(body, URL)
    assert str(caught.value) == f"the list response {said} (GET {URL})"
    assert not caught.value.outcome_unknown


@pytest.mark.parametrize(("meta", "page_size", "pages"), [
    ({"total": 2500, "page_size": 1000}, 50, 3 + PAGE_MARGIN),   # the API's page size wins over the asked one
    ({"total": 2500}, 1000, 3 + PAGE_MARGIN),
    ({"total": 2500, "page_size": 0}, 1000, 3 + PAGE_MARGIN),   # a page size of 0 is no page size
    ({"total": 0}, 1000, PAGE_MARGIN),
    ({"total": 10**9, "page_size": 1}, 1000, 40),                # never past the hard cap
])
def test_a_counted_list_may_have_the_pages_its_count_fills_and_a_margin(meta, page_size, pages):
    limit = page_limit(meta, page_size, 40)
    assert limit is not None and limit[0] == pages
    assert f"{pages} pages" in limit[1] and str(meta["total"]) in limit[1]


@pytest.mark.parametrize("total", [None, "3", True, -1, 2.5])
def test_a_list_without_a_count_has_no_limit_of_its_own(total):
    assert page_limit({"total": total}, 1000, 40) is None
    assert page_limit({}, 1000, 40) is None


# --------------------------------------------------------------------------- senders


def test_a_sender_is_read_tolerantly():
    got = live_sender(sender(A, sid=None, colour="teal"))
    assert (got.sender_id, got.sid, got.status, got.matchable) == (A, "", "ONLINE", False)


@pytest.mark.parametrize(("item", "index", "who", "where"), [
    pytest.param("x", 3, None, " (senders[3] on page 2): it is a string, not an object", id="not-an-object"),
    pytest.param({"sid": "XE\x1b1", "status": 5}, 0, None, " (sid XE\\x1b1): status: ", id="named-by-sid"),
    pytest.param({"sender_id": "whatsapp:+1\n5", "sid": "XE1", "profile": []}, 0, "whatsapp:+1\\n5", ": profile: ",
                 id="named-by-sender-id"),
    pytest.param({"status": 5}, None, None, ": status: ", id="no-place-given"),
])
def test_a_sender_that_cannot_be_read_is_named_as_well_as_it_can_be(item, index, who, where):
    with pytest.raises(ApiError) as caught:
        live_sender(item, index, 2)
    error = caught.value
    assert error.sender_id == who
    assert error.message.startswith("the API returned a sender this tool cannot read" + where), error.message
    assert "\n" not in str(error) and "\x1b" not in str(error)


def test_the_senders_of_pages_come_in_the_order_sent():
    got = senders_from_pages([page(sender(B)), page(), page(sender(A))])
    assert [s.sender_id for s in got] == [B, A]


@pytest.mark.parametrize(("raw", "said"), [
    (b"<html>", "page 2 of the list is not a list response"),
    (b"[]", "page 2 of the list is not a list response"),
    (b"{}", "page 2 of the list is not a list response"),
    (b'{"senders": 5}', "page 2 of the list has no 'senders' array"),
    (b"[" * 100_000, "page 2 of the list is not a list response"),
])
def test_a_page_that_is_no_list_response_is_one_api_error(raw, said):
    with pytest.raises(ApiError, match=f"^{said}$"):
        senders_from_pages([page(sender(A)), raw])


def test_a_bad_sender_on_a_page_names_its_place():
    with pytest.raises(ApiError, match=r"senders\[1\] on page 1"):
        senders_from_pages([page(sender(A), 7)])


# --------------------------------------------------------------------------- errors and Retry-After


def test_twilio_s_error_body_gives_code_message_and_more_info():
    body = {"code": 63100, "message": "Invalid\nvertical", "more_info": "https://www.twilio.com/docs/errors/63100",
            "status": 400}
    assert error_fields(json.dumps(body).encode()) == (63100, "Invalid\\nvertical", body["more_info"])
    long = error_fields(json.dumps({"message": "x" * 1000}).encode())[1]
    assert long is not None and len(long) == 300 and long.endswith("…")


@pytest.mark.parametrize("content", [b"", b"Bad Gateway", b"[1]", b'"oops"', b"[" * 100_000, b"\xff\xfe"])
def test_an_error_body_that_is_no_object_gives_nothing(content):
    assert error_fields(content) == (None, None, None)


@pytest.mark.parametrize("body", [
    {"code": "63100", "message": 5, "more_info": ["x"]},
    {"code": True, "message": "", "more_info": ""},
    {"code": -1, "message": None},
])
def test_mistyped_error_fields_are_left_out(body):
    assert error_fields(json.dumps(body).encode()) == (None, None, None)


@pytest.mark.parametrize(("value", "seconds"), [
    ("2", 2.0), ("0.25", 0.25), (" 3 ", 3.0), ("-5", 0.0), ("0", 0.0),
    (None, None), ("", None), ("nan", None), ("inf", None), ("-inf", None), ("soon", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", None),
])
def test_retry_after_is_seconds_or_nothing(value, seconds):
    assert retry_after(value) == seconds


def test_the_examples_in_the_docstrings_hold():
    result = doctest.testmod(responses)
    assert result.attempted >= 2 and result.failed == 0

