"""The one composition layer: files, the API, plans, saved plans and apply wired together for one run.

    session = Session(ApiSettings(base_url=url))
    planned = session.plan(["senders.yaml"])           # loads the files while the live senders are read
    report = session.apply(planned.plan, interrupts=Interrupts())

The CLI and the demo both go through here; tests drive it in-process without click. Event loops, the
reader thread and garbage-collector tuning live here and nowhere above. Nothing here prints: results
are data, and ``reconciler.render`` words them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import sys
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from reconciler import __version__
from reconciler.apply import ApplyReport, Outcome, Settled, apply_plan, wait_until_settled
from reconciler.client import (
    DEFAULT_BASE_URL,
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT,
    Credentials,
    RetryPolicy,
    SendersClient,
    check_base_url,
    senders_from_pages,
)
from reconciler.config import DEFAULT_FILE as DEFAULT_FILE  # re-exported for the CLI
from reconciler.config import load_desired
from reconciler.errors import ApiError, PlanFileError, ReconcilerError
from reconciler.export import Skipped, export_senders, to_yaml
from reconciler.fs import atomic_write
from reconciler.models import DesiredState, LiveSender, Safety
from reconciler.offline import JSON_SCHEMA_DIALECT as JSON_SCHEMA_DIALECT  # re-exported
from reconciler.offline import json_schema as json_schema  # re-exported
from reconciler.offline import validate_files as validate_files  # re-exported
from reconciler.plan import Plan, build_plan
from reconciler.planfile import PLAN_KEY_ENV, check_fresh, dump_plan, load_plan, signing_key

_T = TypeVar("_T")


@dataclass(frozen=True)
class ApiSettings:
    """Where and how hard to reach the API (the CLI's shared options); the defaults are the documented ones."""

    base_url: str = DEFAULT_BASE_URL
    request_timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = RetryPolicy.attempts
    backoff: float = RetryPolicy.backoff
    #: Writes in flight at once, for apply.
    concurrency: ClassVar[int] = DEFAULT_CONCURRENCY


@dataclass(frozen=True)
class Planned:
    """A plan and what applying it is held to: the safety thresholds, and whether they were overridden."""

    plan: Plan
    safety: Safety
    forced: bool = False
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exported:
    text: str
    count: int
    skipped: tuple[Skipped, ...]


class Interrupts:
    """Stop and abort requests for an apply in progress; ``request()`` is safe to call from a signal handler.

    The first request stops new writes (in-flight ones finish), the second aborts those in flight.
    """

    def __init__(self, on_stop: Callable[[], None] | None = None):
        self.on_stop = on_stop
        self.stopped = False
        self.aborted = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._abort: asyncio.Event | None = None

    def request(self) -> None:
        if not self.stopped:
            self.stopped = True
            if self.on_stop is not None:
                self.on_stop()
            self._set(self._stop)
        else:
            self.aborted = True
            self._set(self._abort)

    def _set(self, event: asyncio.Event | None) -> None:
        if self._loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing is left to stop
                self._loop.call_soon_threadsafe(event.set)

    def _bind(self) -> tuple[asyncio.Event, asyncio.Event]:
        """The events apply watches, bound to the running loop and set already for earlier requests."""
        self._loop = asyncio.get_running_loop()
        self._stop, self._abort = asyncio.Event(), asyncio.Event()
        if self.stopped:
            self._stop.set()
        if self.aborted:
            self._abort.set()
        return self._stop, self._abort


class Session:
    """One run against one API endpoint with one set of credentials."""

    def __init__(self, settings: ApiSettings, *, credentials: Credentials | None = None,
                 environ: Mapping[str, str] | None = None):
        self.base_url = check_base_url(settings.base_url)
        self.retry = RetryPolicy(attempts=settings.max_attempts, backoff=settings.backoff,
                                 timeout=settings.request_timeout)
        self.credentials = credentials if credentials is not None else Credentials.from_env(environ)
        self._from_env = credentials is None
        self._environ = environ

    @classmethod
    def for_files(cls, settings: ApiSettings, files: Sequence[str | Path]) -> Session:
        """A session, unless the settings are refused: then a broken file is the more useful error (it needs none)."""
        try:
            return cls(settings)
        except ReconcilerError:
            load_desired(files)
            raise

    def client(self, concurrency: int = DEFAULT_CONCURRENCY) -> SendersClient:
        return SendersClient(self.credentials, base_url=self.base_url, retry=self.retry, concurrency=concurrency)

    def _run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        try:
            return asyncio.run(coroutine)
        except ApiError as exc:
            raise self._explained(exc) from None

    def _explained(self, error: BaseException) -> BaseException:
        """A refusal of the credentials, with the names of the variables they came from."""
        if isinstance(error, ApiError) and error.status in (401, 403) and self._from_env:
            key = self.credentials.username.startswith("SK")
            error.credential_vars = ("TWILIO_API_KEY", "TWILIO_API_SECRET") if key else (
                "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
        return error

    def plan_key(self) -> bytes:
        return signing_key(self.credentials.secret, self._environ)

    # ---- reads

    def read_live(self) -> list[LiveSender]:
        async def go() -> list[LiveSender]:
            async with self.client() as api:
                return await api.list_senders()

        return self._run(go())

    def plan(self, files: Sequence[str | Path], *, allow_delete: bool = False, targets: Iterable[str] = (),
             force: bool = False) -> Planned:
        """Load the files and read the live senders (at once), then plan."""
        with _long_lived():
            desired, pages = self._load_while_reading(files)
            live = senders_from_pages(pages)
            del pages
            plan = build_plan(desired, live, allow_delete=allow_delete, targets=targets)
        return Planned(plan, desired.safety, force, desired.sources)

    def _load_while_reading(self, files: Sequence[str | Path]) -> tuple[DesiredState, list[bytes]]:
        """Load the files while the live senders' pages are read: the read waits on the network, the load on the CPU.

        For 10,000 senders, loading takes about 1.5 s of CPU and reading ten pages about a second
        of waiting. The pages stay bytes until the load is done, so the two peaks of memory do not
        add up. A problem in the files is reported as if the read had not started: the read is
        cancelled, not waited for. A failed read is reported once the files are loaded.
        """
        outcome: dict[str, Any] = {}
        started = threading.Event()

        async def read_pages() -> list[bytes]:
            outcome["loop"], outcome["task"] = asyncio.get_running_loop(), asyncio.current_task()
            started.set()
            async with self.client() as client:
                return await client.read_pages()

        def read() -> None:
            try:
                outcome["pages"] = asyncio.run(read_pages())
            except BaseException as exc:  # handed to the main thread below
                outcome["error"] = exc
            finally:
                started.set()

        # The reader needs the GIL briefly and often (a chunk has arrived); at the default 5 ms switch
        # interval it spent longer waiting for the loader to let go than reading.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, 0.001))
        reader = threading.Thread(target=read, name="reconciler-read")
        try:
            reader.start()
            try:
                desired = load_desired(files)
                reader.join()
            except BaseException:  # a ConfigError, or Ctrl-C: stop the read rather than wait for its retries
                started.wait()
                loop, task = outcome.get("loop"), outcome.get("task")
                if loop is not None and task is not None:
                    with contextlib.suppress(RuntimeError):  # the read has finished and its loop is closed
                        loop.call_soon_threadsafe(task.cancel)
                reader.join()
                raise
        finally:
            sys.setswitchinterval(interval)
        if "error" in outcome:
            raise self._explained(outcome["error"])
        pages: list[bytes] = outcome["pages"]
        return desired, pages

    # ---- saved plans

    def save_plan(self, path: str | Path, planned: Planned) -> None:
        text = dump_plan(planned.plan, base_url=self.base_url, key=self.plan_key(), safety=planned.safety,
                         forced=planned.forced, sources=planned.sources)
        atomic_write(path, text)

    def load_saved_plan(self, path: str | Path, *, force: bool = False) -> Planned:
        """A saved plan, verified (signature, endpoint) and checked fresh against live state."""
        saved = load_plan(path, key=self.plan_key())
        if saved.base_url != self.base_url:
            raise PlanFileError(f"{path}: the plan was made against {saved.base_url}, not {self.base_url}")
        check_fresh(saved, self.read_live())
        return Planned(saved.plan, saved.safety, saved.forced or force)

    # ---- writes

    def apply(self, plan: Plan, *, concurrency: int = DEFAULT_CONCURRENCY, interrupts: Interrupts | None = None,
              on_outcome: Callable[[Outcome], None] | None = None) -> ApplyReport:
        """Perform the plan's allowed actions; ``interrupts`` stops or aborts them."""
        requests = interrupts or Interrupts()

        async def go() -> ApplyReport:
            stop, abort = requests._bind()
            async with self.client(concurrency) as client:
                return await apply_plan(plan, client, concurrency=concurrency, stop=stop, abort=abort,
                                        on_outcome=on_outcome)

        return self._run(go())

    def wait(self, report: ApplyReport, timeout: float,
             on_round: Callable[[dict[str, LiveSender | None], tuple[str, ...], float], None] | None = None) -> Settled:
        """Poll until the created and updated senders leave transient statuses, or ``timeout`` seconds pass."""
        ids = [o.sender_id for o in report.outcomes if o.ok and o.action in ("create", "update")]

        async def go() -> Settled:
            async with self.client() as client:
                return await wait_until_settled(client, ids, timeout=timeout, on_round=on_round)

        return self._run(go())

    def pending_verification(self, sender_id: str) -> LiveSender:
        """The live sender waiting for its verification code; an error when it is missing or not waiting."""
        live = self.read_live()
        current = next((s for s in live if sender_id in (s.sender_id, s.sid)), None)
        if current is None:
            raise ReconcilerError(f"sender {sender_id}: not found in the account{_id_hint(sender_id, live)}")
        if current.status != "PENDING_VERIFICATION":
            raise ReconcilerError(
                f"sender {sender_id}: status is {current.status}, not PENDING_VERIFICATION; nothing to verify"
            )
        return current

    def verify(self, sender: LiveSender, code: str) -> str | None:
        """Submit a verification code; returns the status the API answered with."""

        async def go() -> dict[str, Any]:
            async with self.client() as client:
                try:
                    return await client.verify(sender.sid, code.strip())
                except ApiError as exc:
                    raise exc.for_sender(sender.sender_id) from None

        body = self._run(go())
        status = body.get("status") if isinstance(body, dict) else None
        return status if isinstance(status, str) else None

    def export(self, targets: Iterable[str] = ()) -> Exported:
        """The live senders as a desired-state file."""
        wanted = tuple(targets)
        live = self.read_live()
        missing = sorted(set(wanted) - {s.sender_id for s in live})
        if missing:
            raise ReconcilerError(f"--target matches no live sender: {', '.join(missing)}")
        senders, skipped = export_senders(live, targets=wanted)
        header = (f"Exported by reconciler {__version__} from {self.base_url}: {len(senders)} senders.\n"
                  "Every field below is managed; remove a field to stop managing it.")
        return Exported(to_yaml(senders, header=header), len(senders), tuple(skipped))


def _id_hint(given: str, live: Sequence[LiveSender]) -> str:
    """For an id that matches no sender: the one it probably means."""
    if given.startswith("whatsapp:"):
        return ""
    meant = "whatsapp:" + given
    if any(s.sender_id == meant for s in live):
        return f"; did you mean {meant}?"
    return "; give the sender id as 'whatsapp:' followed by the number (e.g. whatsapp:+15017122661), or its XE... SID"


def read_saved_plan(path: str | Path, environ: Mapping[str, str] | None = None) -> tuple[Planned, str | None]:
    """A saved plan to show, offline; verified when a key is at hand: ``RECONCILER_PLAN_KEY``, or the
    credentials' secret in the environment. Returns the plan and where the key came from (None: not verified)."""
    env = os.environ if environ is None else environ
    source: str | None = PLAN_KEY_ENV if env.get(PLAN_KEY_ENV) else None
    secret = ""
    if source is None:
        try:
            secret = Credentials.from_env(env).secret
            source = "TWILIO_API_SECRET" if env.get("TWILIO_API_KEY") else "TWILIO_AUTH_TOKEN"
        except ReconcilerError:
            source = None
    key = signing_key(secret, env) if source is not None else None
    saved = load_plan(path, key=key)
    return Planned(saved.plan, saved.safety, saved.forced), source


def write_file(path: str | Path, text: str) -> None:
    """Write an output file (plan, export) atomically."""
    atomic_write(path, text)


@contextmanager
def _long_lived() -> Iterator[None]:
    """Keep the cyclic garbage collector away from what is made inside: it lives until the command ends.

    The desired state, the live senders and the plan are millions of small objects in no cycle. Left
    to the collector, they were walked again at every full collection: a third of the CPU of a plan
    of 10,000 senders. Frozen, later collections (during apply's writes) skip them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
