"""Live senders → a valid ``senders.yaml``, for adopting an existing account.

Only writable fields with a value are written (they become managed); labels the API fills in by
default are written as plain strings. Nothing is dropped silently: a live value the file format would
refuse (say an ``about`` longer than Meta now allows, or a vertical outside the documented list) is
written as a comment under its sender, so the file stays valid, and named in a warning. A live sender
the file cannot manage at all (its sender_id is not ``whatsapp:`` + an E.164 number) is listed under
``ignore:``, so it is never a delete candidate. When the account has Messaging Services, each sender's
``messaging_service`` is written too: the SID of the service whose pool holds it (its friendly name in a
comment), or ``null`` when none does; a sender several pools hold gets a comment and a warning instead.
Planning the exported file against the same account gives an empty plan.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.representer import RoundTripRepresenter

from reconciler import __version__
from reconciler.config import escape
from reconciler.diff import normalise
from reconciler.models import (
    DEFAULT_LABELS,
    LIST_ITEM_KEYS,
    SANDBOX_SENDER_ID,
    TOP_FIELDS,
    Configuration,
    DesiredSender,
    LivePools,
    LiveSender,
    Profile,
    SenderDefaults,
    SendersFile,
    Webhook,
)
from reconciler.text import clip, escape_control

SECTION_MODELS: dict[str, type[Configuration | Webhook | Profile]] = {
    "configuration": Configuration, "webhook": Webhook, "profile": Profile,
}


@dataclass(frozen=True)
class Skipped:
    """A live value the file cannot hold. ``value`` is its text in the comment; ``ignored``: the whole sender
    went under ``ignore:``; ``value is None`` and not ignored: the sender could not be written at all."""

    sender_id: str
    path: str
    reason: str
    value: str | None = None
    ignored: bool = False


@dataclass
class Export:
    """What export writes: the senders, the ignored ids, and every value it could not write as a field."""

    senders: list[dict[str, Any]]
    ignore: list[str]
    skipped: list[Skipped]
    #: The friendly name of each service a sender is written in, for a comment beside it.
    services: dict[str, str] = field(default_factory=dict)


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


def _checked(model: Any, name: str, value: Any) -> str | None:
    """Why the file would refuse ``value`` for ``name`` (None: it accepts it)."""
    try:
        model.model_validate({name: value} if model is not DesiredSender else {"sender_id": "whatsapp:+15017122661",
                                                                                name: value})
    except ValidationError as exc:
        return "; ".join("not one of the values the file accepts" if e["type"] == "literal_error" else e["msg"]
                         for e in exc.errors())
    return None


def export_sender(live: LiveSender, defaults: SenderDefaults | None = None) -> tuple[dict[str, Any], list[Skipped]]:
    """One sender as a desired-state mapping, and the fields that had to be left out (written as comments).

    ``defaults``: the ``defaults:`` of the file the sender goes into. A field they set that the live sender
    has no value for is written empty (``''``, ``[]``), so the default does not plan a change of it.
    """
    out: dict[str, Any] = {"sender_id": live.sender_id}
    skipped: list[Skipped] = []

    def take(model: Any, path: str, name: str, value: Any, into: dict[str, Any]) -> None:
        if value is None or (name in LIST_ITEM_KEYS and value == []):
            return
        candidate = _plain(name, value)
        reason = _checked(model, name, candidate)
        if reason is not None:
            skipped.append(Skipped(live.sender_id, path, reason, value=_shown(candidate)))
            return
        into[name] = _escaped(candidate)

    for name in TOP_FIELDS:
        take(DesiredSender, name, name, live.value(name), out)
    for section, model in SECTION_MODELS.items():
        block = getattr(live, section) or {}
        fields: dict[str, Any] = {}
        for name in model.model_fields:
            take(model, f"{section}.{name}", name, block.get(name), fields)
        fields.update(_emptied(model, getattr(defaults, section, None), fields, skipped, f"{live.sender_id} {section}."))
        if fields:
            out[section] = fields
    return out, skipped


def _emptied(model: Any, default: Any, written: dict[str, Any], skipped: list[Skipped], where: str) -> dict[str, Any]:
    """The fields a section of ``defaults:`` sets and the sender has no value for, written empty where the file
    takes an empty value (a field whose live value was left out as a comment keeps the default)."""
    left_out = {f"{s.sender_id} {s.path}" for s in skipped}
    out: dict[str, Any] = {}
    for name in getattr(default, "model_fields_set", ()):
        empty: Any = [] if name in LIST_ITEM_KEYS else ""
        if name not in written and where + name not in left_out and _checked(model, name, empty) is None:
            out[name] = empty
    return out


def _shown(value: Any) -> str:
    """A live value as one printable line for a comment."""
    return clip(escape_control(repr(value)), 200)


def export_account(live: Iterable[LiveSender], *, targets: Iterable[str] = (), pools: LivePools | None = None) -> Export:
    """Every live sender (or those of ``targets``) as the file would declare it, with its Messaging Service when
    ``pools`` holds any service."""
    wanted = frozenset(targets)
    result = Export([], [], [])
    for sender in sorted(live, key=lambda s: s.sender_id):
        if sender.sender_id == SANDBOX_SENDER_ID or (wanted and sender.sender_id not in wanted):
            continue
        if not sender.sender_id:  # the plan reports such a sender and leaves it alone
            result.skipped.append(Skipped("", "sender_id", f"the API lists sid {sender.sid or '(none)'} without one"))
            continue
        try:
            DesiredSender.model_validate({"sender_id": sender.sender_id})
        except ValidationError as exc:
            reason = "; ".join(e["msg"] for e in exc.errors())
            try:
                SendersFile.model_validate({"ignore": [sender.sender_id]})
            except ValidationError:  # not even an ignore entry can name it
                result.skipped.append(Skipped(sender.sender_id, "sender_id", reason))
                continue
            result.ignore.append(sender.sender_id)
            result.skipped.append(Skipped(sender.sender_id, "sender_id", reason, ignored=True))
            continue
        data, more = export_sender(sender)
        if pools is not None and pools.services:
            more.extend(_service_of(sender, pools, data, result.services))
        result.senders.append(data)
        result.skipped.extend(more)
    return result


def export_file(live: Iterable[LiveSender], *, targets: Iterable[str] = (), pools: LivePools | None = None,
                where: str, account: str | None = None) -> tuple[str, Export]:
    """``reconciler export``'s file of the live senders read from ``where`` (a base URL, an account at it), whole:
    its header, and what :func:`export_account` could not write as fields, as comments."""
    result = export_account(live, targets=targets, pools=pools)
    header = (f"Exported by reconciler {__version__} from {where}: {len(result.senders)} senders.\n"
              "Every field below is managed; remove a field to stop managing it.")
    return to_yaml(result.senders, header=header, ignore=result.ignore, skipped=result.skipped, account=account,
                   services=result.services), result


def _service_of(live: LiveSender, pools: LivePools, into: dict[str, Any], names: dict[str, str]) -> list[Skipped]:
    """The sender's service in ``into`` (its SID, or None for none) and its name in ``names``; held by several
    pools, nothing is written but a comment: which one is meant is not guessed."""
    held = pools.services_of(live.sid)
    if len(held) > 1:
        listed = ", ".join(held)
        return [Skipped(live.sender_id, "messaging_service", "several services' pools hold it: which one is meant is "
                        "not guessed", value=listed)]
    into["messaging_service"] = held[0] if held else None
    service = pools.service(held[0]) if held else None
    if service is not None and service.friendly_name:
        names[service.sid] = service.friendly_name
    return []


def note(skipped: Skipped) -> str:
    """The comment a value the file cannot hold becomes, under its sender."""
    return f"not managed: {skipped.path} is {skipped.value} live; {clip(skipped.reason, 200)}"


def to_yaml(senders: list[dict[str, Any]], *, header: str, ignore: Iterable[str] = (),
            skipped: Iterable[Skipped] = (), account: str | None = None, services: Mapping[str, str] | None = None,
            ) -> str:
    """Block-style YAML with a comment header; ``account:`` first when the senders are a named account's;
    each value in ``skipped`` is a comment under its sender; a service's name (``services``) beside its SID."""
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.Representer = _Representer
    buf = io.StringIO()
    for line in header.splitlines():
        buf.write(f"# {line}\n".replace("# \n", "#\n"))
    notes: dict[str, list[str]] = {}
    for s in skipped:
        if s.value is not None:
            notes.setdefault(s.sender_id, []).append(note(s))
    documents = []
    for sender in senders:
        mapping = CommentedMap(sender)
        lines = [escape_control(line) for line in notes.get(sender["sender_id"], [])]
        keys = list(sender)
        if lines and len(keys) > 1:
            mapping.yaml_set_comment_before_after_key(keys[1], before="\n".join(lines), indent=4)
        elif lines:
            mapping.yaml_add_eol_comment("; ".join(lines), "sender_id")
        name = (services or {}).get(sender.get("messaging_service") or "")
        if name:
            mapping.yaml_add_eol_comment(clip(escape_control(name), 80), "messaging_service")
        documents.append(mapping)
    data: dict[str, Any] = {**({"account": account} if account else {}), "senders": documents}
    ignored = list(ignore)
    if ignored:
        data["ignore"] = ignored
    yaml.dump(data, buf)
    return buf.getvalue()


class _Representer(RoundTripRepresenter):
    """Writes ``None`` as ``null`` (``messaging_service: null``: no service, said, not left blank)."""


_Representer.add_representer(type(None), lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null",
                                                                                               "null"))
