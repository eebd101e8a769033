"""Benchmark the adaptive write concurrency against an account that limits requests in flight, and one that does not.

    python bench/concurrency.py                  # 400 updates at 50 ms per request, 5 runs of each
    python bench/concurrency.py --repeat 5 --limit 8 --latency 0.05

The emulator runs in a thread of this process (as in bench/run.py), seeded with N = 400 senders of
bench/workload.py, adding ``--latency`` to every request. What is measured is the real CLI in a child
process, ``python -m reconciler apply -f FILE --auto-approve``, on a file that changes one profile field
(``about``) of all N senders, on a freshly seeded emulator each run. Each child writes its client's stats
(``RECONCILER_STATS_FILE``), the limiter's history included.

(a) the account allows ``--limit`` requests at once (``Faults(max_in_flight=...)``; past it, 429 / 20429 and
    no Retry-After). Adaptive with default options, against ``--concurrency LIMIT`` (the best a user who
    knew the limit could do) and against a fixed default concurrency (``RECONCILER_ADAPTIVE=0``: before).
    Goals: 429s at most 5 % of the writes, wall time at most 1.2 × that of ``--concurrency LIMIT``.
(b) no limit: adaptive with default options against a fixed default concurrency (``RECONCILER_ADAPTIVE=0``).
    Goal: wall time at most 1.15 × the fixed one.

Wall times are the median of ``--repeat`` runs. Prints each goal as measured / target / met or not, writes
``bench/results/concurrency.json`` and draws the limit over time (``docs/concurrency.png``, matplotlib).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.plotting import MISSING, pyplot, save  # noqa: E402
from bench.run import ACCOUNT, TOKEN, TimedEmulator, machine  # noqa: E402
from bench.workload import sender_body, write_desired  # noqa: E402
from reconciler.client import DEFAULT_CONCURRENCY  # noqa: E402
from reconciler.emulator.faults import Faults  # noqa: E402
from reconciler.options import ADAPTIVE_ENV, STATS_FILE_ENV  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "concurrency.json"
PLOT = ROOT / "docs" / "concurrency.png"
WRITES = ("POST", "DELETE")


@dataclass
class Run:
    """One apply in a child process."""

    wall: float
    writes: int  # write requests the emulator received, refused ones included
    refused: int  # of which answered 429 for being over the limit
    write_phase: float  # first write received to last answered
    limit_history: list[list[float]] = field(default_factory=list)  # the apply client's [seconds, limit]
    retries: int = 0
    client_seconds: float = 0.0  # how long the apply client was open


@dataclass
class Case:
    """Several runs of one configuration."""

    name: str
    max_in_flight: int | None
    adaptive: bool
    concurrency: int | None  # --concurrency given, or None for the default
    runs: list[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def refused_share(self) -> float:
        """429s per update, all runs together (the issue's 130 of 400)."""
        return sum(r.refused for r in self.runs) / sum(r.writes - r.refused for r in self.runs)


def apply_once(case: Case, n: int, latency: float, desired: Path, tmp: Path) -> Run:
    server = TimedEmulator(account_sid=ACCOUNT, auth_token=TOKEN)
    for i in range(n):
        server.add_sender(sender_body(i))
    server.start()
    try:
        server.set_faults(Faults(latency=latency, max_in_flight=case.max_in_flight))
        stats_file = tmp / f"stats-{time.monotonic_ns()}.jsonl"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "RECONCILER_"))}
        env.update(PYTHONPATH=str(ROOT), TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN, NO_COLOR="1")
        env[STATS_FILE_ENV] = str(stats_file)
        env[ADAPTIVE_ENV] = "1" if case.adaptive else "0"
        argv = [sys.executable, "-m", "reconciler", "apply", "-f", str(desired), "--auto-approve",
                "--base-url", str(server.base_url)]
        if case.concurrency is not None:
            argv += ["--concurrency", str(case.concurrency)]
        start = time.perf_counter()
        child = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
        wall = time.perf_counter() - start
        if child.returncode != 0 or "Apply complete" not in child.stdout:
            raise SystemExit(f"{case.name}: apply exited {child.returncode}:\n{child.stdout[-2000:]}\n{child.stderr[-2000:]}")
        stats = server.stats()
        writes = sum(v for k, v in stats.items() if k.split(" ")[0] in WRITES)
        refused = stats.get("fault concurrency", 0)
        # Every refusal was a write: the list reads come before the writes and after them, one at a time.
        if writes - refused != n:
            raise SystemExit(f"{case.name}: {writes} writes and {refused} refusals for {n} updates")
        clients = [json.loads(line) for line in stats_file.read_text().splitlines()]
        apply_client = max(clients, key=lambda c: c["by_method"].get("POST", 0))
        return Run(wall, writes, refused, server.phase(WRITES),
                   apply_client["limit_history"], apply_client["retries"], apply_client["seconds"])
    finally:
        server.stop()


def goals(cases: dict[str, Case], limit: int) -> list[dict[str, Any]]:
    a, a_fixed, b, b_fixed = cases["a_adaptive"], cases["a_fixed_limit"], cases["b_adaptive"], cases["b_fixed"]
    rows = [
        (f"(a) limit {limit}: share of writes answered 429", a.refused_share, 0.05, "{:.1%}"),
        (f"(a) limit {limit}: wall time / that of --concurrency {limit}", a.wall / a_fixed.wall, 1.2, "{:.2f}×"),
        (f"(b) no limit: wall time / that of a fixed {DEFAULT_CONCURRENCY}", b.wall / b_fixed.wall, 1.15, "{:.2f}×"),
    ]
    return [{"goal": g, "measured": m, "target": t, "met": m <= t, "shown": f.format(m), "target_shown": f.format(t)}
            for g, m, t, f in rows]


