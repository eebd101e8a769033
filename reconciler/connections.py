"""Connections to one origin, kept open between the requests, and the clients, that use them.

    pool = Connections("https://messaging.twilio.com", timeout=30.0)
    async with SendersClient(credentials, connections=pool) as api:   # one account's client
        ...
    await pool.aclose()                                                # the run's end closes them all

Each connection is an ``httpx.AsyncClient`` limited to one connection, instead of one client with a pool
of many: httpcore's pool scans every connection for every queued request, which cost more CPU than the
rest of an update at 25 connections. The client's limiter decides how many are in use at once.

A connection carries nothing of an account: the credentials go with each request (``auth=`` on
``send``), and no cookie is kept, so a run across many accounts reuses one set of connections for all of
them. A new client per account cost 0.8 to 1 ms of CPU per account on loopback (the ``httpx`` client,
the connect and the close) and, against Twilio, a TLS handshake each. Like the client, this module
speaks HTTP; it imports nothing else of reconciler's.
"""

from __future__ import annotations

import functools
import http.cookiejar
import ssl

import httpx

from reconciler import __version__

__all__ = ["Connections"]


class Connections:
    """Idle connections to ``base_url``, and every connection opened, to be closed by :meth:`aclose`."""

    def __init__(self, base_url: str, *, timeout: float, transport: httpx.AsyncBaseTransport | None = None):
        self.base_url, self.timeout, self.transport = base_url, timeout, transport
        self._idle: list[httpx.AsyncClient] = []
        self._open: set[httpx.AsyncClient] = set()

    @property
    def opened(self) -> int:
        """Connections open now, in use or idle."""
        return len(self._open)

    def fits(self, base_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None) -> bool:
        """Whether a client with these settings may use these connections."""
        return (base_url, timeout, transport) == (self.base_url, self.timeout, self.transport)

    def take(self) -> httpx.AsyncClient:
        """An idle connection, or a new one."""
        if self._idle:
            return self._idle.pop()
        connection = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"User-Agent": f"whatsapp-senders-reconciler/{__version__}", "Accept": "application/json"},
            cookies=http.cookiejar.CookieJar(_NO_COOKIES),
            timeout=httpx.Timeout(self.timeout),
            transport=self.transport,
            verify=self._tls(),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            follow_redirects=False,
        )
        self._open.add(connection)
        return connection

    def give(self, connection: httpx.AsyncClient) -> None:
        """A connection whose request ended well, for the next request."""
        if connection in self._open:
            self._idle.append(connection)

    async def drop(self, connection: httpx.AsyncClient) -> None:
        """Close a connection whose request failed midway (timed out, dropped, cancelled): it is not reused."""
        if connection in self._open:
            self._open.discard(connection)
            await connection.aclose()

    async def aclose(self) -> None:
        connections, self._open, self._idle = self._open, set(), []
        for connection in connections:
            await connection.aclose()

    def _tls(self) -> ssl.SSLContext | bool:
        if self.transport is not None:
            return True
        if self.base_url.startswith("http:"):
            # Plain http to loopback (the emulator): no TLS is ever made, and a context that trusts no
            # certificate at all fails closed if one were.
            return _ssl_context(plain=True)
        return _ssl_context()


#: Cookies a server sets are never kept: a connection serves every account of a run.
_NO_COOKIES = http.cookiejar.DefaultCookiePolicy(allowed_domains=[])


@functools.cache
def _ssl_context(plain: bool = False) -> ssl.SSLContext:
    """One TLS context for every connection of the process: each costs 20-150 ms of CPU to build (reading the CA
    bundle), and httpx would build one per client, even for a plain-http URL. ``plain``: one that trusts no
    certificate, for plain http."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT) if plain else httpx.create_ssl_context()
