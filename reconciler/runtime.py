"""Process tuning for the command line: every trick that changes the whole process, each with its measured reason.

    runtime.take_signals()                     # reconciler/__main__.py, before anything heavy is imported
    runtime.prepare(offline=True)
    with runtime.command_line():               # sessions made inside tune around their heavy steps
        ...
    runtime.end_now(code)                      # offline commands: no interpreter teardown

Only the process entries apply them (``reconciler`` and ``python -m reconciler`` through
:mod:`reconciler.__main__`; the pre-commit hook's collector switch through :mod:`reconciler.precommit`).
Importing this module changes nothing. A program that imports reconciler and drives
:class:`~reconciler.session.Session` itself keeps its collector, switch interval, modules and exit as it
set them: :func:`tuning` gives its sessions :class:`Tuning`, which does nothing. Figures are CPU time on
2 CPUs (docs/performance.md and the commits that made each change).

1. **Signals first** (:func:`take_signals`). A CI runner cancels a job with SIGTERM; taken over before
   anything heavy is imported, it ends the run with one line at any moment, as Ctrl-C does, never a
   traceback or silence. Apply turns both into stop requests while it writes.
2. **httpx without its command-line client** (:func:`prepare`). httpx's ``__init__`` imports
   ``httpx._main`` (click, rich, pygments) whenever those are installed, as they are here: 349 ms of CPU
   for ``import httpx``, 218 ms without it, so every ``plan``, ``apply`` and ``drift`` starts 0.13 s
   sooner. A placeholder module without ``main`` stands in ``sys.modules`` for the life of the process,
   so httpx's ``from ._main import main`` fails and httpx takes the stub it has for a missing CLI. This
   relies on that fallback in httpx's ``__init__`` (an internal; ``tests/test_runtime.py`` holds it). No
   code of ours imports ``httpx._main``.
3. **The offline commands run with the collector off** (:func:`prepare`, ``offline=True``): ``validate``
   (which the pre-commit hook runs on every commit), ``schema`` and ``accounts`` read files, print and
   end. Most of their time is importing pydantic, phonenumbers and ruamel.yaml, which make no garbage;
   the cyclic collector walked those objects again and again: 325 ms with it, 299 ms without (the
   imports, ending without teardown), about 45 ms of ``validate``'s 500 ms on the example.
4. **... and end without the interpreter's teardown** (:func:`end_now`): once the exit handlers have run
   (``atexit``: a coverage tool's, a wrapper's) and stdout and stderr are flushed, ``os._exit``. The
   teardown of the same modules cost 427 against 325 ms for the imports alone, and ``validate`` of the
   example 499 against 435 ms. They leave no thread or open file to finalise; where another thread runs
   (an embedding program's), the process ends as usual. Together with 3 and the lazy imports below,
   ``validate`` of the example went from 14.9x to 6.95x a bare interpreter (383 / 55 ms).
5. **The collector around a plan** (:meth:`CommandLine.planning`): off from loading the files until the
   plan is made, then what was built is frozen (``gc.freeze``). The desired state, the live senders and
   the plan are millions of small objects in no cycle that live until the command ends; every full
   collection walked them again. A plan of 10,000 senders: 2.95 s of CPU, 0.8 to 1.0 s of it in the
   collector; 2.47 s, 0.04 s in the collector, frozen. Loading alone, a third of its time was the
   collector. Later collections (during apply's writes) skip the frozen objects. A library caller's
   plans freeze nothing: eight in-process plans of a test run froze 65,000 objects for good.
6. **A short switch interval while the live senders are read beside the loading**
   (:meth:`CommandLine.reader_beside_loader`): the reading thread needs the interpreter lock briefly and
   often (each chunk that arrives); at the default 5 ms it waited longer for the loader to let go than
   it read, and the read took longer than the load. 1 ms while both run, the default again after.

Kept where they act, because they change no process state, only when our own modules load: the names
of :mod:`reconciler.render` and :mod:`reconciler.emulator` loaded on first use (PEP 562 ``__getattr__``;
``validate`` loads two of render's modules), the ``emulator`` command's module loaded when the command is
looked up (``cli._LazyGroup``: 15 to 30 ms less for every other command), the models' deferred
validators, and the client's one TLS context per process (0.15 s of CPU each; a run across 60 accounts
opens a client per account). One setting of a library stays with its use: ``models/rules.py`` keeps
phonenumbers' compiled patterns (``enable_pattern_cache``; same verdicts, sender ids checked 2.7x faster
together with the short parse of ``+`` and digits).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import signal
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar

__all__ = ["OFFLINE_COMMANDS", "CommandLine", "Tuning", "command_line", "command_of", "end_now", "prepare",
           "take_signals", "tuning"]

#: Commands that read files, print and end: nothing a teardown would finalise.
OFFLINE_COMMANDS = frozenset({"validate", "schema", "accounts"})

#: The switch interval while a reader thread runs beside the loader (the default is 5 ms).
READER_SWITCH_INTERVAL = 0.001


class Tuning:
    """What a session does to the process around its heavy steps: nothing (a library caller's sessions)."""

    def planning(self) -> AbstractContextManager[None]:
        """Around loading the files and planning."""
        return contextlib.nullcontext()

    def reader_beside_loader(self) -> Callable[[], None]:
        """Before a thread reads the live senders while the main thread loads; returns what undoes it."""
        return _nothing


class CommandLine(Tuning):
    """The command line's tuning of a session's heavy steps (5 and 6 above)."""

    @contextmanager
    def planning(self) -> Iterator[None]:
        enabled = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            gc.freeze()
            if enabled:
                gc.enable()

    def reader_beside_loader(self) -> Callable[[], None]:
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, READER_SWITCH_INTERVAL))
        return lambda: sys.setswitchinterval(interval)


def _nothing() -> None:
    return None


_UNTUNED = Tuning()
_TUNING: ContextVar[Tuning | None] = ContextVar("reconciler_tuning", default=None)


def tuning() -> Tuning:
    """The tuning in effect: :class:`CommandLine` inside :func:`command_line`, else none."""
    return _TUNING.get() or _UNTUNED


@contextmanager
def command_line() -> Iterator[None]:
    """Sessions made and used inside tune the process around their heavy steps (see :class:`CommandLine`)."""
    token = _TUNING.set(CommandLine())
    try:
        yield
    finally:
        _TUNING.reset(token)


def take_signals() -> None:
    """SIGTERM becomes KeyboardInterrupt, as Ctrl-C, unless someone already handles it (1 above)."""
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, signal.default_int_handler)


def command_of(args: list[str]) -> str | None:
    """The command named in the arguments (the group's own options take no values), or None."""
    return next((a for a in args if not a.startswith("-")), None)


def prepare(*, offline: bool) -> None:
    """Before the command line's modules are imported: httpx without its CLI (2 above), and for an
    offline command the collector off (3 above)."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", types.ModuleType("httpx._main"))  # no ``main``: httpx's fallback
    if offline:
        gc.disable()


def end_now(code: object) -> None:
    """Flush what was printed, run the exit handlers and end the process with ``code``, skipping the
    interpreter's teardown (4 above); return (for the usual exit) where another thread runs or the
    handlers cannot be run."""
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None or threading.active_count() > 1:
        return
    status = code if isinstance(code, int) else (0 if code is None else 1)
    if isinstance(code, str):  # as the interpreter would print it
        print(code, file=sys.stderr)
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or full stream: what could not be written is lost either way
            status = status or 1
    os._exit(status)
