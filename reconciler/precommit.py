"""The pre-commit hook's entry point: ``reconciler validate`` on the files pre-commit passes.

pre-commit appends the changed files' names to the hook's ``args``; ``validate`` takes files as
``-f NAME`` pairs. This turns one into the other::

    reconciler-precommit accounts/prod/senders.yaml accounts/staging/senders.yaml
    # runs: reconciler validate -f accounts/prod/senders.yaml
    #       reconciler validate -f accounts/staging/senders.yaml

Files of one directory are validated together, as one account (duplicates across them are
errors); files of different directories are separate accounts, so one account's ``safety:`` or
sender ids never clash with another's. ``-f PATH`` / ``--file PATH`` given in the hook's ``args``
are validated together as one more group. Exits 1 when any group is invalid.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import PurePath

from reconciler import runtime
from reconciler.cli import main as cli_main

_FILE_OPTIONS = ("-f", "--file")


def validate_groups(argv: Sequence[str]) -> list[list[str]]:
    """The ``reconciler validate`` argument lists for ``argv``, one per account.

    >>> validate_groups(["a/senders.yaml", "b/senders.yaml", "a/senders-2.yaml"])
    [['validate', '-f', 'a/senders.yaml', '-f', 'a/senders-2.yaml'], ['validate', '-f', 'b/senders.yaml']]
    >>> validate_groups(["-f", "senders/"])
    [['validate', '-f', 'senders/']]
    """
    explicit: list[str] = []
    by_directory: dict[PurePath, list[str]] = {}
    args = iter(argv)
    for arg in args:
        if arg in _FILE_OPTIONS:
            explicit += ["-f", next(args, "")]
        elif arg.startswith("--file="):
            explicit += ["-f", arg.partition("=")[2]]
        elif arg.startswith("-"):
            explicit.append(arg)  # let validate say what it makes of an option it does not know
        else:
            by_directory.setdefault(PurePath(arg).parent, []).extend(["-f", arg])
    groups = [["validate", *explicit]] if explicit else []
    groups += [["validate", *names] for names in by_directory.values()]
    return groups or [["validate"]]  # nothing passed (always_run): validate's default file


def run(argv: Sequence[str]) -> int:
    """Validate every group; 0 when all are valid, else 1."""
    worst = 0
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
