"""One apply converges through a flaky, rate-limited API: the real CLI against the emulator's faults.

Every test runs the CLI in a subprocess with short backoffs (``RECONCILER_BACKOFF``) so retries cost
milliseconds, and checks the outcome in the emulator's state, not only in what the CLI printed:
live state equals the file, no sender is duplicated or lost, nothing is deleted that was not asked for.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import ApplyReport, apply_plan
from reconciler.client import RetryPolicy, SendersClient, Stats
from reconciler.config import load_desired
from reconciler.emulator import EmulatorServer, Faults
from reconciler.plan import build_plan
from tests.factories import CREDS, SANDBOX, faults_of, many_senders_yaml, number, record, run_cli

Sender = dict[str, Any]
IGNORED = "whatsapp:+15017120999"
RETIRED = "whatsapp:+15017120998"  # live, not in the file: deleted only with --allow-delete
KEEP = "keep me"  # an unmanaged field's value, which no apply may change


def seed_live(emulator: EmulatorServer) -> dict[str, Sender]:
    """20 senders the file manages (15 to update, 5 already right), one ignored, one retired, the sandbox."""
    for i in range(20):
        emulator.add_sender({
            "sender_id": number(1000 + i),
            "profile": {"name": f"Shop {i}", "about": "old" if i < 12 else f"About {i}", "description": KEEP},
            "webhook": {"callback_url": "https://hooks.example.com/old" if i % 3 == 0 else f"https://hooks.example.com/{i}",
                        "callback_method": "POST"},
        })
    emulator.add_sender({"sender_id": IGNORED, "profile": {"name": "Hands off", "about": "managed elsewhere"}})
    emulator.add_sender({"sender_id": RETIRED, "profile": {"name": "Retired"}})
    emulator.add_sender({"sender_id": SANDBOX, "profile": {"name": "Twilio Sandbox"}})
    return {s["sender_id"]: copy.deepcopy(s) for s in emulator.senders()}


def realistic_file(tmp_path: Path, creates: int = 20) -> str:
    """40 senders: 20 to create, 15 to update, 5 unchanged; an ignored sender; relaxed update threshold."""
    lines = ["safety: {max_update_percent: 100}", f'ignore: ["{IGNORED}"]', "defaults:",
             "  webhook: {callback_method: POST}", "senders:"]
    for i in range(20):
        lines += [f'  - sender_id: "{number(1000 + i)}"',
                  f'    profile: {{name: "Shop {i}", about: "About {i}"}}',
                  f'    webhook: {{callback_url: "https://hooks.example.com/{i}"}}']
    for i in range(creates):
        lines += [f'  - sender_id: "{number(2000 + i)}"',
                  f'    profile: {{name: "New {i}", about: "Fresh {i}", vertical: "Shopping and Retail",'
                  f' emails: ["s{i}@shop.example"], websites: ["https://shop.example/{i}"]}}',
                  f'    webhook: {{callback_url: "https://hooks.example.com/n{i}"}}']
    path = tmp_path / "senders.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def fault_env(emulator_env: dict[str, str], **extra: str) -> dict[str, str]:
    """Short backoffs and timeouts: a retry costs milliseconds, not seconds."""
    return {**emulator_env, "RECONCILER_MAX_ATTEMPTS": "10", "RECONCILER_BACKOFF": "0.005",
            "RECONCILER_REQUEST_TIMEOUT": "5", **extra}


def check_converged(emulator: EmulatorServer, before: dict[str, Sender], f: str, env: dict[str, str]) -> dict[str, int]:
    """Live state equals the file; returns the loss/duplication counts (asserted zero)."""
    live = emulator.senders()
    counts = Counter(s["sender_id"] for s in live)
    duplicated = sum(n - 1 for n in counts.values())
    by_id = {s["sender_id"]: s for s in live}
    wanted = {number(1000 + i) for i in range(20)} | {number(2000 + i) for i in range(20)} | {IGNORED, SANDBOX}
    lost = len(wanted - by_id.keys())
    unasked = len(by_id.keys() - wanted)
    assert (duplicated, lost, unasked) == (0, 0, 0), (counts, wanted ^ by_id.keys())
    # Untouched: the ignored sender and the sandbox, byte for byte; the unmanaged field everywhere.
    for keep in (IGNORED, SANDBOX):
        assert {k: v for k, v in by_id[keep].items() if k != "url"} == {
            k: v for k, v in before[keep].items() if k != "url"}
    for i in range(20):
        s = by_id[number(1000 + i)]
        assert s["sid"] == before[number(1000 + i)]["sid"]  # updated in place, never re-created
        assert s["profile"]["description"] == KEEP and s["profile"]["about"] == f"About {i}"
        assert s["webhook"]["callback_url"] == f"https://hooks.example.com/{i}"
    for i in range(20):
        s = by_id[number(2000 + i)]
        assert s["profile"]["emails"] == [{"email": f"s{i}@shop.example", "label": "Email"}]
    again = run_cli("plan", "-f", f, "--detailed-exitcode", env=env)
    assert again.returncode == 0 and "No changes." in again.stdout, again.output
    return {"duplicated": duplicated, "lost": lost, "deleted_unasked": unasked}


MIXED_SEEDS = [11, 12, 13, 14, 15, 16]


@pytest.mark.parametrize("seed", MIXED_SEEDS)
def test_one_apply_converges_under_429_5xx_and_dropped_connections(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path, seed: int
) -> None:
    """10 % 429 (Retry-After on odd seeds only), 10 % 5xx, 5 % of writes committed then dropped."""
    before = seed_live(emulator)
    f = realistic_file(tmp_path)
    emulator.set_faults(Faults(seed=seed, rate_429=0.10, rate_5xx=0.10, rate_drop_after_commit=0.05,
                               retry_after=0.01 if seed % 2 else None))
    env = fault_env(emulator_env)
    applied = run_cli("apply", "-f", f, "--auto-approve", "--allow-delete", env=env)
    assert applied.returncode == 0, applied.output
    assert "Apply complete: 36 done." in applied.stdout, applied.output
    assert RETIRED not in {s["sender_id"] for s in emulator.senders()}  # the delete that was asked for
    stats = emulator.stats()
    faults = faults_of(stats)
    assert faults["fault 429"] + faults["fault 5xx"] > 0
    # The plan that follows runs under the same faults: reads are retried as well.
    figures = check_converged(emulator, before, f, env)
    record("mixed_faults", seed_used=str(seed), applies=1, requests=stats["total"], senders=40, **faults, **figures)


def test_429_storm_without_retry_after(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    """40 % of all requests throttled, no Retry-After (as Twilio): jittered backoff gets through."""
    before = seed_live(emulator)
    f = realistic_file(tmp_path)
    emulator.set_faults(Faults(seed=21, rate_429=0.4))
    env = fault_env(emulator_env, RECONCILER_MAX_ATTEMPTS="25")
    applied = run_cli("apply", "-f", f, "--auto-approve", "--allow-delete", env=env)
    assert applied.returncode == 0, applied.output
    stats = emulator.stats()
    assert stats["fault 429"] >= 10
    figures = check_converged(emulator, before, f, env)
    record("429_storm", applies=1, requests=stats["total"], senders=40, **faults_of(stats), **figures)


async def apply_in_process(emulator: EmulatorServer, f: str, retry: RetryPolicy) -> tuple[ApplyReport, Stats]:
    """Plan and apply as the CLI does (``--allow-delete``), through a client whose stats the test can read."""
    desired = load_desired([f], environ={})
    async with SendersClient(CREDS, base_url=emulator.base_url or "", retry=retry) as api:
        plan = build_plan(desired, await api.list_senders(), allow_delete=True)
        report = await apply_plan(plan, api, concurrency=25)
        return report, api.stats


def test_429_storm_with_retry_after_is_honoured(emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path) -> None:
    """Half of all requests throttled with ``Retry-After: 0.02``: every retry waits that, never the backoff."""
    before = seed_live(emulator)
    f = realistic_file(tmp_path)
    emulator.set_faults(Faults(seed=22, rate_429=0.5, retry_after=0.02))
    retry = RetryPolicy(attempts=25, backoff=0.5, max_backoff=20, timeout=5)
    report, client = asyncio.run(asyncio.wait_for(apply_in_process(emulator, f, retry), timeout=120))
    stats = emulator.stats()
    emulator.set_faults(Faults())
    assert report.ok and report.summary()["done"] == 36, [o.as_dict() for o in report.outcomes if not o.ok]
    assert stats["fault 429"] >= 10
    # Every throttled request was retried, and nothing else was; each retry waited what the header said
    # (a jittered backoff of 0.5 s would have drawn a random wait instead).
    assert client.requests == stats["total"] and client.retries == stats["fault 429"]
    assert client.waited == pytest.approx(0.02 * client.retries)
    figures = check_converged(emulator, before, f, fault_env(emulator_env))
    record("429_storm_retry_after", applies=1, requests=stats["total"], senders=40, **faults_of(stats), **figures)


def test_dropped_connections_after_commit_make_no_duplicates(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    """A third of the writes commit and then lose their response: retried creates find their sender."""
    before = seed_live(emulator)
    f = realistic_file(tmp_path)
    emulator.set_faults(Faults(seed=31, rate_drop_after_commit=0.33))
    env = fault_env(emulator_env)
    applied = run_cli("apply", "-f", f, "--auto-approve", "--allow-delete", "--format", "json", env=env)
    assert applied.returncode == 0, applied.output
    stats = emulator.stats()
    assert stats["fault drop"] >= 5
    outcomes = json.loads(applied.stdout)["apply"]["outcomes"]
    # Some creates were committed by an attempt whose answer was lost: the retry met 409 and adopted them.
    assert any("existed already" in o["message"] for o in outcomes if o["action"] == "create")
    assert all(o["result"] == "done" and o["confirmed"] for o in outcomes)
    figures = check_converged(emulator, before, f, env)
    record("dropped_after_commit", applies=1, requests=stats["total"], senders=40, **faults_of(stats), **figures)


def test_responses_slower_than_the_timeout(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    """Three in ten requests are held 12 s before the server processes them, against a 5 s timeout; the server
    still processes them. The client started its clock before the server saw the request, so it gives up
    first whatever the machine's load, and an answer that does come has ample time (0.15 s raced the
    scheduler: under load, plain answers took longer than that ten times in a row)."""
    before = seed_live(emulator)
    f = realistic_file(tmp_path)
    emulator.set_faults(Faults(seed=41, slow_rate=0.3, slow_seconds=12))
    env = fault_env(emulator_env)
    applied = run_cli("apply", "-f", f, "--auto-approve", "--allow-delete", env=env)
    assert applied.returncode == 0, applied.output
    stats = emulator.stats()
    assert stats["fault slow"] >= 3
    emulator.set_faults(Faults())
    figures = check_converged(emulator, before, f, fault_env(emulator_env))
    record("slow_responses", applies=1, requests=stats["total"], senders=40, **faults_of(stats), **figures)


#: Seeds under which, one write at a time, a create applied on an attempt whose answer was dropped is retried,
#: refused 409, and the list read that would adopt it runs out of attempts (each ended with such a create
#: reported "failed" before outcomes were settled by the confirming read).
COMPOUND_SEEDS = [13, 22]


@pytest.mark.parametrize("seed", COMPOUND_SEEDS)
def test_compound_faults_never_report_an_applied_write_as_failed(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path, seed: int
) -> None:
    """5xx 20 %, dropped answers 30 % and 429 20 % at once on 60 creates: every outcome matches the emulator."""
    wanted = {number(5000 + i) for i in range(60)}
    f = many_senders_yaml(tmp_path, sorted(wanted))
    emulator.set_faults(Faults(seed=seed, rate_5xx=0.2, rate_drop_after_commit=0.3, rate_429=0.2))
    # One request at a time, so the seed alone decides which request meets which fault.
    env = fault_env(emulator_env, RECONCILER_MAX_ATTEMPTS="3", RECONCILER_CONCURRENCY="1")
    first = run_cli("apply", "-f", f, "--auto-approve", "--format", "json", env=env)
    assert "Traceback" not in first.output
    outcomes = json.loads(first.stdout)["apply"]["outcomes"]
    live = {s["sender_id"] for s in emulator.senders()}
    stats = emulator.stats()
    emulator.set_faults(Faults())
    assert len(outcomes) == 60 and stats["fault drop"] and stats["fault 5xx"] and stats["fault 429"]
    false_failures = [o for o in outcomes if o["result"] == "failed" and o["sender_id"] in live]
    assert false_failures == []
    assert [o for o in outcomes if o["result"] == "not_applied" and o["sender_id"] in live] == []
    assert [o for o in outcomes if o["result"] == "done" and o["sender_id"] not in live] == []
    # Only a 4xx answering the create itself is a failure.
    assert all(o["error"]["status"] == 429 for o in outcomes if o["result"] == "failed"), outcomes
    again = run_cli("apply", "-f", f, "--auto-approve", env=emulator_env)
    assert again.returncode == 0, again.output
    counts = Counter(s["sender_id"] for s in emulator.senders())
    assert set(counts) == wanted and set(counts.values()) == {1}
    assert run_cli("plan", "-f", f, "--detailed-exitcode", env=emulator_env).returncode == 0
    record("compound_faults", seed_used=str(seed), applies=2, requests=stats["total"], senders=60,
           false_failures=len(false_failures), lost=0, duplicated=0, deleted_unasked=0, **faults_of(stats))


# --------------------------------------------------------------------------- retries run out


@pytest.mark.parametrize(("kind", "status", "code", "result", "word"), [
    ("5xx", 500, 20500, "not_applied", "not applied"),  # the answer was lost: the list settles it, never "failed"
    ("429", 429, 20429, "failed", "failed"),  # a refusal with Twilio's code: failed
])
def test_when_retries_run_out_the_action_is_reported_with_its_code_and_the_rest_complete(
    emulator: EmulatorServer, emulator_env: dict[str, str], tmp_path: Path, kind: str, status: int, code: int,
    result: str, word: str,
) -> None:
    before = seed_live(emulator)
    f = realistic_file(tmp_path)
    # Writes only, so the plan's read and the confirming read pass; one write at a time, so the seed
    # alone decides which writes fail (two attempts each).
    rates = {"rate_5xx": 0.5} if kind == "5xx" else {"rate_429": 0.5}
    emulator.set_faults(Faults(seed=51, writes_only=True, **rates))
    env = fault_env(emulator_env, RECONCILER_MAX_ATTEMPTS="2", RECONCILER_CONCURRENCY="1")
    first = run_cli("apply", "-f", f, "--auto-approve", "--allow-delete", "--format", "json", env=env)
    assert first.returncode == 1, first.output
    assert "Traceback" not in first.output
    doc = json.loads(first.stdout)
    outcomes = doc["apply"]["outcomes"]
    failed = [o for o in outcomes if o["result"] == result]
    done = [o for o in outcomes if o["result"] == "done"]
    assert failed and done and len(failed) + len(done) == len(outcomes) == 36
    assert {o["action"] for o in failed} >= {"create", "update"}
    live = {s["sender_id"]: s for s in emulator.senders()}
    for o in failed:
        assert o["error"]["status"] == status and o["error"]["code"] == code, o
        # Refused before processing: the sender is as it was.
        if o["action"] == "create":
            assert o["sender_id"] not in live
        else:
            assert live[o["sender_id"]]["profile"] == before[o["sender_id"]]["profile"]
    for o in done:
        assert o["confirmed"] is True
    assert doc["apply"]["summary"][result] == len(failed) and not doc["apply"]["ok"]
    # The text report names each failure with Twilio's code (every write refused this time).
    emulator.set_faults(Faults(seed=51, writes_only=True, **{k: 1.0 for k in rates}))
    text = run_cli("apply", "-f", f, "--auto-approve", "--allow-delete", env=env)
    assert text.returncode == 1 and f"Twilio {code}" in text.stdout and word in text.stdout
    # The next apply, with the API healthy again, converges.
    stats = emulator.stats()
    emulator.set_faults(Faults())
    second = run_cli("apply", "-f", f, "--auto-approve", "--allow-delete", env=emulator_env)
    assert second.returncode == 0, second.output
    figures = check_converged(emulator, before, f, emulator_env)
    record(f"retries_run_out_{kind}", applies=3, failed_first=len(failed), requests=stats["total"], senders=40,
           **faults_of(stats), **figures)
