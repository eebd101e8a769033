"""``reconciler/action/__init__.py``: the GitHub Action as a package that runs the CLI, never inside itself.

The action talks to the command line through a subprocess and its exit code and JSON (``commands``,
``github``): importing the action loads none of the CLI, the session or the Senders client, so it cannot
share their state or depend on their wording.
"""

from __future__ import annotations

import subprocess
import sys

from tests.factories import REPO_ROOT, clean_env

#: Modules of the command line and below that the action must reach only through ``python -m reconciler``.
IN_PROCESS = ("reconciler.cli", "reconciler.session", "reconciler.client", "reconciler.config", "reconciler.render",
              "reconciler.plan", "reconciler.accounts")


def test_the_action_loads_none_of_the_command_line_it_runs() -> None:
    code = ("import sys, reconciler.action, reconciler.action.commands, reconciler.action.github\n"
            "print('\\n'.join(sorted(sys.modules)))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                            env=clean_env(), check=True, timeout=60)
    loaded = set(result.stdout.split())
    assert "reconciler.action.commands" in loaded  # it did load the action
    assert not {m for m in loaded if m.startswith(IN_PROCESS)}


def test_importing_the_package_prints_nothing_and_loads_no_command() -> None:
    code = "import sys, reconciler.action\nprint(sorted(m for m in sys.modules if m.startswith('reconciler.action.')))\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                            env=clean_env(), check=True, timeout=60)
    assert result.stdout == "[]\n" and result.stderr == ""
