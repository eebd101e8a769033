"""A fault campaign: faulty applies across accounts, each checked against the server's own record, then re-run
to convergence.

    python bench/campaign.py                   # 6 fault modes × 3 scenarios × 2 seeds across 3 accounts, then
                                               # 20 runs of 60 creates under 5xx + dropped answers + 429s at once
    python bench/campaign.py --seeds 1 --runs 4   # a smoke run

**Across accounts.** The emulator (in this process, on 127.0.0.1) serves a parent and three subaccounts, 12 live
senders each. The files declare the parent (a file without ``account:``) and two subaccounts (one reached with
the token the parent reads from the Accounts resource, one with ``TWILIO_AUTH_TOKEN_<SID>``); the third
subaccount is named by no file and must never be written. For every (fault mode, scenario, seed),
``reconciler apply --format json`` runs as a child with the faults on (three attempts a request, a 0.5 s
timeout), and each outcome it reports is checked against what the emulator then holds:

- ``done``: the sender is there (create, update) with the file's values, or gone (delete);
- ``failed`` / ``not_applied``: the write did not land (the sender is as it was). A ``failed`` outcome whose
  write had in fact landed is a *false failure*;
- ``unknown`` / ``interrupted``: counted, not judged.

Then the faults are switched off and apply runs again until it exits 0 (at most 3 runs), and the campaign
counts per run: senders lost, duplicated, deleted unasked, writes (POST, DELETE) made with the credentials of
the undeclared account or changes to its senders, senders created in an account whose files do not declare
them, and secrets (every account's auth token, and the Basic credentials built from it) seen in any output.

**The compound case.** 60 creates in an empty account under 5xx 20 %, dropped answers 30 % and 429 20 % at
once, three attempts a request: the case where a create applied, retried and refused 409 ended ``failed`` when
the read that adopts it ran out of attempts.

Prints a table; writes ``bench/results/campaign.json``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.workload import sender_body, sender_id, write_desired  # noqa: E402
from reconciler.emulator import EmulatorServer, Faults  # noqa: E402

PARENT = "AC" + "c0ffee00" * 4
TOKEN = "campaign-token-" + "x" * 16
#: Live senders per account; each account's numbers are a block of their own.
LIVE = 12
BLOCK = 100
DECLARED = ("parent", "Customer 1", "Customer 2")
UNDECLARED = "Customer 3"
COMMAND = "python bench/campaign.py"

MODES: dict[str, dict[str, Any]] = {
    "429": {"rate_429": 0.3},
    "5xx": {"rate_5xx": 0.3},
    "drop after commit": {"rate_drop_after_commit": 0.3},
    "slow (timeouts)": {"slow_rate": 0.3, "slow_seconds": 1.0},
    "5xx + drop + 429": {"rate_5xx": 0.2, "rate_drop_after_commit": 0.3, "rate_429": 0.2},
    "all four at once": {"rate_429": 0.15, "rate_5xx": 0.15, "rate_drop_after_commit": 0.2, "slow_rate": 0.1,
                         "slow_seconds": 1.0},
}
SCENARIOS = ("creates", "updates", "mixed")
COMPOUND = {"rate_5xx": 0.2, "rate_drop_after_commit": 0.3, "rate_429": 0.2}
COMPOUND_CREATES = 60

#: What each run counts, in the order the table prints them.
KEYS = ("done", "failed", "not_applied", "unknown", "interrupted", "false failure", "not_applied but applied",
        "done but not applied", "refused before writing", "written though refused", "no report", "lost",
        "duplicated", "deleted unasked", "writes in an undeclared account", "created in another account",
        "secrets seen", "converged", "runs to converge")


@dataclass
class Account:
    """One account of the campaign's emulator: its SID, the first index of its numbers, its file (if declared)."""

    name: str
    sid: str
    token: str
    first: int
    declared: bool
    wanted: dict[str, dict[str, Any]] = field(default_factory=dict)
    deletable: set[str] = field(default_factory=set)
    before: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def emulator_key(self) -> str | None:
        """How the emulator names the account (None: the parent)."""
        return None if self.name == "parent" else self.sid


def scenario(name: str, first: int) -> tuple[list[dict[str, Any]], set[str]]:
    """The desired senders of an account whose live ones are ``first`` … ``first + LIVE - 1``, and which live
    ones a delete may take (``--allow-delete`` is given)."""
    live = range(first, first + LIVE)
    if name == "creates":
        return [sender_body(i) for i in range(first, first + LIVE + 6)], set()
    if name == "updates":
        return [sender_body(i, changed=i % 3 == 0) for i in live], set()
    # mixed: 4 deletes, 4 updates, 4 unchanged, 4 creates
    keep = [sender_body(i, changed=i % 2 == 0) for i in range(first + 4, first + LIVE + 4)]
    return keep, {sender_id(i) for i in range(first, first + 4)}


def secrets_of(accounts: list[Account]) -> list[str]:
    """Every auth token, and the Basic credentials built from it."""
    out = []
    for a in accounts:
        out += [a.token, base64.b64encode(f"{a.sid}:{a.token}".encode()).decode()]
    return out


