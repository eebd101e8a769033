"""The GitHub Action (action.yml → ``python -m reconciler.action``) as a runner runs it.

Each test gives the module GitHub's environment files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY), an
event (GITHUB_EVENT_PATH), and GitHub's API as a small stateful stand-in on 127.0.0.1
(:class:`~tests.github_stand_in.GitHubStandIn`, at GITHUB_API_URL and GITHUB_GRAPHQL_URL) that knows
which identity each token is, writes comments under that identity and records every request. The CLI
underneath talks to the emulator on 127.0.0.1. The drift issue has its tests in test_action_issue.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from reconciler import __version__
from reconciler.action.github import ANNOTATION, COMMENT_LIMIT, fenced, fit_comment, is_own_comment
from tests.factories import REPO_ROOT, clean_env, url_of
from tests.github_stand_in import (
    ACTION,
    BOT,
    HEAD_SHA,
    MALLORY,
    PR_NUMBER,
    REPO,
    A,
    B,
    C,
    GitHubStandIn,
    Runner,
    senders_file,
)

# --------------------------------------------------------------------------- plan


def test_pull_request_plan_comments_once_then_updates_the_same_comment(runner, emulator, github):
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
    files = senders_file(runner, about="fresh bread")
    first = runner.run(command="plan", files=files)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.outputs == {
        "exitcode": "2", "has-changes": "true", "plan-file": "reconciler-plan.json",
        "summary": "Plan: 1 to create, 1 to update, 0 to delete.",
        "comment-url": f"https://github.com/{REPO}/pull/{PR_NUMBER}#issuecomment-1001",
    }
    saved = json.loads((runner.workspace / "reconciler-plan.json").read_text())
    assert [a["sender_id"] for entry in saved["accounts"] for a in entry["actions"]] == [A, B]
    assert "### reconciler plan" in first.summary and "fresh bread" in first.summary
    assert "<!-- reconciler-plan -->" not in first.summary
    reviewer, ours = runner.comments()
    assert reviewer["body"] == "Looks good to me."
    assert ours["user"] == BOT
    assert ours["body"].startswith("<!-- reconciler-plan -->\n") and "fresh bread" in ours["body"]
    assert f"commit `{HEAD_SHA[:12]}`" in ours["body"] and "actions/runs/4242" in ours["body"]
    assert all(call["user"] == BOT["login"] for call in github.calls), "every request carried the token"

    files = senders_file(runner, about="sourdough")
    second = runner.run(command="plan", files=files)
    assert second.returncode == 0 and second.outputs["comment-url"] == first.outputs["comment-url"]
    assert [c["id"] for c in runner.comments()] == [900, 1001], "no second comment"
    body = runner.comments()[1]["body"]
    assert "sourdough" in body and "fresh bread" not in body
    assert github.writes() == [("POST", f"/repos/{REPO}/issues/{PR_NUMBER}/comments"),
                               ("PATCH", f"/repos/{REPO}/issues/comments/1001")]


def test_a_comment_by_anyone_else_with_the_marker_is_never_taken_for_the_actions_own(runner, emulator, github):
    """Issue 21 (9): a fake "No changes" plan posted first is left alone; the real plan is a new comment."""
    forged = "<!-- reconciler-plan -->\n### reconciler plan\n\n**No changes.** Live senders match the file.\n"
    fakes = [github.add_comment(forged, MALLORY),
             github.add_comment(forged, {"login": "some-other-app[bot]", "type": "Bot"}),
             github.add_comment(forged, {"login": "github-actions[bot]", "type": "User"})]  # not the bot itself
    first = runner.run(command="plan", files=senders_file(runner, about="fresh bread"))
    assert first.returncode == 0, first.stdout
    assert [c["body"] for c in fakes] == [forged] * 3, "nobody else's comment is edited"
    ours = runner.comments()[-1]
    assert ours["user"] == BOT and "**Plan: 2 to create" in ours["body"]
    assert first.outputs["comment-url"] == ours["html_url"]
    # The next run finds its own comment again, past the fakes and across pages.
    second = runner.run(command="plan", files=senders_file(runner, about="sourdough"))
    assert second.returncode == 0 and second.outputs["comment-url"] == ours["html_url"]
    assert len(runner.comments()) == 5 and "sourdough" in ours["body"] and fakes[0]["body"] == forged
    assert [w for w in github.writes() if w[0] == "PATCH"] == [("PATCH", f"/repos/{REPO}/issues/comments/{ours['id']}")]


def test_a_token_of_a_person_or_an_app_finds_its_own_comment(runner, emulator, github):
    github.tokens["ghp_person"] = {"login": "release-captain", "type": "User"}
    runner.token = "ghp_person"
    github.add_comment("<!-- reconciler-plan -->\nby the bot", BOT)
    github.add_comment("<!-- reconciler-plan -->\nby mallory", MALLORY)
    files = senders_file(runner, about="x")
    step = runner.run(command="plan", files=files)
    assert step.returncode == 0, step.stdout
    assert runner.comments()[-1]["user"] == {"login": "release-captain", "type": "User"}
    again = runner.run(command="plan", files=files)
    assert again.outputs["comment-url"] == step.outputs["comment-url"] and len(runner.comments()) == 4


def test_a_plan_that_cannot_be_commented_fails_the_step(runner, emulator, github):
    """Issue 21 (9): where the real plan cannot be posted, the step fails and says why; it never passes."""
    github.refuse[f"POST /repos/{REPO}/issues/{PR_NUMBER}/comments"] = (403, "Resource not accessible by integration")
    step = runner.run(command="plan", files=senders_file(runner, about="x"))
    assert step.returncode == 1 and step.outputs["exitcode"] == "2" and step.outputs["comment-url"] == ""
    assert (f"::error::the plan was not commented on pull request #7: POST /repos/{REPO}/issues/7/comments: "
            "GitHub answered 403: Resource not accessible by integration.") in step.stdout
    assert "pull-requests: write" in step.stdout and "::warning::" not in step.stdout


@pytest.mark.parametrize("trouble", ["bad token", "no viewer"])
def test_a_token_github_cannot_name_fails_the_step_and_posts_nothing(runner, emulator, github, trouble):
    if trouble == "bad token":
        runner.token = "ghs_revoked"
    else:
        github.refuse["POST /graphql"] = (403, "Resource not accessible by integration")
    step = runner.run(command="plan", files=senders_file(runner, about="x"))
    assert step.returncode == 1 and github.writes() == [] and len(runner.comments()) == 1
    assert "::error::the plan was not commented on pull request #7: POST /graphql: GitHub answered" in step.stdout
    assert "ghs_revoked" not in step.stdout


def test_has_changes_comes_from_the_exit_code(runner, emulator, github):
    """Issue 22: a plan across accounts has changes though its Markdown does not start "Plan:"."""
    sub = emulator.add_account("Acme Bakery")
    runner.base_env["TWILIO_API_BASE_URL"] = url_of(emulator)
    runner.write("senders/main.yaml", f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Main}}\n')
    runner.write("senders/acme.yaml", f'account: {sub.sid}\nsenders:\n  - sender_id: "{B}"\n    profile: {{name: Acme}}\n')
    step = runner.run(event="push", command="plan", files="senders")
    assert step.returncode == 0, step.stdout
    assert (step.outputs["exitcode"], step.outputs["has-changes"]) == ("2", "true")
    assert step.outputs["summary"].startswith("Plan across 2 accounts: 2 to create")
    assert runner.run(event="push", command="apply", files="senders").returncode == 0
    same = runner.run(event="push", command="plan", files="senders")
    assert (same.outputs["exitcode"], same.outputs["has-changes"]) == ("0", "false")


def test_comments_of_two_accounts_stay_apart(runner, emulator):
    prod = senders_file(runner, about="prod", name="prod/senders.yaml")
    staging = senders_file(runner, about="staging", name="staging/senders.yaml")
    assert runner.run(command="plan", files=prod, comment_id="prod", plan_file="prod.json").returncode == 0
    assert runner.run(command="plan", files=staging, comment_id="staging", plan_file="staging.json").returncode == 0
    assert runner.run(command="plan", files=prod, comment_id="prod", plan_file="prod.json").returncode == 0
    bodies = [c["body"] for c in runner.comments()[1:]]
    assert [b.splitlines()[0] for b in bodies] == ["<!-- reconciler-plan:prod -->", "<!-- reconciler-plan:staging -->"]


def test_no_changes_and_no_pull_request_means_no_comment(runner, emulator, github):
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "same"}})
    emulator.add_sender({"sender_id": B, "profile": {"name": "Beta"}})
    step = runner.run(event="push", command="plan", files=senders_file(runner, about="same"))
    assert step.returncode == 0
    assert (step.outputs["exitcode"], step.outputs["has-changes"]) == ("0", "false")
    assert step.outputs["summary"] == "No changes. Live senders match the file."
    assert github.calls == [] and "No changes." in step.summary


def test_a_broken_file_fails_the_plan_and_says_why_in_the_comment(runner):
    runner.write("senders.yaml", "senders:\n  - sender_id: whatsapp:+1 501 712 2661\n")
    stale = runner.write("reconciler-plan.json", "{}")
    step = runner.run(command="plan")
    assert step.returncode == 1
    assert (step.outputs["exitcode"], step.outputs["plan-file"], step.outputs["has-changes"]) == ("1", "", "false")
    assert step.outputs["summary"] == "Plan failed (exit 1); see the log."
    assert not stale.exists(), "a plan file left from before must not pass for this run's"
    assert "::error::reconciler plan failed (exit 1)" in step.stdout
    body = runner.comments()[1]["body"]
    assert "The plan failed" in body and "senders.yaml:2:16: senders[0].sender_id" in body
    # The CLI's own output is never read as workflow commands; its annotations alone are issued once it ended.
    token = re.search(r"^::stop-commands::(\w+)$", step.stdout, re.M)
    assert token and step.stdout.index("senders.yaml:2:16") < step.stdout.index(f"::{token[1]}::")
    annotation = ("::error file=senders.yaml,line=2,col=16::senders[0].sender_id: 'whatsapp:+1 501 712 2661' is not "
                  "in E.164 form; write 'whatsapp:+15017122661'")
    assert step.stdout.splitlines().count(annotation) == 1
    assert step.stdout.index(f"::{token[1]}::") < step.stdout.index(annotation)
    assert "::error file=" not in body, "the comment quotes the errors, not the commands"


def test_comment_false_posts_nothing(runner, emulator, github):
    step = runner.run(command="plan", files=senders_file(runner, about="x"), comment="false")
    assert step.returncode == 0 and github.calls == [] and "comment-url" not in step.outputs


# --------------------------------------------------------------------------- apply


def test_apply_of_the_saved_plan_writes_the_json_report(runner, emulator):
    emulator.add_sender({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
    files = senders_file(runner, about="new")
    assert runner.run(command="plan", files=files, plan_file="plans/senders.json").returncode == 0
    step = runner.run(event="push", command="apply", plan_file="plans/senders.json")
    assert step.returncode == 0, step.stdout
    assert step.outputs == {"exitcode": "0", "report-file": "reconciler-apply.json",
                            "summary": "Apply complete: 2 done."}
    report = json.loads((runner.workspace / "reconciler-apply.json").read_text())
    assert report["apply"]["ok"] is True and report["apply"]["summary"]["done"] == 2
    assert {s["sender_id"]: s["profile"].get("about") for s in emulator.senders()} == {A: "new", B: None}
    assert "**Apply complete: 2 done.**" in step.summary and f"| `{A}` | update | done | ONLINE |" in step.summary
    # Applied once: the same plan again is stale and changes nothing.
    again = runner.run(event="push", command="apply", plan_file="plans/senders.json")
    assert again.returncode == 1 and again.outputs["exitcode"] == "1"
    assert again.outputs["report-file"] == "reconciler-apply.json" and "stale" in again.outputs["summary"]
    assert json.loads((runner.workspace / "reconciler-apply.json").read_text())["error"]["kind"] == "StalePlanError"
    assert "stale" in again.stdout


def test_apply_without_a_plan_file_plans_and_applies(runner, emulator):
    step = runner.run(event="push", command="apply", files=senders_file(runner, about="new"), report_file="out/r.json")
    assert step.returncode == 0 and step.outputs["report-file"] == "out/r.json"
    assert len(emulator.senders()) == 2 and (runner.workspace / "out" / "r.json").is_file()


def test_apply_of_a_missing_plan_file_is_a_clear_error(runner, emulator):
    step = runner.run(event="push", command="apply", plan_file="nowhere.json")
    assert step.returncode == 1 and emulator.senders() == []
    assert step.stdout.strip().splitlines() == [
        "::error::plan-file nowhere.json: no such file; save one with the plan command, "
        "or leave plan-file empty to plan and apply in one step"]


# --------------------------------------------------------------------------- drift


def test_drift_sets_drifted_and_fails_or_warns(runner, emulator):
    files = senders_file(runner, about="new")
    assert runner.run(event="push", command="apply", files=files).returncode == 0
    clean = runner.run(event="schedule", command="drift", files=files)
    assert clean.returncode == 0 and clean.outputs["drifted"] == "false" and clean.outputs["exitcode"] == "0"
    assert clean.outputs["summary"] == "No drift: live senders match the file (2 live senders read)."

    emulator.add_sender({"sender_id": C, "profile": {"name": "Made in the Console"}})
    failing = runner.run(event="schedule", command="drift", files=files)
    assert failing.returncode == 1
    assert (failing.outputs["drifted"], failing.outputs["exitcode"]) == ("true", "2")
    assert failing.outputs["summary"] == f"Drift: 0 to create, 0 to update, 1 to delete (1 gated). Senders: {C}"
    assert f"::error::WhatsApp senders drifted from the file: {failing.outputs['summary']}" in failing.stdout
    assert json.loads((runner.workspace / "reconciler-drift.json").read_text())["senders"] == [C]

    warning = runner.run(event="schedule", command="drift", files=files, fail_on_drift="false")
    assert warning.returncode == 0 and warning.outputs["drifted"] == "true"
    assert "::warning::WhatsApp senders drifted" in warning.stdout and "::error::" not in warning.stdout
    assert runner.github.calls == []


def test_drift_error_always_fails(runner, emulator):
    runner.base_env.pop("TWILIO_AUTH_TOKEN")
    step = runner.run(event="schedule", command="drift", files=senders_file(runner, about="x"), fail_on_drift="false")
    assert step.returncode == 1 and step.outputs["exitcode"] == "1" and step.outputs["drifted"] == "false"
    assert step.outputs["summary"].startswith("Drift check failed: ")


@pytest.mark.parametrize("trouble", ["unreachable", "refused"])
def test_a_failed_drift_check_never_reads_as_no_drift(runner, emulator, trouble):
    """Issue 21 (10): the error document of a failed check is not a drift document."""
    if trouble == "unreachable":
        runner.base_env["TWILIO_MESSAGING_BASE_URL"] = "http://127.0.0.1:9"  # the discard port: nothing listens
        args, why = "--max-attempts 1", "connection to 127.0.0.1:9 failed"
    else:
        runner.base_env["TWILIO_AUTH_TOKEN"] = "wrong-token-" + "0" * 20
        args, why = "", "Twilio 20003"
    step = runner.run(event="schedule", command="drift", files=senders_file(runner, about="x"), args=args)
    assert step.returncode == 1, step.stdout
    assert (step.outputs["exitcode"], step.outputs["drifted"]) == ("1", "false")
    assert step.outputs["summary"].startswith("Drift check failed: ") and why in step.outputs["summary"]
    assert "No drift" not in step.outputs["summary"] + step.summary + step.stdout
    assert "**The drift check failed (exit 1).**" in step.summary and why in step.summary
    assert "::error::reconciler drift failed (exit 1): " in step.stdout
    assert json.loads((runner.workspace / "reconciler-drift.json").read_text())["error"]["message"]


# --------------------------------------------------------------------------- inputs


@pytest.mark.parametrize(("inputs", "message"), [
    ({"command": "destroy"}, "::error::input 'command' must be one of plan, apply, drift, not 'destroy'"),
    ({"command": "plan", "args": "--format json"}, "::error::input 'args': --format is set by the action"),
    ({"command": "plan", "args": "-fother.yaml"}, "::error::input 'args': -fother.yaml is set by the action"),
    ({"command": "plan", "args": "--target 'unclosed"}, "::error::input 'args': No closing quotation"),
    ({"command": "drift", "fail_on_drift": "maybe"}, "::error::input 'fail-on-drift' must be true or false"),
    ({"command": "plan", "comment_id": "a -->"}, "::error::input 'comment-id' may hold only letters"),
])
def test_bad_inputs_are_one_line_errors(tmp_path, inputs, message):
    with GitHubStandIn() as github:
        step = Runner(tmp_path, clean_env(), github).run(**inputs)
    assert step.returncode == 1
    assert step.stdout.splitlines()[0].startswith(message) and len(step.stdout.splitlines()) == 1


def test_files_input_takes_lines_and_quoted_names(runner, emulator):
    runner.write("a b/senders.yaml", f'senders:\n  - sender_id: "{A}"\n    profile: {{name: A}}\n')
    runner.write("c/senders.yaml", f'senders:\n  - sender_id: "{B}"\n    profile: {{name: B}}\n')
    step = runner.run(event="push", command="plan", files="'a b/senders.yaml'\nc/senders.yaml\n")
    assert step.outputs["summary"] == "Plan: 2 to create, 0 to update, 0 to delete."


# --------------------------------------------------------------------------- action.yml itself


def test_action_yml_templates_inputs_only_into_env():
    steps = ACTION["runs"]["steps"]
    assert ACTION["runs"]["using"] == "composite"
    for step in steps:
        assert "${{" not in step.get("run", ""), f"template injection: {step['name']}"
    run = next(s for s in steps if s.get("id") == "run")
    passed = {v for v in run["env"].values() if "inputs." in v}
    assert passed == {f"${{{{ inputs.{name} }}}}" for name in ACTION["inputs"] if name != "python"}
    assert "-m reconciler.action" in run["run"]
    install = next(s for s in steps if s.get("id") == "install")
    assert '"$GITHUB_ACTION_PATH/reconciler/action/install.py" install' in install["run"], "from its own checkout"


def test_action_yml_installs_once_and_caches_by_the_actions_code():
    """Issue 24: a second use in a job finds the environment; a later job restores it; actions pinned by SHA."""
    steps = {s.get("id") or s["name"]: s for s in ACTION["runs"]["steps"]}
    assert "install.py\" locate" in steps["venv"]["run"]
    restore, save = steps["Restore reconciler from the cache"], steps["Save reconciler to the cache"]
    for step in (restore, save):
        action, _, ref = step["uses"].partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action} pinned by its full commit SHA"
        assert step["with"] == {"path": "${{ steps.venv.outputs.dir }}", "key": "${{ steps.venv.outputs.key }}"}
    assert restore["uses"].startswith("actions/cache/restore@") and save["uses"].startswith("actions/cache/save@")
    # A second use in the same job: the environment is ready, and nothing is restored, installed or saved.
    assert restore["if"] == steps["install"]["if"] == "steps.venv.outputs.ready != 'true'"
    assert save["if"] == "steps.install.outputs.installed == 'true'"
    assert steps["run"]["env"]["RECONCILER_ACTION_PYTHON"] == "${{ steps.venv.outputs.python }}"
    source = (REPO_ROOT / "action.yml").read_text()
    assert re.search(r"actions/cache/restore@[0-9a-f]{40}  # v\d+\.\d+\.\d+", source)


def test_env_names_match_what_the_module_reads():
    source = "\n".join(p.read_text() for p in (REPO_ROOT / "reconciler" / "action").glob("*.py"))
    read = set(re.findall(r'"(INPUT_[A-Z_]+)"', source))
    run = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "run")
    assert read == {k for k in run["env"] if k.startswith("INPUT_")}


def test_docs_name_this_release():
    major = __version__.split(".")[0]
    gitops = (REPO_ROOT / "docs" / "gitops.md").read_text()
    assert f"rev: v{__version__}" in gitops and "your-org" not in gitops
    uses = re.findall(r"uses: whatsapp-senders-reconciler/whatsapp-senders-reconciler@(\S+)", gitops)
    assert uses and set(uses) == {f"v{major}"}
    assert "pip install reconciler" not in gitops
    # Installed from the repository at this release's tag, never by a registry name nobody has published.
    assert "whatsapp-senders-reconciler==" not in gitops
    assert set(re.findall(r"whatsapp-senders-reconciler@v(\S+?)\"", gitops)) == {__version__}
    assert (REPO_ROOT / "CHANGELOG.md").read_text().count(f"## {__version__}") == 1


ZIZMOR_CONFIG = """\
rules:
  unpinned-uses:
    ignore: []
    config:
      policies:
        "whatsapp-senders-reconciler/*": ref-pin
        "*": hash-pin
