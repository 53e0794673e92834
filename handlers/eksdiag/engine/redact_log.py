"""The indexer's side of redaction: the stored copy of each member and the record of what was redacted.

:class:`StoredCopy` is the one hook between the member stream and the sink: whatever the indexer
reads through it reaches the sink, so the sink, the scanner, the parsers and any index computed over
the stored bytes all see the same (redacted) bytes. A rotated ``*.gz`` log is inflated, redacted and
compressed again under its own name, so the tools that inflate ``*.gz`` files keep working.

:class:`RedactionLog` keeps, per bundle, the count by kind and by file and a bounded list of
``{file, line, kind}`` records: never the value.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from eksdiag.engine.reader import ByteStream
from eksdiag.engine.redact import KINDS, RedactingStream, Redaction

#: Printed on stderr whenever a local command runs with ``--no-redact``.
NO_REDACT_WARNING = (
    "eksdiag: WARNING: --no-redact: secrets in bundles (keys, tokens, passwords) are NOT redacted; every "
    "tool returns them as they are. Local use only: never send this output to a model, a ticket or a chat"
)

#: Redaction records kept in the index; the counts cover all of them.
MAX_RECORDS = 1000

try:  # ISA-L compresses several times faster than zlib; zlib is the fallback.
    from isal import igzip as _gzip_module
except ImportError:  # pragma: no cover - isal ships wheels for every Lambda platform
    import gzip as _gzip_module  # type: ignore[no-redef]


class _CountingWriter(io.RawIOBase):
    def __init__(self, target: IO[bytes]) -> None:
        self._target = target
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._target.write(data)
        self.count += len(data)
        return len(data)


class StoredCopy(io.RawIOBase):
    """Reads ``source`` and writes every byte read to the sink's ``writer`` (if any), optionally gzipped.

    ``size`` is the number of bytes the sink received, once closed (None without a writer).
    """

    def __init__(self, source: ByteStream, writer: IO[bytes] | None, *, recompress: bool = False) -> None:
        self._source = source
        self._counter = _CountingWriter(writer) if writer is not None else None
        self._target: Any = self._counter
        if self._counter is not None and recompress:
            self._target = _gzip_module.GzipFile(fileobj=self._counter, mode="wb", compresslevel=1, mtime=0)
        self.size: int | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        if data and self._target is not None:
            self._target.write(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def drain(self, chunk: int = 1 << 20) -> None:
        """Read what the indexer did not, so the sink gets the whole file."""
        if self._target is None:
            return
        while self.read(chunk):
            pass

    def close(self) -> None:
        if self._target is not None and self._target is not self._counter:
            self._target.close()  # the gzip trailer; the sink's writer stays open for its owner
        if self._counter is not None:
            self.size = self._counter.count
        self._target = None
        super().close()


@dataclass
class RedactionLog:
    """What was redacted in one bundle, and the factory of redacting stored copies."""

    enabled: bool = True
    count: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_file: dict[str, int] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)

    def copy(self, path: str, text: ByteStream, writer: IO[bytes] | None, *, recompress: bool) -> StoredCopy:
        """``text`` (inflated) redacted, as the indexer reads it and as the sink stores it."""
        return StoredCopy(RedactingStream(text, self.recorder(path)), writer, recompress=recompress)

    def recorder(self, path: str) -> Callable[[Redaction], None]:
        """Records the redactions of one file (what the indexer's own block pass finds goes here too)."""

        def record(redaction: Redaction) -> None:
            self.count += 1
            self.by_kind[redaction.kind] = self.by_kind.get(redaction.kind, 0) + 1
            self.by_file[path] = self.by_file.get(path, 0) + 1
            if len(self.records) < MAX_RECORDS:
                self.records.append({"file": path, "line": redaction.line, "kind": redaction.kind})

        return record

    def summary(self) -> dict[str, Any]:
        if not self.enabled:
            return {
                "enabled": False,
                "warning": "redaction was turned off (--no-redact, local use only): secrets in this bundle are "
                "stored and returned as they are",
                "count": 0,
            }
        return {
            "enabled": True,
            "count": self.count,
            "by_kind": dict(sorted(self.by_kind.items())),
            "by_file": dict(sorted(self.by_file.items())),
            "records": self.records,
            "truncated": self.count > len(self.records),
            "kinds_known": list(KINDS),
        }


def redaction_status(job: dict[str, Any] | None) -> dict[str, Any] | None:
    """``{"enabled", "count"}`` of the bundle's redaction, from the job the indexer updated, if any."""
    recorded = (job or {}).get("redactions")
    if not isinstance(recorded, dict):
        return None
    count = recorded.get("count", 0)
    out: dict[str, Any] = {
        "enabled": recorded.get("enabled") is True,
        "count": int(count) if isinstance(count, (int, float)) else 0,
    }
    if not out["enabled"]:
        out["warning"] = "redaction was turned off for this bundle (local --no-redact): its text is not redacted"
    return out
