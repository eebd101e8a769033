"""Unit tests of the exception hierarchy: what each error says, and that an API error is a value."""

from __future__ import annotations

import copy
import doctest
import pickle
import sys

import pytest

from reconciler import errors
from reconciler.errors import (
    ApiError,
    ConfigError,
    ConfigIssue,
    Location,
    ReconcilerError,
    SafetyViolation,
    UnsafePlanError,
)

SENDER = "whatsapp:+15017122661"
ACCOUNT = "AC" + "1" * 32 + " (shop)"
FIELDS = {
    "status": 401, "code": 20003, "more_info": "https://www.twilio.com/docs/errors/20003", "method": "GET",
    "url": "https://messaging.twilio.com/v2/Channels/Senders", "sender_id": SENDER, "outcome_unknown": True,
    "may_land_later": True, "credential_vars": ("TWILIO_API_KEY", "TWILIO_API_SECRET"), "account": ACCOUNT,
}


def _values(error: ApiError) -> dict[str, object]:
    return {"message": error.message, **{name: getattr(error, name) for name in FIELDS}, "str": str(error)}


# --------------------------------------------------------------------------- locations and config errors


@pytest.mark.parametrize(("location", "shown"), [
    (Location("senders.yaml"), "senders.yaml"),
    (Location("senders.yaml", 12), "senders.yaml:12"),
    (Location("senders.yaml", 12, 7), "senders.yaml:12:7"),
    (Location("senders.yaml", None, 7), "senders.yaml"),
])
def test_a_location_shows_as_much_as_it_knows(location, shown):
    assert str(location) == shown


def test_a_config_error_carries_every_issue_one_a_line():
    first = ConfigIssue(Location("a.yaml", 3, 5), "profile.name: required", sender_id=SENDER)
    second = ConfigIssue(Location("b.yaml", 9), "unknown key 'colour'")
    error = ConfigError([first, second])
    assert error.issues == (first, second)
    assert str(error) == f"a.yaml:3:5: sender {SENDER}: profile.name: required\nb.yaml:9: unknown key 'colour'"
    assert ConfigError(second).issues == (second,)
    assert isinstance(error, ReconcilerError)


# --------------------------------------------------------------------------- safety


def test_a_safety_violation_names_the_count_the_total_and_the_limit():
    violation = SafetyViolation("delete", 3, 4, 50.0)
    assert violation.percent == 75.0
    assert str(violation) == "would delete 3 of 4 senders (75 % > 50 %)"
    assert str(SafetyViolation("update", 1, 3, 12.5, account=ACCOUNT)) == (
        f"account {ACCOUNT}: would update 1 of 3 senders (33 % > 12.5 %)")


def test_an_unsafe_plan_says_every_threshold_it_crosses():
    violations = (SafetyViolation("delete", 3, 4, 50.0), SafetyViolation("update", 4, 4, 90.0))
    error = UnsafePlanError(violations, saved=False)
    assert str(error) == "would delete 3 of 4 senders (75 % > 50 %); would update 4 of 4 senders (100 % > 90 %)"
    assert (error.violations, error.saved) == (violations, False)
    assert UnsafePlanError(violations).saved is None


# --------------------------------------------------------------------------- API errors


@pytest.mark.parametrize(("kwargs", "shown"), [
    ({}, "Internal"),
    ({"status": 500}, "[HTTP 500] Internal"),
    ({"code": 20500}, "[error / Twilio 20500] Internal"),
    ({"status": 500, "code": 20500, "method": "POST", "url": "https://x.test/v2"},
     "[HTTP 500 / Twilio 20500] Internal (POST https://x.test/v2)"),
    ({"method": "POST"}, "Internal"),
    ({"more_info": "https://x.test/20500"}, "Internal see https://x.test/20500"),
    ({"sender_id": SENDER, "account": ACCOUNT}, f"account {ACCOUNT}: sender {SENDER}: Internal"),
])
def test_an_api_error_says_where_who_what_and_where_to_read_more(kwargs, shown):
    assert str(ApiError("Internal", **kwargs)) == shown


def test_every_attribute_is_set_when_the_error_is_built():
    bare = ApiError("Authenticate")
    assert (bare.status, bare.code, bare.more_info, bare.method, bare.url, bare.sender_id, bare.account) == (None,) * 7
    assert (bare.outcome_unknown, bare.may_land_later, bare.credential_vars) == (False, False, ())
    full = ApiError("Authenticate", **FIELDS)  # type: ignore[arg-type]
    assert _values(full) == {"message": "Authenticate", **FIELDS, "str": (
        f"account {ACCOUNT}: sender {SENDER}: [HTTP 401 / Twilio 20003] Authenticate "
        "(GET https://messaging.twilio.com/v2/Channels/Senders) see https://www.twilio.com/docs/errors/20003")}


