"""Stop and abort requests for an apply in progress, from a signal handler to the event loop that writes.

    interrupts = Interrupts(on_stop=progress.stopping)
    interrupts.request()      # first: stop new writes (in-flight ones finish); second: abort those in flight
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class Interrupts:
    """Stop and abort requests for an apply in progress; ``request()`` is safe to call from a signal handler.

    The first request stops new writes (in-flight ones finish), the second aborts those in flight.
    """

    def __init__(self, on_stop: Callable[[], None] | None = None):
        self.on_stop = on_stop
        self.stopped = False
        self.aborted = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._abort: asyncio.Event | None = None

    def request(self) -> None:
        if not self.stopped:
            self.stopped = True
            if self.on_stop is not None:
                self.on_stop()
            self._set(self._stop)
        else:
            self.aborted = True
            self._set(self._abort)

    def _set(self, event: asyncio.Event | None) -> None:
        if self._loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing is left to stop
                self._loop.call_soon_threadsafe(event.set)

    def bind(self) -> tuple[asyncio.Event, asyncio.Event]:
        """The events apply watches, bound to the running loop and set already for earlier requests."""
        self._loop = asyncio.get_running_loop()
        self._stop, self._abort = asyncio.Event(), asyncio.Event()
        if self.stopped:
            self._stop.set()
        if self.aborted:
            self._abort.set()
        return self._stop, self._abort
