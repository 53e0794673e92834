"""Reading bundle files line by line from the store, with exact 1-based line numbers and byte offsets."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from eksdiag.tools.base import ToolContext, ToolError

#: A rotated ``*.gz`` log may inflate to at most this many bytes when searched or read.
MAX_INFLATED = 512 << 20
#: Longer lines are cut to this many bytes when returned (offsets and numbering stay exact).
MAX_LINE_BYTES = 64 << 10


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


def _chunks_from(ctx: ToolContext, bundle_id: str, path: str, start: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    while True:
        data = ctx.store.read_range(bundle_id, path, start, start + chunk)
        if not data:
            return
        yield data
        start += len(data)


def iter_lines(ctx: ToolContext, bundle_id: str, path: str, start_line: int = 1, start_byte: int = 0) -> Iterator[Line]:
    """Lines of a bundle file from ``start_line`` on (``*.gz`` files are inflated on the fly).

    With ``start_byte`` (the offset where ``start_line`` begins, e.g. from a cursor) reading starts
    there instead of at the top. Byte offsets refer to the uncompressed content. A final line
    without a newline is still a line.
    A line longer than :data:`MAX_LINE_BYTES` keeps only its first bytes (its offsets stay exact).
    """
    number, line_start, consumed = 1, 0, 0
    if path.endswith(".gz"):
        chunks = _inflate(ctx.store.iter_chunks(bundle_id, path))
    elif start_byte > 0:
        # resume: the caller vouches that start_byte is where line start_line begins
        chunks = _chunks_from(ctx, bundle_id, path, start_byte)
        number, line_start, consumed = start_line, start_byte, start_byte
    else:
        chunks = ctx.store.iter_chunks(bundle_id, path)
    head: list[bytes] = []
    head_len = 0
    for chunk in chunks:
        begin = 0
        while begin < len(chunk):
            cut = chunk.find(b"\n", begin)
            piece = chunk[begin:] if cut < 0 else chunk[begin:cut]
            if number >= start_line and head_len < MAX_LINE_BYTES:
                piece = piece[: MAX_LINE_BYTES - head_len]
                head.append(piece)
                head_len += len(piece)
            if cut < 0:
                consumed += len(chunk) - begin
                break
            consumed += cut - begin + 1
            if number >= start_line:
                yield Line(number, line_start, b"".join(head), consumed - 1 - line_start, True)
            head, head_len = [], 0
            number += 1
            line_start = consumed
            begin = cut + 1
    if consumed > line_start and number >= start_line:
        yield Line(number, line_start, b"".join(head), consumed - line_start, False)
