"""Where a value stands in a desired-state file, looked up after loading, for a message found later; where each
sender's ``messaging_service`` is written.

    locate("senders.yaml", ("senders", 3, "messaging_service"))   # Location("senders.yaml", 12, 24)

Loading keeps no positions (they cost about a second for 10,000 senders); a plan that finds, say, a
Messaging Service no service of the account is named after asks for the place of that one value. The
file is read again: when it cannot be, or no longer holds the value, the place is the file alone.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.config import reader
from reconciler.config.events import HAS_C_PARSER
from reconciler.config.reader import DataPath, InputError
from reconciler.errors import Location
from reconciler.models import SendersFile


def locate(source: str, path: DataPath) -> Location:
    """``source``'s line and column of ``path`` (of its nearest ancestor written in the file)."""
    try:
        text = reader.read_text(Path(source))
    except InputError:
        return Location(source)
    marks = reader.positions(text, fast=True) if HAS_C_PARSER else None
    if marks is None:
        marks = reader.positions(text, fast=False)
    if marks is None:
        return Location(source)
    line, column = reader.locate(marks, path)
    return Location(source, line, column)


def service_declarations(file: SendersFile, name: str) -> dict[str, tuple[str, DataPath]]:
    """Per sender of the file that names a Messaging Service: the file and where the name is written (the
    sender's own ``messaging_service``, or the file's ``defaults:``). Positions are looked up only when a
    message needs one (:func:`locate`)."""
    default = file.defaults is not None and file.defaults.messaging_service is not None
    out: dict[str, tuple[str, DataPath]] = {}
    for index, sender in enumerate(file.senders):
        if sender.manages_service:
            if sender.messaging_service is not None:
                out[sender.sender_id] = (name, ("senders", index, "messaging_service"))
        elif default:
            out[sender.sender_id] = (name, ("defaults", "messaging_service"))
    return out
