"""Growth curves: plan and apply as the senders of one account, and the subaccounts of one run, grow.

    python bench/growth.py            # 1k, 10k, 100k senders in one account; 10, 100, 1,000 subaccounts of 3
    python bench/growth.py --quick    # 1k, 10k senders; 10, 100 subaccounts: a smoke run that writes nothing

Every case runs, as child processes of this one (``bench/run.py``'s ``measure``: wall time, the child's own
CPU from ``wait4`` and its own peak RSS, ``VmHWM``), against the emulator in a thread of this process adding
``--latency`` to every request (50 ms):

- **one account of N senders** (``bench/workload.py``'s senders, files of 10,000 each, the parent's):
  ``reconciler plan`` of files that match live (an empty plan), then ``reconciler apply --auto-approve``
  of files in which K = 10 % differ in one field. Floors: plan, ceil(N / 1,000) pages × latency (pages are
  read one after the other); apply, those pages, ceil(K / 25) rounds of writes (25 at once, the default
  ``--concurrency``) and the confirming read's pages, × latency.
- **M subaccounts of 3 senders**, one file each naming its ``account:`` (no file is the parent's): plan
  (empty), then apply with one sender changed in each subaccount. Floors, with every subaccount read at
  once (each has its own limit at Twilio): plan, the Accounts list's pages (one for up to 999 subaccounts
  with the parent; one read each for 12 or fewer) then one round of sender pages; apply, that and one round
  of writes and one of confirming reads. ``× seq`` compares the plan, less the start-up, with reading the
  subaccounts one after another (M × 2 requests × latency), as ``bench/accounts.py`` does.

The emulator counts the requests. Prints the table and the goals of issue 25, writes
``bench/results/growth.json`` and draws ``docs/growth.png``; ``--quick`` writes neither. About 5 minutes on
2 CPUs, most of it the 100,000 senders (seeding the emulator, then a plan and an apply of them).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.plotting import MISSING, pyplot, save  # noqa: E402
from bench.run import ACCOUNT, TOKEN, TimedEmulator, machine, measure, pages  # noqa: E402
from bench.workload import changed_indexes, sender_body, write_desired  # noqa: E402
from reconciler.accounts.directory import LIST_PAGE_SIZE, ONE_BY_ONE  # noqa: E402
from reconciler.client import DEFAULT_CONCURRENCY  # noqa: E402
from reconciler.emulator.faults import Faults  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "growth.json"
PLOT = ROOT / "docs" / "growth.png"
PER_FILE = 10_000
PER_SUBACCOUNT = 3
#: Issue 25's goals.
SEQ_TARGET, REQUESTS_SLACK, LINEAR_TARGET = 0.03, 2, 1.3


@dataclass
class Case:
    kind: str  # "senders" (one account) or "subaccounts"
    size: int  # N senders, or M subaccounts
    command: str  # "plan" or "apply"
    wall: float
    cpu: float
    rss_mib: float
    requests: int
    floor: float
    senders: int

    @property
    def vs_floor(self) -> float:
        return self.wall / self.floor


def server(latency: float) -> TimedEmulator:
    emulator = TimedEmulator(account_sid=ACCOUNT, auth_token=TOKEN)
    emulator.start()
    emulator.set_faults(Faults(latency=latency))
    return emulator


def write_files(folder: Path, bodies: Iterable[dict[str, Any]], account: str | None = None) -> None:
    """``bodies`` in files of :data:`PER_FILE` senders (one file holds at most 32 MB), under ``account``."""
    folder.mkdir(parents=True, exist_ok=True)
    chunk: list[dict[str, Any]] = []
    number = 0

    def flush() -> None:
        nonlocal number
        path = folder / f"senders-{number:03d}.yaml"
        write_desired(path, chunk)
        if account:
            path.write_text(f"account: {account}\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
        number += 1
        chunk.clear()

    for body in bodies:
        chunk.append(body)
        if len(chunk) == PER_FILE:
            flush()
    if chunk:
        flush()


def one_account(n: int, latency: float, work: Path) -> list[Case]:
    """Plan, then apply, N senders of the parent."""
    same, changed = work / f"same-{n}", work / f"changed-{n}"
    write_files(same, (sender_body(i) for i in range(n)))
    k_set = changed_indexes(n)
    write_files(changed, (sender_body(i, changed=i in k_set) for i in range(n)))
    emulator = server(latency)
    try:
        for i in range(n):
            emulator.add_sender(sender_body(i))
        read = pages(n) * latency
        cases = []
        wall, cpu, rss, out = measure(emulator, _cli(emulator, "plan", "-f", str(same), "--detailed-exitcode"))
        assert "No changes" in out, out[-500:]
        cases.append(Case("senders", n, "plan", wall, cpu, rss, emulator.stats()["total"], read, n))
        wall, cpu, rss, out = measure(emulator, _cli(emulator, "apply", "--auto-approve", "-f", str(changed)))
        assert "Apply complete" in out, out[-500:]
        writes = math.ceil(len(k_set) / DEFAULT_CONCURRENCY) * latency
        cases.append(Case("senders", n, "apply", wall, cpu, rss, emulator.stats()["total"], read + writes + read, n))
        return cases
    finally:
        emulator.stop()


def subaccounts(m: int, latency: float, work: Path) -> list[Case]:
    """Plan, then apply, M subaccounts of 3 senders, one file each."""
    same, changed = work / f"subs-{m}", work / f"subs-{m}-changed"
    emulator = server(latency)
    try:
        for j in range(m):
            sid = emulator.add_account(f"Customer {j + 1}").sid
            indexes = range(j * PER_SUBACCOUNT, (j + 1) * PER_SUBACCOUNT)
            for i in indexes:
                emulator.add_sender(sender_body(i), account=sid)
            for folder, bodies in ((same, [sender_body(i) for i in indexes]),
                                   (changed, [sender_body(i, changed=i == indexes[0]) for i in indexes])):
                folder.mkdir(parents=True, exist_ok=True)
                write_desired(folder / f"customer-{j:05d}.yaml", bodies)
                path = folder / f"customer-{j:05d}.yaml"
                path.write_text(f"account: {sid}\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
        lookups = 1 if m <= ONE_BY_ONE else math.ceil((m + 1) / LIST_PAGE_SIZE)
        cases = []
        wall, cpu, rss, out = measure(emulator, _cli(emulator, "plan", "-f", str(same), "--detailed-exitcode"))
        assert "No changes" in out, out[-500:]
        senders = m * PER_SUBACCOUNT
        cases.append(Case("subaccounts", m, "plan", wall, cpu, rss, emulator.stats()["total"], (lookups + 1) * latency,
                          senders))
        wall, cpu, rss, out = measure(emulator, _cli(emulator, "apply", "--auto-approve", "-f", str(changed)))
        assert "Apply complete" in out, out[-500:]
        cases.append(Case("subaccounts", m, "apply", wall, cpu, rss, emulator.stats()["total"],
                          (lookups + 3) * latency, senders))
        return cases
    finally:
        emulator.stop()


def _cli(emulator: TimedEmulator, *args: str) -> list[str]:
    return [sys.executable, "-m", "reconciler", *args, "--base-url", emulator.base_url or ""]


def start_up(rounds: int = 5) -> float:
    """``reconciler --version``: the median wall time of ``rounds``."""
    emulator = server(0.0)
    try:
        return statistics.median(measure(emulator, [sys.executable, "-m", "reconciler", "--version"])[0]
                                 for _ in range(rounds))
    finally:
        emulator.stop()


def goals(cases: list[Case], latency: float, startup: float) -> list[dict[str, Any]]:
    """Issue 25's goals, from this run: those its cases measure."""
    by = {(c.kind, c.size, c.command): c for c in cases}
    rows: list[dict[str, Any]] = []
    for (kind, m, command), case in sorted(by.items()):
        if kind == "subaccounts" and command == "plan" and m >= 1000:
            ratio = (case.wall - startup) / (m * 2 * latency)
            limit = m + REQUESTS_SLACK
            rows.append({"goal": f"plan across {m:,} subaccounts: requests", "measured": case.requests,
                         "target": limit, "met": case.requests <= limit})
            rows.append({"goal": f"plan across {m:,} subaccounts / one after another ({m:,} × 2 × "
                                 f"{latency * 1000:g} ms)", "measured": round(ratio, 4), "target": SEQ_TARGET,
                         "met": ratio <= SEQ_TARGET,
                         "detail": f"({case.wall:.2f} s − start-up {startup:.2f} s) / {m * 2 * latency:.0f} s"})
    big, small = by.get(("senders", 100_000, "plan")), by.get(("senders", 10_000, "plan"))
    if big and small:
        ratio = big.wall / (10 * small.wall)
        rows.append({"goal": "plan of 100,000 senders / 10 × that of 10,000", "measured": round(ratio, 3),
                     "target": LINEAR_TARGET, "met": ratio <= LINEAR_TARGET,
                     "detail": f"{big.wall:.2f} s / (10 × {small.wall:.2f} s); peak RSS {big.rss_mib:.0f} MiB"})
    return rows


