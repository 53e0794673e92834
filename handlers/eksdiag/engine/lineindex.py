"""A sparse line index of an extracted file: where a line starts about every ``stride`` bytes.

Built while the file is written (:class:`LineIndexBuilder` sees exactly the bytes that are stored,
redacted or not), saved beside the file, and used by ``read`` to start at the nearest indexed line
instead of the top: one seek (a ranged GET on S3) and at most about ``stride`` bytes scanned, at any
line of a multi-GB log.

Entries are ``(line, offset)``: line number ``line`` (1-based) starts at byte ``offset``. The first
entry is the first line start at or after ``stride``, the next the first at or after the next
multiple of ``stride`` past it, and so on. When the entries would exceed ``max_entries`` every other
one is dropped and the stride doubles, so the index stays small (a few hundred KiB at most) whatever
the file size.

Stored as JSON: ``{"schema", "stride", "bytes", "lines", "line_deltas", "offset_deltas"}``, the
entries delta-encoded.
"""

from __future__ import annotations

import bisect
import itertools
import json
from typing import Any

SCHEMA = "eksdiag.lines/1"
STRIDE = 64 << 10
MAX_ENTRIES = 8192
#: Smaller files are read from the top (a few milliseconds): no index is written for them.
MIN_INDEXED_BYTES = 1 << 20
#: An index file larger than this is refused when read.
MAX_INDEX_BYTES = 1 << 20


class LineIndexBuilder:
    """Feed it the bytes of a file in order, in pieces of any size; then :meth:`to_json`."""

    def __init__(self, stride: int = STRIDE, max_entries: int = MAX_ENTRIES) -> None:
        self.stride = stride
        self.max_entries = max_entries
        self.size = 0
        self.newlines = 0
        self._next = stride  # the next entry is the first line start at or after this offset
        self.lines: list[int] = []
        self.offsets: list[int] = []
        self._ends_open = False  # the last line has no newline (it still counts)

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        if isinstance(data, memoryview):
            data = data.tobytes()
        n = len(data)
        base = self.size
        counted = 0  # newlines of data[:counted] are in self.newlines
        while self._next - base <= n:
            newline = data.find(b"\n", max(self._next - base - 1, 0))
            if newline < 0:
                break
            self.newlines += data.count(b"\n", counted, newline + 1)
            counted = newline + 1
            start = base + counted
            self.lines.append(self.newlines + 1)
            self.offsets.append(start)
            if len(self.lines) > self.max_entries:
                del self.lines[::2], self.offsets[::2]
                self.stride *= 2
            self._next = (start // self.stride + 1) * self.stride
        self.newlines += data.count(b"\n", counted)
        self.size += n
        if n:
            self._ends_open = data[-1:] != b"\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "stride": self.stride,
            "bytes": self.size,
            "lines": self.newlines + (1 if self._ends_open else 0),
            "line_deltas": _deltas(self.lines),
            "offset_deltas": _deltas(self.offsets),
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()


class LineIndex:
    """A loaded index: :meth:`locate` gives the nearest indexed line start at or before a line."""

    def __init__(self, lines: list[int], offsets: list[int], size: int, total_lines: int) -> None:
        self.lines = lines
        self.offsets = offsets
        self.size = size
        self.total_lines = total_lines

    def locate(self, line: int) -> tuple[int, int]:
        """``(line_number, offset)`` of the last indexed line start not after ``line`` (at least ``(1, 0)``)."""
        i = bisect.bisect_right(self.lines, line) - 1
        return (self.lines[i], self.offsets[i]) if i >= 0 else (1, 0)

    @classmethod
    def from_json(cls, text: str | bytes) -> LineIndex:
        """Parse and check an index; raises ValueError when it is not one we wrote."""
        if len(text) > MAX_INDEX_BYTES:
            raise ValueError("line index too large")
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ValueError("not an eksdiag line index")
        size, total = data.get("bytes"), data.get("lines")
        lines, offsets = _undelta(data.get("line_deltas")), _undelta(data.get("offset_deltas"))
        if not isinstance(size, int) or not isinstance(total, int) or not (_count(size) and _count(total)):
            raise ValueError("malformed line index")
        if len(lines) != len(offsets):
            raise ValueError("malformed line index")
        if offsets and (offsets[-1] > size or lines[0] < 2):
            raise ValueError("line index points outside its file")
        return cls(lines, offsets, size, total)


def _deltas(values: list[int]) -> list[int]:
    return [b - a for a, b in zip([0, *values], values, strict=False)]


def _undelta(deltas: Any) -> list[int]:
    """Running sums of strictly positive integer deltas (so the values strictly increase)."""
    if not isinstance(deltas, list) or not all(type(d) is int for d in deltas) or min(deltas, default=1) < 1:
        raise ValueError("malformed line index")
    return list(itertools.accumulate(deltas))


def _count(value: Any) -> bool:
    return type(value) is int and value >= 0
