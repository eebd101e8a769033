"""What reading Messaging Service pools adds to a plan: 1,000 senders spread over 20 services.

    python bench/pools.py                       # 1,000 senders, 20 services, 50 ms a request, 5 rounds
    python bench/pools.py --senders 10000 --services 200 --latency 0.1

An emulator on loopback serves one account whose senders are spread evenly over the services' pools, and
adds ``latency`` seconds to every request. Each of the interleaved rounds times, as wall clock and the
child's own CPU (``os.wait4``), two whole ``reconciler plan`` runs that both plan no change: one of a file
without ``messaging_service`` (today's plan, which makes no v1 request) and one of the same file where
every sender names its service (its SID in half the senders, its friendly name in the other half). The
pools cost at least the network's floor for their pages, one after the other: the list of services
(``ceil(services / 1000)`` pages), then the pools side by side (``ceil(largest pool / 1000)`` pages). The
goal (issue "Messaging Service sender pools"): median(plan with pools) ≤ median(today's plan) + that floor, at
the concurrency the client starts at (requests / concurrency × latency, :data:`reconciler.limiter.INITIAL_LIMIT`
requests in flight: 20 pools take two round trips). The parent's pools are read while the files load when a
file names a service, as its senders are, so part of that floor is hidden under the load.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconciler.emulator import EmulatorServer  # noqa: E402
from reconciler.emulator.faults import Faults  # noqa: E402
from reconciler.limiter import INITIAL_LIMIT  # noqa: E402

SID, TOKEN = "AC" + "7e" * 16, "bench-pools-token"
#: Seconds of slack over the goal: a loaded 2-core machine schedules a child process this late, now and then.
PAGE = 1000


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "RECONCILER_"))}
    env.update(TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_MESSAGING_BASE_URL=url, PYTHONPATH=str(ROOT))
    return env


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and the child's own CPU seconds (``wait4``) of one ``reconciler`` run that plans no change."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "reconciler", *argv], env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if os.waitstatus_to_exitcode(status) != 0 or "No changes." not in stdout:
        raise SystemExit(f"reconciler {' '.join(argv)} did not plan an empty plan:\n{stderr}{stdout[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _files(folder: Path, senders: list[tuple[str, str, str]]) -> tuple[Path, Path]:
    """Today's file (no service) and the same one naming each sender's service (SID or name, alternately)."""
    plain, pooled = ["senders:"], ["senders:"]
    for i, (sender_id, service_sid, service_name) in enumerate(senders):
        plain += [f'  - sender_id: "{sender_id}"', f'    profile: {{name: "Shop {i}"}}']
        pooled += [f'  - sender_id: "{sender_id}"', f'    profile: {{name: "Shop {i}"}}',
                   f'    messaging_service: "{service_sid if i % 2 else service_name}"']
    (folder / "plain.yaml").write_text("\n".join(plain) + "\n", encoding="utf-8")
    (folder / "pooled.yaml").write_text("\n".join(pooled) + "\n", encoding="utf-8")
    return folder / "plain.yaml", folder / "pooled.yaml"


def measure(n: int, services: int, latency: float, rounds: int, tmp: Path) -> dict[str, Any]:
    server = EmulatorServer(account_sid=SID, auth_token=TOKEN)
    with server:
        made = [server.add_service(f"Service {j}")["sid"] for j in range(services)]
        senders = []
        for i in range(n):
            sender_id = f"whatsapp:+1501712{i:04d}"  # valid numbers, for up to 10,000 senders
            sender_sid = server.add_sender({"sender_id": sender_id, "profile": {"name": f"Shop {i}"}})["sid"]
            server.add_to_service(made[i % services], sender_sid)
            senders.append((sender_id, made[i % services], f"Service {i % services}"))
        plain, pooled = _files(tmp, senders)
        server.set_faults(Faults(latency=latency))
        env = _env(server.base_url or "")
        _timed(["plan", "-f", str(pooled)], env)  # warm-up
        times: dict[str, list[tuple[float, float]]] = {"today": [], "with pools": []}
        for _ in range(rounds):
            times["today"].append(_timed(["plan", "-f", str(plain)], env))
            times["with pools"].append(_timed(["plan", "-f", str(pooled)], env))
        server.reset_stats()
        _timed(["plan", "-f", str(pooled)], env)
        v1 = {k: count for k, count in server.stats().items() if "/v1/" in k}
    largest = math.ceil(n / services)
    floor = (math.ceil(services / PAGE) + math.ceil(largest / PAGE)) * latency
    # The client starts at INITIAL_LIMIT requests in flight and grows as answers come: more pools than that
    # take another round trip, at least.
    waves = (math.ceil(services / PAGE) + math.ceil(services / INITIAL_LIMIT) * math.ceil(largest / PAGE)) * latency
    wall = {name: statistics.median(t[0] for t in values) for name, values in times.items()}
    cpu = {name: statistics.median(t[1] for t in values) for name, values in times.items()}
    return {"senders": n, "services": services, "latency": latency, "rounds": rounds, "wall": wall, "cpu": cpu,
            "floor": floor, "floor_at_start_limit": waves, "v1_requests": v1, "extra": wall["with pools"] - wall["today"]}


def goal(result: dict[str, Any]) -> dict[str, Any]:
    extra, floor = result["extra"], result["floor_at_start_limit"]
    return {"goal": f"plan of {result['senders']} senders over {result['services']} services − today's plan "
                    f"(floor: {floor / result['latency']:.0f} round trips × {result['latency'] * 1000:.0f} ms)",
            "measured": extra, "target": floor, "met": extra <= floor,
            "shown": f"{extra * 1000:.0f} ms", "target_shown": f"{floor * 1000:.0f} ms",
            "detail": f"with pools {result['wall']['with pools']:.2f} s, today's {result['wall']['today']:.2f} s; "
                      f"CPU {result['cpu']['with pools']:.2f} s against {result['cpu']['today']:.2f} s"}


def report(result: dict[str, Any]) -> str:
    lines = [f"{result['senders']} senders in {result['services']} services' pools at "
             f"{result['latency'] * 1000:.0f} ms a request, median of {result['rounds']} interleaved rounds:"]
    for name in result["wall"]:
        lines.append(f"  {name:<14} wall {result['wall'][name]:6.2f} s   CPU {result['cpu'][name]:6.2f} s")
    lines.append(f"  v1 requests of one plan with pools: {result['v1_requests']}")
    lines.append(f"  floor of those pages: {result['floor'] * 1000:.0f} ms all at once; "
                 f"{result['floor_at_start_limit'] * 1000:.0f} ms from the client's start of {INITIAL_LIMIT} in flight")
    g = goal(result)
    lines.append(f"goal: {g['goal']}: {g['shown']} (target ≤ {g['target_shown']}): {'met' if g['met'] else 'NOT met'}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=1000)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        print(report(measure(args.senders, args.services, args.latency, args.rounds, Path(tmp))))


if __name__ == "__main__":
    main()
