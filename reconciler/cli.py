"""The command line: parse arguments, call the pieces, print, exit.

Every command is a few lines of wiring. Errors of our own (``ReconcilerError``) are caught once, in
:func:`main`, and printed as one line on stderr with exit code 1; a traceback reaching a user is a bug.
"""

from __future__ import annotations

import sys

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError

#: Exit codes, documented in docs/cli.md.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Manage Twilio WhatsApp Senders as code.

    Exit codes: 0 success, 1 error, 2 changes or drift (plan --detailed-exitcode, drift).
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``reconciler`` console script and ``python -m reconciler``."""
    try:
        code = cli.main(args=argv, prog_name="reconciler", standalone_mode=False)
    except ReconcilerError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        # click uses 2 for usage errors; here 2 means "changes", so every error is 1.
        sys.exit(EXIT_ERROR)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
