"""What the clients of a run's accounts share: the window of accounts in flight and the connections.

    async with Fleet.open(base_url, timeout=30.0, connections=1, cap=None) as fleet:
        async with SendersClient(credentials, base_url=base_url, observer=fleet.window.answered,
                                 connections=fleet.connections) as api:   # one account's client
            ...

Each account keeps its own client, and so its own adaptive limit (Twilio's is per account); what they
share is what bounds the process, not the accounts: how many accounts are in flight
(:class:`~reconciler.accounts.window.Window`, which hears every answer) and the connections, which carry
any account's requests, the credentials going with each (:class:`~reconciler.connections.Connections`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from reconciler.accounts.window import Window, descriptor_ceiling
from reconciler.connections import Connections


@dataclass(frozen=True)
class Fleet:
    window: Window
    connections: Connections

    @staticmethod
    @contextlib.asynccontextmanager
    async def open(base_url: str, *, timeout: float, connections: int, cap: int | None) -> AsyncIterator[Fleet]:
        """For accounts that each hold up to ``connections`` connections at once: a window within the file descriptors
        the process may open and ``cap`` (``--account-concurrency``), and connections to ``base_url``, all closed
        at the end."""
        pool = Connections(base_url, timeout=timeout)
        try:
            yield Fleet(Window(ceiling=descriptor_ceiling(connections), cap=cap), pool)
        finally:
            await pool.aclose()
