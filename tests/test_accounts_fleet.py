"""What a run's accounts share: a window sized to the file descriptors, and connections closed at the end."""

from __future__ import annotations

import asyncio

import httpx

from reconciler.accounts.fleet import Fleet
from reconciler.accounts.window import descriptor_ceiling


def test_the_window_fits_the_connections_an_account_holds_and_the_cap() -> None:
    async def go() -> list[tuple[int, int]]:
        sizes = []
        for connections, cap in ((1, None), (25, None), (1, 3)):
            async with Fleet.open("https://api.test", timeout=5, connections=connections, cap=cap) as fleet:
                sizes.append((fleet.window.ceiling, fleet.window.limit))
        return sizes

    one, many, capped = asyncio.run(go())
    assert one == (descriptor_ceiling(1), min(20, descriptor_ceiling(1)))
    assert many[0] == descriptor_ceiling(25) < one[0]
    assert capped == (3, 3)


def test_its_connections_are_closed_at_the_end() -> None:
    async def go() -> httpx.AsyncClient:
        async with Fleet.open("https://api.test", timeout=5, connections=1, cap=None) as fleet:
            connection = fleet.connections.take()
            fleet.connections.give(connection)
        return connection

    assert asyncio.run(go()).is_closed
