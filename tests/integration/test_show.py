"""``reconciler show PLAN``: the saved plan, byte for byte as ``plan`` printed it, offline."""

from __future__ import annotations

import json
import re

import pytest

from reconciler.emulator import EmulatorServer
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, clean_env, run_cli, server_env

A, B, C = "whatsapp:+15017122661", "whatsapp:+15017122662", "whatsapp:+15017122664"


@pytest.fixture
def saved(emulator, emulator_env, tmp_path):
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
    emulator.add_sender({"sender_id": B, "profile": {"name": "Old name"}}, pending_display_name="Beta",
                        pending_display_name_status="PENDING_REVIEW")
    emulator.add_sender({"sender_id": C, "profile": {"name": "Gone"}}, status="OFFLINE",
                        offline_reasons=[{"code": "63051", "message": "Number deregistered"}])
    f = tmp_path / "senders.yaml"
    f.write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme, about: new, emails: [a@acme.example]}}\n'
                 f'  - sender_id: "{B}"\n    profile: {{name: Beta}}\n')
    env = dict(emulator_env, RECONCILER_PLAN_KEY="shared-plan-key")
    printed = {}
    for fmt in ("text", "json", "markdown"):
        out = tmp_path / f"plan-{fmt}.json"
        result = run_cli("plan", "-f", str(f), "--format", fmt, "--out", str(out), env=env)
        assert result.returncode == 0, result.output
        printed[fmt] = (result.stdout, out)
    return printed, env


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_show_prints_what_plan_printed_byte_for_byte(saved, fmt):
    printed, _ = saved
    stdout, path = printed[fmt]
    # No credentials and no API: only the key, to verify the signature.
    shown = run_cli("show", str(path), "--format", fmt, env=clean_env(RECONCILER_PLAN_KEY="shared-plan-key"))
    assert shown.returncode == 0, shown.output
    assert shown.stdout == stdout
    assert "Signature verified with the key from RECONCILER_PLAN_KEY." in shown.stderr


def test_show_without_a_key_says_it_did_not_verify(saved):
    printed, _ = saved
    stdout, path = printed["text"]
    shown = run_cli("show", str(path), env=clean_env())
    assert shown.returncode == 0 and shown.stdout == stdout
    assert "the signature was not verified" in shown.stderr


def test_show_refuses_an_edited_plan_when_it_can_verify(saved, tmp_path):
    printed, _ = saved
    _, path = printed["json"]
    doc = json.loads(path.read_text())
    doc["accounts"][0]["actions"][0]["body"]["profile"]["about"] = "Evil"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    shown = run_cli("show", str(edited), env=clean_env(RECONCILER_PLAN_KEY="shared-plan-key"))
    assert shown.returncode == 1 and "signature does not match" in shown.stderr and shown.stdout == ""


#: What a terminal would obey or reorder, left raw: C0 and C1 controls (but the newlines between lines), DEL,
#: the line separators, the bidirectional marks, overrides and isolates.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def plan_text(tmp_path_factory):
    """A saved plan of one account with an action, a notice and a change, made once for the module's edits."""
    server = EmulatorServer(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN)
    server.start(host="127.0.0.1", port=0)
    try:
        server.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
        server.add_sender({"sender_id": C, "profile": {"name": "Gone"}}, status="OFFLINE",
                          offline_reasons=[{"code": "63051", "message": "Number deregistered"}])
        where = tmp_path_factory.mktemp("saved")
        (where / "senders.yaml").write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme, about: new}}\n'
                                            f'  - sender_id: "{C}"\n    profile: {{name: Gone}}\n')
        result = run_cli("plan", "--out", "plan.json", env=server_env(server), cwd=where)
        assert result.returncode == 0, result.output
        return (where / "plan.json").read_text()
    finally:
        server.stop()


