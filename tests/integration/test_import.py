"""``reconciler import`` through the real CLI against the emulator: live senders added to an existing file with
its comments, order and layout untouched, after which the plan for them is empty; refusals write nothing."""

from __future__ import annotations

import difflib
from pathlib import Path

from reconciler.emulator import EmulatorServer
from tests.factories import SANDBOX, A, B, C, D, run_cli, server_env, url_of

#: A file as a person keeps it: comments everywhere, four-space indents, flow and block styles mixed, a
#: comment that introduces what follows the senders.
KEPT = f"""\
# Our WhatsApp senders. Reviewed by the support team.

defaults:
    webhook: {{callback_url: "https://hooks.example.com/wa", fallback_url: "https://hooks.example.com/fallback"}}

senders:
    # The shop's main number.
    -   sender_id: "{A}"
        profile:
            name: Acme     # as Meta approved it
            about: 'Open 9-5'

# Numbers another team runs:
ignore:
    - {D}
safety: {{max_delete_percent: 10}}   # be careful
"""


def only_insertions(before: str, after: str) -> list[str]:
    """The lines ``after`` adds to ``before``; the test fails when any line of ``before`` changed or moved."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    added = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        assert tag in ("equal", "insert"), (tag, old[i1:i2], new[j1:j2])
        added += new[j1:j2] if tag == "insert" else []
    return added


def seed(emulator: EmulatorServer) -> None:
    webhook = {"callback_url": "https://hooks.example.com/wa", "fallback_url": "https://hooks.example.com/fallback"}
    emulator.add_sender({"sender_id": A, "webhook": webhook, "profile": {"name": "Acme", "about": "Open 9-5"}})
    emulator.add_sender({"sender_id": B, "webhook": {"callback_url": "https://b.example.com/hook"},
                         "profile": {"name": "Beta", "about": "x" * 200, "emails": ["b@beta.example"]}})
    emulator.add_sender({"sender_id": C, "profile": {"name": "Gamma", "vertical": "Other"}})
    emulator.add_sender({"sender_id": D, "profile": {"name": "Delta"}})


def sid_of(emulator: EmulatorServer, sender_id: str) -> str:
    return next(s["sid"] for s in emulator.senders() if s["sender_id"] == sender_id)


def test_import_keeps_the_file_and_the_next_plan_is_empty(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    seed(emulator)
    path = tmp_path / "senders.yaml"
    path.write_text(KEPT)
    before_plan = run_cli("plan", "-f", str(path), "--detailed-exitcode", env=emulator_env)
    assert before_plan.returncode == 2 and f"- {B}" in before_plan.stdout  # not in the file yet: delete candidates

    result = run_cli("import", B, sid_of(emulator, C), "-f", str(path), env=emulator_env)
    assert result.returncode == 0, result.output
    assert result.stdout == f"Imported 2 senders into {path}: {B}, {C}\n"
    assert f"sender {B}: profile.about: not managed, written as a comment under the sender" in result.stderr

    text = path.read_text()
    added = "".join(only_insertions(KEPT, text))
    assert added.startswith(f"    # not managed: profile.about is '{'x' * 10}")
    assert f"    -   sender_id: {B}\n        webhook:\n            callback_url: https://b.example.com/hook\n" in added
    assert f"    -   sender_id: {C}\n" in added
    # Inserted after the last sender, before the comment that introduces ignore:.
    assert text.index(A) < text.index(B) < text.index(C) < text.index("# Numbers another team runs:")
    # The defaults' URLs are not B's nor C's: written empty, so the defaults plan no change of them.
    assert added.count("fallback_url: ''") == 2 and added.count("callback_url: ''") == 1

    planned = run_cli("plan", "-f", str(path), "--detailed-exitcode", env=emulator_env)
    assert planned.returncode == 0, planned.output
    assert run_cli("validate", "-f", str(path), env=emulator_env).returncode == 0


def test_a_default_the_file_cannot_write_empty_is_said(emulator: EmulatorServer, emulator_env: dict[str, str],
                                                        tmp_path: Path) -> None:
    seed(emulator)
    path = tmp_path / "senders.yaml"
    path.write_text("defaults:\n  profile: {vertical: Other}\nsenders: []\n")
    result = run_cli("import", B, C, "-f", str(path), env=emulator_env)
    assert result.returncode == 0, result.output
    assert f"Warning: sender {B}: the next plan still updates profile.vertical" in result.stderr
    assert C not in result.stderr  # C's vertical is the default's
    planned = run_cli("plan", "-f", str(path), "--target", B, "--target", C, env=emulator_env)
    assert f"~ {B}" in planned.stdout and f"~ {C}" not in planned.stdout


def test_import_into_a_file_without_senders_or_with_an_empty_list(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    seed(emulator)
    for original in (f"# nothing yet\nignore: [{D}]\n", f"senders: []   # none yet\nignore: [{D}]\n"):
        path = tmp_path / "senders.yaml"
        path.write_text(original)
        result = run_cli("import", A, B, C, "-f", str(path), env=emulator_env)
        assert result.returncode == 0, result.output
        assert run_cli("plan", "-f", str(path), "--detailed-exitcode", env=emulator_env).returncode == 0
        assert "# none yet" in path.read_text() or "# nothing yet" in path.read_text()


def test_a_sender_already_declared_is_refused_naming_its_place_and_nothing_is_written(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    seed(emulator)
    path = tmp_path / "senders.yaml"
    path.write_text(KEPT)
    result = run_cli("import", B, A, "-f", str(path), env=emulator_env)
    assert result.returncode == 1
    assert result.stderr == f"Error: nothing was imported: sender {A}: already declared at {path}:8:20\n"
    assert path.read_text() == KEPT
    # By its SID too, once the sender is read.
    by_sid = run_cli("import", sid_of(emulator, A), "-f", str(path), env=emulator_env)
    assert by_sid.returncode == 1 and f"{sid_of(emulator, A)} is sender {A}: already declared at {path}:8:20" in by_sid.stderr
    assert path.read_text() == KEPT


def test_ignored_sandbox_and_missing_senders_are_refused(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    seed(emulator)
    path = tmp_path / "senders.yaml"
    path.write_text(KEPT)
    ignored = run_cli("import", D, "-f", str(path), env=emulator_env)
    assert ignored.returncode == 1 and f"sender {D}: listed under ignore at {path}:15:7" in ignored.stderr
    sandbox = run_cli("import", SANDBOX, "-f", str(path), env=emulator_env)
    assert sandbox.returncode == 1 and "sandbox number; it cannot be managed" in sandbox.stderr
    missing = run_cli("import", B, "+15017122669", "-f", str(path), env=emulator_env)
    assert missing.returncode == 1
    assert "sender +15017122669: not a live sender of account" in missing.stderr and "Traceback" not in missing.output
    emulator.add_sender({"sender_id": "whatsapp:+15017122669", "profile": {"name": "Z"}})
    hinted = run_cli("import", "+15017122669", "-f", str(path), env=emulator_env)
    assert "did you mean whatsapp:+15017122669?" in hinted.stderr
    assert path.read_text() == KEPT


def test_what_import_cannot_write_into_is_refused(emulator: EmulatorServer, emulator_env: dict[str, str],
                                                  tmp_path: Path) -> None:
    seed(emulator)
    assert "give its path, not -" in run_cli("import", B, "-f", "-", env=emulator_env, input=KEPT).stderr
    assert "a directory; import adds senders to one file" in run_cli("import", B, "-f", str(tmp_path),
                                                                     env=emulator_env).stderr
    missing = run_cli("import", B, "-f", str(tmp_path / "new.yaml"), env=emulator_env)
    assert missing.returncode == 1 and "no such file" in missing.stderr and "export -o FILE" in missing.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("senders:\n  - sender_id: 3\n")
    refused = run_cli("import", B, "-f", str(broken), env=emulator_env)
    assert refused.returncode == 1 and f"{broken}:2:16" in refused.stderr
    assert broken.read_text() == "senders:\n  - sender_id: 3\n"
    flow = tmp_path / "flow.yaml"
    flow.write_text(f"senders: [{{sender_id: '{A}'}}]\n")
    refused = run_cli("import", B, "-f", str(flow), env=emulator_env)
    assert refused.returncode == 1 and f"{flow}:1:10: senders: is a flow list" in refused.stderr


def test_import_reads_the_account_the_file_names(emulator: EmulatorServer, tmp_path: Path) -> None:
    acme = emulator.add_account("Acme Bakery")
    emulator.add_sender({"sender_id": B, "profile": {"name": "Acme B"}}, account=acme.sid)
    emulator.add_sender({"sender_id": C, "profile": {"name": "Parent's C"}})
    env = server_env(emulator, TWILIO_API_BASE_URL=url_of(emulator))
    path = tmp_path / "acme.yaml"
    path.write_text(f"account: {acme.sid}   # Acme's own\nsenders: []\n")
    assert run_cli("import", B, "-f", str(path), env=env).returncode == 0
    assert "Acme B" in path.read_text()
    wrong = run_cli("import", C, "-f", str(path), env=env)  # a sender of the parent, not of this file's account
    assert wrong.returncode == 1 and f"not a live sender of account {acme.sid}" in wrong.stderr
    assert run_cli("plan", "-f", str(path), "--detailed-exitcode", env=env).returncode == 0
    assert acme.auth_token not in path.read_text()