def run_cli(args: list[str], env: dict[str, str], outputs: list[str]) -> tuple[int, dict[str, Any] | None]:
    proc = subprocess.run([sys.executable, "-m", "reconciler", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300)
    outputs.append(proc.stdout + proc.stderr)
    if "Traceback" in proc.stderr:
        raise SystemExit(f"a traceback reached the user:\n{proc.stderr}")
    try:
        return proc.returncode, json.loads(proc.stdout)
    except ValueError:
        return proc.returncode, None


def base_env(url: str, accounts: list[Account], *, attempts: int | None, timeout: float | None) -> dict[str, str]:
    env = {"TWILIO_ACCOUNT_SID": PARENT, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_MESSAGING_BASE_URL": url,
           "TWILIO_API_BASE_URL": url, "RECONCILER_BACKOFF": "0.01", "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(ROOT)}
    if attempts is not None:
        env["RECONCILER_MAX_ATTEMPTS"] = str(attempts)
    if timeout is not None:
        env["RECONCILER_REQUEST_TIMEOUT"] = str(timeout)
    # One subaccount's token from the environment; the other's is read by the parent.
    customer_2 = next((a for a in accounts if a.name == "Customer 2"), None)
    if customer_2 is not None:
        env[f"TWILIO_AUTH_TOKEN_{customer_2.sid}"] = customer_2.token
    return env


def landed(outcome: dict[str, Any], account: Account, live: dict[str, dict[str, Any]]) -> bool:
    sid, action = outcome["sender_id"], outcome["action"]
    if action == "delete":
        return sid not in live
    want = account.wanted[sid]["profile"]
    return sid in live and all(live[sid]["profile"].get(k) == v for k, v in want.items() if not isinstance(v, list))


def judge(doc: dict[str, Any], server: EmulatorServer, accounts: list[Account], counts: Counter[str]) -> None:
    """Each outcome the report gives, against what the emulator holds now."""
    owner = {sid: a for a in accounts for sid in a.wanted.keys() | a.deletable}
    lives = {a.name: {s["sender_id"]: s for s in server.senders(a.emulator_key)} for a in accounts if a.declared}
    for o in (doc.get("apply") or {}).get("outcomes", []):
        counts[o["result"]] += 1
        account = owner[o["sender_id"]]
        applied = landed(o, account, lives[account.name])
        if o["result"] == "done" and not applied:
            counts["done but not applied"] += 1
        if o["result"] in ("failed", "not_applied") and applied:
            counts["false failure" if o["result"] == "failed" else "not_applied but applied"] += 1


def check_after(server: EmulatorServer, accounts: list[Account], counts: Counter[str]) -> None:
    """Lost, duplicated, deleted unasked, written where no file asked, once the re-runs are over."""
    mine = {a.name: set(a.wanted) | set(a.before) for a in accounts}
    for a in accounts:
        live = Counter(s["sender_id"] for s in server.senders(a.emulator_key))
        counts["duplicated"] += sum(1 for n in live.values() if n > 1)
        counts["created in another account"] += sum(1 for sid in live if sid not in mine[a.name])
        if not a.declared:
            now = {s["sender_id"]: _record(s) for s in server.senders(a.emulator_key)}
            counts["writes in an undeclared account"] += sum(
                n for route, n in server.stats(a.sid).items() if route.startswith(("POST", "DELETE")))
            counts["writes in an undeclared account"] += int(now != {k: _record(s) for k, s in a.before.items()})
            continue
        counts["lost"] += sum(1 for sid in a.wanted if live[sid] == 0)
        counts["deleted unasked"] += sum(1 for sid in set(a.before) - a.deletable if live[sid] == 0)


def _record(sender: dict[str, Any]) -> dict[str, Any]:
    """A sender as the emulator holds it, without its ``url`` (which follows the server's address)."""
    return {k: v for k, v in sender.items() if k != "url"}


def one_run(tmp: Path, scenario_name: str, rates: dict[str, Any], seed: int, *, names: tuple[str, ...],
            undeclared: str | None, creates: int | None = None, live: int = LIVE, attempts: int | None = 3,
            timeout: float | None = 0.5) -> dict[str, Any]:
    """A faulty apply and its re-runs on a fresh emulator; the counts of that run. ``creates``: instead of the
    scenario, that many creates beside ``live`` senders that stay as they are."""
    server = EmulatorServer(account_sid=PARENT, auth_token=TOKEN)
    accounts: list[Account] = []
    for n, name in enumerate([*names, *([undeclared] if undeclared else [])]):
        ref = server.parent if name == "parent" else server.add_account(name)
        accounts.append(Account(name, ref.sid, ref.auth_token, n * BLOCK, declared=name in names))
    folder = tmp / f"run-{scenario_name}-{seed}"
    folder.mkdir()
    for a in accounts:
        for i in range(a.first, a.first + (live if creates is not None else LIVE)):
            server.add_sender(sender_body(i), account=a.emulator_key)
        a.before = {s["sender_id"]: s for s in server.senders(a.emulator_key)}
        if not a.declared:
            continue
        deletable: set[str] = set()
        if creates is not None:
            bodies = [sender_body(i) for i in range(a.first, a.first + live + creates)]
        else:
            bodies, deletable = scenario(scenario_name, a.first)
        a.wanted, a.deletable = {b["sender_id"]: b for b in bodies}, deletable
        path = folder / f"{a.name.replace(' ', '-').lower()}.yaml"
        write_desired(path, bodies)
        if a.name != "parent":
            path.write_text(f"account: {a.sid}\n" + path.read_text())
    counts: Counter[str] = Counter()
    outputs: list[str] = []
    args = ["apply", "-f", str(folder), "--auto-approve", "--allow-delete", "--force", "--format", "json"]
    with server:
        url = server.base_url or ""
        server.set_faults(Faults(seed=seed, **rates))
        _, doc = run_cli(args, base_env(url, accounts, attempts=attempts, timeout=timeout), outputs)
        faults = {k: v for k, v in server.stats().items() if k.startswith("fault")}
        if doc is not None and "apply" in doc:
            judge(doc, server, accounts, counts)
        elif doc is not None and "error" in doc:  # an account could not be reached or read: nothing was written
            counts["refused before writing"] += 1
            writes = sum(n for k, n in server.stats().items() if k.startswith(("POST", "DELETE")))
            counts["written though refused"] += int(writes > 0)
        else:
            counts["no report"] += 1
        server.set_faults(Faults())
        runs, code = 1, 1
        for _ in range(3):
            runs += 1
            code, _ = run_cli(args, base_env(url, accounts, attempts=6, timeout=10), outputs)
            if code == 0:
                break
        check_after(server, accounts, counts)
    counts["converged"] += int(code == 0)
    counts["runs to converge"] += runs
    secrets = secrets_of(accounts)
    counts["secrets seen"] += sum(text.count(s) for text in outputs for s in secrets)
    return {"scenario": scenario_name, "seed": seed, "accounts": len([a for a in accounts if a.declared]),
            "faults": faults, **{k: counts[k] for k in KEYS if counts[k]}}


def campaign(seeds: int, runs: int) -> dict[str, Any]:
    started = time.monotonic()
    blocks: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rows: list[dict[str, Any]] = []
        for mode, rates in MODES.items():
            for name in SCENARIOS:
                for seed in range(1, seeds + 1):
                    here = Path(tmp) / f"{len(rows)}"
                    here.mkdir()
                    row = one_run(here, name, rates, seed, names=DECLARED, undeclared=UNDECLARED)
                    rows.append({"mode": mode, **row})
                    print(f"  {mode:<18} {name:<8} seed {seed}: {_brief(row)}", flush=True)
        blocks["across accounts"] = _block(rows, "6 fault modes × 3 scenarios × seeds; parent + 2 declared "
                                                 "subaccounts + 1 undeclared; 3 attempts, 0.5 s timeout")
        rows = []
        for seed in range(1, runs + 1):
            here = Path(tmp) / f"compound-{seed}"
            here.mkdir()
            row = one_run(here, "creates", COMPOUND, seed, names=("parent",), undeclared=None,
                          creates=COMPOUND_CREATES, live=0, attempts=3, timeout=None)
            rows.append({"mode": "5xx 20 % + drop 30 % + 429 20 %", **row})
            print(f"  compound, 60 creates, seed {seed}: {_brief(row)}", flush=True)
        blocks["compound, 60 creates"] = _block(rows, "5xx 20 %, dropped answers 30 %, 429 20 % at once; 60 creates "
                                                      "in an empty account; 3 attempts, the default timeout")
    totals: Counter[str] = Counter()
    for block in blocks.values():
        totals.update(block["totals"])
    return {"command": COMMAND, "seconds": round(time.monotonic() - started, 1), "cpus": os.cpu_count(),
            "python": platform.python_version(), "applies": sum(b["applies"] for b in blocks.values()),
            "totals": {k: totals[k] for k in KEYS}, "blocks": blocks}


def _block(rows: list[dict[str, Any]], what: str) -> dict[str, Any]:
    totals: Counter[str] = Counter()
    for row in rows:
        totals.update({k: row.get(k, 0) for k in KEYS})
    return {"what": what, "applies": len(rows), "totals": {k: totals[k] for k in KEYS}, "rows": rows}


def _brief(row: dict[str, Any]) -> str:
    shown = ("done", "failed", "not_applied", "unknown", "false failure", "lost", "duplicated", "deleted unasked",
             "writes in an undeclared account", "secrets seen")
    return ", ".join(f"{k} {row[k]}" for k in shown if row.get(k)) or "nothing reported"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="seeds per (fault mode, scenario) across accounts")
    parser.add_argument("--runs", type=int, default=20, help="runs of the compound case (60 creates)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "campaign.json"))
    args = parser.parse_args()
    result = campaign(args.seeds, args.runs)
    print(f"{result['applies']} faulty applies in {result['seconds']:.0f} s")
    for name, block in result["blocks"].items():
        print(f"{name} ({block['applies']} applies): {block['what']}")
        for key in KEYS:
            print(f"  {key:<34} {block['totals'][key]}")
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
