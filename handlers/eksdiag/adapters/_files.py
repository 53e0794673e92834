"""Crash- and concurrency-safe file primitives for the local stores.

* :func:`atomic_write` replaces a file through a temporary file of its own (unique per call, so
  threads and processes never share one) and a rename: readers see the old or the new content.
* :func:`create_exclusive` creates a file with its whole content only if the name is free: the
  temporary file is hard-linked into place, which fails when the name exists (one winner).
* :func:`locked` holds an exclusive ``flock`` on a lock file: it serialises read-modify-write cycles
  across threads (each call opens its own descriptor) and processes, and the kernel releases it when
  the holder dies, even under ``kill -9``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.{secrets.token_hex(4)}.tmp")


def _write_temp(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return tmp


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a private temporary file and a rename."""
    tmp = _write_temp(path, data)
    try:
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def create_exclusive(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data`` if no file has that name; False (nothing written) if one has."""
    tmp = _write_temp(path, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return True


def _lock(fd: int, blocking: bool) -> bool:
    if fcntl is None:  # pragma: no cover - Windows: msvcrt locks one byte instead
        import msvcrt

        mode = msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK  # type: ignore[attr-defined]
        try:
            msvcrt.locking(fd, mode, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def open_lock(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the exclusive lock on ``path`` (created if needed) for the ``with`` block."""
    fd = open_lock(path)
    try:
        _lock(fd, blocking=True)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def try_lock(path: Path) -> int | None:
    """The descriptor of ``path`` locked exclusively, or None when someone else holds it (or it is gone)."""
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except (FileNotFoundError, OSError):
        return None
    if _lock(fd, blocking=False):
        return fd
    os.close(fd)
    return None


def hold_lock_file(path: Path) -> int:
    """A lock file created already locked (made under a temporary name, then renamed into place), so
    nobody ever sees it unlocked while its holder lives. Keep the returned descriptor open."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    _lock(fd, blocking=True)
    tmp.replace(path)
    return fd
