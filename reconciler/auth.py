"""Credentials, and where they may go: the checks made before any request carries them.

- :class:`Credentials` keeps its secret out of ``repr`` and ``str``.
- :func:`check_base_url` refuses a URL that holds credentials itself, or that would send them in the
  clear to another machine (plain http is for loopback only: the emulator).
- :func:`same_origin` tells whether a URL the API gave (``next_page_url``) is on the API's own host.
- :func:`shown_url` makes any URL, well-formed or not, fit to print.
- :func:`twilio_url` is a Twilio host as ``TWILIO_REGION`` / ``TWILIO_EDGE`` make it, as Twilio's SDKs do.

Where credentials come from, and which account they reach, is :mod:`reconciler.accounts`' business.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from reconciler.errors import CredentialsError
from reconciler.text import escape_control

_HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

CREDENTIALS_HINT = (
    "give them in TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)"
)


@dataclass(frozen=True)
class Credentials:
    """HTTP Basic credentials: an account SID + auth token, or an API key + secret.

    The secret is kept out of ``repr`` and ``str`` so it cannot reach logs or tracebacks by accident.
    """

    username: str
    secret: str = field(repr=False)
    account_sid: str | None = None

    def __str__(self) -> str:
        return f"{self.username} (secret hidden)"


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash, or :class:`CredentialsError` when credentials must not go there.

    A URL is printed (export header), logged (``--verbose``) and saved (plan files): credentials written
    into it (``https://AC...:token@host``) would go everywhere it goes, so a base URL with an ``@``
    anywhere is refused. The secret of such a URL may hold ``/``, ``?`` or ``#``, which end the host
    part for a URL parser, so the ``@`` is looked for in the whole URL, not in the parsed host part.
    """
    if "@" in base_url:
        raise CredentialsError(f"the base URL must not hold credentials (user:secret@host): {CREDENTIALS_HINT}")
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise CredentialsError(f"base URL {shown_url(base_url)!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialsError(f"base URL {shown_url(base_url)!r} must be an absolute http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise CredentialsError(
            f"refusing to send credentials over plain http to {escape_control(parts.hostname)}: use https "
            "(plain http is allowed only to a loopback address, such as the emulator)"
        )
    path = parts.path.rstrip("/")
    if path.lower().endswith(("/v2", "/v2/channels", "/v2/channels/senders")) or parts.query or parts.fragment:
        origin = f"{parts.scheme}://{parts.netloc}"
        raise CredentialsError(
            f"base URL {shown_url(base_url)!r} holds the API's own path: give the origin only ({origin}); "
            "the tool adds /v2/Channels/Senders itself"
        )
    return base_url.rstrip("/")


def same_origin(url: str, base_url: str) -> bool:
    """Whether ``url`` (absolute or relative) leads to ``base_url``'s scheme, host and port, and holds no credentials."""
    if "@" in url:
        return False
    try:
        parts = urlsplit(url)
        if not parts.scheme and not parts.netloc:
            return True  # relative: resolved against the base URL
        return _origin(parts) == _origin(urlsplit(base_url))
    except ValueError:
        return False


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


# Where the host part may start: after ``scheme://``, after ``//``, or, for text that is no URL at all
# (``AC1:token@host/x``), at the start.
_AUTHORITY = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//")


def shown_url(url: str) -> str:
    """``url`` fit to print: no user information, whatever it holds, and no control characters.

    Everything from the start of the host part to the last ``@`` is replaced by ``***@``: a secret may
    hold ``/``, ``?``, ``#`` or ``@`` itself, so no parse of the URL can say where it ends. A path
    (``/v2/...``) has no host part and is kept as it is.

    >>> shown_url("https://AC1:se/cr?et#x@host/v2")
    'https://***@host/v2'
    """
    at = url.rfind("@")
    if at >= 0:
        authority = _AUTHORITY.match(url)
        start = authority.end() if authority else 0
        if authority or not url.startswith("/"):
            url = url[:start] + "***" + url[at:]
    return escape_control(url)


def twilio_url(product: str, environ: Mapping[str, str] | None = None) -> str:
    """``https://{product}.twilio.com``, with ``TWILIO_EDGE`` and ``TWILIO_REGION`` as Twilio's SDKs apply them.

    Region alone: ``{product}.{region}.twilio.com``; an edge: ``{product}.{edge}.{region}.twilio.com``,
    with region ``us1`` when none is given.

    >>> twilio_url("messaging", {"TWILIO_EDGE": "dublin", "TWILIO_REGION": "ie1"})
    'https://messaging.dublin.ie1.twilio.com'
    """
    env = os.environ if environ is None else environ
    region, edge = env.get("TWILIO_REGION") or None, env.get("TWILIO_EDGE") or None
    for name, value in (("TWILIO_REGION", region), ("TWILIO_EDGE", edge)):
        if value is not None and not _HOST_LABEL.match(value):
            raise CredentialsError(
                f"{name} {escape_control(value)[:40]!r} is not a host-name label (lower-case letters, digits, '-'), "
                "e.g. TWILIO_REGION=ie1, TWILIO_EDGE=dublin"
            )
    if edge and not region:
        region = "us1"
    return "https://" + ".".join(part for part in (product, edge, region, "twilio", "com") if part)


def api_url_beside(base_url: str) -> str | None:
    """The REST API's origin on the same Twilio region and edge as a Senders API URL on Twilio's own
    hosts (``https://messaging.dublin.ie1.twilio.com`` → ``https://api.dublin.ie1.twilio.com``); None
    for any other URL (an emulator, a proxy), whose REST API cannot be guessed.

    >>> api_url_beside("https://messaging.dublin.ie1.twilio.com")
    'https://api.dublin.ie1.twilio.com'
    """
    try:
        parts = urlsplit(base_url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.port not in (None, 443) or not host.startswith("messaging."):
        return None
    if not host.endswith(".twilio.com"):
        return None
    return "https://api." + host[len("messaging."):]
