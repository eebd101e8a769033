"""The benchmark's senders: N realistic WhatsApp senders, seeded live and written as a desired-state file.

Every sender manages the fields an ISV typically sets (WABA, webhooks, a full profile with a website
and an email), so validating and diffing a sender costs what it costs in real use. Numbers are
``+1501712xxxx`` for the first 10,000, then ``+1501713xxxx`` and on, 10,000 an exchange (valid NANP
numbers: ``phonenumbers`` accepts every exchange from 700 to 799 of area code 501).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reconciler.models import VERTICALS

#: Above this many senders, numbers run out of the exchanges 712 to 799 of area code 501.
MAX_SENDERS = 880_000


def sender_id(i: int) -> str:
    if not 0 <= i < MAX_SENDERS:
        raise ValueError(f"sender index {i} is out of range 0..{MAX_SENDERS - 1}")
    return f"whatsapp:+1501{712 + i // 10_000}{i % 10_000:04d}"


def sender_body(i: int, *, changed: bool = False) -> dict[str, Any]:
    """Sender ``i`` in the API's create-body shape; ``changed`` alters one profile field (``about``)."""
    about = f"Orders, opening hours and delivery for shop {i}."
    if changed:
        about = f"New: same-day delivery from shop {i}."
    return {
        "sender_id": sender_id(i),
        "configuration": {"waba_id": str(104_000_000_000_000 + i // 50)},
        "webhook": {
            "callback_url": f"https://hooks.example.com/whatsapp/{i}/inbound",
            "callback_method": "POST",
            "status_callback_url": "https://hooks.example.com/whatsapp/status",
            "status_callback_method": "POST",
        },
        "profile": {
            "name": f"Shop {i}",
            "about": about,
            "address": f"{100 + i % 900} Main Street, Little Rock, AR 72201, USA",
            "description": f"Shop {i} sells everyday goods. Message us to order, track a delivery or ask a question.",
            "logo_url": f"https://cdn.example.com/shops/{i}/logo.png",
            "vertical": VERTICALS[i % len(VERTICALS)],
            "websites": [f"https://shop{i}.example.com"],
            "emails": [f"hello@shop{i}.example.com"],
        },
    }


def changed_indexes(n: int, share: float = 0.10) -> set[int]:
    """Which senders differ in the apply variant: every ``1/share``-th one (K = share × N)."""
    step = round(1 / share)
    return set(range(0, n, step))


def _yaml_value(value: Any, indent: int) -> list[str]:
    """Block-style YAML; scalars as JSON strings (valid YAML), so nothing needs escaping rules of its own."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                lines.append(f"{pad}{key}:")
                lines.extend(_yaml_value(item, indent + 2))
            else:
                lines.append(f"{pad}{key}: {json.dumps(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                inner = _yaml_value(item, indent + 2)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines.extend(inner[1:])
            else:
                lines.append(f"{pad}- {json.dumps(item)}")
    return lines


def write_desired(path: Path, bodies: Iterable[dict[str, Any]]) -> int:
    """Write a ``senders.yaml``; returns its size in bytes."""
    lines = ["# Benchmark senders (bench/workload.py).", "senders:"]
    for body in bodies:
        lines.extend(_yaml_value([body], 2))
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return len(text.encode())
