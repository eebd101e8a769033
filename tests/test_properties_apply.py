"""Properties of plan + apply against the emulator, for random desired files and random live states.

Each example starts a fresh emulator seeded with a random live state, writes a random desired file,
loads it with the real loader, plans, applies through the real client, and plans again:

- the second plan has nothing left to do (only deletes gated by a missing --allow-delete);
- no field the file does not manage changed on any sender;
- nothing was deleted without --allow-delete; an ignored sender and Twilio's sandbox are untouched;
- with --allow-delete, exactly the live senders missing from the file (and not ignored) are gone.

The second property runs the same under seeded 429s, 5xx and dropped connections. The third runs apply
under heavy compound faults with few attempts, so that actions do end badly, and holds every outcome to
what the emulator then holds: ``done`` was applied; ``failed`` and ``not_applied`` were not (a ``failed``
write that was applied is a false failure); a healthy re-run converges.
"""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.apply import ApplyReport, apply_plan
from reconciler.client import Credentials, RetryPolicy, SendersClient
from reconciler.config import load_desired
from reconciler.emulator import EmulatorServer, Faults
from reconciler.models import DesiredState, LiveSender
from reconciler.plan import Plan, build_plan
from tests.factories import SANDBOX, faults_of, number, record, url_of

NUMBERS = [number(i) for i in range(2661, 2669)]
SECTIONS = ("configuration", "webhook", "profile")

text = st.text(alphabet="abcdef XYZ.,!é", max_size=10)
urls = st.sampled_from(["", "https://a.example", "https://b.example/x"])
emails = st.lists(st.one_of(st.sampled_from(["a@example.com", "b@example.org"]),
                            st.fixed_dictionaries({"email": st.just("c@example.net"),
                                                   "label": st.sampled_from(["Work", "Email"])})), max_size=2)
profile_fields = {
    "name": st.sampled_from(["Acme", "Beta", "Gamma"]),
    "about": text, "description": text, "address": text,
    "vertical": st.sampled_from(["Other", "Education", "Restaurant"]),
    "emails": emails,
    "websites": st.lists(st.sampled_from(["https://a.example", "https://b.example"]), max_size=2),
}
webhook_fields = {"callback_url": urls, "callback_method": st.sampled_from(["POST", "PUT"]), "fallback_url": urls,
                  "status_callback_url": urls}
configuration_fields = {"verification_method": st.sampled_from(["sms", "voice"])}


