"""What every route of the emulator shares: Twilio's error answer, JSON answers, the drop after a commit."""

from __future__ import annotations

import contextvars
import json

import pytest

from reconciler.emulator import wire
from reconciler.emulator.validation import ApiProblem


def test_a_problem_is_twilios_error_body_with_its_status_and_extra_headers():
    response = wire.problem_response(ApiProblem(409, 21710, "already there"), {"T-Request-Id": "RQ1"})
    assert response.status == 409
    assert response.headers["Content-Type"].startswith("application/json") and response.headers["T-Request-Id"] == "RQ1"
    assert json.loads(response.text) == {
        "code": 21710, "message": "already there", "more_info": "https://www.twilio.com/docs/errors/21710", "status": 409,
    }  # fmt: skip


def test_a_json_answer_is_compact_utf8_with_its_status():
    response = wire.json_response({"friendly_name": "Café"}, 201)
    assert response.status == 201 and response.text == '{"friendly_name":"Café"}'
    assert response.headers["Content-Type"].startswith("application/json")


def test_commit_or_drop_drops_only_when_the_request_drew_a_drop():
    def commit(drop: bool) -> None:
        wire.DROP_AFTER_COMMIT.set(drop)
        wire.commit_or_drop()

    contextvars.copy_context().run(commit, False)  # nothing raised
    with pytest.raises(wire.DropConnection):
        contextvars.copy_context().run(commit, True)
    wire.commit_or_drop()  # outside any request: the default is not to drop