def table(cases: list[Case], latency: float) -> str:
    lines = [f"latency {latency * 1000:g} ms per request; each row one run; floor: see bench/growth.py", "",
             f"{'case':<22}{'command':<8}{'wall s':>8}{'floor s':>9}{'×floor':>8}{'CPU s':>8}{'RSS MiB':>9}{'reqs':>8}"]
    for c in cases:
        what = f"{c.size:,} senders" if c.kind == "senders" else f"{c.size:,} subaccounts × 3"
        lines.append(f"{what:<22}{c.command:<8}{c.wall:8.2f}{c.floor:9.2f}{c.vs_floor:8.1f}{c.cpu:8.2f}{c.rss_mib:9.0f}"
                     f"{c.requests:>8}")
    return "\n".join(lines)


def plot(cases: list[Case], latency: float, path: Path) -> str:
    plt = pyplot()
    if plt is None:
        return MISSING
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.6))
    for ax, kind, label in ((axes[0], "senders", "senders in one account"),
                            (axes[1], "subaccounts", "subaccounts of 3 senders")):
        for command, color, marker in (("plan", "tab:blue", "o"), ("apply", "tab:green", "s")):
            pts = sorted((c.size, c.wall, c.floor) for c in cases if c.kind == kind and c.command == command)
            if not pts:
                continue
            sizes = [p[0] for p in pts]
            ax.plot(sizes, [p[1] for p in pts], marker=marker, color=color, label=f"reconciler {command}")
            ax.plot(sizes, [p[2] for p in pts], linestyle="--", color=color, alpha=0.6, label=f"network floor: {command}")
            cpu = sorted((c.size, c.cpu) for c in cases if c.kind == kind and c.command == command)
            ax.plot(sizes, [p[1] for p in cpu], linestyle=":", color=color, alpha=0.8, label=f"CPU: {command}")
        if kind == "subaccounts":
            sizes = sorted({c.size for c in cases if c.kind == kind})
            ax.plot(sizes, [m * 2 * latency for m in sizes], linestyle="-.", color="tab:gray",
                    label="one after another: M × 2 × latency")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("wall time (s)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    ax = axes[2]
    for kind, command, color, marker in (("senders", "plan", "tab:blue", "o"), ("senders", "apply", "tab:green", "s"),
                                         ("subaccounts", "plan", "tab:purple", "^"),
                                         ("subaccounts", "apply", "tab:red", "v")):
        peaks = sorted((c.senders, c.rss_mib) for c in cases if c.kind == kind and c.command == command)
        if peaks:
            ax.plot([p[0] for p in peaks], [p[1] for p in peaks], marker=marker, color=color,
                    label=f"{command}, {'one account' if kind == 'senders' else 'subaccounts of 3'}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("senders in the run")
    ax.set_ylabel("peak RSS (MiB)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle(f"Growth, {latency * 1000:g} ms per request")
    return save(plt, fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", default="1000,10000,100000", help="N senders in one account, comma-separated")
    parser.add_argument("--subaccounts", default="10,100,1000", help="M subaccounts of 3 senders, comma-separated")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request")
    parser.add_argument("--quick", action="store_true", help="1k and 10k senders, 10 and 100 subaccounts; writes nothing")
    parser.add_argument("--out", type=Path, help=f"results JSON (default {RESULTS.relative_to(ROOT)}; quick: none)")
    parser.add_argument("--plot", type=Path, help=f"plot PNG (default {PLOT.relative_to(ROOT)}; quick: none)")
    args = parser.parse_args()
    sizes = [1000, 10_000] if args.quick else [int(s) for s in args.senders.split(",") if s]
    counts = [10, 100] if args.quick else [int(s) for s in args.subaccounts.split(",") if s]

    began = time.perf_counter()
    startup = start_up()
    cases: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="reconciler-growth-") as tmp:
        for n in sizes:
            t = time.perf_counter()
            cases += one_account(n, args.latency, Path(tmp))
            print(f"{n:,} senders: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        for m in counts:
            t = time.perf_counter()
            cases += subaccounts(m, args.latency, Path(tmp))
            print(f"{m:,} subaccounts: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    rows = goals(cases, args.latency, startup)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(table(cases, args.latency))
    print(f"\nstart-up (reconciler --version, median of 5): {startup:.2f} s")
    for row in rows:
        print(f"goal: {row['goal']}: {row['measured']} (target ≤ {row['target']}): {'met' if row['met'] else 'NOT met'}"
              + (f"; {row['detail']}" if row.get("detail") else ""))
    print(f"\n{time.perf_counter() - began:.0f} s; {machine()['cpus']} CPUs, load average {load}")
    out = args.out or (None if args.quick else RESULTS)
    plot_path = args.plot or (None if args.quick else PLOT)
    if out is not None:
        doc = {"command": ("python bench/growth.py " + " ".join(sys.argv[1:])).strip(),
               "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(), "load": load,
               "latency": args.latency, "startup": startup, "goals": rows,
               "cases": [{**asdict(c), "vs_floor": c.vs_floor} for c in cases]}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"results: {out}")
    if plot_path is not None:
        print(plot(cases, args.latency, plot_path))


if __name__ == "__main__":
    main()
