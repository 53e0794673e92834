"""Bundle readers: walk the members of a ``.tar.gz`` stream or an extracted directory, safely.

The archive is read as a stream (gzip decompressed on the fly, members walked in order), so a
bundle of any size needs constant memory and no disk. Every member name is hostile until checked:
absolute paths, ``..`` components, links and devices are skipped and reported; decompression bombs
are stopped by limits on total bytes and on the compression ratio; a truncated archive ends the
walk and is reported, keeping what was read.
"""

from __future__ import annotations

import gzip
import io
import os
import posixpath
import stat
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO, Protocol

try:  # ISA-L inflates ~2x faster than zlib, in its own thread; zlib is the fallback.
    from isal import igzip_threaded as _gzip_threaded
except ImportError:  # pragma: no cover - isal ships wheels for every Lambda platform
    _gzip_threaded = None  # type: ignore[assignment]

GZIP_MAGIC = b"\x1f\x8b"
KNOWN_TOP_DIRS = frozenset(
    {
        "cni",
        "containerd",
        "docker",
        "gpu",
        "ipamd",
        "kernel",
        "kubelet",
        "modinfo",
        "networking",
        "nodeadm",
        "sandbox-image",
        "storage",
        "sysctls",
        "system",
        "var_log",
    }
)


class ByteStream(Protocol):
    """Anything with ``read(size) -> bytes``: files, tar member streams, our wrappers."""

    def read(self, size: int = -1, /) -> bytes: ...


class BundleError(Exception):
    """The input is not a bundle we can read at all (not an archive, not a directory)."""


class LimitExceeded(Exception):
    """A configured safety limit was hit; the walk stops and the bundle is marked incomplete."""


@dataclass(frozen=True)
class Limits:
    """Safety limits for one bundle. All are configurable; defaults fit a Lambda with 10 GB /tmp."""

    max_total_bytes: int = 16 * 1024**3
    """Total uncompressed bytes of all members."""
    max_ratio: float = 250.0
    """Uncompressed / compressed bytes, checked once ``ratio_floor_bytes`` have been inflated."""
    ratio_floor_bytes: int = 64 * 1024**2
    max_members: int = 250_000
    max_line_bytes: int = 1024**2
    """Longer lines are scanned in pieces and cut in evidence."""
    chunk_bytes: int = 1024**2
    max_nested_gzip_bytes: int = 2 * 1024**3
    """Uncompressed bytes of one rotated ``.gz`` log inside the bundle."""


@dataclass
class Member:
    path: str
    """Bundle-relative POSIX path, no leading ``./``."""
    size: int
    mtime: float
    stream: ByteStream


@dataclass
class WalkReport:
    """What the walk saw besides regular files."""

    skipped: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    complete: bool = True
    compressed_bytes: int = 0
    uncompressed_bytes: int = 0
    max_mtime: float = 0.0

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append({"path": path, "reason": reason})


