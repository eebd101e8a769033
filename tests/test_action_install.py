"""The action's installation (reconciler/action/install.py): once per job, then from the cache.

The virtual environments are real (``python -m venv``); pip's part, which would reach a package index, is
played by copying the action's package into the environment, as pip would install it. actions/cache is
played by archiving the environment and unpacking it at the same path in a new "job".
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from reconciler.action import install
from tests.factories import REPO_ROOT
from tests.github_stand_in import parse_outputs

SCRIPT = REPO_ROOT / "reconciler" / "action" / "install.py"


class Job:
    """One workflow job's environment for the action, and every command the installation ran."""

    def __init__(self, tmp_path: Path, action: Path, temp: Path, name: str = "job"):
        self.dir = tmp_path / name
        self.dir.mkdir()
        self.env = {"GITHUB_ACTION_PATH": str(action), "RUNNER_TEMP": str(temp), "RUNNER_OS": "Linux",
                    "RUNNER_ARCH": "X64"}
        self.steps = 0
        self.commands: list[list[str]] = []
        self.pip_fails = False

    def run(self, argv: Sequence[str]) -> int:
        self.commands.append(list(argv))
        if argv[1:3] == ["-m", "venv"]:
            return subprocess.run([*argv, "--without-pip"], check=False).returncode
        if argv[1:4] == ["-m", "pip", "install"]:
            if self.pip_fails:
                return 1
            purelib = subprocess.run([argv[0], "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                     capture_output=True, text=True, check=True).stdout.strip()
            shutil.copytree(Path(argv[-1]) / "reconciler", Path(purelib) / "reconciler")
            return 0
        return subprocess.run(list(argv), capture_output=True, check=False).returncode

    def step(self, command: str) -> dict[str, str]:
        """One step of action.yml running ``install.py COMMAND``; its outputs."""
        self.steps += 1
        output = self.dir / f"output{self.steps}"
        assert install.main([command], {**self.env, "GITHUB_OUTPUT": str(output)}, run=self.run) == 0
        return parse_outputs(output)

    def pip_runs(self) -> int:
        return sum(1 for argv in self.commands if argv[1:3] == ["-m", "pip"])


@pytest.fixture
def action(tmp_path: Path) -> Path:
    """A checkout of the action: its pyproject.toml and a package."""
    path = tmp_path / "action"
    (path / "reconciler").mkdir(parents=True)
    (path / "pyproject.toml").write_text('[project]\nname = "whatsapp-senders-reconciler"\n')
    (path / "reconciler" / "__init__.py").write_text('__version__ = "1.0.0"\n')
    return path


def test_the_first_use_installs_and_a_second_in_the_same_job_finds_it(tmp_path: Path, action: Path) -> None:
    job = Job(tmp_path, action, tmp_path / "temp")
    first = job.step("locate")
    assert first["ready"] == "false" and first["dir"].startswith(str(tmp_path / "temp" / "reconciler-venv-"))
    assert job.step("install") == {"installed": "true"}
    assert job.pip_runs() == 1
    python = Path(first["python"])
    assert subprocess.run([str(python), "-I", "-c", "import reconciler"], check=False).returncode == 0
    second = job.step("locate")
    assert second == {**first, "ready": "true"}, "same place, same key, found ready: action.yml skips the rest"
    assert job.pip_runs() == 1


def test_a_later_job_restores_the_environment_from_the_cache(tmp_path: Path, action: Path) -> None:
    temp = tmp_path / "temp"
    first = Job(tmp_path, action, temp, "first")
    place = first.step("locate")
    first.step("install")
    saved = shutil.make_archive(str(tmp_path / "cache"), "gztar", root_dir=place["dir"])  # actions/cache/save
    shutil.rmtree(temp)  # a new job on a fresh runner
    later = Job(tmp_path, action, temp, "later")
    assert later.step("locate") == {**place, "ready": "false"}, "nothing there yet: the same key is restored"
    shutil.unpack_archive(saved, place["dir"])  # actions/cache/restore, at the same path
    assert later.step("install") == {"installed": "false"}, "restored and whole: not installed again nor saved"
    assert later.pip_runs() == 0 and later.step("locate")["ready"] == "true"


def test_the_key_follows_the_actions_code_and_the_environments_place(tmp_path: Path, action: Path) -> None:
    before = Job(tmp_path, action, tmp_path / "temp", "before").step("locate")
    (action / "reconciler" / "__pycache__").mkdir()
    (action / "reconciler" / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    assert Job(tmp_path, action, tmp_path / "temp", "compiled").step("locate") == before, "compiled files do not count"
    elsewhere = Job(tmp_path, action, tmp_path / "other", "elsewhere").step("locate")
    assert elsewhere["key"] != before["key"], "a virtual environment's scripts name its path"
    (action / "reconciler" / "__init__.py").write_text('__version__ = "1.0.1"\n')  # a tag such as @v1 moved
    moved = Job(tmp_path, action, tmp_path / "temp", "moved").step("locate")
    assert moved["key"] != before["key"] and moved["dir"] != before["dir"]
    version = ".".join(str(n) for n in sys.version_info[:3])
    assert before["key"].startswith(f"reconciler-venv-Linux-X64-py{version}-")
    assert "," not in before["key"] and len(before["key"]) <= 512, "what actions/cache accepts as a key"


def test_a_broken_environment_is_installed_again(tmp_path: Path, action: Path) -> None:
    job = Job(tmp_path, action, tmp_path / "temp")
    place = job.step("locate")
    job.step("install")
    purelib = subprocess.run([place["python"], "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    shutil.rmtree(Path(purelib) / "reconciler")  # a cache restored in part, say
    assert job.step("locate")["ready"] == "false"
    assert job.step("install") == {"installed": "true"} and job.pip_runs() == 2
    assert job.step("locate")["ready"] == "true"


def test_a_failed_install_fails_the_step_and_leaves_nothing_to_reuse(tmp_path: Path, action: Path) -> None:
    job = Job(tmp_path, action, tmp_path / "temp")
    place = job.step("locate")
    job.pip_fails = True
    with pytest.raises(SystemExit, match=r"^::error::installing reconciler failed: -m pip"):
        job.step("install")
    assert not (Path(place["dir"]) / install.KEY_FILE).exists()
    job.pip_fails = False
    assert job.step("locate")["ready"] == "false" and job.step("install") == {"installed": "true"}


def test_the_script_runs_on_the_standard_library_alone(tmp_path: Path) -> None:
    """action.yml runs it with the runner's Python, before reconciler is installed anywhere."""
    output = tmp_path / "output"
    env = {"PATH": "/usr/bin:/bin", "GITHUB_ACTION_PATH": str(REPO_ROOT), "RUNNER_TEMP": str(tmp_path),
           "GITHUB_OUTPUT": str(output)}
    base = getattr(sys, "_base_executable", sys.executable)  # a Python without this project's packages
    proc = subprocess.run([base, "-I", str(SCRIPT), "locate"], env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    outputs = parse_outputs(output)
    assert set(outputs) == {"dir", "key", "python", "ready"} and outputs["ready"] == "false"
    assert Path(outputs["python"]).parent.parent == Path(outputs["dir"])
    for argv, without in ((["nonsense"], ""), (["locate"], "GITHUB_ACTION_PATH")):
        env_of = {k: v for k, v in env.items() if k != without}
        refused = subprocess.run([base, "-I", str(SCRIPT), *argv], env=env_of, capture_output=True, text=True, check=False)
        assert refused.returncode == 2 and refused.stderr.startswith("usage: ") and "Traceback" not in refused.stderr