def report(cases: dict[str, Case], rows: list[dict[str, Any]], n: int, latency: float) -> str:
    lines = [f"{n} updates at {latency * 1000:g} ms per request; wall time: median of {len(cases['a_adaptive'].runs)} runs", "",
             f"{'case':<44}{'wall s':>8}{'writes s':>10}{'writes':>8}{'429s':>7}{'429 %':>7}  wall s of each run"]
    for case in cases.values():
        walls = " ".join(f"{r.wall:.2f}" for r in case.runs)
        writes = sum(r.writes for r in case.runs) / len(case.runs)
        refused = sum(r.refused for r in case.runs) / len(case.runs)
        phase = statistics.median(r.write_phase for r in case.runs)
        lines.append(f"{case.name:<44}{case.wall:8.2f}{phase:10.2f}{writes:8.1f}{refused:7.1f}{case.refused_share:7.1%}  {walls}")
    lines += ["", "wall s, writes s: medians (writes s: first write received to last answered); writes, 429s: means per run;",
              "429 %: 429s per update made, all runs together"]
    lines += ["", f"{'goal':<58}{'measured':>10}{'target':>9}  met"]
    lines += [f"{r['goal']:<58}{r['shown']:>10}{'≤ ' + r['target_shown']:>9}  {'met' if r['met'] else 'NOT met'}" for r in rows]
    return "\n".join(lines)


def plot(cases: dict[str, Case], limit: int, path: Path) -> str:
    plt = pyplot()
    if plt is None:
        return MISSING
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for key, label, color in (("a_adaptive", f"account allows {limit} at once", "tab:red"),
                              ("b_adaptive", "no limit", "tab:blue")):
        case = cases[key]
        run = sorted(case.runs, key=lambda r: r.wall)[len(case.runs) // 2]  # the median run
        times = [t for t, _ in run.limit_history] + [run.client_seconds]
        limits = [int(v) for _, v in run.limit_history]
        ax.step(times, [*limits, limits[-1]], where="post", color=color, label=f"adaptive limit, {label}")
    ax.axhline(limit, color="tab:red", linestyle=":", alpha=0.6, label=f"the account's limit ({limit})")
    ax.axhline(DEFAULT_CONCURRENCY, color="tab:gray", linestyle="--", alpha=0.6,
               label=f"--concurrency (default {DEFAULT_CONCURRENCY})")
    ax.set_xlabel("seconds since the apply's client was made (each line ends as the client closes)")
    ax.set_ylabel("requests allowed in flight")
    ax.set_ylim(0, DEFAULT_CONCURRENCY + 3)
    ax.set_title("The adaptive limit during apply (400 updates, 50 ms per request; the median runs)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="center right")
    return save(plt, fig, path)


def run_cases(senders: int, latency: float, limit: int, repeat: int) -> dict[str, Case]:
    """Every case ``repeat`` times, interleaved, so a slow spell of a shared machine hits every case alike."""
    cases = {
        "a_adaptive": Case(f"(a) limit {limit}, adaptive, default options", limit, True, None),
        "a_fixed_limit": Case(f"(a) limit {limit}, --concurrency {limit}", limit, True, limit),
        "a_fixed": Case(f"(a) limit {limit}, fixed {DEFAULT_CONCURRENCY} (before)", limit, False, None),
        "b_adaptive": Case("(b) no limit, adaptive, default options", None, True, None),
        "b_fixed": Case(f"(b) no limit, fixed {DEFAULT_CONCURRENCY}", None, False, None),
    }
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        work = Path(tmp)
        desired = work / "senders.yaml"
        write_desired(desired, (sender_body(i, changed=True) for i in range(senders)))
        # Every sender changes: lift the default 30 % update threshold for this file.
        desired.write_text("safety: {max_update_percent: 100}\n" + desired.read_text(encoding="utf-8"), encoding="utf-8")
        for _ in range(repeat):
            for case in cases.values():
                case.runs.append(apply_once(case, senders, latency, desired, work))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=400, help="N, all of them updated")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request")
    parser.add_argument("--limit", type=int, default=8, help="requests the account allows in flight in (a)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each case")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results JSON")
    parser.add_argument("--plot", type=Path, default=PLOT, help="plot PNG")
    args = parser.parse_args()
    limit = args.limit
    cases = run_cases(args.senders, args.latency, limit, args.repeat)
    rows = goals(cases, limit)
    print(report(cases, rows, args.senders, args.latency))
    command = ("python bench/concurrency.py " + " ".join(sys.argv[1:])).strip()
    doc = {"command": command, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
           "senders": args.senders, "latency": args.latency, "limit": limit, "repeat": args.repeat, "goals": rows,
           "cases": {key: {**asdict(case), "wall_median": case.wall, "refused_share": case.refused_share}
                     for key, case in cases.items()}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nresults: {args.out}")
    print(plot(cases, limit, args.plot))


if __name__ == "__main__":
    main()
