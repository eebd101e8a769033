"""A local, stateful emulator of Twilio's Messaging v2 Senders API (WhatsApp senders).

>>> from reconciler.emulator import EmulatorServer, Faults
>>> with EmulatorServer(faults=Faults(seed=1, rate_429=0.1)) as server:   # doctest: +SKIP
...     print(server.base_url)

See docs/emulator.md for the behaviour, the options and the known differences from Twilio.
"""

from reconciler.emulator.faults import Faults
from reconciler.emulator.server import EmulatorServer

__all__ = ["EmulatorServer", "Faults"]
