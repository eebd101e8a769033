"""Start-up of the CLI against a bare interpreter, measured in the same run.

    python bench/startup.py                # 21 interleaved rounds
    python bench/startup.py --repeat 41

Each round runs, one after the other: ``python -c pass``, ``python -m reconciler --version``,
``python -m reconciler plan --help`` and ``python -m reconciler validate -f senders.yaml.example``, each
as a child process from the repository root. Rounds are interleaved, so a slow spell of a shared machine
hits every command alike. For each command: wall time (start to exit) and CPU time (user + system, from
``os.wait4``: the child's own). The goals compare medians of CPU time: start-up is CPU-bound in one
thread, so on an idle machine its wall time is its CPU time, while on a shared one the wall time mostly
measures the other jobs (a bare interpreter took 45 to 230 ms of wall time here within one hour).
The wall-time medians are shown beside them.

Bytecode: the children run with ``PYTHONDONTWRITEBYTECODE`` removed from their environment and one
warm-up round is not counted, so every module is loaded from its ``.pyc`` as in an installed copy (an
environment that sets the variable compiles every module of ours from source on each start).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: (name, arguments after the interpreter)
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("python -c pass", ("-c", "pass")),
    ("reconciler --version", ("-m", "reconciler", "--version")),
    ("reconciler plan --help", ("-m", "reconciler", "plan", "--help")),
    ("reconciler validate -f senders.yaml.example", ("-m", "reconciler", "validate", "-f", "senders.yaml.example")),
)

#: command → how many times a bare interpreter's wall time it may take (issue 16)
TARGETS = {"reconciler --version": 4.0, "reconciler plan --help": 4.0, "reconciler validate -f senders.yaml.example": 8.0}


@dataclass
class Timings:
    name: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def wall_median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "RECONCILER_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(PYTHONPATH=str(ROOT), NO_COLOR="1")
    return env


def run_once(args: tuple[str, ...], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of one child; its output is discarded, its exit status must be 0."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        err = child.stderr.read().decode() if child.stderr else ""
        raise SystemExit(f"{' '.join(args)} exited {child.returncode}:\n{err[-2000:]}")
    if child.stderr:
        child.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime


def measure(repeat: int) -> dict[str, Timings]:
    env = child_env()
    timings = {name: Timings(name) for name, _ in COMMANDS}
    for _name, args in COMMANDS:  # warm-up: writes the .pyc files, fills the page cache
        run_once(args, env)
    for _ in range(repeat):
        for name, args in COMMANDS:
            wall, cpu = run_once(args, env)
            timings[name].wall.append(wall)
            timings[name].cpu.append(cpu)
    return timings


def goals(timings: dict[str, Timings]) -> list[dict[str, Any]]:
    bare = timings[COMMANDS[0][0]]
    rows = []
    for name, target in TARGETS.items():
        t = timings[name]
        ratio = t.cpu_median / bare.cpu_median
        rows.append({"goal": f"start-up: {name} / python -c pass (CPU, median)", "measured": ratio, "target": target,
                     "met": ratio <= target, "shown": f"{ratio:.2f}×", "target_shown": f"{target:.2f}×",
                     "detail": f"{t.cpu_median * 1000:.0f} ms / {bare.cpu_median * 1000:.0f} ms; "
                               f"wall {t.wall_median * 1000:.0f} ms / {bare.wall_median * 1000:.0f} ms = "
                               f"{t.wall_median / bare.wall_median:.2f}×"})
    return rows


def report(timings: dict[str, Timings]) -> str:
    n = len(next(iter(timings.values())).wall)
    lines = [f"start-up, {n} interleaved rounds (after one warm-up round): wall and CPU time in ms", "",
             f"{'command':<46}{'wall med':>9}{'wall min':>9}{'CPU med':>9}{'CPU min':>9}"]
    for t in timings.values():
        lines.append(f"{t.name:<46}{t.wall_median * 1000:9.0f}{min(t.wall) * 1000:9.0f}"
                     f"{t.cpu_median * 1000:9.0f}{min(t.cpu) * 1000:9.0f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21, help="interleaved rounds")
    args = parser.parse_args()
    timings = measure(args.repeat)
    print(report(timings))
    print()
    for row in goals(timings):
        print(f"{row['goal']:<78}{row['shown']:>8}  ≤ {row['target_shown']:<7} {'met' if row['met'] else 'NOT met'}"
              f"  ({row['detail']})")


if __name__ == "__main__":
    main()
