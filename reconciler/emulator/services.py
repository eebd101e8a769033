"""One account's Messaging Services and their sender pools (ChannelSenders), optionally saved with the account.

    services = ServiceStore(account_sid, senders)              # senders: the account's SenderStore
    support = services.create("Support line", {})              # 201's body; random MG SID, as the API makes one
    services.join(support["sid"], sender_sid)                  # a ChannelSender; 409 / 21710 or 21712 as Twilio
    services.leave(support["sid"], sender_sid)                 # 404 / 20404 when it is not in that pool
    services.add("Sales")                                      # a test hook: a SID derived from the name

The API keeps a sender in at most one service (``join`` refuses a second with 21712, naming the service that
holds it); ``join(..., exclusive=False)``, for tests and seeds, can put it in more, as Twilio might for
WhatsApp senders (undocumented). A sender deleted from its account leaves every pool (:meth:`forget_sender`).
No HTTP here; every public method takes the store's lock.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from reconciler.emulator import service_records as sr
from reconciler.emulator.pages import page_bounds
from reconciler.emulator.store import SenderStore
from reconciler.emulator.validation import SID_PATTERN, not_found

#: One page: ``(items, next_after, previous_after)`` (see :func:`~reconciler.emulator.pages.page_bounds`).
Page = tuple[list[dict[str, Any]], int | None, int | None]


def derived_service_sid(account_sid: str, friendly_name: str, n: int) -> str:
    """The SID the ``n``-th service named ``friendly_name`` (from 0) of an account gets from a seed, an option or
    a test hook: the same on every run."""
    digest = hashlib.sha256("\x00".join(("reconciler-emulator", account_sid, "service", friendly_name, str(n))).encode())
    return "MG" + digest.hexdigest()[:32]


class ServiceStore:
    """The Messaging Services of one account, in creation order, each with its pool in joining order."""

    def __init__(
        self,
        account_sid: str,
        senders: SenderStore,
        *,
        clock: Callable[[], float] = time.time,
        on_save: Callable[[ServiceStore], None] | None = None,
    ):
        self.account_sid = account_sid
        self.senders = senders
        self.clock = clock
        #: Called after every change: the server's state file holds every account's services.
        self.on_save = on_save
        self.base_url = "http://127.0.0.1"
        self._lock = threading.RLock()
        self._services: dict[str, dict[str, Any]] = {}  # MG -> record, in ascending sequence numbers
        self._pools: dict[str, dict[str, dict[str, Any]]] = {}  # MG -> XE -> membership, ascending too
        self._member_of: dict[str, list[str]] = {}  # XE -> the services holding it, in joining order
        self._seq = 0

    # ------------------------------------------------------------------ reads

    def _service(self, sid: str, rest: str = "") -> dict[str, Any]:
        rec = self._services.get(sid)
        if rec is None:
            raise sr.service_not_found(sid, rest)
        return rec

    def _render(self, rec: dict[str, Any]) -> dict[str, Any]:
        return sr.render_service(rec, self.account_sid, self.base_url)

    def _render_member(self, service_sid: str, member: dict[str, Any]) -> dict[str, Any]:
        return sr.render_channel_sender(member, self.account_sid, service_sid, self.base_url)

    def require(self, sid: str, rest: str = "") -> None:
        """A 404 / 20404 naming the path ``/v1/Services/{sid}{rest}`` when this account has no service ``sid``."""
        with self._lock:
            self._service(sid, rest)

    def fetch(self, sid: str) -> dict[str, Any]:
        """Service ``sid``; a 404 / 20404 when this account has none."""
        with self._lock:
            return self._render(self._service(sid))

    def get(self, sid: str) -> dict[str, Any] | None:
        with self._lock:
            rec = self._services.get(sid)
            return None if rec is None else self._render(rec)

    def all(self) -> list[dict[str, Any]]:
        """Every service, in creation order."""
        with self._lock:
            return [self._render(rec) for rec in self._services.values()]

    def page(self, after: int | None, page_size: int) -> Page:
        """One page of services after sequence number ``after``."""
        with self._lock:
            return _page(list(self._services.values()), after, page_size, self._render)

    def members(self, service_sid: str) -> list[dict[str, Any]]:
        """The pool of ``service_sid`` as ChannelSenders, in joining order; a 404 / 20404 for no such service."""
        with self._lock:
            self._service(service_sid, "/ChannelSenders")
            return [self._render_member(service_sid, m) for m in self._pools[service_sid].values()]

    def member_page(self, service_sid: str, after: int | None, page_size: int) -> Page:
        with self._lock:
            self._service(service_sid, "/ChannelSenders")
            return _page(list(self._pools[service_sid].values()), after, page_size,
                         lambda m: self._render_member(service_sid, m))  # fmt: skip

    def fetch_member(self, service_sid: str, sender_sid: str) -> dict[str, Any]:
        """Sender ``sender_sid`` in the pool of ``service_sid``; a 404 / 20404 when it is not there."""
        with self._lock:
            member = self._pools.get(service_sid, {}).get(sender_sid)
            if member is None:
                raise sr.service_not_found(service_sid, f"/ChannelSenders/{sender_sid}")
            return self._render_member(service_sid, member)

    def services_of(self, sender_sid: str) -> list[str]:
        """The services whose pool holds ``sender_sid`` (none, one, or through a test hook more)."""
        with self._lock:
            return list(self._member_of.get(sender_sid, ()))

    # ------------------------------------------------------------------ changes

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq - 1

    def create(self, friendly_name: str, settings: dict[str, Any], *, sid: str | None = None) -> dict[str, Any]:
        """A new service (``sid`` None: a random one, as the API makes); raises ValueError for a ``sid`` in use."""
        with self._lock:
            sid = sid or "MG" + uuid.uuid4().hex
            if sid in self._services:
                raise ValueError(f"service {sid} exists already")
            now = self.clock()
            rec = {"sid": sid, "friendly_name": friendly_name, "settings": dict(settings), "date_created": now,
                   "date_updated": now, "_emulator": {"seq": self._next_seq()}}  # fmt: skip
            self._services[sid] = rec
            self._pools[sid] = {}
            self._save()
            return self._render(rec)

    def add(self, friendly_name: str, *, sid: str | None = None, **settings: Any) -> dict[str, Any]:
        """A test hook, seeds and ``--service``: a service as if made in the Console. Without ``sid`` it gets one
        derived from the account, the name and how many of that name exist already; ValueError naming what is wrong."""
        sr.check_friendly_name(friendly_name)
        unknown = sorted(set(settings) - set(sr.default_settings()))
        if unknown:
            raise ValueError(f"unknown service setting {unknown[0]!r}")
        with self._lock:
            if sid is None:
                same = sum(1 for rec in self._services.values() if rec["friendly_name"] == friendly_name)
                while (sid := derived_service_sid(self.account_sid, friendly_name, same)) in self._services:
                    same += 1
            elif not isinstance(sid, str) or not sr.SERVICE_SID.match(sid):
                raise ValueError(f"sid {sid!r} must be 'MG' followed by 32 hex digits")
            return self.create(friendly_name, settings, sid=sid)

    def delete(self, sid: str) -> None:
        """Delete a service; its pool goes with it (the senders stay). A 404 / 20404 for no such service."""
        with self._lock:
            self._service(sid)
            for sender_sid in self._pools.pop(sid):
                self._unlink(sender_sid, sid)
            del self._services[sid]
            self._save()

    def join(self, service_sid: str, sender_sid: str, *, exclusive: bool = True) -> dict[str, Any]:
        """Add a sender of this account to a service's pool; returns the ChannelSender.

        404 / 20404 for no such service or sender; 409 / 21710 when it is in this pool already; with
        ``exclusive``, 409 / 21712 naming the service that holds it when it is in another.
        """
        with self._lock:
            self._service(service_sid, "/ChannelSenders")
            sender = self.senders.get(sender_sid) if SID_PATTERN.match(sender_sid) else None
            if sender is None:
                raise not_found(sender_sid)
            holding = self._member_of.get(sender_sid, [])
            if service_sid in holding:
                raise sr.already_in_service(sender_sid, service_sid)
            if holding and exclusive:
                raise sr.in_another_service(sender_sid, holding[0])
            now = self.clock()
            member = {"sid": sender_sid, "sender": sender["sender_id"], "date_created": now, "date_updated": now,
                      "_emulator": {"seq": self._next_seq()}}  # fmt: skip
            self._link(service_sid, member)
            self._save()
            return self._render_member(service_sid, member)

    def leave(self, service_sid: str, sender_sid: str) -> None:
        """Take a sender out of a service's pool; a 404 / 20404 when it is not in it."""
        with self._lock:
            if sender_sid not in self._pools.get(service_sid, {}):
                raise sr.service_not_found(service_sid, f"/ChannelSenders/{sender_sid}")
            del self._pools[service_sid][sender_sid]
            self._unlink(sender_sid, service_sid)
            self._save()

    def forget_sender(self, sender_sid: str) -> None:
        """The sender was deleted: it leaves every pool."""
        with self._lock:
            holding = self._member_of.pop(sender_sid, [])
            for service_sid in holding:
                self._pools[service_sid].pop(sender_sid, None)
            if holding:
                self._save()

    def _link(self, service_sid: str, member: dict[str, Any]) -> None:
        self._pools[service_sid][member["sid"]] = member
        self._member_of.setdefault(member["sid"], []).append(service_sid)

    def _unlink(self, sender_sid: str, service_sid: str) -> None:
        holding = self._member_of.get(sender_sid, [])
        if service_sid in holding:
            holding.remove(service_sid)
        if not holding:
            self._member_of.pop(sender_sid, None)

    def set_base_url(self, url: str) -> None:
        with self._lock:
            self.base_url = url

    # ------------------------------------------------------------------ persistence

    def _save(self) -> None:
        if self.on_save is not None:
            self.on_save(self)

    def state_json(self) -> str:
        """``{"services": [...]}`` as JSON text, each service with its ``channel_senders``: what
        :meth:`load_state` reads back."""
        with self._lock:
            services = [{**rec, "channel_senders": list(self._pools[sid].values())} for sid, rec in self._services.items()]
            return json.dumps({"services": services}, indent=1)

    def load_state(self, data: dict[str, Any]) -> None:
        """Add the services of an account's entry in the state file (none when it has no ``services``), before
        the store is shared; raises ValueError naming what is wrong. A membership whose sender is gone from the
        account is dropped, as deleting the sender would have."""
        raw_services = data.get("services", [])
        if not isinstance(raw_services, list):
            raise ValueError('"services" must be a list')
        now = self.clock()
        loaded = [_loaded_service(i, raw, now) for i, raw in enumerate(raw_services)]
        # In the saved order, numbered afresh: a hand-edited file may repeat or lack sequence numbers.
        for rec, members in sorted(loaded, key=lambda pair: pair[0]["_emulator"]["seq"]):
            if rec["sid"] in self._services:
                raise ValueError(f"service {rec['sid']} appears twice")
            rec["_emulator"]["seq"] = self._next_seq()
            self._services[rec["sid"]] = rec
            self._pools[rec["sid"]] = {}
            for member in sorted(members, key=lambda m: m["_emulator"]["seq"]):
                sender = self.senders.get(member["sid"])
                if sender is not None and member["sid"] not in self._pools[rec["sid"]]:
                    member["_emulator"]["seq"] = self._next_seq()
                    self._link(rec["sid"], {**member, "sender": sender["sender_id"]})


