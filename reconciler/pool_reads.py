"""What a run reads for Messaging Services besides the senders: each account's pools, and where a file names a
service that could not be found.

    live = await read_account(client, pools, "AC…")          # senders and pools side by side, pools into ``pools``
    plan = placed(build_plan(state, live, pools=...), state)  # a service problem points at file:line:col

Pools are read only for an account whose files declare ``messaging_service`` (or whose saved plan changes a
pool), on the account's own client, so they count against its concurrency and nothing else is asked of v1.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from dataclasses import replace

from reconciler.client import SendersClient
from reconciler.config.places import locate
from reconciler.models import DesiredState, LivePools, LiveSender
from reconciler.plan import Plan
from reconciler.services import ServicePools

__all__ = ["ServicePools", "placed", "read_account"]  # ServicePools for the session: one import for pools


async def read_account(client: SendersClient, pools: MutableMapping[str, LivePools] | None, account: str,
                       senders: list[LiveSender] | None = None) -> list[LiveSender]:
    """The account's live senders (``senders`` when they are read already) and, when ``pools`` is given, its
    Messaging Services' pools side by side, put in ``pools`` under ``account``."""
    if pools is None:
        return senders if senders is not None else await client.list_senders()
    reading = asyncio.ensure_future(ServicePools(client).read())
    try:
        live = senders if senders is not None else await client.list_senders()
        pools[account] = await reading
    finally:
        if not reading.done():  # the senders could not be read: the pools are not needed
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
    return live


def placed(plan: Plan, state: DesiredState) -> Plan:
    """The plan with each service problem's ``where`` read from its file: ``senders.yaml:12:24``."""
    if not any(p.kind in ("service_unknown", "service_ambiguous") for p in plan.problems):
        return plan
    places = state.service_declarations
    problems = tuple(replace(p, where=str(locate(*places[p.sender_id]))) if p.sender_id in places and p.kind in (
        "service_unknown", "service_ambiguous") else p for p in plan.problems)
    return replace(plan, problems=problems)
