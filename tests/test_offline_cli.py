"""The offline commands as the group runs them: validate, schema, accounts, each loaded only when run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.options import EXIT_ERROR, EXIT_OK

SID = "AC" + "1" * 32


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "senders.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_validate_says_each_account_is_valid_or_every_problem(tmp_path: Path) -> None:
    good = write(tmp_path, f'account: {SID}\nsenders:\n  - sender_id: "whatsapp:+15017122661"\n')
    result = CliRunner().invoke(cli, ["validate", "-f", good], env={"TWILIO_ACCOUNT_SID": ""})
    assert result.exit_code == EXIT_OK and result.output == f"{good}: 1 sender, 0 ignored: valid\n"
    bad = write(tmp_path, "senders:\n  - sender_id: whatsapp:+1501712\n")
    refused = CliRunner().invoke(cli, ["validate", "-f", bad])
    assert refused.exit_code == EXIT_ERROR and f"{bad}:2:" in refused.output


def test_accounts_lists_the_matrix_as_json_or_lines(tmp_path: Path) -> None:
    f = write(tmp_path, f'account: {SID}\nsenders:\n  - sender_id: "whatsapp:+15017122661"\n')
    as_json = CliRunner().invoke(cli, ["accounts", "-f", f, "--format", "json"])
    assert json.loads(as_json.output) == [{"account": SID, "senders": 1, "files": [f], "args": f"--account {SID}"}]
    as_lines = CliRunner().invoke(cli, ["accounts", "-f", f, "--shards", "1"])
    assert as_lines.output == f"1\t1\t--account {SID}\n"


def test_schema_is_a_json_schema() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == EXIT_OK and json.loads(result.output)["$schema"].startswith("https://json-schema.org/")


def test_the_other_commands_do_not_load_the_offline_commands_module() -> None:
    code = ("import sys\nfrom reconciler.cli import main\nsys.argv = ['reconciler', 'plan', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint('reconciler.offline_cli' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent)
    assert out.stdout.strip().splitlines()[-1] == "False"
