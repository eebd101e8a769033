"""``python -m reconciler`` and the ``reconciler`` console script.

Signals are taken over before anything heavy is imported, so Ctrl-C or a CI runner's SIGTERM in the
first moments of a run ends it with one line, like at any other moment, never a traceback or silence.
"""

from __future__ import annotations

import signal
import sys


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate)
    try:
        from reconciler.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("\nError: interrupted: nothing was changed\n")
        sys.exit(1)
    run(argv)


if __name__ == "__main__":
    main()
