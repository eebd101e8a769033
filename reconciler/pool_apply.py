"""Performing a pool action: out of the service a sender is in, then into the one the file names.

    mover = PoolMover(ServicePools(client))
    detail = await mover.move(action, "XE…")      # "pooled", or "already_pooled" when the state held already

Twilio's answers are read for what they say about the state, not only about the request: a remove
answered 404 (the sender is not in that pool, or the service is gone) and an add answered 21710 (already
in this service) mean the state the plan wants already holds. An add answered 21712 (the sender is in
another service) is a refusal, and the error names that service, read from the pools. Anything else
is raised as it came (:mod:`reconciler.apply` decides ``failed`` or ``unknown``); what a lost answer
left behind is settled by reading the pools again (:func:`pool_shown`).
"""

from __future__ import annotations

import asyncio
from typing import Literal, Protocol

from reconciler.diff import Action
from reconciler.errors import ApiError
from reconciler.models import LivePools
from reconciler.pools import service_label

#: Twilio's codes for an add (documented for numbers; assumed for channel senders): already in this service,
#: and in another service.
CODE_ALREADY_IN_SERVICE = 21710
CODE_IN_ANOTHER_SERVICE = 21712

Moved = Literal["pooled", "already_pooled"]


class PoolsApi(Protocol):
    """What a pool action needs from the API (``reconciler.services.ServicePools`` provides it)."""

    async def read(self) -> LivePools: ...
    async def add(self, service: str, sender_sid: str) -> None: ...
    async def remove(self, service: str, sender_sid: str) -> None: ...


class PoolMover:
    """Pool actions of one account's apply, through one API; the pools are read at most once to name the service
    that holds a sender an add was refused for (21712)."""

    def __init__(self, api: PoolsApi):
        self.api = api
        self._pools: asyncio.Task[LivePools] | None = None

    async def move(self, action: Action, sender_sid: str) -> Moved:
        """Take the sender out of ``body.remove``, then put it in ``body.add``; raises the first refusal."""
        remove, add = action.body.get("remove"), action.body.get("add")
        changed = False
        if remove:
            try:
                await self.api.remove(remove, sender_sid)
                changed = True
            except ApiError as exc:
                if exc.status != 404:  # 404: not in that pool (any more): out of it, as planned
                    raise
        if add:
            try:
                await self.api.add(add, sender_sid)
                changed = True
            except ApiError as exc:
                if exc.code == CODE_ALREADY_IN_SERVICE:  # in this service already: as planned
                    return "pooled" if changed else "already_pooled"
                error = await self._elsewhere(exc, sender_sid, add) if exc.code == CODE_IN_ANOTHER_SERVICE else exc
                if changed:  # the remove was done: the sender is in no service now, and the report says so
                    error = _reworded(error, f"it left {remove}, but could not join {add}: {error.message}")
                raise error from None
        return "pooled" if changed else "already_pooled"

    async def _elsewhere(self, error: ApiError, sender_sid: str, wanted: str) -> ApiError:
        """The refusal, naming the service that holds the sender (as far as the pools can be read)."""
        if self._pools is None:
            self._pools = asyncio.ensure_future(self.api.read())
        try:
            pools = await asyncio.shield(self._pools)
        except ApiError:
            return error
        held = [sid for sid in pools.services_of(sender_sid) if sid != wanted]
        if not held:
            return error
        where = " and ".join(service_label(pools.service(sid)) for sid in held)
        return _reworded(error, f"the sender is in another Messaging Service, {where}: a sender is in one service at "
                                f"a time; take it out there, or name that service in the file ({error.message})")

    def close(self) -> None:
        if self._pools is not None and not self._pools.done():
            self._pools.cancel()


def pool_shown(action: Action, pools: LivePools, sender_sid: str | None) -> bool:
    """Whether the pools show what the action meant: the sender in the service it joins, and in no other."""
    wanted = action.body.get("add")
    return set(pools.services_of(sender_sid)) == ({wanted} if wanted else set())


def _reworded(error: ApiError, message: str) -> ApiError:
    """The same error (status, code, request, whether it may have landed) with what apply knows said in it."""
    return ApiError(message, status=error.status, code=error.code, more_info=error.more_info, method=error.method,
                    url=error.url, sender_id=error.sender_id, outcome_unknown=error.outcome_unknown,
                    may_land_later=error.may_land_later)
