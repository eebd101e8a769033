"""What every route of the emulator shares: JSON answers, Twilio's error answer, whom a request speaks for,
and the connection dropped after a committed write.

    raise ApiProblem(404, 20404, "...")    # a handler refuses; the server answers problem_response(problem)
    store.create(...); commit_or_drop()    # a write is stored: the connection closes now if a fault says so
    return json_response(resource, 201)

The two context variables are set by the server's middleware for the request it is handling (handlers
run in the same task, so they see the values).
"""

from __future__ import annotations

import contextvars
from typing import Any

from aiohttp import web

from reconciler.emulator.accounts import Principal
from reconciler.emulator.records import dumps
from reconciler.emulator.validation import ApiProblem

JSON_HEADERS = {"Content-Type": "application/json"}
CHALLENGE = {"WWW-Authenticate": 'Basic realm="Twilio API"'}
#: What aiohttp makes of JSON_HEADERS for a text body; a body given as bytes gets it spelt out.
JSON_UTF8_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
#: Drop the connection after this request's write is committed (a fault drawn for it).
DROP_AFTER_COMMIT: contextvars.ContextVar[bool] = contextvars.ContextVar("drop_after_commit", default=False)
#: Whom the request speaks for; None: no middleware ran (a benchmark calling a handler).
PRINCIPAL: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("principal", default=None)


class DropConnection(Exception):
    """The change is committed; answer by closing the connection without a response."""


def problem_response(problem: ApiProblem, headers: dict[str, str] | None = None) -> web.Response:
    """Twilio's ``{code, message, more_info, status}`` with the problem's status."""
    return web.Response(
        status=problem.status, text=dumps(problem.body()), headers={**JSON_HEADERS, **(headers or {})}
    )


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=dumps(data), headers=JSON_HEADERS)


def commit_or_drop() -> None:
    """Call once a write is stored: raises :class:`DropConnection` when this request's fault says to drop it."""
    if DROP_AFTER_COMMIT.get():
        raise DropConnection()
