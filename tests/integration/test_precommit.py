"""The pre-commit hook (.pre-commit-hooks.yaml) as a user's repository runs it: ``pre-commit run``.

The user's ``.pre-commit-config.yaml`` names the hook's ``repo:`` and ``rev:``: here a temporary
repository holding a copy of this project's files, committed. pre-commit installs the hook from
it once for the module (one ``PRE_COMMIT_HOME``), as it would on a developer's machine. The user's
repository keeps its senders file in a nested directory (accounts/prod/senders.yaml), where the old
hook, which always read ./senders.yaml, failed with "no such file".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.precommit import validate_groups
from tests.factories import REPO_ROOT

#: What pre-commit needs to install the hook: the package and its metadata.
HOOK_REPO_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "reconciler")

VALID = "senders:\n  - sender_id: whatsapp:+15017122661\n    profile: {name: Acme}\n"
BROKEN = "senders:\n  - sender_id: whatsapp:+15017122661\n    profile: {name: Acme, vertical: Spaceships}\n"


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    identity = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
                "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}
    # No user or system git configuration: a signing or hooks setting there must not change the test.
    return {**env, **identity, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> Path:
    """A git repository with this worktree's package committed, as a user's ``repo:`` names it."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in HOOK_REPO_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, repo / name)
    env = git_env()
    for args in (("init", "-q"), ("add", "."), ("commit", "-q", "--no-gpg-sign", "-m", "hook")):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)
    return repo


def user_repo(tmp_path: Path, hook_repo: Path, files: dict[str, str]) -> Path:
    """A user's repository holding ``files`` and a configuration that runs the hook from ``hook_repo``."""
    env = git_env()
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, check=True, capture_output=True, text=True,
                         env=env).stdout.strip()
    config = f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n      - id: reconciler-validate\n"
    repo = tmp_path / "user"
    repo.mkdir()
    for name, text in {".pre-commit-config.yaml": config, **files}.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    for args in (("init", "-q"), ("add", ".")):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)
    return repo


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    """One pre-commit cache for the module: the hook's environment is installed once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def run_hook(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**git_env(), "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "reconciler-validate", "--all-files", "--color", "never"],
        cwd=repo, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
    )


def test_the_hook_catches_an_error_in_a_nested_file_and_passes_a_valid_one(hook_repo, pre_commit_home, tmp_path):
    repo = user_repo(tmp_path, hook_repo, {
        "accounts/prod/senders.yaml": BROKEN,
        "accounts/staging/senders.yaml": VALID,  # the same sender id: another account, no duplicate
        "README.md": "not a senders file\n",
    })
    failed = run_hook(repo, pre_commit_home)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "no such file" not in output
    assert "accounts/prod/senders.yaml:3:37: sender whatsapp:+15017122661: profile.vertical: 'Spaceships'" in output
    assert "accounts/staging/senders.yaml: 1 sender, 0 ignored: valid" in output

    (repo / "accounts/prod/senders.yaml").write_text(VALID)
    passed = run_hook(repo, pre_commit_home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "reconciler validate" in passed.stdout and "Passed" in passed.stdout


def test_a_file_whose_name_looks_like_an_option_is_validated_as_itself(hook_repo, pre_commit_home, tmp_path):
    """Issue 21 (12): a file under ``--file=x/`` validated ``x/senders.yaml`` instead; one under ``-dir/`` failed."""
    repo = user_repo(tmp_path, hook_repo, {
        "--file=x/senders.yaml": BROKEN,
        "x/senders.yaml": VALID,
        "-dir/senders.yaml": BROKEN,
    })
    result = run_hook(repo, pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "--file=x/senders.yaml:3:37: sender whatsapp:+15017122661: profile.vertical: 'Spaceships'" in output
    assert "-dir/senders.yaml:3:37: sender whatsapp:+15017122661: profile.vertical: 'Spaceships'" in output
    assert "\nx/senders.yaml: 1 sender, 0 ignored: valid" in output
    assert "No such option" not in output and output.count("x/senders.yaml: 1 sender") == 1


def test_the_hook_echoes_a_file_name_with_control_characters_escaped(hook_repo, pre_commit_home, tmp_path):
    """Issue 21 (14): a name holding a terminal escape sequence (here: set the window title) is shown escaped."""
    repo = user_repo(tmp_path, hook_repo, {"e\x1b]0;pwned\x07vil/senders.yaml": BROKEN, "ok/senders\r.yaml": VALID})
    result = run_hook(repo, pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "e\\x1b]0;pwned\\x07vil/senders.yaml:3:37: sender whatsapp:+15017122661:" in output
    assert "ok/senders\\r.yaml: 1 sender, 0 ignored: valid" in output
    assert not set("\x1b\x07\r") & set(output)


def test_files_are_grouped_one_account_per_directory():
    assert validate_groups(["--", "a/senders.yaml", "b/senders.yaml", "a/senders-eu.yaml"]) == [
        ["validate", "--file=a/senders.yaml", "--file=a/senders-eu.yaml"],
        ["validate", "--file=b/senders.yaml"],
    ]
    assert validate_groups(["--file=x/", "-f", "y.yaml", "-fz/", "--"]) == [
        ["validate", "--file=x/", "--file=y.yaml", "--file=z/"]]
    # After "--", nothing is an option; before it, a word that is no file option is a name too.
    assert validate_groups(["--", "--file=x/senders.yaml", "-f", "-dir/senders.yaml"]) == [
        ["validate", "--file=--file=x/senders.yaml"], ["validate", "--file=-f"], ["validate", "--file=-dir/senders.yaml"]]
    assert validate_groups(["-dir/senders.yaml"]) == [["validate", "--file=-dir/senders.yaml"]]
    assert validate_groups([]) == validate_groups(["--"]) == [["validate"]]


def test_the_entry_point_exits_1_when_any_account_is_invalid(tmp_path):
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    (tmp_path / "good" / "senders.yaml").write_text(VALID)
    (tmp_path / "bad" / "senders.yaml").write_text(BROKEN)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    run = [sys.executable, "-m", "reconciler.precommit"]
    good = subprocess.run([*run, "--", "good/senders.yaml"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert (good.returncode, good.stdout) == (0, "good/senders.yaml: 1 sender, 0 ignored: valid\n")
    both = subprocess.run([*run, "--", "bad/senders.yaml", "good/senders.yaml"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert both.returncode == 1 and "bad/senders.yaml:3:37:" in both.stderr and "good/senders.yaml: 1 sender" in both.stdout
