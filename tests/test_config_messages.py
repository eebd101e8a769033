"""``reconciler/config/messages.py``: pydantic's validation errors → one sentence each, at its place in the data.

Unit tests of ``validation_messages`` and ``kind_of`` on the models' own errors: where each message is
placed, what it says, which errors it leaves out, and that a value from ``${...}`` is never quoted. The
messages as a user reads them, with ``file:line:col``, are tests/test_config.py's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from reconciler.config.messages import MISSING, NULL_HINT, Message, kind_of, validation_messages
from reconciler.models import VERTICALS_SOURCE, SendersFile

A = "whatsapp:+15017122661"
#: What a variable may hold: it must never appear in a message about a value that came from it.
SECRET = "s3cr3t-from-the-environment"


def messages(data: dict[str, Any], **kwargs: Any) -> list[Message]:
    with pytest.raises(ValidationError) as caught:
        SendersFile.model_validate(data)
    return validation_messages(caught.value, **kwargs)


def one(**sender: Any) -> dict[str, Any]:
    return {"senders": [{"sender_id": A, **sender}]}


@pytest.mark.parametrize(("value", "said"), [
    (True, "a boolean (true)"),
    (0, "a number (0)"),
    (1.5, "a number (1.5)"),
    ("x" * 100, "a string ('" + "x" * 56 + "...)"),
    ({"a": 1}, "a mapping"),
    ([1], "a list"),
    (date(2024, 1, 31), "a date (2024-01-31)"),
    (None, "a NoneType (None)"),
])
def test_kind_of_words_a_value_for_a_message(value: object, said: str) -> None:
    assert kind_of(value) == said


def test_a_required_key_is_placed_at_the_mapping_that_lacks_it() -> None:
    (said,) = messages({"senders": [{"profile": {"name": "Acme"}}]})
    assert said == Message("sender_id is required", ("senders", 0, MISSING))


def test_an_unknown_key_points_at_the_key_with_a_suggestion_or_the_choices() -> None:
    close, far = messages(one(profil={}, zzz=1))
    assert close == Message("unknown key 'profil'; did you mean 'profile'?", ("senders", 0, "profil"), True)
    assert far.key and far.text.startswith("unknown key 'zzz'; expected one of: configuration, webhook, profile, ")


def test_a_null_says_how_to_stop_managing_or_clear_a_field() -> None:
    (said,) = messages(one(profile={"about": None}))
    assert said == Message(NULL_HINT, ("senders", 0, "profile", "about"))


@pytest.mark.parametrize(("value", "text"), [
    (5, "expected a string, got a number (5) (quote it)"),
    (date(2024, 1, 31), "expected a string, got a date (2024-01-31) (quote it)"),
    (["Acme"], "expected a string, got a list"),
])
def test_a_value_of_the_wrong_type_says_what_was_expected_and_when_quoting_fixes_it(value: object, text: str) -> None:
    (said,) = messages(one(profile={"name": value}))
    assert said.text == text


def test_a_choice_names_every_allowed_value_where_they_come_from_and_the_closest() -> None:
    (typo,) = messages(one(profile={"vertical": "Other "}))
    assert typo.text.startswith("'Other ' is not one of 'Alcohol', ")
    assert typo.text.endswith(f"({VERTICALS_SOURCE}); did you mean 'Other'?")
    (number,) = messages(one(profile={"vertical": 5}))
    assert number.text.startswith("5 is not one of 'Alcohol'") and "did you mean" not in number.text
    (method,) = messages(one(webhook={"callback_method": "get"}))
    assert method.text == "'get' is not one of 'POST', 'PUT'"  # nothing close enough to suggest


def test_lengths_and_counts_say_the_limit() -> None:
    about, websites = messages(one(profile={"about": "x" * 200,
                                            "websites": ["https://a.example", "https://b.example", "https://c.example"]}))
    assert about.text == "200 characters; Meta allows at most 139"
    assert websites.text == "3 websites; Meta allows at most 2"
    (empty,) = messages(one(profile={"name": ""}))
    assert empty.text == "0 characters; at least 1 needed"


def test_errors_at_or_under_a_reported_path_are_left_out() -> None:
    data = one(profile={"about": 7, "websites": ["ftp://x"]}, webhook={"callback_url": "ftp://y"})
    everything = messages(data)
    assert len(everything) == 3
    left = messages(data, reported={("senders", 0, "profile")})
    assert [m.path for m in left] == [("senders", 0, "webhook", "callback_url")]


@pytest.mark.parametrize(("sender", "text"), [
    ({"webhook": {"callback_url": SECRET}}, "not an absolute http(s) URL"),
    ({"configuration": {"waba_id": SECRET}}, "must be digits"),
    ({"profile": {"vertical": SECRET}}, "not one of 'Alcohol', "),
    ({"profile": {"about": SECRET * 10}}, "too long: Meta allows at most 139 characters"),
    ({"profile": {"name": 5}}, "expected a string, got a number"),
    ({"profile": {"websites": [SECRET] * 3}}, "3 websites; Meta allows at most 2"),
])
def test_a_value_from_a_variable_is_never_quoted_only_what_was_expected(sender: dict[str, Any], text: str) -> None:
    said = messages(one(**sender), origin_of=lambda path: "${HOOKS}")
    assert said and all(m.origin == "${HOOKS}" for m in said)
    assert said[0].text.startswith(text)
    assert not any(SECRET in m.text for m in said)


def test_a_number_out_of_range_is_worded_without_the_value_when_it_came_from_a_variable() -> None:
    data = {"senders": [], "safety": {"max_delete_percent": -1}}
    (plain,) = messages(data)
    (hidden,) = messages(data, origin_of=lambda path: "${LIMIT}")
    assert plain.text == "-1: input should be greater than or equal to 0"
    assert hidden == Message("input should be greater than or equal to 0", ("safety", "max_delete_percent"),
                             origin="${LIMIT}")


def test_the_origin_is_asked_for_each_error_s_own_path() -> None:
    asked: list[tuple[Any, ...]] = []

    def origin_of(path: tuple[Any, ...]) -> str | None:
        asked.append(path)
        return "${X}" if path[-1] == "callback_url" else None

    url, about = messages(one(profile={"about": 7}, webhook={"callback_url": "ftp://z"}), origin_of=origin_of)
    assert asked == [url.path, about.path] == [("senders", 0, "webhook", "callback_url"), ("senders", 0, "profile", "about")]
    assert url == Message("not an absolute http(s) URL", url.path, origin="${X}")
    assert about.origin is None and about.text == "expected a string, got a number (7) (quote it)"
