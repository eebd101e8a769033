"""Live senders → a valid ``senders.yaml``, for adopting an existing account.

Only writable fields with a value are written (they become managed); labels the API fills in by
default are written as plain strings. A live value the file format would refuse (say an ``about``
longer than Meta now allows) is left out, so the file stays valid, and reported. Planning the
exported file against the same account gives an empty plan.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML

from reconciler.config import escape
from reconciler.diff import normalise
from reconciler.models import (
    DEFAULT_LABELS,
    LIST_ITEM_KEYS,
    SANDBOX_SENDER_ID,
    Configuration,
    DesiredSender,
    LiveSender,
    Profile,
    Webhook,
)

SECTION_MODELS: dict[str, type[Configuration | Webhook | Profile]] = {
    "configuration": Configuration, "webhook": Webhook, "profile": Profile,
}


@dataclass(frozen=True)
class Skipped:
    sender_id: str
    path: str
    reason: str


def _plain(name: str, value: Any) -> Any:
    """Labelled lists with default labels become plain strings, as a person would write them."""
    key = LIST_ITEM_KEYS.get(name)
    if key is None:
        return value
    out = []
    for item in normalise(name, value):
        out.append(item[key] if item["label"] == DEFAULT_LABELS[name] else {key: item[key], "label": item["label"]})
    return out


def _escaped(value: Any) -> Any:
    """Live text is literal: keep ``${`` from being read back as a variable."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    return value


def export_sender(live: LiveSender) -> tuple[dict[str, Any], list[Skipped]]:
    """One sender as a desired-state mapping, and the fields that had to be left out."""
    out: dict[str, Any] = {"sender_id": live.sender_id}
    skipped: list[Skipped] = []
    for section, model in SECTION_MODELS.items():
        block = getattr(live, section) or {}
        fields: dict[str, Any] = {}
        for name in model.model_fields:
            value = block.get(name)
            if value is None or (name in LIST_ITEM_KEYS and value == []):
                continue
            candidate = _plain(name, value)
            try:
                model.model_validate({name: candidate})
            except ValidationError as exc:
                reason = "; ".join(e["msg"] for e in exc.errors())
                skipped.append(Skipped(live.sender_id, f"{section}.{name}", reason))
                continue
            fields[name] = _escaped(candidate)
        if fields:
            out[section] = fields
    return out, skipped


def export_senders(live: Iterable[LiveSender], *, targets: Iterable[str] = ()) -> tuple[list[dict[str, Any]], list[Skipped]]:
    wanted = frozenset(targets)
    senders, skipped = [], []
    for sender in sorted(live, key=lambda s: s.sender_id):
        if sender.sender_id == SANDBOX_SENDER_ID or (wanted and sender.sender_id not in wanted):
            continue
        try:
            DesiredSender.model_validate({"sender_id": sender.sender_id})
        except ValidationError as exc:
            skipped.append(Skipped(sender.sender_id, "sender_id", "; ".join(e["msg"] for e in exc.errors())))
            continue
        data, more = export_sender(sender)
        senders.append(data)
        skipped.extend(more)
    return senders, skipped


def to_yaml(senders: list[dict[str, Any]], *, header: str, account: str | None = None) -> str:
    """Block-style YAML with a comment header; ``account:`` first when the senders are a named account's."""
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    for line in header.splitlines():
        buf.write(f"# {line}\n".replace("# \n", "#\n"))
    yaml.dump({**({"account": account} if account else {}), "senders": senders}, buf)
    return buf.getvalue()