def edited_plan(plan_text, tmp_path, change):
    """The saved plan after ``change(doc)``: shown without a key, so the edit cannot be caught by the signature."""
    doc = json.loads(plan_text)
    change(doc)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("change", "wrong"),
    [
        (lambda doc: doc["accounts"][0].update(friendly_name=123), "accounts[0].friendly_name: expected a string or null"),
        (lambda doc: doc["accounts"][0]["actions"][0].update(sid=5),
         "accounts[0].actions[0].sid: expected a string or null, not the number 5"),
        (lambda doc: doc["accounts"][0]["actions"][0].update(allowed="no"),
         "accounts[0].actions[0].allowed: expected true or false, not the string 'no'"),
        (lambda doc: doc["accounts"][0]["actions"][0]["changes"][0].update(path="profile.about\n  - whatsapp:+1 (delete"),
         "accounts[0].actions[0].changes[0].path: 'profile.about\\n  - whatsapp:+1 (delete' is not a field reconciler "
         "manages"),
        (lambda doc: doc["accounts"][0]["notices"].append({"sender_id": A, "kind": "offline", "status": None,
                                                          "name": None, "reasons": ["ab"]}),
         "accounts[0].notices[1].reasons[0]: expected a list of 2, not the string 'ab'"),
        (lambda doc: doc["accounts"][0].update(live_count="7"),
         "accounts[0].live_count: expected a whole number, 0 or more, not the string '7'"),
        (lambda doc: doc["accounts"][0].update(actions={}), "accounts[0].actions: expected a list, not an object"),
        (lambda doc: doc.update(accounts=["x"]), "accounts[0]: expected an object, not the string 'x'"),
    ],
    ids=["friendly-name", "sid", "allowed", "forged-path", "reasons", "count", "actions", "entry"],
)
def test_show_refuses_an_unverified_plan_with_a_value_of_the_wrong_type(plan_text, tmp_path, change, wrong):
    path = edited_plan(plan_text, tmp_path, change)
    shown = run_cli("show", str(path), env=clean_env())
    assert (shown.returncode, shown.stdout) == (1, "") and "Traceback" not in shown.output
    assert shown.stderr.splitlines() == [f"Error: {path}: the saved plan is incomplete or malformed: {wrong}"]


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_a_friendly_name_that_is_no_string_is_refused_in_every_format(plan_text, tmp_path, fmt):
    path = edited_plan(plan_text, tmp_path, lambda doc: doc["accounts"][0].update(friendly_name=123))
    shown = run_cli("show", str(path), "--format", fmt, env=clean_env())
    assert shown.returncode == 1 and "Traceback" not in shown.output
    assert shown.stderr.endswith("accounts[0].friendly_name: expected a string or null\n")


FORGED = "\n  - whatsapp:+19999999999 (delete, XE1)\n"


def hostile(doc):
    entry = doc["accounts"][0]
    entry["friendly_name"] = "Cust\x1b]8;;https://evil.example\x07\u202eomer"
    action = entry["actions"][0]
    entry["fingerprints"][action["sender_id"] + FORGED] = entry["fingerprints"].pop(action["sender_id"])
    action.update(sender_id=action["sender_id"] + FORGED, sid="XE\x1b[2J\x9b31m", status="ONLINE\u2028x")
    entry["notices"][0].update(sender_id="whatsapp:+1" + FORGED, status="PENDING\x1b[5m", name="N\u2066a\u2069")
    entry["problems"].append({"sender_id": "whatsapp:+2" + FORGED, "kind": "listed_twice", "path": None,
                              "before": None, "after": None, "sids": ["XE\x1b[2J", "XE\x7f"]})


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_show_prints_every_string_of_an_unverified_plan_escaped(plan_text, tmp_path, fmt):
    path = edited_plan(plan_text, tmp_path, hostile)
    shown = run_cli("show", str(path), "--format", fmt, env=clean_env(NO_COLOR="1"))
    assert shown.returncode == 0, shown.output
    assert not RAW.search(shown.output), repr(shown.output)
    assert not any(line.lstrip("| ").startswith("- whatsapp:+1999") for line in shown.stdout.splitlines())
    if fmt == "json":
        doc = json.loads(shown.stdout)  # the same values, written as escapes
        assert doc["actions"][0]["sid"] == "XE\x1b[2J\x9b31m" and doc["accounts"][0]["friendly_name"].endswith("\u202eomer")
    elif fmt == "text":
        assert "XE\\x1b[2J\\x9b31m" in shown.stdout and "\\n  - whatsapp:+19999999999 (delete, XE1)\\n" in shown.stdout
