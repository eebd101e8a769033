"""The action's own installation, once per job and cached across jobs: ``python install.py locate|install``.

action.yml runs this file with the ``python`` input before reconciler is installed, so it uses the
standard library only:

- ``locate``: where the virtual environment of this action's code and this Python lives, the cache key
  it is saved under, and whether it is there and whole (``ready``). A second use of the action in the same
  job finds it ready and skips the rest.
- ``install``: after actions/cache restored what it had under the key, checks it again; when it is still
  not ready, creates it and installs the action's checkout into it with pip (``installed=true``: action.yml
  then saves it under the key, for the later jobs).

The key names the runner's OS and architecture and the Python's version, and ends with a digest of
what the environment depends on: the package's files as this checkout of the action holds them (so a
moving tag such as ``@v1`` gets a new environment when it moves, as a commit SHA would), the Python
(its version and real path: a virtual environment points at its interpreter) and the environment's own
path (its scripts name it). Outputs go to ``GITHUB_OUTPUT``: ``dir``, ``key``, ``python``, ``ready``;
``installed``.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

#: What is installed, under the action's checkout: its digest is part of the key.
SOURCES = ("pyproject.toml", "reconciler")
#: Written last into a complete environment: the key it was installed under.
KEY_FILE = ".reconciler-key"

Runner = Callable[[Sequence[str]], int]


def _run(argv: Sequence[str]) -> int:
    return subprocess.run(list(argv), check=False).returncode


def source_digest(action_path: Path) -> str:
    """A digest of every file the package is built from (names and contents; compiled files left out)."""
    digest = hashlib.sha256()
    files = []
    for name in SOURCES:
        top = action_path / name
        files += [top] if top.is_file() else [p for p in top.rglob("*") if p.is_file()]
    for path in sorted(files, key=lambda p: p.relative_to(action_path).as_posix()):
        if "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        digest.update(path.relative_to(action_path).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _python_identity() -> str:
    return "\0".join([sys.version, sys.implementation.cache_tag or "", platform.machine(),
                      os.path.realpath(sys.executable)])


class Place:
    """Where this action's environment is for this Python, and its cache key."""

    def __init__(self, env: Mapping[str, str]):
        action_path = Path(env["GITHUB_ACTION_PATH"])
        temp = Path(env.get("RUNNER_TEMP") or action_path.parent)
        code = hashlib.sha256(f"{source_digest(action_path)}\0{_python_identity()}".encode()).hexdigest()
        self.action_path = action_path
        self.dir = temp / f"reconciler-venv-{code[:16]}"
        version = ".".join(str(n) for n in sys.version_info[:3])
        whole = hashlib.sha256(f"{code}\0{self.dir}".encode()).hexdigest()
        self.key = (f"reconciler-venv-{env.get('RUNNER_OS', sys.platform)}-{env.get('RUNNER_ARCH', platform.machine())}"
                    f"-py{version}-{whole[:40]}")
        scripts = self.dir / ("Scripts" if os.name == "nt" else "bin")
        self.python = scripts / ("python.exe" if os.name == "nt" else "python")

    def ready(self, run: Runner) -> bool:
        """The environment is there, was completed under this key, and its Python imports reconciler."""
        try:
            recorded = (self.dir / KEY_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            return False
        # -I: the import is checked against the environment alone, never PYTHONPATH or the user's site.
        return recorded == self.key and self.python.is_file() and run([str(self.python), "-I", "-c", "import reconciler"]) == 0

    def install(self, run: Runner) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        steps = [[sys.executable, "-m", "venv", str(self.dir)],
                 [str(self.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(self.action_path)]]
        for argv in steps:
            if run(argv) != 0:
                raise SystemExit(f"::error::installing reconciler failed: {' '.join(argv[1:3])} ({argv[0]})")
        (self.dir / KEY_FILE).write_text(self.key + "\n", encoding="utf-8")
        if not self.ready(run):
            (self.dir / KEY_FILE).unlink()
            raise SystemExit(f"::error::reconciler was installed, but {self.python} cannot import it")


def _outputs(env: Mapping[str, str], values: Mapping[str, str]) -> None:
    lines = "".join(f"{name}={value}\n" for name, value in values.items())
    path = env.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(lines)
    else:
        sys.stdout.write(lines)


def main(argv: Sequence[str], env: Mapping[str, str], run: Runner = _run) -> int:
    command = argv[0] if argv else ""
    if command not in ("locate", "install") or not env.get("GITHUB_ACTION_PATH"):
        print(f"usage: GITHUB_ACTION_PATH=DIR {Path(__file__).name} locate|install (run by action.yml)", file=sys.stderr)
        return 2
    place = Place(env)
    if command == "locate":
        ready = place.ready(run)
        if ready:
            print(f"reconciler is installed already, in {place.dir}: not installed again", flush=True)
        _outputs(env, {"dir": str(place.dir), "key": place.key, "python": str(place.python),
                       "ready": str(ready).lower()})
        return 0
    if place.ready(run):
        print(f"reconciler restored from the cache (key {place.key})", flush=True)
        _outputs(env, {"installed": "false"})
        return 0
    print(f"Installing reconciler into {place.dir} (cache key {place.key})", flush=True)
    place.install(run)
    _outputs(env, {"installed": "true"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
