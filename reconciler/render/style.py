"""Colour for a terminal, nothing elsewhere."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO

Style = Callable[[str, str], str]

_CODES = {"create": "32", "update": "33", "pool": "33", "delete": "31", "bold": "1", "dim": "2", "warn": "33", "error": "31"}


def plain(text: str, _style: str) -> str:
    return text


def ansi(text: str, style: str) -> str:
    """Minimal ANSI colouring: green create, yellow update, red delete, bold headings."""
    return f"\x1b[{_CODES[style]}m{text}\x1b[0m"


def wants_color(stream: IO[str]) -> bool:
    """Colour only on a terminal, and never with ``NO_COLOR`` set (https://no-color.org)."""
    return stream.isatty() and "NO_COLOR" not in os.environ


def styler(color: bool) -> Style:
    return ansi if color else plain
