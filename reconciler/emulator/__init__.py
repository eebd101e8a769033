"""A local, stateful emulator of Twilio's Messaging v2 Senders API (WhatsApp senders), with the v2010
Accounts resource and Messaging v1 Services and their sender pools (ChannelSenders).

>>> from reconciler.emulator import EmulatorServer, Faults
>>> with EmulatorServer(faults=Faults(seed=1, rate_429=0.1)) as server:   # doctest: +SKIP
...     print(server.base_url)
>>> with EmulatorServer(subaccounts=2) as server:                         # doctest: +SKIP
...     parent, first, second = server.accounts()                         # EmulatorAccount records

See docs/emulator.md for the behaviour, the options and the known differences from Twilio.
``EmulatorServer`` is imported on first use, so that importing :mod:`reconciler.emulator.cli` (to
register the ``emulator`` command) does not load aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.emulator.accounts import EmulatorAccount
from reconciler.emulator.faults import Faults

if TYPE_CHECKING:
    from reconciler.emulator.server import EmulatorServer

__all__ = ["EmulatorAccount", "EmulatorServer", "Faults"]


def __getattr__(name: str) -> Any:
    if name == "EmulatorServer":
        from reconciler.emulator.server import EmulatorServer

        return EmulatorServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
