"""``reconciler demo``: the whole loop offline, against an embedded emulator."""

from __future__ import annotations

import sys

import click

from reconciler import render


@click.command("demo")
@click.option("-f", "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=str),
              help="Desired-state file to plan. Default: ./senders.yaml.example, else the copy shipped with reconciler.")
@click.option("--apply", "do_apply", is_flag=True, help="Also apply the plan to the emulator, then plan again.")
def demo_command(path: str | None, do_apply: bool) -> int:
    """Plan the example file against an embedded emulator: no Twilio account needed."""
    from reconciler.demo.loop import run_demo  # the emulator and the session: not for --help

    return run_demo(path, apply=do_apply, echo=click.echo, color=render.wants_color(sys.stdout))
