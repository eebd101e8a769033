"""Imported just before httpx, so that importing httpx does not import httpx's own command-line client.

httpx's ``__init__`` imports ``httpx._main`` (its CLI: click, rich and pygments, about 0.1 s of CPU) whenever
those are installed, as rich and click are here, and falls back to a stub ``main`` when that import fails.
This module holds a placeholder for ``httpx._main`` while httpx is imported, so httpx takes its fallback, then
removes it: nothing else changes, and a later ``import httpx._main`` finds the real module.
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
