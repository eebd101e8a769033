"""``python -m reconciler`` and the ``reconciler`` console script: the process entry.

The command line's process tuning (the collector, the switch interval, httpx without its CLI, the end
without teardown) is :mod:`reconciler.runtime`'s, applied here and nowhere else, so a program that
imports reconciler keeps its process as it set it. Signals are taken over before anything heavy is
imported, so Ctrl-C or a CI runner's SIGTERM in the first moments of a run ends it with one line.
"""

from __future__ import annotations

import sys

from reconciler import runtime


def main(argv: list[str] | None = None) -> None:
    runtime.take_signals()
    offline = runtime.command_of(sys.argv[1:] if argv is None else argv) in runtime.OFFLINE_COMMANDS
    runtime.prepare(offline=offline)
    try:
        from reconciler.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("\nError: interrupted: nothing was changed\n")
        sys.exit(1)
    with runtime.command_line():
        try:
            run(argv)
        except SystemExit as exc:
            if offline:
                runtime.end_now(exc.code)
            raise


if __name__ == "__main__":
    main()
