"""Notifications through Apprise: URLs split as Apprise splits them, shown without credentials, sent to a webhook
on loopback, and a failure kept a warning."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from reconciler.accounts.record import AccountPlan, AccountRef
from reconciler.errors import Interrupted, ReconcilerError
from reconciler.notify import Notifications, NotifyError, split_urls
from reconciler.plan import build_plan
from tests.factories import A, desired, state
from tests.hostile_server import HostileServer, reply

ACCOUNT = AccountRef("AC" + "1" * 32, "Main")
DRIFTED = [AccountPlan(ACCOUNT, build_plan(state(desired(A, profile={"name": "Acme"})), []))]


def url(server: HostileServer, path: str = "hook") -> str:
    return f"json://me:pa55word@127.0.0.1:{server.base_url.rsplit(':', 1)[1]}/{path}"


def test_urls_are_split_on_spaces_commas_and_semicolons_before_a_scheme() -> None:
    assert split_urls(["json://a/x, form://b/y;mailto://u:p@c.example?to=d@e.example,f@g.example  ", "", " ; "]) == [
        "json://a/x", "form://b/y", "mailto://u:p@c.example?to=d@e.example,f@g.example"]


def test_no_url_needs_no_apprise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)
    notifications = Notifications(["", " "])
    assert not notifications and notifications.of_drift(DRIFTED) == []
    with pytest.raises(NotifyError, match=r"its 'notify' extra: pip install 'whatsapp-senders-reconciler\[notify\] @ git\+"):
        Notifications(["json://127.0.0.1:9/"])


def test_a_url_is_shown_without_its_credentials() -> None:
    with pytest.raises(NotifyError) as caught:
        Notifications(["json://127.0.0.1:9/", "nope://user:secret@host/token"])
    assert str(caught.value).startswith("--notify nope://…, URL 2 of 2: not a notification URL Apprise can use")
    assert "secret" not in str(caught.value) and "token" not in str(caught.value)
    with pytest.raises(NotifyError, match="--notify a value that is not a URL: not a notification URL"):
        Notifications(["user:secret"])


def test_the_message_reaches_a_webhook_and_a_refusal_is_a_warning() -> None:
    with HostileServer(lambda r: reply(200, {})) as good, HostileServer(lambda r: reply(500, {})) as bad:
        notifications = Notifications([f"{url(good)} {url(bad, 'down')}"])
        warnings = notifications.of_drift(DRIFTED)
        (received,) = [json.loads(r.body) for r in good.requests]
        assert len(bad.requests) == 1
    assert received["title"] == "reconciler drift: drift in 1 of 1 account" and received["type"] == "warning"
    assert warnings == [f"Warning: the notification to JSON (json://127.0.0.1:{bad.base_url.rsplit(':', 1)[1]}/…, "
                        "URL 2 of 2) could not be sent (refused, or not reached); the exit code is what the check found"]
    assert "pa55word" not in "".join(warnings)


def test_an_error_is_sent_then_raised_on_and_an_interrupt_is_not_sent() -> None:
    said: list[str] = []
    with HostileServer(lambda r: reply(200, {})) as hook:
        notifications = Notifications([url(hook)])
        with pytest.raises(ReconcilerError, match="no credentials"), notifications.of_errors(said.extend):
            raise ReconcilerError("no credentials")
        with pytest.raises(Interrupted), notifications.of_errors(said.extend):
            raise Interrupted("stopped")
        (received,) = [json.loads(r.body) for r in hook.requests]
    assert received["type"] == "failure" and "Error: no credentials" in received["message"] and said == []


def test_apprise_s_loggers_are_held_back_while_sending_and_given_back(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with HostileServer(lambda r: reply(500, {})) as hook:
        Notifications([url(hook)]).of_drift(DRIFTED)
    assert "pa55word" not in caplog.text and "127.0.0.1" not in caplog.text
    assert logging.getLogger("apprise").propagate and logging.getLogger("urllib3").propagate
