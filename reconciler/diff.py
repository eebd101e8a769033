"""Pure comparison of one desired sender with its live counterpart. No I/O.

Only managed fields are compared, after normalising what the API fills in: labelled lists get their
default labels, and a null reads as the empty string (both mean "not set"). Whole senders are compared
with ``==`` first; DeepDiff runs only on the few that differ, to name the fields that changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.models import DEFAULT_LABELS, LIST_ITEM_KEYS, DesiredSender, LiveSender

#: Fields a sender keeps for life: a change is an error for that sender, never attempted.
IMMUTABLE_FIELDS = frozenset({"configuration.waba_id"})


@dataclass(frozen=True)
class FieldChange:
    """One managed field whose live value differs from the desired one."""

    path: str
    before: Any
    after: Any


def normalise(path: str, value: Any) -> Any:
    """The comparable form of a field's value, desired or live."""
    name = path.rpartition(".")[2]
    key = LIST_ITEM_KEYS.get(name)
    if key is not None:
        if value is None or value == "":
            return []
        label = DEFAULT_LABELS[name]
        out = []
        for item in value:
            if isinstance(item, str):
                out.append({key: item, "label": label})
            elif isinstance(item, dict):
                out.append({key: item.get(key), "label": item.get("label") or label})
            else:
                out.append(item)
        return out
    if value is None:
        return ""
    return value


def live_view(live: LiveSender, paths: list[str] | tuple[str, ...] | Any) -> dict[str, Any]:
    """The live values of ``paths``, normalised."""
    return {path: normalise(path, live.value(path)) for path in paths}


def desired_view(desired: DesiredSender) -> dict[str, Any]:
    return {path: normalise(path, value) for path, value in desired.managed_fields().items()}


def sender_changes(desired: DesiredSender, live: LiveSender) -> list[FieldChange]:
    """The managed fields of ``desired`` that differ on ``live``, in file order."""
    want = desired_view(desired)
    have = live_view(live, want)
    if want == have:
        return []
    # Imported here: DeepDiff (and the numpy it pulls in) costs a tenth of a second at start-up, and a
    # plan with no changes never needs it.
    from deepdiff import DeepDiff

    changed = DeepDiff(have, want, verbose_level=0).affected_root_keys
    return [FieldChange(path, have[path], want[path]) for path in want if path in changed]


def nest(flat: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"profile.about": x}`` → ``{"profile": {"about": x}}``: the shape of the API's bodies."""
    out: dict[str, dict[str, Any]] = {}
    for path, value in flat.items():
        section, _, name = path.partition(".")
        out.setdefault(section, {})[name] = value
    return out
