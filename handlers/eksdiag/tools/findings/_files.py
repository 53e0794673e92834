"""Reading bundle files line by line from the store, with exact 1-based line numbers and byte offsets."""

from __future__ import annotations

import itertools
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from eksdiag.adapters import line_index_key
from eksdiag.engine.lineindex import MAX_INDEX_BYTES, LineIndex
from eksdiag.tools.base import ToolContext, ToolError

#: A rotated ``*.gz`` log may inflate to at most this many bytes when searched or read.
MAX_INFLATED = 512 << 20
#: Longer lines are cut to this many bytes when returned (offsets and numbering stay exact).
MAX_LINE_BYTES = 64 << 10
#: The first ranged read after a seek through the line index: about one stride and a page of lines.
SEEK_FIRST_READ = 256 << 10
#: Line indexes kept per context (a few hundred KiB each at most).
LINE_INDEX_CACHE_SIZE = 16


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    start: int  # byte offset of the first byte of the line (in the stored, uncompressed file)
    raw: bytes  # without the trailing newline (cut to MAX_LINE_BYTES)
    length: int  # full length in bytes, without the newline
    newline: bool  # whether the line ends with a newline (the last one may not)

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace").rstrip("\r")


def _inflate(chunks: Iterator[bytes]) -> Iterator[bytes]:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total = 0
    for chunk in chunks:
        try:
            data = inflater.decompress(chunk)
        except zlib.error as exc:
            raise ToolError("InvalidArgument", f"compressed file is corrupt: {exc}") from None
        total += len(data)
        if total > MAX_INFLATED:
            raise ToolError("InvalidArgument", f"compressed file inflates to more than {MAX_INFLATED} bytes")
        yield data
    yield inflater.flush()


def _chunks_from(
    ctx: ToolContext, bundle_id: str, path: str, start: int, chunk: int = 1 << 20, first: int | None = None
) -> Iterator[bytes]:
    """Ranged reads from ``start`` on; the first one of ``first`` bytes (a quick start for one page)."""
    size = first or chunk
    while True:
        data = ctx.store.read_range(bundle_id, path, start, start + size)
        if not data:
            return
        yield data
        start += len(data)
        size = chunk


def line_index(ctx: ToolContext, bundle_id: str, path: str) -> LineIndex | None:
    """The stored line index of a file, or None (small, compressed or binary files, older bundles, or an
    index that does not parse). The last few are kept in the context, like bundle indexes."""
    cache: OrderedDict[tuple[str, str], LineIndex | None] = ctx.cache.setdefault("line-indexes", OrderedDict())
    key = (bundle_id, path)
    if key in cache:
        return cache[key]
    try:
        index: LineIndex | None = LineIndex.from_json(
            ctx.store.get_text(line_index_key(bundle_id, path), MAX_INDEX_BYTES + 1)
        )
    except (ToolError, ValueError):
        index = None
    cache[key] = index
    while len(cache) > LINE_INDEX_CACHE_SIZE:
        cache.pop(next(iter(cache)), None)
    return index


def lines_from(ctx: ToolContext, bundle_id: str, path: str, start_line: int) -> Iterator[Line]:
    """Lines from ``start_line`` on, starting at the nearest indexed line when the file has a line index.

    The index is trusted only where the byte before its offset is a newline; otherwise (an index that
    does not belong to the stored bytes) the file is read from the top.
    """
    index = None if path.endswith(".gz") or start_line <= 1 else line_index(ctx, bundle_id, path)
    if index is not None:
        number, offset = index.locate(start_line)
        if offset > 0:
            chunks = _chunks_from(ctx, bundle_id, path, offset - 1, first=SEEK_FIRST_READ)
            head = next(chunks, b"")
            if head[:1] == b"\n":
                return _resume(itertools.chain([head[1:]], chunks), number, offset, start_line)
    return iter_lines(ctx, bundle_id, path, start_line)


def iter_lines(ctx: ToolContext, bundle_id: str, path: str, start_line: int = 1, start_byte: int = 0) -> Iterator[Line]:
    """Lines of a bundle file from ``start_line`` on (``*.gz`` files are inflated on the fly).

    With ``start_byte`` (the offset where ``start_line`` begins, e.g. from a cursor) reading starts
    there instead of at the top. Byte offsets refer to the uncompressed content. A final line
    without a newline is still a line.
    A line longer than :data:`MAX_LINE_BYTES` keeps only its first bytes (its offsets stay exact).
    """
    if path.endswith(".gz"):
        chunks = _inflate(ctx.store.iter_chunks(bundle_id, path))
    elif start_byte > 0:
        # resume: the caller vouches that start_byte is where line start_line begins
        return _resume(_chunks_from(ctx, bundle_id, path, start_byte), start_line, start_byte)
    else:
        chunks = ctx.store.iter_chunks(bundle_id, path)
    return _resume(chunks, 1, 0, start_line)


def _resume(chunks: Iterable[bytes], number: int, line_start: int, wanted: int = 1) -> Iterator[Line]:
    """Split ``chunks`` into lines, the first being line ``number`` starting at byte ``line_start``;
    yield those from line ``wanted`` on."""
    consumed = line_start
    head: list[bytes] = []
    head_len = 0
    for chunk in chunks:
        begin = 0
        while begin < len(chunk):
            cut = chunk.find(b"\n", begin)
            piece = chunk[begin:] if cut < 0 else chunk[begin:cut]
            if number >= wanted and head_len < MAX_LINE_BYTES:
                piece = piece[: MAX_LINE_BYTES - head_len]
                head.append(piece)
                head_len += len(piece)
            if cut < 0:
                consumed += len(chunk) - begin
                break
            consumed += cut - begin + 1
            if number >= wanted:
                yield Line(number, line_start, b"".join(head), consumed - 1 - line_start, True)
            head, head_len = [], 0
            number += 1
            line_start = consumed
            begin = cut + 1
    if consumed > line_start and number >= wanted:
        yield Line(number, line_start, b"".join(head), consumed - line_start, False)
