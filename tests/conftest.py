"""Fixtures: the CLI runner, an emulator on a free loopback port, and Prism in front of it.

Everything else the tests share (credentials, builders, the runner itself) is in ``tests.factories``.

Property tests run under the ``untimed`` hypothesis profile: no deadline per example and no health
check on how long examples take to generate. Both measure wall-clock time, which on a loaded machine
measures the other processes; a property either holds or it does not. Collection stops with an error
naming any property test whose own settings bring a time limit back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from reconciler.emulator import EmulatorServer
from tests.factories import (
    TEST_ACCOUNT_SID,
    TEST_API_KEY,
    TEST_API_SECRET,
    TEST_AUTH_TOKEN,
    CliResult,
    run_cli,
    server_env,
    url_of,
)
from tests.gate import Gate
from tests.github_stand_in import GitHubStandIn, Runner
from tests.prism import SPEC_V1_FIXTURE, prism_proxy

#: The health checks that time something; the others (a fixture reused across examples ...) stay on.
TIMED_HEALTH_CHECKS = (HealthCheck.too_slow,)

# The suite runs in GitHub Actions too, where the CLI would add annotations to what a test reads: a test of
# them sets GITHUB_ACTIONS itself.
os.environ.pop("GITHUB_ACTIONS", None)

settings.register_profile("untimed", deadline=None, suppress_health_check=TIMED_HEALTH_CHECKS)
settings.load_profile("untimed")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse property tests whose settings time their examples (a test's ``suppress_health_check``
    replaces the profile's list: it must name the timed checks too)."""
    timed = []
    for item in items:
        test = getattr(item, "obj", None)
        chosen = getattr(test, "_hypothesis_internal_use_settings", None)
        if not getattr(test, "is_hypothesis_test", False) or chosen is None:
            continue
        if chosen.deadline is not None or not set(TIMED_HEALTH_CHECKS) <= set(chosen.suppress_health_check):
            timed.append(item.nodeid)
    if timed:
        raise pytest.UsageError("property tests timed by the wall clock (a deadline, or a timed health check "
                                "left on; see tests/conftest.py): " + ", ".join(timed))


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    """GitHub's API as a stand-in on a loopback port (tests/github_stand_in.py)."""
    with GitHubStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def runner(tmp_path: Path, emulator_env: dict[str, str], github: GitHubStandIn) -> Runner:
    """One workflow job running the action against ``github`` and the emulator."""
    return Runner(tmp_path, emulator_env, github)


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """``cli("plan", "-f", path, env=...)`` runs the real CLI in a subprocess."""
    return run_cli


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """A Senders API emulator on a free 127.0.0.1 port, accepting the test credentials and API key."""
    server = EmulatorServer(
        account_sid=TEST_ACCOUNT_SID,
        auth_token=TEST_AUTH_TOKEN,
        api_key=TEST_API_KEY,
        api_secret=TEST_API_SECRET,
    )
    server.start(host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def emulator_env(emulator: EmulatorServer) -> dict[str, str]:
    """Environment for a CLI subprocess that talks to ``emulator`` with the test credentials."""
    return server_env(emulator)


@pytest.fixture(scope="session")
def prism_relay() -> Iterator[tuple[Gate, str]]:
    """One Prism for the session (it takes seconds to start), in front of a relay each test points at its emulator."""
    with Gate("http://127.0.0.1:9", hold=frozenset()) as relay, prism_proxy(url_of(relay)) as url:
        yield relay, url


@pytest.fixture(scope="session")
def prism_v1_relay() -> Iterator[tuple[Gate, str]]:
    """The same for Messaging v1: Prism with the Services and ChannelSenders extract of Twilio's v1 spec."""
    with Gate("http://127.0.0.1:9", hold=frozenset()) as relay, prism_proxy(url_of(relay), SPEC_V1_FIXTURE) as url:
        yield relay, url


@pytest.fixture
def prism_url(emulator: EmulatorServer, prism_relay: tuple[Gate, str]) -> Iterator[str]:
    """Stoplight Prism validating every request and response between a client and ``emulator``.

    Yields the proxy's base URL; while it runs, the emulator's absolute URLs point at the proxy.
    Prism comes from ``.ci/prism`` (``npm ci --prefix .ci/prism``); without it the test fails.
    """
    yield from _behind(emulator, prism_relay)


@pytest.fixture
def prism_v1_url(emulator: EmulatorServer, prism_v1_relay: tuple[Gate, str]) -> Iterator[str]:
    """``prism_url`` for Messaging v1 (``/v1/Services...``), validated against Twilio's v1 spec extract."""
    yield from _behind(emulator, prism_v1_relay)


def _behind(emulator: EmulatorServer, prism_relay: tuple[Gate, str]) -> Iterator[str]:
    relay, url = prism_relay
    relay.upstream = url_of(emulator)
    # Absolute URLs in responses (next_page_url ...) lead back through the proxy, as behind any gateway.
    emulator.public_url = url
    try:
        yield url
    finally:
        emulator.public_url = None
        relay.upstream = "http://127.0.0.1:9"  # nothing listens there: a stray request fails loudly
