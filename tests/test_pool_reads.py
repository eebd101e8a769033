"""What a run reads for Messaging Services: pools beside senders, only when asked; problems placed in the files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.client import Credentials, RetryPolicy, SendersClient
from reconciler.config import load_desired
from reconciler.errors import ApiError
from reconciler.models import DesiredState, LivePools, Service
from reconciler.plan import build_plan
from reconciler.pool_reads import placed, read_account
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, A, B, api_sender, live, sid_of

CREDS = Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_ACCOUNT_SID)
FAST = RetryPolicy(attempts=2, backoff=0.001, max_backoff=0.01, timeout=5)
SALES = "MG" + "a" * 32


class Api:
    """Senders, one service and its pool; every request's path kept."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.fail_senders = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path == "/v2/Channels/Senders":
            if self.fail_senders:
                return httpx.Response(403, json={"code": 20003, "message": "Authenticate"})
            return httpx.Response(200, json={"senders": [api_sender(1)], "meta": {"next_page_url": None}})
        if request.url.path == "/v1/Services":
            return httpx.Response(200, json={"services": [{"sid": SALES, "friendly_name": "Sales"}], "meta": {}})
        return httpx.Response(200, json={"senders": [{"sid": api_sender(1)["sid"]}], "meta": {}})


def read(api: Api, pools: dict[str, LivePools] | None, senders: Any = None) -> Any:
    async def go() -> Any:
        async with SendersClient(CREDS, base_url="https://m.test", transport=httpx.MockTransport(api),
                                 retry=FAST) as client:
            return await read_account(client, pools, "AC1", senders)

    return asyncio.run(go())


def test_without_pools_asked_for_no_v1_request_is_made() -> None:
    api = Api()
    live_senders = read(api, None)
    assert [s.sid for s in live_senders] == [api_sender(1)["sid"]] and api.paths == ["/v2/Channels/Senders"]


def test_pools_asked_for_are_read_beside_the_senders() -> None:
    api, pools = Api(), {}
    live_senders = read(api, pools)
    assert len(live_senders) == 1
    assert pools == {"AC1": LivePools.of([Service(SALES, "Sales")], {SALES: [api_sender(1)["sid"]]})}
    assert sorted(api.paths) == sorted(["/v2/Channels/Senders", "/v1/Services", f"/v1/Services/{SALES}/ChannelSenders"])


def test_senders_read_already_are_not_read_again() -> None:
    api, pools = Api(), {}
    given = [live(A)]
    assert read(api, pools, given) is given
    assert "/v2/Channels/Senders" not in api.paths and pools["AC1"].services == (Service(SALES, "Sales"),)


def test_senders_that_cannot_be_read_stop_the_pools_read() -> None:
    api, pools = Api(), {}
    api.fail_senders = True
    with pytest.raises(ApiError, match="Authenticate"):
        read(api, pools)
    assert pools == {}


def test_a_service_problem_points_at_its_place_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "senders.yaml"
    path.write_text(f"defaults:\n  messaging_service: Nope\nsenders:\n  - sender_id: {A}\n  - sender_id: {B}\n"
                    "    messaging_service: Sales\n")
    state = load_desired([path])
    plan = build_plan(state, [live(A), live(B)], pools=LivePools.of([Service(SALES, "Sales")], {}))
    assert [(p.sender_id, p.where) for p in plan.problems] == [(A, str(path))]
    assert [(p.sender_id, p.where) for p in placed(plan, state).problems] == [(A, f"{path}:2:22")]
    assert [a.sid for a in placed(plan, state).actions] == [sid_of(B)]


def test_a_plan_without_service_problems_is_kept_as_it_is() -> None:
    plan = build_plan(DesiredState(), [])
    assert placed(plan, DesiredState()) is plan