class _CountingReader(io.RawIOBase):
    """Counts the bytes read through it; optionally enforces byte and ratio limits."""

    def __init__(self, raw: ByteStream, on_read: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_read = on_read
        self._raw_readinto = getattr(raw, "readinto", None)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._raw_readinto is not None:
            n = int(self._raw_readinto(buffer) or 0)
        else:
            data = self._raw.read(len(buffer))
            n = len(data)
            buffer[:n] = data
        if n:
            self._on_read(n)
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._on_read(len(data))
        return data


def normalise_member_name(name: str) -> str | None:
    """Bundle-relative path of a tar member, or None when the name is unsafe or empty.

    ``./kernel/dmesg.current`` -> ``kernel/dmesg.current``; absolute names, ``..`` components,
    backslashes and control characters (NUL, newline, ...) are refused.
    """
    if not name or "\\" in name or name.startswith("/") or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


def walk_bundle(source: str | os.PathLike[str] | BinaryIO, limits: Limits, report: WalkReport) -> Iterator[Member]:
    """Yield the regular-file members of a bundle, in archive (or sorted directory) order.

    ``source`` is a path to a ``.tar.gz``/``.tgz``/``.tar`` file or an extracted directory, or a
    binary stream of a (gzipped) tar. Each member's stream must be consumed before the next one
    is requested.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            yield from _walk_directory(path, limits, report)
            return
        if not path.is_file():
            raise BundleError(f"no such bundle: {path}")
        with path.open("rb") as fh:
            yield from _walk_tar_stream(fh, limits, report)
        return
    yield from _walk_tar_stream(source, limits, report)


def _open_decompressed(raw: IO[bytes]) -> IO[bytes]:
    if _gzip_threaded is not None:
        return _gzip_threaded.open(raw, "rb", threads=1, block_size=1024**2)  # type: ignore[no-any-return]
    return gzip.GzipFile(fileobj=raw, mode="rb")


def _walk_tar_stream(raw: BinaryIO, limits: Limits, report: WalkReport) -> Iterator[Member]:
    head = raw.read(2)
    buffered = io.BufferedReader(_CountingReader(PrefixedStream(head, raw), _count_compressed(report)), 1024**2)
    if head == GZIP_MAGIC:
        inflated: IO[bytes] = _open_decompressed(buffered)  # type: ignore[arg-type]
    else:
        inflated = buffered
    counted = _ForwardReader(_CountingReader(inflated, _count_uncompressed(report, limits)))
    try:
        # "r:" over a forward-only stream: member data is read straight from the inflated stream, not
        # through the 10 KiB record joins of stream mode ("r|"), which cost as much as the inflating
        tar = tarfile.open(fileobj=counted, mode="r:")  # noqa: SIM115 - closed in the finally below
    except (tarfile.ReadError, EOFError, OSError, zlib.error) as exc:
        raise BundleError(f"not a tar or tar.gz bundle: {_reason(exc)}") from None
    wrapper = _WrapperFolder()
    members = 0
    try:
        for info in tar:
            members += 1
            if members > limits.max_members:
                raise LimitExceeded(f"more than {limits.max_members} members")
            name = normalise_member_name(info.name)
            if name is None:
                if info.name.strip("./"):
                    report.skip(info.name, "unsafe member name (absolute, '..' or control characters)")
                continue
            name = wrapper.strip(name)
            if not name:
                continue
            report.max_mtime = max(report.max_mtime, float(info.mtime or 0))
            if info.isdir():
                continue
            if not info.isreg():
                report.skip(name, _member_kind(info) + " skipped")
                continue
            stream: ByteStream | None
            if info.sparse is None and counted.tell() == info.offset_data:
                stream = _MemberReader(counted, info.size)  # straight from the inflated stream
            else:  # pragma: no cover - GNU sparse members go through tarfile's own reader
                stream = tar.extractfile(info)
            if stream is None:  # pragma: no cover - regular members always have a stream
                continue
            yield Member(name, info.size, float(info.mtime or 0), stream)
    except LimitExceeded as exc:
        report.complete = False
        report.problems.append(f"stopped: {exc}")
    except (tarfile.ReadError, EOFError, zlib.error, OSError) as exc:
        report.complete = False
        report.problems.append(f"archive truncated or corrupt: {_reason(exc)}")
        if members == 0:
            raise BundleError(f"not a tar or tar.gz bundle: {_reason(exc)}") from None
    finally:
        tar.close()


class _WrapperFolder:
    """Finds the one folder an archive may wrap its files in, as members stream past.

    The collector packs ``./kernel/...``; people re-pack an extracted bundle as
    ``eks_i-…/kernel/...``, with or without directory entries. The wrapper is the first folder
    that is not a known bundle folder and holds one (``eks_i-…/kernel/...``); it is decided by the
    first member that tells, and stripped only from members under it.
    """

    def __init__(self) -> None:
        self._prefix: str | None = None
        self._decided = False

    def strip(self, name: str) -> str:
        """``name`` without the wrapper (empty for the wrapper's own directory entry)."""
        if not self._decided:
            top, _, rest = name.partition("/")
            if top in KNOWN_TOP_DIRS:
                self._decided = True
            elif rest.partition("/")[0] in KNOWN_TOP_DIRS:
                self._prefix, self._decided = top + "/", True
        if self._prefix is None:
            return name
        if name + "/" == self._prefix:
            return ""
        return name[len(self._prefix) :] if name.startswith(self._prefix) else name


def _walk_directory(root: Path, limits: Limits, report: WalkReport) -> Iterator[Member]:
    root = root.resolve()
    entries = sorted(os.scandir(root), key=lambda e: e.name)
    top = [e for e in entries if not e.name.startswith(".")]
    if len(top) == 1 and top[0].is_dir(follow_symlinks=False) and top[0].name not in KNOWN_TOP_DIRS:
        root = Path(top[0].path)
    members = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for link in [d for d in dirnames if Path(dirpath, d).is_symlink()]:
            dirnames.remove(link)
            report.skip(_rel(root, Path(dirpath, link)), "symlink skipped")
        for filename in sorted(filenames):
            full = Path(dirpath, filename)
            rel = _rel(root, full)
            st = full.lstat()
            if not stat.S_ISREG(st.st_mode):
                report.skip(rel, ("symlink" if stat.S_ISLNK(st.st_mode) else "special file") + " skipped")
                continue
            members += 1
            if members > limits.max_members:
                report.complete = False
                report.problems.append(f"stopped: more than {limits.max_members} members")
                return
            report.uncompressed_bytes += st.st_size
            if report.uncompressed_bytes > limits.max_total_bytes:
                report.complete = False
                report.problems.append(f"stopped: more than {limits.max_total_bytes} bytes")
                return
            report.max_mtime = max(report.max_mtime, st.st_mtime)
            with full.open("rb") as fh:
                yield Member(rel, st.st_size, st.st_mtime, fh)


def _rel(root: Path, path: Path) -> str:
    return posixpath.join(*path.relative_to(root).parts)


class PrefixedStream(io.RawIOBase):
    """A stream with some already-read bytes put back in front."""

    def __init__(self, prefix: bytes, rest: ByteStream) -> None:
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            out, self._prefix = self._prefix, b""
            if size < 0:
                return out + self._rest.read()
            if len(out) < size:
                out += self._rest.read(size - len(out))
            return out
        return self._rest.read(size)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _ForwardReader(io.RawIOBase):
    """A stream that knows its position and seeks forward by reading: what tarfile's "r:" mode needs.

    A tar is read in order, so tarfile only seeks to where it already is or further on (past the
    unread rest of a member); a backward seek is an error, never a silent re-read.
    """

    def __init__(self, raw: _CountingReader) -> None:
        self._raw = raw
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._pos += len(data)
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        got = self._raw.readinto(buffer)
        self._pos += got
        return got

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise OSError("the archive stream can only seek forward from its start")
        if offset < self._pos:
            raise OSError(f"the archive stream cannot seek back from {self._pos} to {offset}")
        while offset > self._pos and self.read(min(offset - self._pos, 1024**2)):
            pass
        return self._pos


class _MemberReader(io.RawIOBase):
    """The ``size`` data bytes of the current tar member, read into the caller's buffer from the archive
    stream (tarfile's own member reader copies each read twice). Ends early only with the archive,
    raising tarfile.ReadError as tarfile does."""

    def __init__(self, archive: _ForwardReader, size: int) -> None:
        self._archive = archive
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._left <= 0 or not len(buffer):
            return 0
        view = memoryview(buffer).cast("B")
        got = self._archive.readinto(view[: min(len(view), self._left)])
        if not got:
            raise tarfile.ReadError("unexpected end of data")
        self._left -= got
        return got

    def read(self, size: int = -1) -> bytes:
        want = self._left if size < 0 else min(size, self._left)
        buffer = bytearray(want)
        view = memoryview(buffer)
        filled = 0
        while filled < want:
            filled += self.readinto(view[filled:])
        return bytes(buffer)


def _count_compressed(report: WalkReport) -> Callable[[int], None]:
    def on_read(n: int) -> None:
        report.compressed_bytes += n

    return on_read


def _count_uncompressed(report: WalkReport, limits: Limits) -> Callable[[int], None]:
    def on_read(n: int) -> None:
        report.uncompressed_bytes += n
        total = report.uncompressed_bytes
        if total > limits.max_total_bytes:
            raise LimitExceeded(f"more than {limits.max_total_bytes} uncompressed bytes")
        if total > limits.ratio_floor_bytes and total > limits.max_ratio * max(report.compressed_bytes, 1):
            raise LimitExceeded(f"compression ratio above {limits.max_ratio:g} (decompression bomb?)")

    return on_read


def _member_kind(info: tarfile.TarInfo) -> str:
    if info.issym():
        return "symlink"
    if info.islnk():
        return "hardlink"
    if info.ischr() or info.isblk():
        return "device"
    if info.isfifo():
        return "fifo"
    return "special member"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
