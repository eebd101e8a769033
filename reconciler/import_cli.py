"""``reconciler import``: live senders added to an existing desired-state file, its comments and layout kept.

Loaded only when run (:class:`reconciler.options.LazyGroup`); the work is :mod:`reconciler.importing`'s.
"""

from __future__ import annotations

from typing import Any

import click

from reconciler.cli import api_settings
from reconciler.defaults import DEFAULT_FILE
from reconciler.options import EXIT_OK, api_options


@click.command("import")
@click.argument("sender_ids", nargs=-1, required=True, metavar="SENDER_ID...")
@click.option("-f", "--file", "path", default=DEFAULT_FILE, show_default=True, metavar="PATH",
              help="The desired-state file to add them to: one file, which must exist.")
@api_options
def import_command(sender_ids: tuple[str, ...], path: str, **options: Any) -> int:
    """Bring live senders under management: add them to an existing file, as 'export' writes them.

    SENDER_ID is a live sender's 'whatsapp:+E164' id or its XE... SID. The file keeps its comments, order
    and layout; the senders are added at the end of its 'senders:', and the next plan for them is empty.
    They are read from the account the file names with 'account:', else from the credentials' own. A sender
    the file declares or ignores already, or that is not live, is refused, and then nothing is written.
    """
    from reconciler.importing import import_senders
    from reconciler.render.commands import import_output
    from reconciler.session import Session

    imported = import_senders(Session(api_settings(**options)), path, sender_ids)
    output = import_output(imported.path, imported.sender_ids, imported.skipped, imported.remaining)
    for line in output.stderr:
        click.echo(line, err=True)
    click.echo(output.stdout, nl=False)
    return EXIT_OK
