"""Fixtures: the CLI runner, an emulator on a free loopback port, and Prism in front of it.

Everything else the tests share (credentials, builders, the runner itself) is in ``tests.factories``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

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
from tests.prism import prism_proxy


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


@pytest.fixture
def prism_url(emulator: EmulatorServer, prism_relay: tuple[Gate, str]) -> Iterator[str]:
    """Stoplight Prism validating every request and response between a client and ``emulator``.

    Yields the proxy's base URL; while it runs, the emulator's absolute URLs point at the proxy.
    Prism comes from ``.ci/prism`` (``npm ci --prefix .ci/prism``); without it the test fails.
    """
    relay, url = prism_relay
    relay.upstream = url_of(emulator)
    # Absolute URLs in responses (next_page_url ...) lead back through the proxy, as behind any gateway.
    emulator.public_url = url
    try:
        yield url
    finally:
        emulator.public_url = None
        relay.upstream = "http://127.0.0.1:9"  # nothing listens there: a stray request fails loudly
