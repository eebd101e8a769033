"""Benchmark plan and apply against the network's lower bound and against a one-at-a-time SDK script.

    python bench/run.py                      # N = 100, 1,000, 10,000 at 50 ms per request
    python bench/run.py --quick              # N = 100, 300: a smoke run of a few seconds
    python bench/run.py --sizes 1000 --latency 0.1 --no-sdk

For each N the emulator is seeded with N senders and answers every request after ``--latency``
seconds. It runs in a thread of this process; what is measured runs as a child process
(``python -m reconciler ...``), so its CPU time (``os.wait4``) and peak memory (its own ``VmHWM``) are its own.

- plan: a file that matches live (the plan is empty). Floor: ceil(N / 1000) list pages × latency.
- apply --auto-approve: a file where K = 10 % of the senders differ in one profile field. Floor: the
  plan's pages, plus ceil(K / C) × latency for the writes (C = 25, the default concurrency), plus one
  confirming list read. The write phase is timed by the emulator: first write received to last answered.
- sdk: ``bench/sdk_script.py``, Twilio's ``twilio`` package listing (page size 1000) and updating the
  same K senders one request at a time, on a freshly seeded emulator.
- sdk read: the same script listing only, with the SDK's default page size (no ``PageSize`` sent).

Prints a table, writes ``bench/results/latest.json``, and draws ``docs/performance.png`` (matplotlib);
a ``--quick`` smoke run writes neither unless given ``--out`` or ``--plot``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from bench.plotting import MISSING, pyplot, save  # noqa: E402
from bench.workload import changed_indexes, sender_body, write_desired  # noqa: E402
from reconciler.client import DEFAULT_CONCURRENCY, MAX_PAGE_SIZE  # noqa: E402
from reconciler.emulator import EmulatorServer  # noqa: E402
from reconciler.emulator.faults import Faults  # noqa: E402

ACCOUNT, TOKEN = "AC" + "0" * 32, "bench-token"
RESULTS = ROOT / "bench" / "results" / "latest.json"
PLOT = ROOT / "docs" / "performance.png"
SDK_DEFAULT_PAGE = 20  # what the API sends when no PageSize is given (WhatsApp)


class TimedEmulator(EmulatorServer):
    """The emulator, recording when each request arrived and when its answer was ready."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.log: list[tuple[str, float, float]] = []
        self.started = self.ended = 0.0

    def _make_app(self) -> web.Application:
        app = super()._make_app()

        @web.middleware
        async def timed(request: web.Request, handler: Any) -> web.StreamResponse:
            start = time.perf_counter()
            try:
                return await handler(request)
            finally:
                self.log.append((request.method, start, time.perf_counter()))

        app.middlewares.insert(0, timed)
        return app

    def phase(self, methods: tuple[str, ...]) -> float:
        """Seconds from the first request of ``methods`` received to the last one answered."""
        spans = [(s, e) for m, s, e in self.log if m in methods]
        return max(e for _, e in spans) - min(s for s, _ in spans) if spans else 0.0

    def around_writes(self, start: float, end: float) -> tuple[float, float]:
        """Seconds from ``start`` to the first write received, and from the last write answered to ``end``."""
        spans = [(s, e) for m, s, e in self.log if m in ("POST", "DELETE")]
        if not spans:
            return 0.0, 0.0
        return min(s for s, _ in spans) - start, end - max(e for _, e in spans)

    def server_seconds(self, latency: float, methods: tuple[str, ...] = ("GET", "POST", "DELETE")) -> float:
        """Time the emulator spent on requests beyond the injected latency, summed.

        Pages are read one after the other, so for GET this time adds to the wall time as it is; for
        concurrent writes it overlaps.
        """
        return sum(max(e - s - latency, 0.0) for m, s, e in self.log if m in methods)


@dataclass
class Run:
    """One measured child process."""

    what: str
    n: int
    wall: float
    cpu: float
    rss_mib: float
    requests: int
    floor: float
    writes: int = 0
    write_phase: float = 0.0
    write_floor: float = 0.0
    server: float = 0.0  # the emulator's own time on the requests, beyond the latency
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def vs_floor(self) -> float:
        return self.wall / self.floor if self.floor else math.nan


