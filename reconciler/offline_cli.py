"""The offline commands: ``validate``, ``schema`` and ``accounts``. No credentials, no network.

Loaded only when one of them is run (:class:`reconciler.options.LazyGroup`): ``validate`` is what the
pre-commit hook runs on every commit, and imports neither the HTTP client nor the planner.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from reconciler.errors import ConfigError, ReconcilerError
from reconciler.options import EXIT_ERROR, EXIT_OK, files_option, github_workspace

if TYPE_CHECKING:
    from reconciler.accounts.record import AccountPlan
    from reconciler.models import DesiredState

# The files' modules (pydantic, ruamel.yaml) are imported by the commands, not by ``--help``.


def _valid(files: Sequence[str]) -> list[DesiredState]:
    """The files' states, or every problem on stderr and exit 1."""
    from reconciler.offline import validate_files
    from reconciler.render.words import config_error_lines

    try:
        return validate_files(files)
    except ConfigError as exc:
        for line in [*config_error_lines(exc), *annotation_lines(error=exc)]:
            click.echo(line, err=True)
        raise click.exceptions.Exit(EXIT_ERROR) from None


def annotation_lines(plans: Sequence[AccountPlan] = (), error: ReconcilerError | None = None) -> list[str]:
    """In a GitHub Actions step, what has a place in a file, as annotations on its line (stderr); elsewhere none.

    The errors of invalid files at their places; the problems and notices of ``plans`` at their senders'
    entries, found by reading the files again (only when there are some).
    """
    workspace = github_workspace()
    if workspace is None:
        return []
    from reconciler.offline import sender_places
    from reconciler.render.annotations import error_annotations, plan_annotations, wanted_senders, workflow_commands

    places = {(p.account.sid, sender_id): where for p in plans if (wanted := wanted_senders(p))
              for sender_id, where in sender_places(p.sources, wanted).items()}
    return workflow_commands([*error_annotations(error), *plan_annotations(plans, places)], workspace, os.getcwd())


@click.command()
@files_option
def validate(files: tuple[str, ...]) -> None:
    """Check desired-state files offline: no credentials, no network.

    Prints a one-line summary and exits 0 when valid; otherwise prints every problem, one a line
    (PATH:LINE:COL: ...), on stderr and exits 1.
    """
    from reconciler.render.words import valid_lines

    for line in valid_lines(_valid(files)):
        click.echo(line)


@click.command()
def schema() -> None:
    """Print the JSON Schema of the desired-state file, for editors.

    Save it and point your editor at it, e.g. with a first line
    "# yaml-language-server: $schema=./senders.schema.json" in senders.yaml.
    """
    from reconciler.offline import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@click.command("accounts")
@files_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: a list for a CI matrix (e.g. GitHub Actions' fromJSON).")
@click.option("--shards", type=click.IntRange(1, 256), help="Group the accounts into this many shards (one CI job each).")
def accounts_command(files: tuple[str, ...], fmt: str, shards: int | None) -> int:
    """List the accounts the files name, offline, for one CI job per account or per shard.

    Files without 'account:' belong to the account of TWILIO_ACCOUNT_SID, which must then be set (no secret).
    """
    from reconciler.offline import account_matrix

    rows = account_matrix(_valid(files), shards)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False))
        return EXIT_OK
    for row in rows:
        click.echo("\t".join(str(row[k]) for k in ("shard", "account", "senders") if k in row) + "\t" + row["args"])
    return EXIT_OK
