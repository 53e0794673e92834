"""read seeks through the line index the indexer stored beside a large file (local folder and S3),
answers exactly what a read from the top answers, and ignores an index that does not fit the file."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest
from eksdiag.adapters import line_index_key
from eksdiag.adapters.ingest import ingest
from eksdiag.engine.lineindex import MIN_INDEXED_BYTES, LineIndex
from eksdiag.tools.base import ToolContext

from tests.tools.conftest import run_tool

BUNDLE = "b-20260306180000-0a1b2c3d"
INSTANCE = "i-0123456789abcdef0"
LOG = "kubelet/kubelet.log"
# lines of varying length, some long, some non-ASCII, no final newline: about 3 MiB
LINES = [
    (f"Mar 06 18:{i % 60:02d}:00 kubelet[3456]: line {i} " + "é" * (i % 7) + "x" * ((i * 37) % 400)).encode()
    for i in range(1, 20001)
]
DATA = b"\n".join(LINES)


@pytest.fixture(params=["local", "aws"])
def big(request: pytest.FixtureRequest, tmp_path: Path) -> ToolContext:
    ctx: ToolContext = request.getfixturevalue("local_ctx" if request.param == "local" else "aws_ctx")
    archive = tmp_path / "node.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(f"./{LOG}")
        info.size = len(DATA)
        tar.addfile(info, io.BytesIO(DATA))
    ingest(ctx, archive, bundle_id=BUNDLE, instance_id=INSTANCE, name=archive.name)
    return ctx


def read(ctx: ToolContext, start: int, count: int = 7) -> dict[str, Any]:
    return run_tool(ctx, "findings___read", {"bundleId": BUNDLE, "path": LOG, "startLine": start, "lineCount": count})


def expected(start: int, count: int = 7) -> dict[str, Any]:
    chosen = LINES[start - 1 : start - 1 + count]
    first = sum(len(line) + 1 for line in LINES[: start - 1])
    end = first + sum(len(line) + 1 for line in chosen)
    return {
        "startLine": start,
        "endLine": start + len(chosen) - 1,
        "startByte": first,
        "endByte": min(end, len(DATA)),
        "content": "".join(line.decode() + "\n" for line in chosen),
    }


WHERE = [1, 2, 999, 5000, 10_000, 12_345, 19_994, 20_000]


def test_the_index_is_stored_and_read_answers_exactly(big: ToolContext) -> None:
    assert len(DATA) > MIN_INDEXED_BYTES
    index = LineIndex.from_json(big.store.get_text(line_index_key(BUNDLE, LOG), 1 << 20))
    assert index.total_lines == len(LINES) and index.size == len(DATA)
    for start in WHERE:
        got = read(big, start)
        assert {k: got[k] for k in expected(start)} == expected(start), start


class _Counting:
    """The store, counting the bytes read from the file itself."""

    def __init__(self, store: Any) -> None:
        self._store, self.bytes = store, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def read_range(self, bundle_id: str, path: str, start: int, end: int) -> bytes:
        data: bytes = self._store.read_range(bundle_id, path, start, end)
        self.bytes += len(data)
        return data

    def iter_chunks(self, bundle_id: str, path: str, chunk: int = 1 << 20) -> Any:
        for data in self._store.iter_chunks(bundle_id, path, chunk):
            self.bytes += len(data)
            yield data


def test_a_read_near_the_end_reads_a_stride_not_the_file(big: ToolContext) -> None:
    counting = _Counting(big.store)
    big.store = counting  # type: ignore[assignment]
    got = read(big, 19_994)
    assert got["content"] == expected(19_994)["content"]
    assert counting.bytes <= 512 << 10 < len(DATA)


def test_an_index_that_does_not_fit_the_file_is_ignored(big: ToolContext, tmp_path: Path) -> None:
    real = LineIndex.from_json(big.store.get_text(line_index_key(BUNDLE, LOG), 1 << 20))
    shifted = {
        "schema": "eksdiag.lines/1",
        "stride": 1,
        "bytes": real.size,
        "lines": real.total_lines,
        "line_deltas": [real.lines[0]],
        "offset_deltas": [real.offsets[0] + 3],  # not a line start
    }
    _overwrite(big, line_index_key(BUNDLE, LOG), shifted)
    big.cache.clear()
    for start in (real.lines[0], 15_000):
        got = read(big, start)
        assert {k: got[k] for k in expected(start)} == expected(start)
    _overwrite(big, line_index_key(BUNDLE, LOG), {"schema": "something else"})
    big.cache.clear()
    assert read(big, 15_000)["content"] == expected(15_000)["content"]


def _overwrite(ctx: ToolContext, key: str, document: dict[str, Any]) -> None:
    import json

    body = json.dumps(document).encode()
    store: Any = ctx.store
    if ctx.local:
        store.key_path(key).write_bytes(body)
    else:
        store.client.put_object(Bucket=store.bucket, Key=key, Body=body)