def _loaded_service(i: int, raw: Any, now: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A service record of the state file and its memberships; ValueError naming ``services[i]``."""
    where = f"services[{i}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("sid"), str) or not sr.SERVICE_SID.match(raw["sid"]):
        raise ValueError(f"{where} needs a 'sid' of 'MG' and 32 hex digits")
    try:
        name = sr.check_friendly_name(raw.get("friendly_name"))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    settings = raw.get("settings", {})
    members = raw.get("channel_senders", [])
    if not isinstance(settings, dict) or not isinstance(members, list):
        raise ValueError(f"{where}: 'settings' must be an object and 'channel_senders' a list")
    rec = {"sid": raw["sid"], "friendly_name": name, "settings": settings, **_dates(raw, now),
           "_emulator": {"seq": _seq(raw)}}  # fmt: skip
    loaded = []
    for j, m in enumerate(members):
        if not isinstance(m, dict) or not isinstance(m.get("sid"), str) or not SID_PATTERN.match(m["sid"]):
            raise ValueError(f"{where}: channel_senders[{j}] needs a 'sid' of 'XE' and 32 hex digits")
        loaded.append({"sid": m["sid"], **_dates(m, now), "_emulator": {"seq": _seq(m)}})
    return rec, loaded


def _dates(raw: dict[str, Any], now: float) -> dict[str, float]:
    """``date_created`` and ``date_updated`` as saved (seconds since the epoch); ``now`` for one missing."""
    created, updated = raw.get("date_created"), raw.get("date_updated")
    first = float(created) if isinstance(created, (int, float)) and not isinstance(created, bool) else now
    last = float(updated) if isinstance(updated, (int, float)) and not isinstance(updated, bool) else first
    return {"date_created": first, "date_updated": last}


def _seq(raw: dict[str, Any]) -> int:
    seq = raw.get("_emulator", {}).get("seq") if isinstance(raw.get("_emulator"), dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0 else 0


def _page(records: list[dict[str, Any]], after: int | None, page_size: int,
          render: Callable[[dict[str, Any]], dict[str, Any]]) -> Page:  # fmt: skip
    seqs = [r["_emulator"]["seq"] for r in records]
    start, next_after, previous_after = page_bounds(seqs, after, page_size)
    return [render(r) for r in records[start : start + page_size]], next_after, previous_after
