"""Credentials and the URL checks made before any request carries them (no network at all)."""

from __future__ import annotations

import pytest

import reconciler.auth as auth
import reconciler.client as client
from reconciler.auth import check_base_url, same_origin, shown_url
from reconciler.errors import CredentialsError


def test_the_client_module_still_offers_what_other_modules_import_from_it():
    for name in ("Credentials", "check_base_url", "is_loopback", "shown_url"):
        assert getattr(client, name) is getattr(auth, name)


# --------------------------------------------------------------------------- base URLs


@pytest.mark.parametrize("url", ["http://messaging.twilio.com", "http://10.0.0.5:8080", "http://example.test",
                                 "http://127.0.0.1.example.com", "http://[fe80::1]:80"])
def test_plain_http_refused_off_loopback(url):
    with pytest.raises(CredentialsError, match="use https"):
        check_base_url(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:80", "https://messaging.twilio.com/"])
def test_loopback_or_https_allowed(url):
    assert check_base_url(url) == url.rstrip("/")


USERINFO = [
    "https://AC1:se/cr?et#x@host",
    "https://AC1:se/cr?et#x@messaging.twilio.com/v2",
    "https://AC1:p@ss@messaging.twilio.com",
    "http://AC1:se/cr?et#x@127.0.0.1:8080",
    "htp://AC1:se/cr@h",
    "AC1:se/cr?et#x@h/x",
    "https://AC1:se/cr?et#x@host:notaport",
]
SECRET_PARTS = ("se/cr", "cr?et", "et#x", "p@ss")


@pytest.mark.parametrize("url", USERINFO)
def test_a_base_url_with_userinfo_is_refused_and_never_echoed(url):
    with pytest.raises(CredentialsError) as caught:
        check_base_url(url)
    text = str(caught.value) + repr(caught.value)
    assert "must not hold credentials" in text
    assert not [part for part in SECRET_PARTS if part in text], text


@pytest.mark.parametrize("url", ["ftp://host", "//host/x", "https://", "https://host:99999", "https://h:x"])
def test_a_base_url_that_is_no_http_url_is_refused(url):
    with pytest.raises(CredentialsError, match=r"not a valid URL|absolute http"):
        check_base_url(url)


# --------------------------------------------------------------------------- URLs fit to print


@pytest.mark.parametrize(("url", "shown"), [
    ("https://AC1:se/cr?et#x@host", "https://***@host"),
    ("https://AC1:se/cr?et#x@host/v2/Channels/Senders?PageToken=2", "https://***@host/v2/Channels/Senders?PageToken=2"),
    ("https://AC1:p@ss@host/x", "https://***@host/x"),
    ("htp://AC1:tok@h", "htp://***@h"),
    ("//AC1:tok@h/x", "//***@h/x"),
    ("AC1:se/cr?et#x@h/x", "***@h/x"),
    ("https://host/v2/Channels/Senders?PageToken=1", "https://host/v2/Channels/Senders?PageToken=1"),
    ("/v2/Channels/Senders/XE1", "/v2/Channels/Senders/XE1"),
    ("/v2/a@b", "/v2/a@b"),
    ("https://host/x\n\x1b[2J", "https://host/x\\n\\x1b[2J"),
    ("https://se\ncr\x1b@host", "https://***@host"),
])
def test_shown_url_drops_any_userinfo_and_escapes_controls(url, shown):
    assert shown_url(url) == shown


def test_shown_url_holds_no_part_of_any_userinfo():
    for url in USERINFO:
        assert not [part for part in SECRET_PARTS if part in shown_url(url)], url


# --------------------------------------------------------------------------- where a next page may lead


BASE = "https://messaging.twilio.com"


@pytest.mark.parametrize(("url", "same"), [
    ("/v2/Channels/Senders?PageToken=2", True),
    ("https://messaging.twilio.com/v2/Channels/Senders?PageToken=2", True),
    ("https://MESSAGING.twilio.com:443/v2/Channels/Senders", True),
    ("http://messaging.twilio.com/v2", False),
    ("https://messaging.twilio.com:8443/v2", False),
    ("https://evil.example/v2", False),
    ("//evil.example/v2", False),
    ("https://user:pw@messaging.twilio.com/v2", False),
    ("https://AC1:se/cr?et#x@messaging.twilio.com/v2", False),
    ("https://messaging.twilio.com:notaport/v2", False),
    ("javascript:alert(1)", False),
])
def test_same_origin(url, same):
    assert same_origin(url, BASE) is same