def emulator(n: int, latency: float) -> TimedEmulator:
    server = TimedEmulator(account_sid=ACCOUNT, auth_token=TOKEN)
    for i in range(n):
        server.add_sender(sender_body(i))
    server.start()
    server.set_faults(Faults(latency=latency))
    return server


def measure(server: TimedEmulator, argv: list[str], *, expect: int = 0) -> tuple[float, float, float, str]:
    """Run ``argv`` (``[python, -m, module, ...]`` or ``[python, script, ...]``) as a child.

    Returns (wall s, CPU s, peak RSS MiB, stdout); ``server.started``/``ended``: its span. CPU comes from
    ``wait4`` (the child's own); peak RSS from the child's own ``VmHWM``, reported at its exit by
    ``bench/peak_rss.py`` (``wait4``'s ``ru_maxrss`` would include this process's peak).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "RECONCILER_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # modules load from their .pyc, as in an installed copy
    env.update(PYTHONPATH=str(ROOT), TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN, NO_COLOR="1")
    server.reset_stats()
    server.log.clear()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        wrapped = [argv[0], str(ROOT / "bench" / "peak_rss.py"), str(peak_file), *argv[1:]]
        start = time.perf_counter()
        child = subprocess.Popen(wrapped, stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        end = time.perf_counter()
        wall = end - start
        server.started, server.ended = start, end
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
        peak_mib = int(peak_file.read_text()) / 1024 if peak_file.exists() else math.nan
    if child.returncode != expect:
        raise SystemExit(f"{' '.join(argv)} exited {child.returncode}, expected {expect}:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, peak_mib, stdout


def pages(n: int, size: int = MAX_PAGE_SIZE) -> int:
    return max(math.ceil(n / size), 1)


def bench_size(n: int, latency: float, work: Path, concurrency: int, sdk: bool, repeat: int) -> list[Run]:
    py = sys.executable
    same, changed = work / f"senders-{n}.yaml", work / f"senders-{n}-changed.yaml"
    write_desired(same, (sender_body(i) for i in range(n)))
    k_set = changed_indexes(n)
    write_desired(changed, (sender_body(i, changed=i in k_set) for i in range(n)))
    k = len(k_set)
    read = pages(n) * latency
    runs: list[Run] = []

    server = emulator(n, latency)
    try:
        best: Run | None = None
        for _ in range(repeat):
            wall, cpu, rss, out = measure(server, [py, "-m", "reconciler", "plan", "-f", str(same),
                                                   "--base-url", server.base_url, "--detailed-exitcode"])
            assert "No changes" in out, out[-500:]
            run = Run("plan", n, wall, cpu, rss, server.stats()["total"], read,
                      server=server.server_seconds(latency), extra={"server_reads": server.server_seconds(latency, ("GET",))})
            best = run if best is None or run.wall < best.wall else best
        assert best is not None
        runs.append(best)
    finally:
        server.stop()

    best = None
    for _attempt in range(repeat):  # apply changes the senders: a freshly seeded emulator each time
        server = emulator(n, latency)
        try:
            wall, cpu, rss, out = measure(server, [py, "-m", "reconciler", "apply", "--auto-approve", "-f", str(changed),
                                                   "--base-url", server.base_url, "--concurrency", str(concurrency)])
            assert "Apply complete" in out, out[-500:]
            stats = server.stats()
            write_floor = math.ceil(k / concurrency) * latency
            run = Run("apply", n, wall, cpu, rss, stats["total"], read + write_floor + read,
                      writes=stats["total"] - stats.get("GET /v2/Channels/Senders", 0),
                      write_phase=server.phase(("POST", "DELETE")), write_floor=write_floor,
                      server=server.server_seconds(latency))
            before, after = server.around_writes(server.started, server.ended)
            run.extra.update(before_writes=before, after_writes=after, server_reads=server.server_seconds(latency, ("GET",)))
            best = run if best is None or run.wall < best.wall else best
        finally:
            server.stop()
    assert best is not None
    runs.append(best)

    if sdk:
        server = emulator(n, latency)
        try:
            wall, cpu, rss, out = measure(server, [py, str(ROOT / "bench" / "sdk_script.py"), "--file", str(changed),
                                                   "--base-url", server.base_url, "--page-size", str(MAX_PAGE_SIZE)])
            assert f"updated {k}" in out, out
            stats = server.stats()
            runs.append(Run("sdk", n, wall, cpu, rss, stats["total"], read + k * latency,
                            writes=stats["total"] - stats.get("GET /v2/Channels/Senders", 0),
                            write_phase=server.phase(("POST",)), write_floor=k * latency,
                            server=server.server_seconds(latency),
                            extra={"server_reads": server.server_seconds(latency, ("GET",))}))
            wall, cpu, rss, out = measure(server, [py, str(ROOT / "bench" / "sdk_script.py"), "--file", str(same),
                                                   "--base-url", server.base_url, "--page-size", "0", "--read-only"])
            runs.append(Run("sdk read", n, wall, cpu, rss, server.stats()["total"],
                            pages(n, SDK_DEFAULT_PAGE) * latency, server=server.server_seconds(latency),
                            extra={"server_reads": server.server_seconds(latency, ("GET",))}))
        finally:
            server.stop()
    return runs


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "platform": platform.platform()}


def table(runs: list[Run], latency: float, concurrency: int) -> str:
    by = {(r.what, r.n): r for r in runs}
    lines = [
        f"latency {latency * 1000:g} ms per request, apply concurrency C = {concurrency}, K = 10 % of N",
        "",
        f"{'run':<9}{'N':>7}{'wall s':>9}{'floor s':>9}{'×floor':>8}{'×adj':>6}{'CPU s':>8}{'RSS MiB':>9}{'reqs':>7}"
        f"{'server s':>10}{'writes s':>10}{'K/C·lat':>9}{'×':>6}{'vs SDK':>8}",
    ]
    for r in runs:
        sdk = by.get(("sdk", r.n))
        vs_sdk = f"{sdk.wall / r.wall:7.1f}×" if r.what == "apply" and sdk else ""
        if r.what == "plan":
            sdk_read = by.get(("sdk read", r.n))
            vs_sdk = f"{sdk_read.wall / r.wall:7.1f}×" if sdk_read else ""
        writes = f"{r.write_phase:10.2f}{r.write_floor:9.2f}{r.write_phase / r.write_floor:6.2f}" if r.write_floor else " " * 25
        adjusted = r.wall / (r.floor + r.extra.get("server_reads", 0.0))
        lines.append(f"{r.what:<9}{r.n:>7}{r.wall:9.2f}{r.floor:9.2f}{r.vs_floor:8.2f}{adjusted:6.2f}{r.cpu:8.2f}{r.rss_mib:9.0f}"
                     f"{r.requests:>7}{r.server:10.2f}{writes}{vs_sdk:>8}")
    splits = [r for r in runs if r.what == "apply" and "before_writes" in r.extra]
    if splits:
        lines.append("")
        for r in splits:
            lines.append(f"apply {r.n:>6}: {r.extra['before_writes']:.2f} s to the first write (start-up, load, read, plan), "
                         f"{r.write_phase:.2f} s of writes, {r.extra['after_writes']:.2f} s after (confirming read, report)")
    ns = sorted({r.n for r in runs if r.what == "plan"})
    if len(ns) >= 2:
        lines.append("")
        for small, big in itertools.pairwise(ns):
            a, b = by[("plan", small)], by[("plan", big)]
            lines.append(f"plan CPU {big:,} / {small:,}: {b.cpu / a.cpu:.1f}× (N grew {big / small:g}×)")
    lines += [
        "",
        "floor: plan = pages × latency; apply = pages × latency + ceil(K/C) × latency + pages × latency;",
        "sdk = pages × latency + K × latency; sdk read = pages of 20 × latency. server s: the emulator's own time",
        "beyond the latency, summed over requests; ×adj: wall / (floor + that time for the list pages, which are",
        "read one after the other). vs SDK: the SDK script's wall time / this row's (apply vs sdk, plan vs sdk read).",
    ]
    return "\n".join(lines)


def plot(runs: list[Run], latency: float, path: Path) -> str:
    plt = pyplot()
    if plt is None:
        return MISSING
    fig, ax = plt.subplots(figsize=(7.5, 5))
    series = [("plan", "reconciler plan", "tab:blue", "o"), ("apply", "reconciler apply (K = 10 % of N)", "tab:green", "s"),
              ("sdk", "SDK script, one at a time (same K)", "tab:red", "^"),
              ("sdk read", "SDK list, default page size", "tab:orange", "v")]
    for what, label, color, marker in series:
        pts = sorted((r.n, r.wall, r.floor) for r in runs if r.what == what)
        if not pts:
            continue
        ns = [p[0] for p in pts]
        ax.plot(ns, [p[1] for p in pts], marker=marker, color=color, label=label)
        if what in ("plan", "apply", "sdk"):
            ax.plot(ns, [p[2] for p in pts], linestyle="--", color=color, alpha=0.6, label=f"floor: {what}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("senders (N)")
    ax.set_ylabel("wall time (s)")
    ax.set_title(f"Wall time against N, {latency * 1000:g} ms per request")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return save(plt, fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="comma-separated N (at most 10000)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="apply's C")
    parser.add_argument("--quick", action="store_true", help="N = 100, 300 and no repeats: a smoke run")
    parser.add_argument("--repeat", type=int, default=3, help="plan and apply runs per N; the fastest of each is kept")
    parser.add_argument("--no-sdk", action="store_true", help="skip the SDK script")
    parser.add_argument("--breakdown", type=int, default=10_000, help="N for the CPU breakdown of plan; 0: none")
    parser.add_argument("--out", type=Path, help=f"results JSON (default {RESULTS.relative_to(ROOT)}; quick runs: none)")
    parser.add_argument("--plot", type=Path, help=f"plot PNG (default {PLOT.relative_to(ROOT)}; quick runs: none)")
    args = parser.parse_args()
    sizes = [100, 300] if args.quick else [int(s) for s in args.sizes.split(",")]
    repeat = 1 if args.quick else args.repeat
    breakdown_n = (max(sizes) if args.quick else args.breakdown) if args.breakdown else 0

    runs: list[Run] = []
    breakdown: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        work = Path(tmp)
        for n in sizes:
            t = time.perf_counter()
            runs += bench_size(n, args.latency, work, args.concurrency, not args.no_sdk, repeat)
            print(f"N = {n:,}: measured in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        if breakdown_n:
            breakdown = cpu_breakdown(breakdown_n, args.latency, work)

    print(table(runs, args.latency, args.concurrency))
    if breakdown:
        print(f"\nWhere the CPU of plan goes, N = {breakdown['senders']:,} (in-process, time.process_time):")
        for name, seconds in breakdown["steps"].items():
            print(f"  {name:<30}{seconds:7.3f} s {100 * seconds / breakdown['total']:5.1f} %")
        print(f"  {'total':<30}{breakdown['total']:7.3f} s")
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    doc = {"command": command.strip(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
           "latency": args.latency, "concurrency": args.concurrency,
           "runs": [{**asdict(r), "vs_floor": r.vs_floor} for r in runs], "plan_cpu_breakdown": breakdown}
    # A smoke run leaves the published results and plot alone unless told where to write.
    out = args.out or (None if args.quick else RESULTS)
    plot_path = args.plot or (None if args.quick else PLOT)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"\nresults: {out}")
    if plot_path is not None:
        print(plot(runs, args.latency, plot_path))


def cpu_breakdown(n: int, latency: float, work: Path) -> dict[str, Any]:
    """Run bench/breakdown.py in a child process against a seeded emulator."""
    same = work / f"senders-{n}.yaml"
    if not same.exists():
        write_desired(same, (sender_body(i) for i in range(n)))
    server = emulator(n, latency)
    try:
        _, _, _, out = measure(server, [sys.executable, str(ROOT / "bench" / "breakdown.py"), "--json",
                                        "--file", str(same), "--base-url", server.base_url])
    finally:
        server.stop()
    return json.loads(out)


if __name__ == "__main__":
    main()
