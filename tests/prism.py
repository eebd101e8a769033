"""Stoplight Prism as a validating proxy, and the violations it reports (for the ``prism`` tests).

    with prism_proxy(emulator.base_url) as url:      # conftest's ``prism_url`` fixture
        r = httpx.get(url + "/v2/Channels/Senders", params={"Channel": "whatsapp"})
        assert not violations(r)
    with prism_proxy(emulator.base_url, SPEC_V1_FIXTURE) as url:   # ``prism_v1_url``: Messaging v1's extract
        conforms(httpx.get(url + "/v1/Services", auth=...), 200)
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import FIXTURES, REPO_ROOT, free_port

PRISM_BIN = REPO_ROOT / ".ci" / "prism" / "node_modules" / ".bin" / "prism"
SPEC_FIXTURE = FIXTURES / "twilio_messaging_v2.yaml"
#: Twilio's Messaging v1 spec, the Services and ChannelSenders paths only (its header says where each block is from).
SPEC_V1_FIXTURE = FIXTURES / "twilio_messaging_v1_services.yaml"
#: The one warning an error answer gets: Twilio's specs declare no error responses.
UNDECLARED_STATUS = "Unable to match the returned status code"
STARTUP_SECONDS = 60


def violations(r: httpx.Response) -> list[dict[str, Any]]:
    """What Prism found wrong with a request or its response: its own problem answer, or the header's warnings."""
    found: list[dict[str, Any]] = []
    header = r.headers.get("sl-violations")
    if header:
        found += json.loads(header)
    ctype = r.headers.get("content-type", "")
    if "problem+json" in ctype or "stoplight.io/prism/errors#" in r.text[:200]:
        problem = r.json()
        found.append(
            {"severity": "Error", "message": f"{problem.get('title')}: {problem.get('detail')}", "problem": problem}
        )
        found += problem.get("validation") or []
    return found


def conforms(r: httpx.Response, status: int) -> httpx.Response:
    """A success answer with no violation at all, of ``status``."""
    found = violations(r)
    assert not found, (
        f"{r.request.method} {r.request.url} -> {r.status_code}: Prism reports {json.dumps(found, indent=1)}"
    )
    assert r.status_code == status, r.text
    return r


def refused_conforming(r: httpx.Response, status: int, code: int) -> dict[str, Any]:
    """An error answer from the server (not from Prism) in Twilio's shape, whose only violation is the status
    the spec does not declare."""
    found = violations(r)
    unexpected = [
        v for v in found if not (v.get("severity") == "Warning" and v.get("message", "").startswith(UNDECLARED_STATUS))
    ]
    assert not unexpected, (
        f"{r.request.method} {r.request.url} -> {r.status_code}: Prism reports {json.dumps(unexpected, indent=1)}"
    )
    assert r.status_code == status, r.text
    err: dict[str, Any] = r.json()
    assert set(err) == {"code", "message", "more_info", "status"} and err["code"] == code and err["status"] == status
    return err


@contextmanager
def prism_proxy(upstream: str, spec: Path = SPEC_FIXTURE) -> Iterator[str]:
    """Prism in front of ``upstream`` on a free loopback port, validating against ``spec``; yields its base URL.

    Without Prism installed the test fails: the check against Twilio's spec must not be skipped silently.
    """
    if not PRISM_BIN.exists():
        pytest.fail(
            f"Stoplight Prism is not installed ({PRISM_BIN} is missing): run "
            "'npm ci --prefix .ci/prism' (bash .ci/test does it)",
            pytrace=False,
        )
    port = free_port()
    proc = subprocess.Popen(
        [str(PRISM_BIN), "proxy", str(spec), upstream, "--errors", "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=REPO_ROOT,
    )
    output: list[str] = []
    stdout = proc.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: output.extend(stdout), daemon=True)
    reader.start()
    try:
        _wait_listening(proc, port, output, reader)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_listening(proc: subprocess.Popen[str], port: int, output: list[str], reader: threading.Thread) -> None:
    """Return once Prism accepts connections on ``port``; fail if it exits or takes too long."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if proc.poll() is not None:
            reader.join(timeout=5)
            pytest.fail("Prism exited before listening:\n" + "".join(output)[-4000:], pytrace=False)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"Prism did not start listening within {STARTUP_SECONDS} s:\n" + "".join(output)[-4000:],
                            pytrace=False)
            time.sleep(0.1)  # polling the port: a guard against a hang, not a wait for something to happen

