"""``drift --notify URL``: one message, through Apprise, when drift or an error is found.

    notifications = Notifications(["slack://T…/B…/X…", "json://hooks.example.com/drift"])
    with notifications.of_errors(echo):            # an error that ends the run is sent, then raised on
        run = session.plan(files)
    warnings = notifications.of_drift(run.plans)   # sent when the run found drift or a problem

Apprise (https://github.com/caronc/apprise) comes with the optional extra ``notify``
(``whatsapp-senders-reconciler[notify]``): Slack, Microsoft Teams, Discord, e-mail, generic JSON and form
webhooks and about a hundred more services, each with a URL of its own. Without it, ``--notify`` is an
error before anything runs; so is a URL it cannot use. URLs are given as Apprise's own command line takes
them (``APPRISE_URLS``): several in one value, separated by spaces, commas or semicolons.

A notification URL holds credentials (a password, a webhook's token). Only :func:`shown` is ever printed:
the service's name and the host as Apprise's privacy URL shows it, never a user, password, path or query.
Apprise's and urllib3's loggers are held back while a message is sent, since their debug lines (``-v``)
carry URLs. A message that cannot be sent is a warning: the exit code stays what the check found.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from reconciler import __version__
from reconciler.accounts.record import AccountPlan
from reconciler.errors import Interrupted, ReconcilerError
from reconciler.render.notification import Message, drift_message, error_message, send_failed
from reconciler.text import escape_control

if TYPE_CHECKING:
    from apprise import NotifyBase

#: How to install what ``--notify`` needs: from the repository, as README.md installs reconciler itself.
INSTALL = ("pip install 'whatsapp-senders-reconciler[notify] @ git+https://github.com/whatsapp-senders-reconciler/"
           f"whatsapp-senders-reconciler@v{__version__}' (or pip install '.[notify]' in a checkout)")
#: Where Apprise lists its services and the URL of each.
SERVICES = "https://github.com/caronc/apprise/wiki"
#: Loggers that may print a URL as it was given (Apprise's, and the HTTP library under it).
_LOGGERS = ("apprise", "urllib3", "requests")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
#: Between two URLs of one value: spaces, commas or semicolons, before the next ``scheme://``.
_BETWEEN = re.compile(r"[\s,;]+(?=[A-Za-z][A-Za-z0-9+.-]*://)")
_SEPARATORS = " \t\r\n,;"


class NotifyError(ReconcilerError):
    """``--notify`` cannot be used: Apprise is not installed, or a URL is not one it knows."""


def split_urls(values: Sequence[str]) -> list[str]:
    """Every URL in ``values``, each of which may hold several, as Apprise's ``APPRISE_URLS`` does."""
    return [url.strip(_SEPARATORS) for value in values for url in _BETWEEN.split(value.strip(_SEPARATORS))
            if url.strip(_SEPARATORS)]


def shown(url: str, service: NotifyBase | None, position: int, total: int) -> str:
    """A notification URL as it may be printed: the service and the host Apprise's privacy URL shows (a token
    in the host masked, as ``T...2``), nothing of the user, password, path or query."""
    where = f", URL {position} of {total}" if total > 1 else ""
    if service is None:
        scheme = url.partition("://")[0] if "://" in url else ""
        named = f"{scheme}://…" if _SCHEME.fullmatch(scheme) else "a value that is not a URL"
        return escape_control(f"{named}{where}")
    privacy_url: Callable[..., str] = service.url  # Apprise's own redaction: secrets in the host masked
    private = privacy_url(privacy=True)
    scheme, _, rest = private.partition("://")
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]
    name = getattr(service, "service_name", None) or scheme
    return escape_control(f"{name} ({scheme}://{host}/…{where})")


@contextmanager
def _quiet() -> Iterator[None]:
    """Apprise's and urllib3's log records go nowhere: their debug lines carry URLs, tokens and all."""
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    before = [logger.propagate for logger in loggers]
    held = logging.NullHandler()  # a handler, so that Python's last-resort one does not print what is held back
    for logger in loggers:
        logger.propagate = False
        logger.addHandler(held)
    try:
        yield
    finally:
        for logger, propagate in zip(loggers, before, strict=True):
            logger.removeHandler(held)
            logger.propagate = propagate


class Notifications:
    """The services of the ``--notify`` URLs (none: nothing is sent and Apprise is not imported)."""

    def __init__(self, urls: Sequence[str]):
        given = split_urls(urls)
        self._services: list[tuple[NotifyBase, str]] = []
        if not given:
            return
        try:
            import apprise  # the optional extra, imported only when a URL is given
        except ImportError:
            raise NotifyError(f"--notify needs Apprise, which sends the notifications, and it is not installed: "
                              f"install reconciler with its 'notify' extra: {INSTALL}") from None
        with _quiet():
            for position, url in enumerate(given, 1):
                service = apprise.Apprise.instantiate(url, suppress_exceptions=True)
                if service is None:
                    raise NotifyError(f"--notify {shown(url, None, position, len(given))}: not a notification URL "
                                      f"Apprise can use (its services and their URLs: {SERVICES})")
                self._services.append((service, shown(url, service, position, len(given))))

    def __bool__(self) -> bool:
        return bool(self._services)

    @contextmanager
    def of_errors(self, echo: Callable[[Sequence[str]], None]) -> Iterator[None]:
        """An error of ours that ends the run is sent (``echo`` prints the warnings), then raised on; an interrupt
        is a person's doing, and sends nothing."""
        try:
            yield
        except Interrupted:
            raise
        except ReconcilerError as error:
            if self._services:
                echo(self.send(error_message(error)))
            raise

    def of_drift(self, plans: Sequence[AccountPlan]) -> list[str]:
        """The run's drift and problems sent, if it found any: the warnings about what could not be sent."""
        message = drift_message(plans) if self._services else None
        return self.send(message) if message is not None else []

    def send(self, message: Message) -> list[str]:
        """``message`` to every service, one after the other: a warning for each that could not take it."""
        from apprise import NotifyType

        kind = NotifyType.FAILURE if message.failure else NotifyType.WARNING
        warnings = []
        with _quiet():
            for service, name in self._services:
                try:
                    sent = service.notify(body=message.body, title=message.title, notify_type=kind)
                except Exception:  # a service's code is foreign: its failure is a warning, never a traceback
                    sent = False
                if not sent:
                    warnings.append(send_failed(name))
        return warnings
