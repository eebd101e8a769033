"""The pre-commit hook's entry point: ``reconciler validate`` on the files pre-commit passes.

pre-commit runs the hook's ``entry``, then its ``args``, then the changed files' names. The hook's
``args`` end with ``--`` (.pre-commit-hooks.yaml), so every name after it is a file, however it is
spelled: a file under a directory named ``--file=x`` or ``-dir`` is validated as itself, never read
as an option. Each name reaches ``validate`` as one ``--file=NAME`` word for the same reason::

    reconciler-precommit -- accounts/prod/senders.yaml accounts/staging/senders.yaml
    # runs: reconciler validate --file=accounts/prod/senders.yaml
    #       reconciler validate --file=accounts/staging/senders.yaml

Files of one directory are validated together, as one account (duplicates across them are
errors); files of different directories are separate accounts, so one account's ``safety:`` or
sender ids never clash with another's. ``-f PATH`` / ``-fPATH`` / ``--file PATH`` / ``--file=PATH``
before the ``--`` are validated together as one more group; any other word is a file name. Exits 1
when any group is invalid.

What ``validate`` prints goes out with every control character escaped (``\\x1b``), so a file name
holding a terminal escape sequence cannot drive the terminal that shows the hook's output.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import PurePath
from typing import TextIO

from reconciler import runtime
from reconciler.cli import main as cli_main
from reconciler.text import escape_control

_FILE_OPTIONS = ("-f", "--file")
#: Where the hook's own options end and pre-commit's file names begin.
NAMES_FOLLOW = "--"


def validate_groups(argv: Sequence[str]) -> list[list[str]]:
    """The ``reconciler validate`` argument lists for ``argv``, one per account.

    >>> validate_groups(["--", "a/senders.yaml", "b/senders.yaml", "a/senders-2.yaml"])
    [['validate', '--file=a/senders.yaml', '--file=a/senders-2.yaml'], ['validate', '--file=b/senders.yaml']]
    >>> validate_groups(["-f", "senders/", "--"])
    [['validate', '--file=senders/']]
    >>> validate_groups(["--", "--file=x/senders.yaml"])
    [['validate', '--file=--file=x/senders.yaml']]
    """
    explicit: list[str] = []
    by_directory: dict[PurePath, list[str]] = {}
    args = iter(argv)
    for arg in args:
        if arg == NAMES_FOLLOW:
            for name in args:  # the rest are pre-commit's file names, whatever they look like
                by_directory.setdefault(PurePath(name).parent, []).append(f"--file={name}")
        elif arg in _FILE_OPTIONS:
            explicit.append(f"--file={next(args, '')}")
        elif arg.startswith("--file="):
            explicit.append(arg)
        elif arg.startswith("-f"):  # -fPATH, as click reads it
            explicit.append(f"--file={arg[2:]}")
        else:
            by_directory.setdefault(PurePath(arg).parent, []).append(f"--file={arg}")
    groups = [["validate", *explicit]] if explicit else []
    groups += [["validate", *names] for names in by_directory.values()]
    return groups or [["validate"]]  # nothing passed (always_run): validate's default file


class _Escaping(io.TextIOBase):
    """A text stream that writes to ``target`` with every control character but the line break escaped."""

    def __init__(self, target: TextIO):
        self.target = target

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.target.encoding or "utf-8"

    def isatty(self) -> bool:
        return self.target.isatty()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.target.write("\n".join(escape_control(line) for line in text.split("\n")))
        return len(text)

    def flush(self) -> None:
        self.target.flush()


@contextmanager
def _escaped_output() -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Escaping(saved[0]), _Escaping(saved[1])
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved


def run(argv: Sequence[str]) -> int:
    """Validate every group; 0 when all are valid, else 1."""
    worst = 0
    with _escaped_output():
        for group in validate_groups(argv):
            try:
                cli_main(group)
            except SystemExit as exc:
                code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
                worst = max(worst, code)
    return worst


def main() -> None:
    """Entry point of the ``reconciler-precommit`` console script: an offline command's process (see runtime)."""
    runtime.prepare(offline=True)
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
