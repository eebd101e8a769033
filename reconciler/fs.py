"""The one way reconciler writes a file: atomically, next to the real target, and nothing but the file.

    atomic_write("plan.json", text)
    read_regular("plan.json", limit=2**20)      # a regular file's bytes, never a FIFO's or a device's
    read_stdin(limit=2**20)                     # ``-``: standard input's bytes

The text goes to a temporary file in the target's own directory (a symlink's target: the link stays), then
``os.replace`` puts it in place; on any failure the temporary file is removed and the target is left as it
was. No directory is created, and a device, FIFO or directory at the path is refused, never replaced.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path

from reconciler.errors import OutputError


def atomic_write(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; :class:`OutputError` says why it cannot be."""
    given = str(path)
    if not given.strip():
        raise OutputError("the output path is empty")
    target = Path(os.path.realpath(given))  # through symlinks: replace what the link points at, not the link
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"{given}: cannot write here ({exc.strerror or exc})") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(f"{given}: not a regular file; refusing to replace it")
    if not target.parent.is_dir():
        raise OutputError(f"{given}: the directory {target.parent} does not exist (it is not created)")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"{given}: cannot write in {target.parent} ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(f"{given}: cannot write the file ({exc.strerror or exc})") from None
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


class NotRegularFile(ValueError):
    """:func:`read_regular` was given a FIFO, a device, a socket or a directory; the message says which."""


class FileTooLarge(ValueError):
    """:func:`read_regular` found more than its ``limit`` of bytes."""


def read_regular(path: str | Path, *, limit: int) -> bytes:
    """A regular file's bytes, at most ``limit`` of them; OSError, :class:`NotRegularFile` or
    :class:`FileTooLarge` (both ValueErrors, with a sentence) otherwise.

    Opened without blocking, so a FIFO or a device is refused instead of waited on: opening a FIFO for
    reading would wait for a writer, and reading it would wait for data that may never come.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(f"{file_kind(mode)}, not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"larger than {limit:,} bytes")
    return data


def read_stdin(*, limit: int) -> bytes:
    """Standard input's bytes until its end, at most ``limit`` of them; OSError when there is no standard input,
    :class:`FileTooLarge` when there is more."""
    stream = sys.stdin
    if stream is None:
        raise OSError(0, "there is no standard input")
    raw = getattr(stream, "buffer", None)
    data = raw.read(limit + 1) if raw is not None else stream.read(limit + 1).encode()
    if len(data) > limit:
        raise FileTooLarge(f"larger than {limit:,} bytes")
    return bytes(data)


def file_kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words: ``"a FIFO"``, ``"a directory"``..."""
    kinds = (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((words for test, words in kinds if test(mode)), "something else")
