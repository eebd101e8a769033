"""Imported just before httpx, so that importing httpx does not import httpx's own command-line client, and
imports at once what httpx's transport would import on first use.

httpx's ``__init__`` imports ``httpx._main`` (its CLI: click, rich and pygments, about 0.1 s of CPU) whenever
those are installed, as rich and click are here, and falls back to a stub ``main`` when that import fails.
This module holds a placeholder for ``httpx._main`` while httpx is imported, so httpx takes its fallback, then
removes it: nothing else changes, and a later ``import httpx._main`` finds the real module.

httpx imports its transport (httpcore, h11, certifi), and anyio its parts, on first use. A client's first
request may be made in a second thread (the parent's senders are read while the main thread loads the files,
which imports too), and two threads importing at once can deadlock (importlib's ``_DeadlockError``): so they
are all imported here, by whoever imports the client. ``tests/integration/test_threads.py`` checks that no
module is left to be imported first in another thread.
"""

from __future__ import annotations

import sys
import types

if "httpx" not in sys.modules:
    _placeholder = types.ModuleType("httpx._main")  # no ``main``: httpx's ``from ._main import main`` fails
    sys.modules.setdefault("httpx._main", _placeholder)
    try:
        import httpx  # noqa: F401
    finally:
        if sys.modules.get("httpx._main") is _placeholder:
            del sys.modules["httpx._main"]

import anyio
import anyio._backends._asyncio  # the backend anyio imports when first asked for one
import certifi  # noqa: F401
import httpcore  # noqa: F401

for _name in dir(anyio):  # each name anyio would import on its first use
    getattr(anyio, _name)
