"""A plan across many subaccounts against reading them one after another.

    python bench/accounts.py                    # 60 subaccounts at 50 ms, 3 interleaved rounds
    python bench/accounts.py --accounts 200 --latency 0.1
    python bench/accounts.py --accounts 1000 --rounds 1   # issue 25's case: about 2 minutes, most of it one after another

An emulator on loopback serves a parent and N subaccounts, each with a few senders and its own
credentials, and adds ``latency`` seconds to every request. One file per subaccount names its
``account:``. Each round times, as wall clock, ``reconciler plan`` of the whole directory (default
``--account-concurrency``), the same with ``--account-concurrency 1`` (the accounts one after another,
as the tool would without concurrency), and ``reconciler --version`` (the start-up). The goal (issue
"Performance"): the plan costs ≤ 0.35 × (accounts × 2 requests × latency) + start-up, the cost of reading
the accounts one after another (a lookup of the subaccount's credentials and one page of senders each);
for 1,000 subaccounts, issue 25 asks ≤ 0.03 × and at most 1,002 requests. The emulator counts the
requests of the last plan side by side.
"""

from __future__ import annotations

import argparse
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

SID, TOKEN = "AC" + "5e" * 16, "bench-parent-token"
TARGET = 0.35
SENDERS_PER_ACCOUNT = 3


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "RECONCILER_"))}
    env.update(TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_MESSAGING_BASE_URL=url,
               TWILIO_API_BASE_URL=url, PYTHONPATH=str(ROOT))
    return env


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reconciler", *argv], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 2):
        raise SystemExit(f"reconciler {' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return seconds


def measure(accounts: int, latency: float, rounds: int, tmp: Path) -> dict[str, Any]:
    server = EmulatorServer(account_sid=SID, auth_token=TOKEN, faults=Faults(latency=latency))
    with server:
        folder = tmp / "customers"
        folder.mkdir()
        number = 15017120000
        for i in range(accounts):
            account = server.add_account(f"Customer {i + 1}")
            lines = [f"account: {account.sid}", "senders:"]
            for _ in range(SENDERS_PER_ACCOUNT):
                number += 1
                sender = f"whatsapp:+{number}"
                server.add_sender({"sender_id": sender, "profile": {"name": f"Shop {number}"}}, account=account.sid)
                lines += [f'  - sender_id: "{sender}"', f'    profile: {{name: "Shop {number}"}}']
            (folder / f"customer-{i:04d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = _env(server.base_url or "")
        times: dict[str, list[float]] = {"side by side": [], "one after another": [], "start-up": []}
        _timed(["plan", "-f", str(folder)], env)  # warm-up
        requests = 0
        for _ in range(rounds):
            server.reset_stats()
            times["side by side"].append(_timed(["plan", "-f", str(folder)], env))
            requests = server.stats()["total"]
            times["one after another"].append(_timed(["plan", "-f", str(folder), "--account-concurrency", "1"], env))
            times["start-up"].append(_timed(["--version"], env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = accounts * 2 * latency
    return {"accounts": accounts, "latency": latency, "rounds": rounds, "medians": medians, "requests": requests,
            "sequential_floor": floor, "ratio": (medians["side by side"] - medians["start-up"]) / floor}


def goal(result: dict[str, Any]) -> dict[str, Any]:
    m, n = result["medians"], result["accounts"]
    ratio = result["ratio"]
    return {"goal": f"plan across {n} subaccounts / one after another ({n} × 2 × {result['latency'] * 1000:.0f} ms"
                    " + start-up)",
            "measured": ratio, "target": TARGET, "met": ratio <= TARGET, "shown": f"{ratio:.3g}×",
            "target_shown": f"{TARGET:.2f}×",
            "detail": f"plan {m['side by side']:.2f} s − start-up {m['start-up']:.2f} s over {result['sequential_floor']:.1f} s; "
                      f"with --account-concurrency 1: {m['one after another']:.2f} s"}


def report(result: dict[str, Any]) -> str:
    m = result["medians"]
    lines = [f"{result['accounts']} subaccounts × {SENDERS_PER_ACCOUNT} senders at {result['latency'] * 1000:.0f} ms, "
             f"median wall of {result['rounds']} interleaved rounds:"]
    lines += [f"  {name:<18} {seconds:6.2f} s" for name, seconds in m.items()]
    lines.append(f"requests of a plan side by side: {result['requests']:,}")
    g = goal(result)
    lines.append(f"goal: {g['goal']}: {g['shown']} (target ≤ {g['target_shown']}): {'met' if g['met'] else 'NOT met'}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        print(report(measure(args.accounts, args.latency, args.rounds, Path(tmp))))


if __name__ == "__main__":
    main()