@st.composite
def sections(draw: st.DrawFn, require_name: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, fields in (("profile", profile_fields), ("webhook", webhook_fields),
                         ("configuration", configuration_fields)):
        chosen = draw(st.fixed_dictionaries({}, optional=fields))
        if chosen:
            out[name] = chosen
    if require_name:
        out.setdefault("profile", {}).setdefault("name", draw(profile_fields["name"]))
    return out


@st.composite
def scenario(draw: st.DrawFn) -> dict[str, Any]:
    live_ids = draw(st.lists(st.sampled_from(NUMBERS), unique=True, max_size=6))
    wanted_ids = draw(st.lists(st.sampled_from(NUMBERS), unique=True, max_size=6))
    ignore = draw(st.lists(st.sampled_from([n for n in NUMBERS if n not in wanted_ids] or [SANDBOX]),
                           unique=True, max_size=2))
    ignore = [i for i in ignore if i != SANDBOX]
    live = [{"sender_id": i, **draw(sections(require_name=True)),
             "status": draw(st.sampled_from(["ONLINE", "ONLINE", "OFFLINE", "PENDING_VERIFICATION"]))}
            for i in live_ids]
    # A sender the file creates needs a name; one that exists may manage any subset of fields.
    wanted = [{"sender_id": i, **draw(sections(require_name=i not in live_ids))} for i in wanted_ids]
    return {"live": live, "wanted": wanted, "ignore": ignore, "allow_delete": draw(st.booleans())}


def desired_yaml(case: dict[str, Any]) -> str:
    """The desired file, values written as JSON (valid YAML flow style)."""
    lines = [f"ignore: {json.dumps(case['ignore'])}", "senders:"]
    if not case["wanted"]:
        lines[-1] = "senders: []"
    for sender in case["wanted"]:
        lines.append(f"  - sender_id: {json.dumps(sender['sender_id'])}")
        for section in SECTIONS:
            if section in sender:
                lines.append(f"    {section}: {json.dumps(sender[section], ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def managed_paths(sender: dict[str, Any]) -> set[str]:
    return {f"{section}.{name}" for section in SECTIONS for name in sender.get(section, {})}


def flat(sender: dict[str, Any]) -> dict[str, Any]:
    return {f"{section}.{name}": value for section in SECTIONS for name, value in (sender.get(section) or {}).items()}


async def plan_apply_plan(
    base_url: str, path: Path, allow_delete: bool, retry: RetryPolicy, faults: Faults | None = None,
    server: EmulatorServer | None = None,
) -> tuple[DesiredState, Plan, ApplyReport]:
    """Plan, then apply; with ``faults`` (and the ``server`` to set them on), only the apply meets them."""
    desired = load_desired([path], environ={})
    creds = Credentials("AC" + "0" * 32, "token")
    async with SendersClient(creds, base_url=base_url, retry=retry, concurrency=4) as api:
        first = build_plan(desired, await api.list_senders(), allow_delete=allow_delete)
        if faults is not None and server is not None:
            server.set_faults(faults)
        report = await apply_plan(first, api, concurrency=4)
    return desired, first, report


def check(case: dict[str, Any], tmp_path: Path, faults: Faults | None) -> None:
    path = tmp_path / "senders.yaml"
    path.write_text(desired_yaml(case))
    with EmulatorServer() as server:
        server.add_sender({"sender_id": SANDBOX, "profile": {"name": "Twilio Sandbox"}})
        for sender in case["live"]:
            server.add_sender({k: v for k, v in sender.items() if k != "status"}, status=sender["status"])
        before = {s["sender_id"]: copy.deepcopy(s) for s in server.senders()}
        if faults:
            server.set_faults(faults)
        retry = RetryPolicy(attempts=12, backoff=0.001, max_backoff=0.01, timeout=5)
        desired, first, report = asyncio.run(plan_apply_plan(url_of(server), path, case["allow_delete"], retry))
        server.set_faults(Faults())
        injected = faults_of(server.stats())
        assert report.ok, [o for o in report.outcomes if not o.ok]
        after = {s["sender_id"]: s for s in server.senders()}
        # Plan again from the new live state: nothing left but deletes gated by a missing --allow-delete.
        again = build_plan(desired, [LiveSender.model_validate(s) for s in after.values()],
                           allow_delete=case["allow_delete"])
    assert again.allowed_actions == (), again.actions
    assert not again.problems
    assert all(a.action == "delete" and not case["allow_delete"] for a in again.actions)
    wanted = {s["sender_id"]: s for s in case["wanted"]}
    # No sender duplicated (the emulator would list it twice).
    assert len(after) == len(server.senders())
    # Deletes: none without --allow-delete; with it, exactly the unmanaged, unignored live senders.
    gone = before.keys() - after.keys()
    if case["allow_delete"]:
        assert gone == before.keys() - wanted.keys() - set(case["ignore"]) - {SANDBOX}
    else:
        assert gone == set()
    # Ignored senders and the sandbox: untouched, every field.
    for sender_id in {*case["ignore"], SANDBOX} & before.keys():
        assert flat(after[sender_id]) == flat(before[sender_id])
    # Everywhere else, only managed fields may have changed.
    for sender_id in before.keys() & after.keys():
        managed = managed_paths(wanted.get(sender_id, {}))
        old, new = flat(before[sender_id]), flat(after[sender_id])
        for field in (old.keys() | new.keys()) - managed:
            assert old.get(field) == new.get(field), (sender_id, field)
    record("properties_faults" if faults else "properties", applies=1, actions=len(first.allowed_actions),
           deleted=len(gone), lost=0, duplicated=0, **injected)


examples = settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@examples
@given(scenario())
def test_plan_apply_plan_is_empty_and_touches_only_what_it_manages(tmp_path: Path, case: dict[str, Any]) -> None:
    check(case, tmp_path, faults=None)


@examples
@given(scenario(), st.integers(0, 2**16))
def test_the_same_holds_under_429s_5xx_and_dropped_connections(tmp_path: Path, case: dict[str, Any], seed: int) -> None:
    check(case, tmp_path, Faults(seed=seed, rate_429=0.1, rate_5xx=0.1, rate_drop_after_commit=0.05))


@examples
@given(scenario(), st.integers(0, 2**16))
def test_every_outcome_is_truthful_under_compound_faults(tmp_path: Path, case: dict[str, Any], seed: int) -> None:
    path = tmp_path / "senders.yaml"
    path.write_text(desired_yaml(case))
    # 5xx, dropped answers and 429s at once, two attempts a request: retries run out, creates meet 409 and the
    # reads that adopt them fail, the confirming read fails now and then.
    faults = Faults(seed=seed, rate_5xx=0.2, rate_drop_after_commit=0.3, rate_429=0.2)
    with EmulatorServer() as server:
        for sender in case["live"]:
            server.add_sender({k: v for k, v in sender.items() if k != "status"}, status=sender["status"])
        retry = RetryPolicy(attempts=2, backoff=0.001, max_backoff=0.01, timeout=5)
        desired, first, report = asyncio.run(
            plan_apply_plan(url_of(server), path, case["allow_delete"], retry, faults, server))
        server.set_faults(Faults())
        after = [LiveSender.model_validate(s) for s in server.senders()]
        # An action landed when nothing is left to do for its sender: a plan from the state it left has no action
        # of that sender (a delete: it is gone).
        again = build_plan(desired, after, allow_delete=case["allow_delete"])
        pending = {a.sender_id for a in again.allowed_actions}
        for o in report.outcomes:
            landed = o.sender_id not in pending
            if o.result == "done":
                assert landed or o.confirmed is not True, o
            elif o.result in ("failed", "not_applied"):
                assert not landed, ("false failure" if o.result == "failed" else "applied, said not", o)
        # A healthy re-run converges.
        retry = RetryPolicy(attempts=4, backoff=0.001, max_backoff=0.01, timeout=5)
        _, _, rerun = asyncio.run(plan_apply_plan(url_of(server), path, case["allow_delete"], retry))
        assert rerun.ok, [o for o in rerun.outcomes if not o.ok]
        final = build_plan(desired, [LiveSender.model_validate(s) for s in server.senders()],
                           allow_delete=case["allow_delete"])
    assert final.allowed_actions == ()
    record("properties_truthful", applies=2, actions=len(first.allowed_actions), outcomes=report.summary(),
           false_failures=0, **faults_of(server.stats()))