@pytest.mark.parametrize("name", ["message", "status", *FIELDS, "args", "brand_new"])
def test_an_api_error_is_not_changed_once_built(name):
    error = ApiError("Authenticate", status=401)
    before = (_values(error), error.args)
    with pytest.raises(AttributeError, match="with_context"):
        setattr(error, name, "changed")
    with pytest.raises(AttributeError):
        delattr(error, name)
    assert (_values(error), error.args) == before


def test_python_s_own_bookkeeping_on_an_api_error_still_works():
    cause = ValueError("underneath")
    with pytest.raises(ApiError) as caught:
        try:
            raise cause
        except ValueError as exc:
            raise ApiError("failed") from exc
    error = caught.value
    assert error.__cause__ is cause and error.__traceback__ is not None
    error.__traceback__ = None
    error.__suppress_context__ = False
    if sys.version_info >= (3, 11):
        error.add_note("a note")
        error.add_note("another")
        assert error.__notes__ == ["a note", "another"]


def test_with_context_is_a_copy_and_the_original_is_untouched():
    error = ApiError("Authenticate", status=401, code=20003, method="GET", url="https://x.test/v2")
    before = _values(error)
    told = error.with_context(sender_id=SENDER, account=ACCOUNT, credential_vars=("TWILIO_AUTH_TOKEN",),
                              may_land_later=True, outcome_unknown=True)
    assert _values(error) == before
    assert told is not error and type(told) is ApiError
    assert (told.sender_id, told.account, told.credential_vars, told.may_land_later, told.outcome_unknown) == (
        SENDER, ACCOUNT, ("TWILIO_AUTH_TOKEN",), True, True)
    assert (told.message, told.status, told.code, told.method, told.url) == (
        "Authenticate", 401, 20003, "GET", "https://x.test/v2")
    assert str(told) == told.args[0] == (
        f"account {ACCOUNT}: sender {SENDER}: [HTTP 401 / Twilio 20003] Authenticate (GET https://x.test/v2)")


def test_with_context_keeps_what_it_is_not_given_and_replaces_what_it_is():
    error = ApiError("Authenticate", **FIELDS)  # type: ignore[arg-type]
    assert _values(error.with_context()) == _values(error)
    other = "AC" + "2" * 32 + " (other)"
    moved = error.with_context(account=other, outcome_unknown=False, may_land_later=False, credential_vars=())
    assert (moved.account, moved.outcome_unknown, moved.may_land_later, moved.credential_vars) == (other, False, False, ())
    assert (moved.sender_id, moved.code, moved.more_info) == (SENDER, 20003, FIELDS["more_info"])
    stepwise = ApiError("Authenticate", status=401).with_context(sender_id=SENDER).with_context(account=ACCOUNT)
    assert (stepwise.sender_id, stepwise.account) == (SENDER, ACCOUNT)


def test_with_context_says_how_many_attempts_were_made_after_the_message():
    error = ApiError("connection to api.test failed: ConnectError: refused", method="GET", url="https://api.test/v2")
    tried = error.with_context(attempts=3)
    assert tried.message == "connection to api.test failed: ConnectError: refused (after 3 attempts)"
    assert str(tried) == f"{tried.message} (GET https://api.test/v2)"
    assert error.message.endswith("refused")


def test_a_subclass_s_copy_is_a_plain_api_error():
    class Marked(ApiError):
        def __init__(self, message: str, *, mark: str, **fields: object):
            self.mark = mark
            super().__init__(message, **fields)  # type: ignore[arg-type]

    marked = Marked("busy", mark="x", status=503)
    assert marked.mark == "x"
    with pytest.raises(AttributeError):
        marked.mark = "y"
    told = marked.with_context(sender_id=SENDER)
    assert type(told) is ApiError and (told.status, told.sender_id) == (503, SENDER)


@pytest.mark.parametrize("duplicate", [copy.copy, copy.deepcopy, lambda e: pickle.loads(pickle.dumps(e))],
                         ids=["copy", "deepcopy", "pickle"])
def test_an_api_error_copies_and_pickles_whole(duplicate):
    error = ApiError("Authenticate", **FIELDS)  # type: ignore[arg-type]
    again = duplicate(error)
    assert again is not error and _values(again) == _values(error) and again.args == error.args
    with pytest.raises(AttributeError):
        again.status = 500


def test_the_examples_in_the_docstrings_hold():
    result = doctest.testmod(errors)
    assert result.attempted >= 3 and result.failed == 0
