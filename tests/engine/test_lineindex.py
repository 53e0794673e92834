"""The sparse line index: every entry is an exact line start of the bytes written, it stays small,
and the indexer writes it beside large extracted text files, computed over what the sink received."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import IO

import pytest
from eksdiag.engine.indexer import index_bundle
from eksdiag.engine.lineindex import MIN_INDEXED_BYTES, LineIndex, LineIndexBuilder
from hypothesis import given, settings
from hypothesis import strategies as st


def check_entries(index: LineIndex, data: bytes) -> None:
    for line, offset in zip(index.lines, index.offsets, strict=True):
        assert data[offset - 1 : offset] == b"\n"
        assert data.count(b"\n", 0, offset) + 1 == line


@settings(max_examples=200, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 700), max_size=300),
    trailing=st.booleans(),
    cuts=st.lists(st.integers(1, 3000), min_size=1, max_size=50),
    stride=st.sampled_from([1, 7, 256, 1024]),
    max_entries=st.integers(1, 40),
)
def test_entries_are_exact_line_starts_whatever_the_write_sizes(
    lengths: list[int], trailing: bool, cuts: list[int], stride: int, max_entries: int
) -> None:
    data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if trailing and lengths else b"")
    builder = LineIndexBuilder(stride=stride, max_entries=max_entries)
    pos = i = 0
    while pos < len(data):
        step = cuts[i % len(cuts)]
        builder.feed(memoryview(data)[pos : pos + step] if i % 2 else data[pos : pos + step])
        pos += step
        i += 1
    index = LineIndex.from_json(builder.to_json())
    assert len(index.lines) <= max_entries
    assert index.size == len(data)
    assert index.total_lines == data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    check_entries(index, data)
    for target in range(1, index.total_lines + 1, max(1, index.total_lines // 25)):
        line, offset = index.locate(target)
        assert line <= target
        assert data.count(b"\n", 0, offset) + 1 == line


def test_a_two_gib_file_gets_an_index_of_a_few_hundred_kib() -> None:
    builder = LineIndexBuilder()
    block = (b"x" * 199 + b"\n") * 5243  # about 1 MiB of 200-byte lines
    for _ in range(2048):
        builder.feed(block)
    assert len(builder.lines) <= 8192
    assert builder.stride == 256 << 10
    assert len(builder.to_json()) < 200 << 10


@pytest.mark.parametrize(
    "text",
    [
        "{}",
        '{"schema": "eksdiag.lines/1", "stride": 1, "bytes": 10, "lines": 2, "line_deltas": [2, 0], '
        '"offset_deltas": [3, 1]}',
        '{"schema": "eksdiag.lines/1", "stride": 1, "bytes": 10, "lines": 2, "line_deltas": [2], '
        '"offset_deltas": [30]}',
        '{"schema": "eksdiag.lines/1", "stride": 1, "bytes": 10, "lines": 2, "line_deltas": [true], '
        '"offset_deltas": [3]}',
        "[1]",
    ],
)
def test_malformed_indexes_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        LineIndex.from_json(text)


class _Sink:
    """A sink that keeps what it is given in memory."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.indexes: dict[str, bytes] = {}

    def open(self, path: str) -> IO[bytes]:
        return _Store(self.files, path)

    def open_line_index(self, path: str) -> IO[bytes]:
        return _Store(self.indexes, path)


class _Store(io.BytesIO):
    def __init__(self, where: dict[str, bytes], path: str) -> None:
        super().__init__()
        self._where, self._path = where, path

    def close(self) -> None:
        self._where[self._path] = self.getvalue()
        super().close()


def _bundle(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "bundle.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_the_indexer_indexes_large_text_files_it_extracts(tmp_path: Path) -> None:
    big = b"".join(b"Mar 06 12:00:%02d kubelet[1]: line %d\n" % (i % 60, i) for i in range(60000))
    assert len(big) > MIN_INDEXED_BYTES
    small = b"one line\n"
    sink = _Sink()
    index = index_bundle(
        _bundle(tmp_path, {"kubelet/kubelet.log": big, "kernel/dmesg.current": small, "var_log/x.gz": big}),
        sink=sink,
    )
    assert set(sink.indexes) == {"kubelet/kubelet.log"}
    lines = LineIndex.from_json(sink.indexes["kubelet/kubelet.log"])
    stored = sink.files["kubelet/kubelet.log"]
    assert lines.total_lines == 60000 == next(f["lines"] for f in index.files if f["path"] == "kubelet/kubelet.log")
    assert lines.size == len(stored)
    check_entries(lines, stored)
    assert json.loads(sink.indexes["kubelet/kubelet.log"])["schema"] == "eksdiag.lines/1"


def test_the_index_describes_the_bytes_written_not_the_bytes_read() -> None:
    """A writer downstream of the hook sees what the hook saw: the hook sits on the sink's writer."""
    from eksdiag.engine.indexer import _LineIndexedWriter

    stored = io.BytesIO()
    builder = LineIndexBuilder(stride=16)
    writer = _LineIndexedWriter(stored, builder)  # type: ignore[arg-type]
    source = b"".join(b"token=%s\n" % (b"s" * (i % 40)) for i in range(400))
    redacted = source.replace(b"token=", b"token=[REDACTED]")  # longer lines, same line numbers
    for i in range(0, len(redacted), 333):
        writer.write(redacted[i : i + 333])
    index = LineIndex.from_json(builder.to_json())
    check_entries(index, stored.getvalue())
    assert index.size == len(redacted) != len(source)