"""


def test_the_documented_workflows_pass_zizmor(tmp_path):
    """The docs' workflows are what users copy: no finding of medium severity or above (offline).

    Only the action itself may be named by its moving tag (@v1), as the docs recommend.
    """
    zizmor = shutil.which("zizmor")
    if zizmor is None:
        pytest.skip("zizmor is not installed (pip install -e '.[test]')")
    blocks = re.findall(r"```yaml\n(.*?)```", (REPO_ROOT / "docs" / "gitops.md").read_text(), re.S)
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for i, block in enumerate(b for b in blocks if "\njobs:" in b):
        (workflows / f"doc{i}.yml").write_text(block)
    assert len(list(workflows.iterdir())) == 2
    (tmp_path / "zizmor.yml").write_text(ZIZMOR_CONFIG)
    result = subprocess.run([zizmor, "--offline", "--min-severity", "medium", "--config", "zizmor.yml",
                             ".github/workflows/"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- pure helpers


def test_an_oversized_comment_is_cut_at_a_details_block():
    head = "<!-- reconciler-plan -->\n### reconciler plan\n\n**Plan: 900 to update.**\n"
    block = "\n<details><summary>x</summary>\n\n" + "y" * 300 + "\n\n</details>\n"
    body = head + block * 400
    cut = fit_comment(body)
    assert len(body) > COMMENT_LIMIT >= len(cut)
    assert cut.startswith(head) and cut.count("<details>") == cut.count("</details>")
    assert cut.endswith("the step summary and the log have all of it._\n")
    assert fit_comment(head) == head


def test_fenced_text_cannot_close_its_fence():
    assert fenced("a ``` b") == "````\na ``` b\n````"
    assert fenced("plain") == "```\nplain\n```"


def test_the_apply_summary_names_the_account_of_each_outcome_in_a_run_of_several() -> None:
    from reconciler.action.commands import apply_markdown

    outcome = {"action": "create", "result": "done", "final_status": "ONLINE", "error": None}
    one = apply_markdown({"apply": {"summary_line": "Apply complete: 1 done.",
                                    "outcomes": [{**outcome, "sender_id": A, "account": "AC1"}]}})
    assert "| sender | action | result | status | error |" in one and "AC1" not in one
    several = apply_markdown({"apply": {"summary_line": "…", "outcomes": [
        {**outcome, "sender_id": A, "account": "AC1"}, {**outcome, "sender_id": B, "account": "AC2"}]}})
    assert "| account | sender | action | result | status | error |\n| --- | --- | --- | --- | --- | --- |" in several
    assert f"| `AC1` | `{A}` | create | done | ONLINE |" in several and f"| `AC2` | `{B}` |" in several


@pytest.mark.parametrize(("user", "me", "own"), [
    (BOT, "github-actions[bot]", True),
    ({"login": "github-actions[bot]", "type": "User"}, "github-actions[bot]", False),  # the type must agree
    (MALLORY, "github-actions[bot]", False),
    ({"login": "release-captain", "type": "User"}, "release-captain", True),
    ({"login": "release-captain", "type": "Bot"}, "release-captain", False),
    (None, "github-actions[bot]", False),
])
def test_only_the_tokens_own_identity_writes_the_actions_comment(user, me, own):
    marker = "<!-- reconciler-plan -->"
    assert is_own_comment({"id": 1, "body": f"{marker}\nplan", "user": user}, me, marker) is own
    assert not is_own_comment({"id": 1, "body": f"quoting {marker}", "user": user}, me, marker)
    assert not is_own_comment({"body": f"{marker}\nplan", "user": user}, me, marker)


@pytest.mark.parametrize(("line", "issued"), [
    ("::error file=senders.yaml,line=2,col=16::senders[0].sender_id: not E.164", True),
    ("::warning file=a%2Cb%3A.yaml,line=5,col=16::whatsapp:+15017122662: OFFLINE", True),
    ("::notice file=senders.yaml,line=5::waiting for its verification code", True),
    ("::error::no file", False),
    ("::add-mask::secret", False),
    ("::stop-commands::token", False),
    ("::set-output name=x::y", False),
    ("::error file=x:y::a property with a colon is not one the CLI writes", False),
    ("senders.yaml:2:16: ::error file=x::y", False),
])
def test_only_the_clis_annotations_are_issued_again(line, issued):
    """The CLI's output runs under stop-commands; of it, only annotations of a file are issued once it ended."""
    assert bool(ANNOTATION.fullmatch(line)) is issued
