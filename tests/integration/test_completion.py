"""Shell completion (docs/cli.md): click's completion scripts and answers, through the real CLI."""

from __future__ import annotations

import pytest

from tests.factories import clean_env, run_cli


@pytest.mark.parametrize(("shell", "marker"), [
    ("bash", "complete -o nosort -F _reconciler_completion reconciler"),
    ("zsh", "compdef _reconciler_completion reconciler"),
    ("fish", "complete --no-files --command reconciler"),
])
def test_completion_script_is_printed_for_each_shell(shell, marker):
    result = run_cli(env=clean_env(_RECONCILER_COMPLETE=f"{shell}_source"))
    assert result.returncode == 0 and result.stderr == ""
    assert "_RECONCILER_COMPLETE" in result.stdout and marker in result.stdout


def test_bash_completion_completes_commands_and_options():
    commands = run_cli(env=clean_env(_RECONCILER_COMPLETE="bash_complete", COMP_WORDS="reconciler pl", COMP_CWORD="1"))
    assert (commands.returncode, commands.stdout.split()) == (0, ["plain,plan"])
    options = run_cli(env=clean_env(_RECONCILER_COMPLETE="bash_complete", COMP_WORDS="reconciler drift --for",
                                    COMP_CWORD="2"))
    assert options.stdout.split() == ["plain,--format"]
