"""The command line's process tuning: applied by the process entry, never by a library call."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler import runtime
from reconciler.client import Credentials
from reconciler.session import ApiSettings, Session
from tests.factories import REPO_ROOT, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, clean_env

A = "whatsapp:+15017122661"


class Spy:
    """Records the calls that change the process (the collector, the switch interval) and makes them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        for owner, name in ((gc, "disable"), (gc, "enable"), (gc, "freeze"), (sys, "setswitchinterval")):
            real = getattr(owner, name)
            monkeypatch.setattr(owner, name, self._recorded(name, real))

    def _recorded(self, name: str, real):  # type: ignore[no-untyped-def]
        def call(*args: object) -> object:
            self.calls.append((name, args))
            return real(*args)

        return call


def _state() -> tuple[bool, int, float]:
    return gc.isenabled(), gc.get_freeze_count(), sys.getswitchinterval()


@pytest.fixture
def frozen_back() -> Iterator[None]:
    """A test that lets the command line freeze objects of this process gives them back to the collector."""
    yield
    gc.unfreeze()


def _plan(emulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "senders.yaml"
    path.write_text(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme}}\n')
    session = Session(ApiSettings(base_url=emulator.base_url, max_attempts=1),
                      credentials=Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_ACCOUNT_SID), environ={})
    run = session.plan([str(path)])  # the parent's senders read while the file loads: the reader thread's path
    assert run.allowed_actions == 1  # the create of A


def test_a_library_plan_changes_nothing_in_the_process(emulator, tmp_path, monkeypatch) -> None:
    before = _state()
    spy = Spy(monkeypatch)
    _plan(emulator, tmp_path)
    assert spy.calls == []  # not even for a while: another thread of the caller's program would see it
    assert _state() == before


def test_the_command_line_tunes_the_process_around_a_plan(emulator, tmp_path, monkeypatch, frozen_back) -> None:
    enabled, frozen, interval = _state()
    spy = Spy(monkeypatch)
    with runtime.command_line():
        _plan(emulator, tmp_path)
    names = [name for name, _ in spy.calls]
    assert names[0] == "disable" and "freeze" in names
    assert ("setswitchinterval", (runtime.READER_SWITCH_INTERVAL,)) in spy.calls
    assert spy.calls[-1] == (("enable", ()) if enabled else ("freeze", ()))
    assert gc.isenabled() == enabled and sys.getswitchinterval() == interval  # both given back
    assert gc.get_freeze_count() > frozen  # what the plan built stays out of the collector's way
    assert isinstance(runtime.tuning(), runtime.Tuning) and not isinstance(runtime.tuning(), runtime.CommandLine)


def test_a_session_made_inside_the_command_line_keeps_its_tuning_only_there() -> None:
    assert type(runtime.tuning()) is runtime.Tuning
    with runtime.command_line():
        assert type(runtime.tuning()) is runtime.CommandLine
    assert type(runtime.tuning()) is runtime.Tuning


def test_the_command_of_the_arguments() -> None:
    assert runtime.command_of(["validate", "-f", "x.yaml"]) == "validate" and runtime.command_of(["--version"]) is None
    assert runtime.command_of(["-h", "schema"]) == "schema" and runtime.command_of([]) is None
    assert {"validate", "schema", "accounts"} == runtime.OFFLINE_COMMANDS


def _fresh(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; its printed lines."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT,
                         env=clean_env(), timeout=60)
    return out.stdout.split()


def test_the_command_line_imports_httpx_without_its_command_line_client() -> None:
    """httpx's ``__init__`` imports its CLI (click, rich, pygments) when rich is installed, unless
    ``from ._main import main`` fails: then it takes a stub. The placeholder relies on that fallback."""
    lean = _fresh("from reconciler import runtime\nruntime.prepare(offline=False)\nimport reconciler.client, httpx, sys\n"
                  "assert httpx.Client and httpx.AsyncClient and callable(httpx.main)\n"
                  "print(*sorted({'rich', 'pygments'} & set(sys.modules)), hasattr(sys.modules['httpx._main'], 'main'))")
    assert lean == ["False"]  # neither rich nor pygments, and httpx._main is the placeholder
    # A library caller's httpx is its own, CLI included.
    library = _fresh("import reconciler.client, sys\nprint(callable(sys.modules['httpx._main'].main))")
    assert library == ["True"]


def test_the_process_entry_applies_the_tuning_and_a_library_import_does_not() -> None:
    probe = ("import atexit, gc, sys\n"
             "atexit.register(lambda: print(gc.isenabled(), 'httpx._main' in sys.modules))\n"
             "sys.argv = ['reconciler', *sys.argv[1:]]\n"
             "from reconciler.__main__ import main\n"
             "main()\n")
    assert _fresh(probe.replace("*sys.argv[1:]", "'--version'"))[-2:] == ["True", "True"]
    assert _fresh(probe.replace("*sys.argv[1:]", "'schema'"))[-2:] == ["False", "True"]  # offline: collector off
    assert _fresh("import gc, sys, reconciler.session, reconciler.cli\nprint(gc.isenabled(), 'httpx._main' in "
                  "sys.modules and not hasattr(sys.modules['httpx._main'], 'main'))") == ["True", "False"]
