"""Messaging v1 over HTTP: Messaging Services and their sender pools (ChannelSenders), for the account the
credentials pick, as Twilio serves them on the Senders API's host.

    ServicesApi(stores, server._principal).register(app)    # the server's middleware authenticates first

Request bodies are read only as forms (``Content-Type: application/x-www-form-urlencoded``); any other body
(JSON) is not read, so its parameters are missing. docs/emulator.md lists every answer.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

from aiohttp import web

from reconciler.emulator import service_records as sr
from reconciler.emulator.accounts import Principal
from reconciler.emulator.pages import page_meta, parse_v1_query
from reconciler.emulator.services import ServiceStore
from reconciler.emulator.state import AccountStores
from reconciler.emulator.validation import CODE_INVALID_PARAMETER, SID_PATTERN, invalid
from reconciler.emulator.wire import commit_or_drop, json_response

#: The content type whose body is read as a form (what the official SDKs send).
FORM_TYPE = "application/x-www-form-urlencoded"


async def read_form(request: web.Request) -> dict[str, str]:
    """The request's form parameters (the first value of each); empty for a body that is not a form."""
    if request.content_type != FORM_TYPE:
        return {}
    raw = await request.read()
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise invalid("Invalid request body: the form is not UTF-8", CODE_INVALID_PARAMETER) from None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    return form


class ServicesApi:
    """The handlers of ``/v1/Services`` and ``/v1/Services/{MG}/ChannelSenders``; ``principal_of`` says whom a
    request speaks for (the server's middleware has authenticated it)."""

    def __init__(self, stores: AccountStores, principal_of: Callable[[web.Request], Principal]):
        self._stores = stores
        self._principal_of = principal_of

    def register(self, app: web.Application) -> None:
        router = app.router
        router.add_get(sr.SERVICES_PATH, self.list_services, allow_head=False)
        router.add_post(sr.SERVICES_PATH, self.create_service)
        router.add_get(sr.SERVICE_PATH, self.fetch_service, allow_head=False)
        router.add_delete(sr.SERVICE_PATH, self.delete_service)
        router.add_get(sr.CHANNEL_SENDERS_PATH, self.list_channel_senders, allow_head=False)
        router.add_post(sr.CHANNEL_SENDERS_PATH, self.add_channel_sender)
        router.add_get(sr.CHANNEL_SENDER_PATH, self.fetch_channel_sender, allow_head=False)
        router.add_delete(sr.CHANNEL_SENDER_PATH, self.remove_channel_sender)

    def _services(self, request: web.Request) -> ServiceStore:
        return self._stores.services(self._principal_of(request).account.sid)

    # ------------------------------------------------------------------ services

    async def list_services(self, request: web.Request) -> web.Response:
        query = parse_v1_query(request.query)
        services = self._services(request)
        items, next_after, previous_after = services.page(query.after, query.page_size)
        meta = page_meta(services.base_url + sr.SERVICES_PATH, query, next_after, previous_after, key="services")
        return json_response({"services": items, "meta": meta})

    async def create_service(self, request: web.Request) -> web.Response:
        name, settings = sr.service_form(await read_form(request))
        service = self._services(request).create(name, settings)
        commit_or_drop()
        return json_response(service, 201)

    async def fetch_service(self, request: web.Request) -> web.Response:
        return json_response(self._services(request).fetch(request.match_info["Sid"]))

    async def delete_service(self, request: web.Request) -> web.Response:
        self._services(request).delete(request.match_info["Sid"])
        commit_or_drop()
        return web.Response(status=204)

    # ------------------------------------------------------------------ ChannelSenders

    async def list_channel_senders(self, request: web.Request) -> web.Response:
        query = parse_v1_query(request.query)
        services = self._services(request)
        service_sid = request.match_info["MessagingServiceSid"]
        items, next_after, previous_after = services.member_page(service_sid, query.after, query.page_size)
        base = services.base_url + sr.CHANNEL_SENDERS_PATH.format(MessagingServiceSid=service_sid)
        meta = page_meta(base, query, next_after, previous_after, key="senders")
        return json_response({"senders": items, "meta": meta})

    async def add_channel_sender(self, request: web.Request) -> web.Response:
        services = self._services(request)
        service_sid = request.match_info["MessagingServiceSid"]
        services.require(service_sid, "/ChannelSenders")  # 404 before complaining about the body
        sid = (await read_form(request)).get("Sid")
        if sid is None:
            raise invalid("Missing required parameter Sid in the post body", CODE_INVALID_PARAMETER)
        if not SID_PATTERN.match(sid):
            raise invalid(f"Invalid parameter Sid: {sid!r} is not 'XE' followed by 32 hex digits", CODE_INVALID_PARAMETER)
        member = services.join(service_sid, sid)
        commit_or_drop()
        return json_response(member, 201)

    async def fetch_channel_sender(self, request: web.Request) -> web.Response:
        info = request.match_info
        return json_response(self._services(request).fetch_member(info["MessagingServiceSid"], info["Sid"]))

    async def remove_channel_sender(self, request: web.Request) -> web.Response:
        info = request.match_info
        self._services(request).leave(info["MessagingServiceSid"], info["Sid"])
        commit_or_drop()
        return web.Response(status=204)
