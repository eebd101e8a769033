"""A fault campaign: faulty applies, each checked against the server's own record, then re-run to convergence.

    python bench/campaign.py                 # 6 fault modes × 3 scenarios × 4 seeds = 72 applies
    python bench/campaign.py --seeds 1       # a smoke run

For every (fault mode, scenario, seed) the emulator (in this process, on 127.0.0.1) is seeded with 30 live
senders and `reconciler apply --format json` runs as a child against it with the faults on. Each outcome the
report gives is then checked against what the emulator holds:

- ``done``: the sender is there (create, update) with the file's values, or gone (delete);
- ``failed`` / ``not_applied``: the write did not land (the sender is as it was);
- ``unknown`` / ``interrupted``: counted, not judged;
- a ``failed`` outcome whose write had in fact landed is a *false failure* (the defect this campaign found).

Then the faults are switched off and apply runs again until a plan is empty (at most 3 runs), and the
campaign counts senders lost, duplicated or deleted unasked. Prints a table; writes
``bench/results/campaign.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.workload import sender_body, sender_id, write_desired  # noqa: E402
from reconciler.emulator import EmulatorServer, Faults  # noqa: E402

ACCOUNT = "AC" + "c0ffee00" * 4
TOKEN = "campaign-token-" + "x" * 16
LIVE = 30

MODES: dict[str, dict[str, Any]] = {
    "429": {"rate_429": 0.3},
    "5xx": {"rate_5xx": 0.3},
    "drop after commit": {"rate_drop_after_commit": 0.3},
    "slow (timeouts)": {"slow_rate": 0.3, "slow_seconds": 1.0},
    "5xx + drop": {"rate_5xx": 0.15, "rate_drop_after_commit": 0.15},
    "all": {"rate_429": 0.1, "rate_5xx": 0.1, "rate_drop_after_commit": 0.1, "slow_rate": 0.1, "slow_seconds": 1.0},
}


def scenario(name: str) -> tuple[list[dict[str, Any]], set[str]]:
    """The desired senders, and which live ones a delete may take (``--allow-delete`` is given)."""
    if name == "creates":
        return [sender_body(i) for i in range(LIVE + 12)], set()
    if name == "updates":
        return [sender_body(i, changed=i % 3 == 0) for i in range(LIVE)], set()
    # mixed: 10 creates, 10 updates, 10 deletes
    keep = [sender_body(i, changed=i % 2 == 0) for i in range(10, LIVE + 10)]
    return keep, {sender_id(i) for i in range(10)}


def run_apply(url: str, path: Path, *, attempts: int, timeout: float) -> tuple[int, dict[str, Any] | None]:
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_MESSAGING_BASE_URL": url,
           "RECONCILER_MAX_ATTEMPTS": str(attempts), "RECONCILER_BACKOFF": "0.01",
           "RECONCILER_REQUEST_TIMEOUT": str(timeout), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "reconciler", "apply", "-f", str(path), "--auto-approve",
                           "--allow-delete", "--force", "--format", "json"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    if "Traceback" in proc.stderr:
        raise SystemExit(f"a traceback reached the user:\n{proc.stderr}")
    try:
        return proc.returncode, json.loads(proc.stdout)
    except ValueError:
        return proc.returncode, None


def judge(doc: dict[str, Any], server: EmulatorServer, wanted: dict[str, dict[str, Any]], before: set[str],
          counts: Counter[str]) -> None:
    live = {s["sender_id"]: s for s in server.senders()}
    for o in (doc.get("apply") or {}).get("outcomes", []):
        counts[o["result"]] += 1
        sid, action = o["sender_id"], o["action"]
        if action == "delete":
            landed = sid not in live
        else:
            want = wanted[sid]["profile"]
            landed = sid in live and all(live[sid]["profile"].get(k) == v for k, v in want.items()
                                         if not isinstance(v, list))
        if action == "create" and sid in before:
            landed = True
        if o["result"] == "done" and not landed:
            counts["done but not applied"] += 1
        if o["result"] in ("failed", "not_applied") and landed:
            counts["false failure" if o["result"] == "failed" else "not_applied but applied"] += 1


def campaign(seeds: int) -> dict[str, Any]:
    rows = []
    totals: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for mode, rates in MODES.items():
            for name in ("creates", "updates", "mixed"):
                for seed in range(1, seeds + 1):
                    server = EmulatorServer(account_sid=ACCOUNT, auth_token=TOKEN)
                    for i in range(LIVE):
                        server.add_sender(sender_body(i))
                    bodies, deletable = scenario(name)
                    path = Path(tmp) / f"{name}.yaml"
                    write_desired(path, bodies)
                    wanted = {b["sender_id"]: b for b in bodies}
                    before = {s["sender_id"] for s in server.senders()}
                    counts: Counter[str] = Counter()
                    with server:
                        server.set_faults(Faults(seed=seed, **rates))
                        _, doc = run_apply(server.base_url or "", path, attempts=2, timeout=0.5)
                        committed = server.stats().get("fault drop", 0)
                        if doc is not None and "apply" in doc:
                            judge(doc, server, wanted, before, counts)
                        elif doc is not None and "error" in doc:  # the plan's read failed: nothing was written
                            counts["refused before writing"] += 1
                            writes = sum(n for k, n in server.stats().items() if k.startswith(("POST", "DELETE")))
                            counts["written though refused"] += int(writes > 0)
                        else:
                            counts["no report"] += 1
                        server.set_faults(Faults())
                        runs = 1
                        for _ in range(3):
                            runs += 1
                            code, _ = run_apply(server.base_url or "", path, attempts=6, timeout=10)
                            if code == 0:
                                break
                        live = Counter(s["sender_id"] for s in server.senders())
                    counts["lost"] += sum(1 for sid in wanted if live[sid] == 0)
                    counts["duplicated"] += sum(1 for n in live.values() if n > 1)
                    counts["deleted unasked"] += sum(1 for sid in before - deletable - set(wanted) if live[sid] == 0)
                    counts["deleted unasked"] += sum(1 for sid in before & set(wanted) if live[sid] == 0)
                    counts["converged"] += int(code == 0)
                    counts["runs to converge"] += runs
                    totals.update(counts)
                    rows.append({"mode": mode, "scenario": name, "seed": seed, "committed_then_dropped": committed,
                                 **counts})
    return {"applies": len(rows), "totals": dict(totals), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="seeds per (fault mode, scenario)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "campaign.json"))
    args = parser.parse_args()
    result = campaign(args.seeds)
    t = result["totals"]
    print(f"{result['applies']} faulty applies ({len(MODES)} fault modes × 3 scenarios × {args.seeds} seeds)")
    for key in ("done", "failed", "not_applied", "unknown", "interrupted", "false failure", "not_applied but applied",
                "done but not applied", "refused before writing",
                "written though refused", "no report", "lost", "duplicated", "deleted unasked", "converged",
                "runs to converge"):
        print(f"  {key:<26} {t.get(key, 0)}")
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
