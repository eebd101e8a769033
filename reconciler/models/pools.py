"""Messaging Services and their sender pools: what a file may declare, and what the API says each sender is in.

A WhatsApp sender sends through a Messaging Service only once it is in that service's sender pool
(Messaging v1: ``/v1/Services`` and each service's ``ChannelSenders``). The file declares it with
``messaging_service:``, a service's SID or its friendly name. Plain data and checks, no I/O.

    pools = LivePools.of([Service(SALES, "Sales")], {SALES: ["XE…"]})
    pools.services_of("XE…")        # (SALES,)
    pools.matching("Sales")         # (Service(SALES, "Sales"),): every service the file's value may mean
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: A Messaging Service SID, as the spec writes its pattern: ``MG`` and 32 hex digits.
SERVICE_SID_PATTERN = r"^MG[0-9a-fA-F]{32}$"
SERVICE_SID = re.compile(SERVICE_SID_PATTERN)
#: Twilio's limit on a service's friendly name ("up to 64 characters").
MAX_SERVICE_NAME = 64
#: Messaging v1, on the Senders API's host.
SERVICES_PATH = "/v1/Services"
#: Something meant as a SID, with the wrong number of digits (a name this long in hex is unlikely).
_SID_LIKE = re.compile(r"MG[0-9a-fA-F]{16,}")


def is_service_sid(value: str) -> bool:
    return SERVICE_SID.match(value) is not None


def check_service_ref(value: str) -> str:
    """A declared service: its SID (``MG`` + 32 hex digits) or its friendly name (1 to 64 characters)."""
    if is_service_sid(value):
        return value
    if _SID_LIKE.fullmatch(value):
        raise ValueError(f"{value!r} looks like a Messaging Service SID but has {len(value) - 2} hex digits, not 32")
    if not value.strip():
        raise ValueError("a Messaging Service is named by its SID (MG followed by 32 hex digits) or its friendly "
                         "name; write null for no service, or leave the field out to leave pools alone")
    if len(value) > MAX_SERVICE_NAME:
        raise ValueError(f"{len(value)} characters; a Messaging Service's friendly name has at most {MAX_SERVICE_NAME}")
    return value


@dataclass(frozen=True)
class Service:
    """A Messaging Service as the API lists it: its SID and friendly name."""

    sid: str
    friendly_name: str | None = None


@dataclass(frozen=True)
class LivePools:
    """An account's Messaging Services and, per sender SID (``XE…``), the services whose pool holds it.

    A sender is expected in one service at most; one held by several is reported, never guessed about.
    """

    services: tuple[Service, ...] = ()
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    _by_sid: dict[str, Service] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_sid", {s.sid: s for s in self.services})

    @classmethod
    def of(cls, services: Iterable[Service], pools: Mapping[str, Iterable[str]]) -> LivePools:
        """From the services and each one's pool (service SID → sender SIDs)."""
        members: dict[str, list[str]] = {}
        for service, senders in pools.items():
            for sender in senders:
                held = members.setdefault(sender, [])
                if service not in held:
                    held.append(service)
        return cls(tuple(services), {sender: tuple(sorted(held)) for sender, held in members.items()})

    def services_of(self, sender_sid: str | None) -> tuple[str, ...]:
        """The SIDs of the services whose pool holds the sender (none for a sender not read, or not made yet)."""
        return self.members.get(sender_sid, ()) if sender_sid else ()

    def service(self, sid: str | None) -> Service | None:
        """The service of that SID, with its friendly name when the account lists it."""
        if sid is None:
            return None
        return self._by_sid.get(sid) or Service(sid)

    def matching(self, ref: str) -> tuple[Service, ...]:
        """The services a declared value may mean: the one of that SID (in any case), or every one of that name."""
        if is_service_sid(ref):
            exact = self._by_sid.get(ref)
            return (exact,) if exact else tuple(s for s in self.services if s.sid.lower() == ref.lower())
        return tuple(s for s in self.services if s.friendly_name == ref)
