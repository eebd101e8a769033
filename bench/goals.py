"""Every goal of the performance issue (issue 16), measured in one run: measured / target / met or not.

    python bench/goals.py              # about 6 minutes on 2 CPUs
    python bench/goals.py --quick      # a smoke run of fewer rounds and a plan of 1,000; writes nothing

- start-up (``bench/startup.py``): ``reconciler --version`` and ``reconciler plan --help`` ≤ 4 ×, and
  ``reconciler validate -f senders.yaml.example`` ≤ 8 × a bare ``python -c pass``: medians of wall time
  over interleaved rounds;
- plan cost (``bench/plan_cost.py``): the CPU of a whole ``reconciler plan`` of 10,000 senders ≤ 0.6 × the
  CPU PyYAML's C loader needs to load the same file: medians over interleaved rounds;
- adaptive concurrency (``bench/concurrency.py``): against an account allowing 8 requests at once, ≤ 5 %
  of the writes answered 429 and a wall time ≤ 1.2 × that of ``--concurrency 8``; without a limit, ≤ 1.15 ×
  that of a fixed 25: medians over interleaved runs;
- many accounts (``bench/accounts.py``): a plan across 60 subaccounts at 50 ms, less its start-up, ≤ 0.35 ×
  reading them one after the other (accounts × 2 requests × latency): medians of wall time over
  interleaved rounds.

Prints the table, writes ``bench/results/goals.json`` and draws the concurrency plot of this run
(``docs/concurrency.png``, matplotlib, the ``bench`` extra); a ``--quick`` run writes neither.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import accounts, concurrency, plan_cost, startup  # noqa: E402
from bench.run import machine  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "goals.json"

def table(rows: list[dict[str, Any]]) -> str:
    width = max(len(r["goal"]) for r in rows) + 2
    lines = [f"{'goal':<{width}}{'measured':>10}  {'target':<9}{'':<9}detail"]
    for r in rows:
        verdict = "met" if r.get("met") else ("pending" if r.get("met") is None else "NOT met")
        lines.append(f"{r['goal']:<{width}}{r['shown']:>10}  {'≤ ' + r['target_shown']:<9}{verdict:<9}{r.get('detail', '')}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, a plan of 1,000 senders; writes nothing")
    parser.add_argument("--startup-rounds", type=int, default=21)
    parser.add_argument("--plan-rounds", type=int, default=5)
    parser.add_argument("--concurrency-runs", type=int, default=5)
    parser.add_argument("--account-rounds", type=int, default=3)
    parser.add_argument("--senders", type=int, default=10_000, help="N of the plan-cost goal")
    parser.add_argument("--out", type=Path, help=f"results JSON (default {RESULTS.relative_to(ROOT)}; quick runs: none)")
    parser.add_argument("--plot", type=Path, help=f"plot PNG (default {concurrency.PLOT.relative_to(ROOT)}; quick: none)")
    args = parser.parse_args()
    if args.quick:
        args.startup_rounds, args.plan_rounds, args.concurrency_runs, args.senders = 5, 1, 1, 1_000
        args.account_rounds = 1
    latency, limit = 0.05, 8

    t = time.perf_counter()
    timings = startup.measure(args.startup_rounds)
    print(startup.report(timings), end="\n\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        cost = plan_cost.measure_plan_cost(args.senders, args.plan_rounds, latency, Path(tmp))
    print(plan_cost.report(cost), end="\n\n", flush=True)
    cases = concurrency.run_cases(400, latency, limit, args.concurrency_runs)
    print(concurrency.report(cases, [], 400, latency).split("\n\ngoal")[0], end="\n\n", flush=True)

    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        many = accounts.measure(60, latency, args.account_rounds, Path(tmp))
    print(accounts.report(many), end="\n\n", flush=True)

    rows = [*startup.goals(timings), plan_cost.goal(cost), *concurrency.goals(cases, limit), accounts.goal(many)]
    print(table(rows))
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"\n{time.perf_counter() - t:.0f} s; {machine()['cpus']} CPUs, load average {load}")

    out = args.out or (None if args.quick else RESULTS)
    plot_path = args.plot or (None if args.quick else concurrency.PLOT)
    if out is not None:
        command = ("python bench/goals.py " + " ".join(sys.argv[1:])).strip()
        doc = {"command": command, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
               "goals": rows, "startup": {k: {"wall": v.wall, "cpu": v.cpu} for k, v in timings.items()},
               "plan_cost": cost, "accounts": many,
               "concurrency": {key: {**asdict(c), "wall_median": c.wall, "refused_share": c.refused_share}
                               for key, c in cases.items()}}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"results: {out}")
    if plot_path is not None:
        print(concurrency.plot(cases, limit, plot_path))


if __name__ == "__main__":
    main()
