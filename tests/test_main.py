"""``reconciler/__main__.py``: the process entry of ``python -m reconciler`` and of the ``reconciler`` script.

Its promises: the command line runs with the arguments it is given, an offline command's exit code and
output survive the fast end, and an interrupt before the command line is even imported is one line.
(What the tuning does to the process is tests/test_runtime.py's.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import reconciler
from tests.factories import REPO_ROOT, clean_env, run_cli, write_yaml


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO_ROOT,
                          env=clean_env(), stdin=subprocess.DEVNULL, timeout=120)


def test_version_prints_the_packages_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == f"reconciler, version {reconciler.__version__}\n"


def test_main_runs_the_arguments_it_is_given_not_the_process_s() -> None:
    result = _python("from reconciler.__main__ import main\nmain(['--version'])", "plan", "--no-such-option")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"reconciler, version {reconciler.__version__}\n"


def test_an_offline_command_keeps_its_exit_code_and_all_its_output_through_the_fast_end(tmp_path) -> None:
    """``validate`` and ``schema`` end without the interpreter's teardown: what they printed to a pipe is
    flushed, and a failure still exits 1."""
    schema = run_cli("schema")
    assert schema.returncode == 0 and json.loads(schema.stdout)["type"] == "object"
    broken = write_yaml(tmp_path, "senders:\n  - sender_id: nope\n")
    result = run_cli("validate", "-f", broken)
    assert result.returncode == 1
    assert f"{broken}:2:" in result.stderr and "Traceback" not in result.output


def test_the_exit_handlers_run_before_an_offline_command_ends() -> None:
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print('handler ran', flush=True))\n"
            "from reconciler.__main__ import main\n"
            "main(['schema'])\n")
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("handler ran")
    json.loads(result.stdout.rstrip().removesuffix("handler ran"))  # the whole schema came first


def test_an_interrupt_while_the_command_line_is_imported_is_one_line_not_a_traceback() -> None:
    # The command line's module stands in sys.modules as one whose ``main`` cannot be taken: the import is
    # interrupted exactly where a Ctrl-C in the first moments of a run would interrupt it.
    code = ("import sys, types\n"
            "cli = types.ModuleType('reconciler.cli')\n"
            "def __getattr__(name):\n"
            "    raise KeyboardInterrupt\n"
            "cli.__getattr__ = __getattr__\n"
            "sys.modules['reconciler.cli'] = cli\n"
            "from reconciler.__main__ import main\n"
            "main(['plan'])\n")
    result = _python(code)
    assert result.returncode == 1
    assert result.stderr == "\nError: interrupted: nothing was changed\n"
    assert result.stdout == ""
