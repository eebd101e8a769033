"""The command line: parse arguments, call the pieces, print, exit.

Every command is a few lines of wiring. Errors of our own (``ReconcilerError``) are caught once, in
:func:`main`, and printed as one line on stderr with exit code 1; a traceback reaching a user is a bug.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from reconciler import __version__
from reconciler.config import DEFAULT_FILE, load_desired
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.models import senders_file_json_schema

#: Exit codes, documented in docs/cli.md.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2

_F = TypeVar("_F", bound=Callable[..., Any])

#: ``-f/--file``, shared by every command that reads the desired state. The command receives
#: ``files: tuple[str, ...]``, ready for :func:`reconciler.config.load_desired`.
files_option: Callable[[_F], _F] = click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    default=(DEFAULT_FILE,),
    show_default=True,
    metavar="PATH",
    help="Desired-state file, or a directory of *.yaml/*.yml files. Repeat to combine several.",
)

#: Where ``reconciler schema`` says its JSON Schema dialect is.
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Manage Twilio WhatsApp Senders as code.

    Exit codes: 0 success, 1 error, 2 changes or drift (plan --detailed-exitcode, drift).
    """


@cli.command()
@files_option
def validate(files: tuple[str, ...]) -> None:
    """Check desired-state files offline: no credentials, no network.

    Prints a one-line summary and exits 0 when valid; otherwise prints every problem, one a line
    (PATH:LINE:COL: ...), on stderr and exits 1.
    """
    try:
        state = load_desired(files)
    except ConfigError as exc:
        for issue in exc.issues:
            click.echo(str(issue), err=True)
        count = len(exc.issues)
        click.echo(f"{count} error{'s' if count != 1 else ''}: invalid", err=True)
        raise click.exceptions.Exit(EXIT_ERROR) from None
    names = ", ".join(state.sources) if len(state.sources) <= 3 else f"{len(state.sources)} files"
    senders = len(state.senders)
    click.echo(f"{names}: {senders} sender{'s' if senders != 1 else ''}, {len(state.ignore)} ignored: valid")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the desired-state file, for editors.

    Save it and point your editor at it, e.g. with a first line
    "# yaml-language-server: $schema=./senders.schema.json" in senders.yaml.
    """
    document = {"$schema": JSON_SCHEMA_DIALECT, **senders_file_json_schema()}
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


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
