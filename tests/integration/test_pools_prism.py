"""reconciler's own Messaging v1 traffic, validated by Stoplight Prism against Twilio's v1 spec extract.

The pools are read (paged), a pool action moves a sender and another joins, all through a Prism proxy
in front of the emulator; every response is checked for Prism's violation reports, so a request our
client shapes wrongly (a JSON body where v1 takes a form, say) fails the test.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from reconciler.apply import apply_plan
from reconciler.client import Credentials, SendersClient
from reconciler.emulator import EmulatorServer
from reconciler.models import DesiredSender, DesiredState
from reconciler.plan import build_plan
from reconciler.services import ServicePools
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, A, B, url_of
from tests.prism import violations

pytestmark = pytest.mark.prism


def test_pool_reads_and_moves_conform_to_the_v1_spec(prism_v1_url: str, emulator: EmulatorServer) -> None:
    sids = {s: emulator.add_sender({"sender_id": s, "profile": {"name": "Shop"}})["sid"] for s in (A, B)}
    services = [emulator.add_service(name)["sid"] for name in ("Support line", "Sales", "Other")]
    emulator.add_to_service(services[0], sids[A])
    seen: list[str] = []
    found: list[dict[str, object]] = []

    class Recording(httpx.AsyncHTTPTransport):
        """The real transport, reading Prism's verdict on every response."""

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await super().handle_async_request(request)
            await response.aread()
            checked = httpx.Response(response.status_code, headers=response.headers, content=response.content,
                                     request=request)
            seen.append(f"{request.method} {request.url.path} {response.status_code}")
            found.extend({"request": seen[-1], **v} for v in violations(checked))
            return response

    desired = DesiredState(senders=(DesiredSender(sender_id=A, messaging_service="Sales"),
                                    DesiredSender(sender_id=B, messaging_service=services[2])))

    async def scenario() -> None:
        creds = Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
        async with SendersClient(creds, base_url=url_of(emulator)) as senders, \
                SendersClient(creds, base_url=prism_v1_url, transport=Recording()) as v1:
            pools = ServicePools(v1, page_size=2)  # three services: two pages
            plan = build_plan(desired, await senders.list_senders(), pools=await pools.read())
            assert plan.summary()["pool"] == 2
            report = await apply_plan(plan, senders, concurrency=2, pools=pools)
            assert report.ok, report.outcomes
            assert build_plan(desired, await senders.list_senders(), pools=await pools.read()).actions == ()

    asyncio.run(scenario())
    assert not found, json.dumps(found, indent=1)
    assert emulator.services_of(sids[A]) == [services[1]] and emulator.services_of(sids[B]) == [services[2]]
    kinds = {" ".join(s.split()[::2]) for s in seen}
    assert {"GET 200", "POST 201", "DELETE 204"} <= kinds, seen
    assert sum(1 for s in seen if s.startswith("GET /v1/Services ")) >= 2 * 3  # paged, three reads
