"""Files written atomically next to their target, and files read only when they are regular and small enough."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from reconciler.errors import OutputError
from reconciler.fs import FileTooLarge, NotRegularFile, atomic_write, file_kind, read_regular, read_stdin


def test_a_file_is_written_whole_and_nothing_else_is_left(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    atomic_write(target, "first")
    atomic_write(target, "second ✓")
    assert target.read_text(encoding="utf-8") == "second ✓"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_a_replaced_file_keeps_its_mode_and_a_link_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    atomic_write(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


@pytest.mark.parametrize("where", ["missing/plan.json", "dir", " "])
def test_what_cannot_be_written_is_refused_and_nothing_is_made(tmp_path: Path, where: str) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(OutputError):
        atomic_write(tmp_path / where if where.strip() else where, "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir"]
    assert list((tmp_path / "dir").iterdir()) == []


def test_a_regular_file_is_read_up_to_its_limit(tmp_path: Path) -> None:
    small = tmp_path / "s.yaml"
    small.write_bytes(b"x" * 10)
    assert read_regular(small, limit=10) == b"x" * 10
    with pytest.raises(FileTooLarge, match="larger than 9 bytes"):
        read_regular(small, limit=9)


def test_a_fifo_or_a_directory_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile, match="a FIFO, not a regular file"):
        read_regular(fifo, limit=100)  # no writer: a blocking open would wait for ever
    with pytest.raises(NotRegularFile, match="a directory"):
        read_regular(tmp_path, limit=100)
    assert file_kind(os.stat(tmp_path / "pipe").st_mode) == "a FIFO"


def test_stdin_is_read_to_its_end_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"senders: []\n")))
    assert read_stdin(limit=12) == b"senders: []\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"senders: []\n")))
    with pytest.raises(FileTooLarge, match="larger than 11 bytes"):
        read_stdin(limit=11)
    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(OSError, match="there is no standard input"):
        read_stdin(limit=10)
