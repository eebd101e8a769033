"""reconciler's own traffic, validated by Stoplight Prism against Twilio's official spec.

The real client reads, plans, applies (create, update, delete), verifies and confirms through a
Prism proxy in front of the emulator. Every response is checked for Prism's violation reports, so
a request our client shapes wrongly, or a response the emulator shapes wrongly, fails the test.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from reconciler.apply import apply_plan
from reconciler.client import Credentials, SendersClient
from reconciler.models import DesiredSender, DesiredState
from reconciler.plan import build_plan
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.prism import violations

pytestmark = pytest.mark.prism

A, B, C = "whatsapp:+15017122661", "whatsapp:+15017122662", "whatsapp:+15017122663"


def test_plan_apply_verify_traffic_conforms_to_the_spec(prism_url, emulator):
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "old"},
                         "webhook": {"callback_url": "https://hooks.example.com/a", "callback_method": "POST"}})
    emulator.add_sender({"sender_id": C, "profile": {"name": "Gone"}})
    for i in range(25):  # more than one page at the page size used below
        emulator.add_sender({"sender_id": f"whatsapp:+1501712{3000 + i:04d}", "profile": {"name": f"Shop {i}"}})
    desired = DesiredState(senders=(
        DesiredSender(sender_id=A, profile={"about": "new", "emails": ["a@acme.example"], "websites": ["https://acme.example"],
                                             "vertical": "Other"},
                      webhook={"fallback_url": "https://f.example.com", "fallback_method": "PUT"}),
        DesiredSender(sender_id=B, profile={"name": "Beta", "vertical": "Education"},
                      configuration={"verification_method": "sms"}),
        *(DesiredSender(sender_id=f"whatsapp:+1501712{3000 + i:04d}") for i in range(25)),
    ))
    seen: list[str] = []
    found: list[dict] = []

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

    async def scenario() -> None:
        creds = Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
        async with SendersClient(creds, base_url=prism_url, page_size=10, transport=Recording()) as api:
            plan = build_plan(desired, await api.list_senders(), allow_delete=True)
            assert plan.summary() == {"create": 1, "update": 1, "delete": 1, "pool": 0}
            report = await apply_plan(plan, api, concurrency=3)
            assert report.ok, [o.as_dict() for o in report.outcomes]
            created = next(s for s in await api.list_senders() if s.sender_id == B)
            assert created.status == "PENDING_VERIFICATION"
            await api.update(created.sid, {"configuration": {"verification_code": "123456"}})
            again = build_plan(desired, await api.list_senders(), allow_delete=True)
            assert again.actions == ()

    asyncio.run(scenario())
    assert not found, json.dumps(found, indent=1)
    kinds = {" ".join(s.split()[::2]) for s in seen}
    assert {"GET 200", "POST 202", "DELETE 204"} <= kinds, seen
    assert sum(1 for s in seen if s.startswith("GET /v2/Channels/Senders ")) >= 3 * 4  # paged reads, four times
