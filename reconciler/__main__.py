"""``python -m reconciler`` and the ``reconciler`` console script.

Signals are taken over before anything heavy is imported, so Ctrl-C or a CI runner's SIGTERM in the
first moments of a run ends it with one line, like at any other moment, never a traceback or silence.

The offline commands (``validate``, which the pre-commit hook runs on every commit, ``schema`` and
``accounts``) read files, print and end. Most of their time is importing pydantic, phonenumbers and
ruamel.yaml, then the interpreter's teardown of those modules: they run with the cyclic collector off
(the imports make no garbage; the collector walked them again and again, about 45 ms) and, once their
output is flushed and the exit handlers have run (``atexit``: a coverage tool's, a wrapper's), the
process ends without that teardown (about 65 ms): they leave no thread or open file to finalise. Where
another thread runs (an embedding program's), the process ends as usual.
"""

from __future__ import annotations

import atexit
import gc
import os
import signal
import sys
import threading

#: Commands that leave nothing a teardown would finalise.
OFFLINE_COMMANDS = frozenset({"validate", "schema", "accounts"})


def command_of(args: list[str]) -> str | None:
    """The command named in the arguments (the group's own options take no values), or None."""
    return next((a for a in args if not a.startswith("-")), None)


def _end(code: object) -> None:
    """Flush what was printed, run the exit handlers and end the process with ``code``, skipping the
    interpreter's teardown; return (for the usual exit) where another thread runs or handlers cannot be run."""
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


def main(argv: list[str] | None = None) -> None:
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    offline = command_of(sys.argv[1:] if argv is None else argv) in OFFLINE_COMMANDS
    if offline:
        gc.disable()
    try:
        from reconciler.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("\nError: interrupted: nothing was changed\n")
        sys.exit(1)
    try:
        run(argv)
    except SystemExit as exc:
        if offline:
            _end(exc.code)
        raise


if __name__ == "__main__":
    main()
