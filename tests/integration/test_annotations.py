"""Problems on the line they are about: the real CLI in a GitHub Actions step (``GITHUB_ACTIONS=true``).

Each problem with a place in a file is printed, besides its usual line, as a workflow command
(``::error file=…,line=…,col=…::…``) on stderr, its path relative to ``GITHUB_WORKSPACE``; outside
GitHub Actions, nothing changes.
"""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.emulator import EmulatorServer
from tests.factories import A, B, C, clean_env, run_cli, server_env

INVALID = """\
senders:
  - sender_id: whatsapp:+1 501 712 2661
  - sender_id: "whatsapp:+15017122662"
    profile:
      vertical: "Spaceships, 100%: the best"
"""


def _annotations(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("::")]


def _in_actions(env: dict[str, str], workspace: Path) -> dict[str, str]:
    return {**env, "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workspace)}


def test_an_invalid_file_is_marked_on_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "accounts" / "prod" / "senders.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(INVALID)
    env = _in_actions(clean_env(), tmp_path)
    expected = [
        "::error file=accounts/prod/senders.yaml,line=2,col=16::senders[0].sender_id: 'whatsapp:+1 501 712 2661' "
        "is not in E.164 form; write 'whatsapp:+15017122661'",
        "::error file=accounts/prod/senders.yaml,line=5,col=17::sender whatsapp:+15017122662: profile.vertical: "
        "'Spaceships, 100%25: the best' is not one of ",
    ]
    # validate from the repository's root, and plan from a directory below it: the same paths.
    validated = run_cli("validate", "-f", "accounts/prod/senders.yaml", env=env, cwd=tmp_path)
    planned = run_cli("plan", "-f", "senders.yaml", "--format", "json", env=env, cwd=path.parent)
    for result in (validated, planned):
        assert result.returncode == 1
        found = _annotations(result.stderr)
        assert len(found) == 2 and found[0] == expected[0] and found[1].startswith(expected[1]), result.stderr
        assert "senders.yaml:2:16: senders[0].sender_id" in result.stderr, "the usual lines stay"
    assert json.loads(planned.stdout)["error"]["kind"] == "ConfigError", "stdout stays one JSON document"
    # Outside GitHub Actions, nothing of the kind.
    plain = run_cli("validate", "-f", "accounts/prod/senders.yaml", cwd=tmp_path)
    assert plain.returncode == 1 and _annotations(plain.stderr) == [] and plain.stderr.count("senders.yaml:") == 2


def test_a_file_outside_the_workspace_keeps_its_path(tmp_path: Path) -> None:
    (tmp_path / "senders.yaml").write_text(INVALID)
    result = run_cli("validate", "-f", str(tmp_path / "senders.yaml"),
                     env=_in_actions(clean_env(), tmp_path / "elsewhere"), cwd=tmp_path)
    assert _annotations(result.stderr)[0].startswith(f"::error file={tmp_path}/senders.yaml,line=2,col=16::")


def test_plan_problems_and_notices_are_marked_at_their_senders_entries(tmp_path: Path, emulator: EmulatorServer) -> None:
    emulator.add_sender({"sender_id": B, "profile": {"name": "Beta"}}, "OFFLINE")
    emulator.add_sender({"sender_id": C, "profile": {"name": "Gamma"}})
    (tmp_path / "senders.yaml").write_text(
        "# the senders of the shop\n"
        "senders:\n"
        f'  - sender_id: "{A}"\n'
        "    profile: {about: no name given}\n"
        f'  - sender_id: "{B}"\n'
        "    profile: {name: Beta}\n"
        f'  - sender_id: "{C}"\n'
        "    profile: {name: Gamma}\n"
    )
    env = _in_actions(server_env(emulator), tmp_path)
    plan = run_cli("plan", "-f", "senders.yaml", env=env, cwd=tmp_path)
    assert plan.returncode == 1, plan.stderr
    assert f"Error: sender {A}: cannot create: profile.name is required" in plan.stderr
    assert _annotations(plan.stderr) == [
        f"::error file=senders.yaml,line=3,col=16::sender {A}: cannot create: profile.name is required by the API "
        "to register a sender",
        f"::warning file=senders.yaml,line=5,col=16::{B}: OFFLINE",  # the notice as the plan words it
    ]
    drift = run_cli("drift", "-f", "senders.yaml", "--format", "json", env=env, cwd=tmp_path)
    assert drift.returncode == 1 and json.loads(drift.stdout)["problems"]
    assert _annotations(drift.stderr) == _annotations(plan.stderr)
    applied = run_cli("apply", "-f", "senders.yaml", "--auto-approve", env=env, cwd=tmp_path)
    assert applied.returncode == 1 and _annotations(applied.stderr)[0] == _annotations(plan.stderr)[0]
    assert len(emulator.senders()) == 2, "nothing was applied"
    assert _annotations(run_cli("plan", "-f", "senders.yaml", env=server_env(emulator), cwd=tmp_path).stderr) == []
