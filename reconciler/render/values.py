"""How values read in every rendering: JSON literals, labelled lists as people write them, list deltas."""

from __future__ import annotations

import json
import re
from typing import Any

from reconciler.models import DEFAULT_LABELS, LIST_ITEM_KEYS
from reconciler.text import escape_control

# What JSON leaves as it is but a terminal obeys or reorders: DEL and the C1 controls, the line and paragraph
# separators, the bidirectional marks, overrides and isolates (JSON already escapes the C0 controls).
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_document(doc: Any, *, indent: int | None = None) -> str:
    """``doc`` as JSON text ending in a newline, with every character a terminal would obey written as a
    ``\\uXXXX`` escape: the same document to a JSON reader, plain text to a person."""
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    if not text.isascii():  # the common case costs one scan in C
        text = _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text + "\n"


def show(value: Any) -> str:
    """A value as it reads best in a plan: JSON literals, so '' and null stay visible."""
    return escape_control(json.dumps(value, ensure_ascii=False))


def _readable_items(path: str, value: Any) -> list[str] | None:
    """Labelled-list items as people write them (``b@x.example (Work)``); None for other fields."""
    name = path.rpartition(".")[2]
    key = LIST_ITEM_KEYS.get(name)
    if key is None or not isinstance(value, list):
        return None
    items = []
    for item in value:
        if isinstance(item, dict) and key in item:
            label = item.get("label")
            items.append(str(item[key]) if label in (None, DEFAULT_LABELS[name]) else f"{item[key]} ({label})")
        else:
            items.append(str(item))
    return items


def show_field(path: str, value: Any) -> str:
    """Like :func:`show`, but labelled lists read as people write them: ``["a@x.example", "b@x.example (Work)"]``,
    and a Messaging Service as ``MG… (Sales)``."""
    if path == "messaging_service":
        return show_service(value)
    items = _readable_items(path, value)
    return show(value) if items is None else show(items)


def show_service(value: Any) -> str:
    """A pool change's service (``{"sid", "friendly_name"}``) as ``MG… (Sales)``, its SID alone when it has no
    name, and ``none`` for no service."""
    if not isinstance(value, dict):
        return "none"
    sid, name = value.get("sid"), value.get("friendly_name")
    return escape_control(f"{sid} ({name})" if name else str(sid))


def list_delta(path: str, before: Any, after: Any) -> list[str]:
    """For a changed labelled list, the items added and removed (``+ "x"``, ``- "y"``), or that only the order changed.

    DeepDiff pairs the items regardless of order; it runs only here, on the few list fields that
    changed, when a plan is shown to people.
    """
    old, new = _readable_items(path, before), _readable_items(path, after)
    if old is None or new is None or not old or not new:
        return []
    from deepdiff import DeepDiff  # imported on first use: most plans never show a list change

    delta = DeepDiff(old, new, ignore_order=True, report_repetition=True)
    lines = [f"+ {show(v)}" for v in delta.get("iterable_item_added", {}).values()]
    lines += [f"- {show(v)}" for v in delta.get("iterable_item_removed", {}).values()]
    for change in delta.get("repetition_change", {}).values():
        diff = change["new_repeat"] - change["old_repeat"]
        lines.append(f"{'+' if diff > 0 else '-'} {show(change['value'])} ×{abs(diff)}")
    return lines or ["(same items, new order)"]
