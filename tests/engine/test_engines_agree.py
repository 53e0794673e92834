"""Hyperscan and the RE2 fallback give identical indexes: on the seed bundles and on generated ones."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eksdiag.engine import multimatch, scanner
from eksdiag.engine.indexer import Limits, index_bundle
from eksdiag.engine.multimatch import ENGINE_ENV, hyperscan_available
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.test_line_rules import NEGATIVE, POSITIVE

pytestmark = pytest.mark.skipif(not hyperscan_available(), reason="the fast path needs the hyperscan package")

PATHS = [
    "kubelet/kubelet.log",
    "kernel/dmesg.current",
    "var_log/messages",
    "containerd/containerd-log.txt",
    "var_log/aws-routed-eni/ipamd.log",
    "var_log/aws-routed-eni/plugin.log",
]
HOSTILE = [
    "CrashLoopBackOff" * 40,
    "x509: certificate has expired\x0bor not",
    "INFO: task kworker\x0b1 blocked for more than 120 seconds",
    "\u212aernel panic - not syncing",
    "é" * 30 + "no space left on device",
    "\xff\xfe invalid UTF-8 then PLEG is not healthy",
    "",
    " ",
    "\r",
]
COLLECTED = datetime(2025, 3, 6, 19, 0, tzinfo=UTC)
LINES = [line for _, line, _ in POSITIVE] + [line for _, line, *_ in NEGATIVE] + HOSTILE


def index_with(engine: str, source: Any, monkeypatch: pytest.MonkeyPatch, limits: Limits | None = None) -> dict:
    monkeypatch.setenv(ENGINE_ENV, engine)
    return index_bundle(source, limits=limits, collected_at=COLLECTED).to_dict()


def test_seed_bundles(seed_bundles: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    for bundle in seed_bundles:
        fast = index_with("hyperscan", bundle, monkeypatch)
        assert fast["findings"], "the seed bundle has findings"
        assert fast == index_with("re2", bundle, monkeypatch)


@pytest.fixture
def any_bytes_automaton(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The shared patterns compiled afresh with the automaton of any bytes used from the first block
    with a non-ASCII byte (by default RE2 confirms such lines while they are few)."""
    monkeypatch.setattr(multimatch, "GENERAL_AFTER_BYTES", 0)
    scanner._line_patterns.cache_clear()
    scanner._compiled.cache_clear()
    yield
    monkeypatch.undo()
    scanner._line_patterns.cache_clear()
    scanner._compiled.cache_clear()


@pytest.mark.usefixtures("any_bytes_automaton")
def test_bundles_of_non_ascii_lines_with_the_automaton_of_any_bytes(
    seed_bundles: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [line.encode() for line in LINES] + [b"\xff\xfe" + line.encode() for line in LINES]
    members = {path: b"\n".join(lines[i::2] + lines[1 + i % 2 :: 3]) for i, path in enumerate(PATHS)}
    data = _pack(members)
    fast = index_with("hyperscan", io.BytesIO(data), monkeypatch)
    assert fast["findings"] and fast == index_with("re2", io.BytesIO(data), monkeypatch)
    assert scanner.line_patterns("hyperscan").patterns._general_state == "compiled"
    for bundle in seed_bundles:
        assert index_with("hyperscan", bundle, monkeypatch) == index_with("re2", bundle, monkeypatch)


def _pack(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


line_text = st.one_of(st.sampled_from(LINES), st.text(max_size=40))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    members=st.dictionaries(
        st.sampled_from(PATHS), st.lists(line_text, max_size=40).map(lambda ls: "\n".join(ls).encode()), min_size=1
    ),
    chunk=st.integers(64, 4096),
)
def test_generated_bundles(members: dict[str, bytes], chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _pack(members)
    limits = Limits(chunk_bytes=chunk, max_line_bytes=chunk)
    fast = index_with("hyperscan", io.BytesIO(data), monkeypatch, limits)
    slow = index_with("re2", io.BytesIO(data), monkeypatch, limits)
    assert fast == slow


class _MemorySink:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def open(self, path: str) -> Any:
        sink = self

        class _File(io.BytesIO):
            def close(self) -> None:
                sink.files[path] = self.getvalue()
                super().close()

        return _File()


def test_the_shared_pass_redacts_exactly_as_the_redacting_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One pass finds the rules' lines and the redaction triggers; what it stores is byte for byte what
    the redaction's own stream (its RE2 trigger search) gives, on the red-team corpus, on both engines."""
    from eksdiag.engine.redact import RedactingStream

    from tests.security import corpus

    redteam = corpus.build(tmp_path)
    summaries = []
    for engine in ("hyperscan", "re2"):
        monkeypatch.setenv(ENGINE_ENV, engine)
        sink = _MemorySink()
        index = index_bundle(redteam.path, sink=sink, collected_at=COLLECTED)
        summaries.append(index.redactions)
        checked = 0
        for path, raw in redteam.files.items():
            stored = sink.files.get(path)
            if stored is None or b"\x00" in raw[:8192]:
                continue
            if path.endswith(".gz"):
                try:
                    raw = gzip.decompress(raw)
                except (EOFError, OSError):
                    continue  # the truncated rotation: checked by the security tests
                stored = gzip.decompress(stored)
            expected = RedactingStream(io.BytesIO(raw), lambda _r: None).read()
            assert stored == expected, (engine, path)
            checked += 1
        assert checked > 5
    assert summaries[0] == summaries[1] and summaries[0]["count"] > 0
