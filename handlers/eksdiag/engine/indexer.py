"""Index a bundle in one streaming pass: every line of every file, into findings with stable ids.

``index_bundle`` walks the members (reader), routes each to its artifact parser (parsers) and to
the line rules that apply to it (scanner), optionally tees the bytes to a sink (extraction), then
runs the artifact rules (checks) and aggregates everything into one finding per (rule, file).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import tarfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol, cast

from isal import igzip as isal_igzip

from eksdiag.engine import copies, kernel_log, severity
from eksdiag.engine.lineindex import MIN_INDEXED_BYTES, LineIndexBuilder
from eksdiag.engine.model import Evidence, Finding, Hit, Rule
from eksdiag.engine.parsers import spec_for
from eksdiag.engine.parsers.logline import collection_time_from_name, line_timestamp
from eksdiag.engine.reader import (
    BundleError,
    ByteStream,
    LimitExceeded,
    Limits,
    Member,
    WalkReport,
    walk_bundle,
)
from eksdiag.engine.redact import BlockRedactor, token_boundary
from eksdiag.engine.redact_log import RedactionLog, StoredCopy
from eksdiag.engine.rules import CATALOGUE, rule_by_id
from eksdiag.engine.scanner import (
    BINARY_PROBE_BYTES,
    BlockReader,
    FileScanner,
    Occurrences,
    Redacting,
    Searched,
    compile_rules,
    decode_line,
    rules_for_path,
)

INDEX_SCHEMA = "eksdiag.index/1"
MAX_EVIDENCE = 5
#: Blocks searched ahead of the one being finished; threads searching them (Hyperscan releases the GIL).
PIPELINE_DEPTH = 3
SEARCH_THREADS = 2
_STREAM_ERRORS = (LimitExceeded, tarfile.ReadError, EOFError, zlib.error, OSError)
_NESTED_ERRORS = (LimitExceeded, EOFError, zlib.error, gzip.BadGzipFile)
_BUNDLE_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

__all__ = ["BundleError", "BundleIndex", "Limits", "MemberSink", "bundle_id_from_name", "index_bundle"]


class MemberSink(Protocol):
    """Where extracted member files go (a local folder, S3 multipart uploads).

    A sink that also has ``open_line_index(path) -> IO[bytes]`` gets the line index of each large
    text file written through it (:mod:`eksdiag.engine.lineindex`), stored beside the file.
    """

    def open(self, path: str) -> IO[bytes]: ...


@dataclass
class BundleIndex:
    bundle: dict[str, Any]
    findings: list[Finding]
    files: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    rule_counts: dict[str, int] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    redactions: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": INDEX_SCHEMA,
            "bundle": self.bundle,
            "findings": [f.to_dict() for f in self.findings],
            "files": self.files,
            "skipped": self.skipped,
            "artifacts": self.artifacts,
            "rule_counts": self.rule_counts,
            "events": self.events,
            "redactions": self.redactions,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BundleIndex:
        if data.get("schema") != INDEX_SCHEMA:
            raise ValueError(f"not an eksdiag index (schema {data.get('schema')!r})")
        return cls(
            bundle=dict(data["bundle"]),
            findings=[Finding.from_dict(f) for f in data["findings"]],
            files=list(data.get("files", [])),
            skipped=list(data.get("skipped", [])),
            artifacts=dict(data.get("artifacts", {})),
            rule_counts=dict(data.get("rule_counts", {})),
            events=list(data.get("events", [])),
            redactions=dict(data.get("redactions", {})),
        )

    def finding(self, finding_id: str) -> Finding | None:
        return next((f for f in self.findings if f.id == finding_id), None)


def bundle_id_from_name(name: str) -> str:
    """A safe, stable bundle id from an archive or folder name."""
    stem = name
    for suffix in (".tar.gz", ".tgz", ".tar"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    safe = _BUNDLE_ID_UNSAFE.sub("-", stem).strip("-.") or "bundle"
    return safe[:96]


def finding_id(bundle_id: str, rule: str, file: str) -> str:
    digest = hashlib.sha256(f"{bundle_id}\x00{rule}\x00{file}".encode()).hexdigest()
    return "F-" + digest[:16]


def index_bundle(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    bundle_id: str | None = None,
    name: str | None = None,
    limits: Limits | None = None,
    sink: MemberSink | None = None,
    collected_at: datetime | None = None,
    redact: bool = True,
) -> BundleIndex:
    """Index one bundle (a ``.tar.gz``/``.tgz`` path or stream, or an extracted directory).

    Secrets are redacted (see :mod:`eksdiag.engine.redact`) before anything is stored or indexed;
    ``redact=False`` is for local use on the operator's own machine only, never on the Lambda path.

    Raises BundleError when the input is not a bundle at all; every other problem (truncation,
    limits, unsafe members, unreadable files) is reported in the index and what was read is kept.
    """
    limits = limits or Limits()
    if name is None:
        name = Path(os.fspath(source)).name if isinstance(source, (str, os.PathLike)) else "bundle"
    bundle_id = bundle_id or bundle_id_from_name(name)
    with ThreadPoolExecutor(max_workers=SEARCH_THREADS, thread_name_prefix="eksdiag-search") as searchers:
        run = _IndexRun(limits, sink, searchers, redact)
        for member in walk_bundle(source, limits, run.report):
            try:
                run.index_member(member)
            except _STREAM_ERRORS as exc:
                run.report.complete = False
                run.report.problems.append(f"{member.path}: archive stream ended: {_reason(exc)}")
                break
    return run.finish(bundle_id, name, collected_at)


class _IndexRun:
    """State of one indexing pass."""

    def __init__(
        self,
        limits: Limits,
        sink: MemberSink | None,
        searchers: Executor,
        redact: bool = True,
    ) -> None:
        self.limits = limits
        self.sink = sink
        self.redaction = RedactionLog(enabled=redact)
        self.searchers = searchers
        self.report = WalkReport()
        self.occurrences: list[Occurrences] = []
        self.artifacts: dict[str, dict[str, Any]] = {}
        self.files: list[dict[str, Any]] = []
        self.paths: set[str] = set()

    def index_member(self, member: Member) -> None:
        writer: _Writer | None = self.sink.open(member.path) if self.sink else None
        lines: LineIndexBuilder | None = None
        if writer is not None and not member.path.endswith(".gz"):  # read inflates .gz: no offsets into it
            lines = LineIndexBuilder()
            writer = _LineIndexedWriter(writer, lines)
        try:
            entry = self._scan(member.path, member.stream, writer)
        finally:
            if writer is not None:
                writer.close()
        stored_size = entry.pop("stored_size", None)  # what the sink holds (redacted, maybe recompressed)
        entry["size"] = member.size if stored_size is None else stored_size
        if lines is not None and lines.size >= MIN_INDEXED_BYTES and not entry["binary"]:
            self._save_line_index(member.path, lines)
        self.files.append(entry)
        self.paths.add(member.path)

    def _save_line_index(self, path: str, lines: LineIndexBuilder) -> None:
        open_index = getattr(self.sink, "open_line_index", None)
        if open_index is None:
            return
        out = open_index(path)
        try:
            out.write(lines.to_json())
        finally:
            out.close()

    def _scan(self, path: str, raw: ByteStream, sink_writer: _Writer | None) -> dict[str, Any]:
        writer = cast("IO[bytes] | None", sink_writer)  # a file-like writer: write and close are all it needs
        entry: dict[str, Any] = {"path": path, "size": 0, "lines": 0, "binary": False}
        nested = path.endswith(".gz")
        if not self.redaction.enabled:  # --no-redact (local only): the sink gets the bytes as they came
            stored = StoredCopy(raw, writer)
            try:
                probe = _Probe(_BoundedGzip(stored, self.limits.max_nested_gzip_bytes) if nested else stored)
                if probe.is_binary():
                    entry["binary"] = True
                else:
                    self._scan_text(path, probe, entry, None)
                stored.drain()
            except _NESTED_ERRORS as exc:
                self._rotation_unreadable(path, nested, entry, exc)
                stored.drain()
            finally:
                stored.close()
            if stored.size is not None:
                entry["stored_size"] = stored.size
            return entry
        # the sink, the scanner and the parsers all get the redacted bytes (a rotated .gz: inflated,
        # redacted, compressed again)
        text = _BoundedGzip(raw, self.limits.max_nested_gzip_bytes) if nested else raw
        store = _StoredBlocks(writer, recompress=nested)
        try:
            probe = _Probe(text)
            if probe.is_binary():
                entry["binary"] = True
                copy = self.redaction.copy(path, probe, None, recompress=False)
                while data := copy.read(1 << 20):
                    store.write(data)
            else:
                redacting = Redacting(BlockRedactor(), self.redaction.recorder(path), store)
                self._scan_text(path, probe, entry, redacting)
        except _NESTED_ERRORS as exc:
            self._rotation_unreadable(path, nested, entry, exc)
        finally:
            store.close()
        if store.size is not None:
            entry["stored_size"] = store.size
        return entry

    def _rotation_unreadable(self, path: str, nested: bool, entry: dict[str, Any], exc: Exception) -> None:
        """A rotated ``.gz`` log that fails is reported and the bundle goes on; anything else stops it."""
        if not nested:
            raise exc
        self.report.problems.append(f"{path}: nested gzip unreadable: {_reason(exc)}")
        entry["incomplete"] = True

    def _scan_text(self, path: str, probe: _Probe, entry: dict[str, Any], redacting: Redacting | None) -> None:
        cut = token_boundary if redacting is not None else None
        reader = BlockReader(probe, self.limits.chunk_bytes, self.limits.max_line_bytes, cut)
        rules = rules_for_path(path, CATALOGUE)
        ruleset = compile_rules(rules) if rules else None
        scanner = FileScanner(path, ruleset, self.occurrences.append, redacting, search_helper=self.searchers)
        spec = spec_for(path)
        blocks = iter(reader)
        if spec is not None:
            self._parse_artifact(path, spec.kind, spec.parse, _scanned(blocks, scanner))
        _scan_pipelined(blocks, scanner, self.searchers)  # whatever the parser did not read
        scanner.finish()
        entry["lines"] = scanner.lines
        if reader.long_lines:
            entry["long_lines"] = reader.long_lines

    def _parse_artifact(self, path: str, kind: str, parse: Any, blocks: Iterator[tuple[bytes, int]]) -> None:
        try:
            parsed = parse(_lines(blocks))
        except (ValueError, KeyError, IndexError, TypeError, UnicodeError) as exc:
            self.report.problems.append(f"{path}: {kind} parser failed: {_reason(exc)}")
            return
        self.artifacts[path] = parsed

    def finish(self, bundle_id: str, name: str, collected_at: datetime | None) -> BundleIndex:
        reference = collected_at or self._collection_time(name)
        booted = kernel_log.boot_time(self.artifacts, reference)
        boot = booted.when if booted else None
        findings: dict[tuple[str, str], Finding] = {}
        events: list[dict[str, Any]] = []
        for occ in self.occurrences:
            finding = _finding_from_occurrences(bundle_id, occ, reference, boot)
            findings[(occ.rule.id, occ.file)] = finding
            events.extend(_events(occ, finding, reference, boot))
        copies.merge_copies(findings, events, {rule_id: rule_by_id(rule_id) for rule_id, _ in findings}, reference)
        for hit, rule in self._artifact_hits():
            key = (rule.id, hit.file)
            findings[key] = _merge_hit(findings.get(key), bundle_id, rule, hit)
        ordered = sorted(findings.values(), key=lambda f: (-f.severity.rank, f.rule, f.file))
        rule_counts: dict[str, int] = {}
        for f in ordered:
            rule_counts[f.rule] = rule_counts.get(f.rule, 0) + f.count
        events.sort(key=lambda e: (e["time"], e["file"], e["line"]))
        bundle = {
            "id": bundle_id,
            "name": name,
            **self._identity(),
            "collected_at": _iso(reference),
            "variant": self._variant(),
            "complete": self.report.complete,
            "problems": self.report.problems,
            "files": len(self.files),
            "bytes_compressed": self.report.compressed_bytes,
            "bytes_uncompressed": self.report.uncompressed_bytes,
        }
        return BundleIndex(
            bundle,
            ordered,
            self.files,
            self.report.skipped,
            self.artifacts,
            rule_counts,
            events,
            self.redaction.summary(),
        )

    def _artifact_hits(self) -> Iterable[tuple[Hit, Rule]]:
        for rule in CATALOGUE:
            if rule.check is None:
                continue
            try:
                hits = rule.check(self.artifacts)
            except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
                self.report.problems.append(f"rule {rule.id} failed: {_reason(exc)}")
                continue
            for hit in hits:
                yield hit, rule

    def _collection_time(self, name: str) -> datetime:
        from_name = collection_time_from_name(name)
        if from_name is not None:
            return from_name
        if self.report.max_mtime > 0:
            return datetime.fromtimestamp(self.report.max_mtime, UTC)
        self.report.problems.append("collection time unknown (no bundle name or file times): assumed now")
        return datetime.now(UTC)

    def _identity(self) -> dict[str, str | None]:
        def value(path: str) -> str | None:
            art = self.artifacts.get(path) or {}
            return art.get("value") if art.get("valid", True) else None

        return {
            "instance_id": value("system/instance-id.txt"),
            "region": value("system/region.txt"),
            "availability_zone": value("system/availability-zone.txt"),
        }

    def _variant(self) -> str:
        if "kubelet/config.json" in self.paths or any(
            f["path"].startswith("nodeadm/") and f["lines"] > 1 for f in self.files
        ):
            return "al2023"
        if "kubelet/kubelet-config.json" in self.paths or "var_log/messages" in self.paths:
            return "al2"
        return "unknown"


def _scan_pipelined(blocks: Iterator[tuple[bytes, bool, bool]], scanner: FileScanner, searchers: Executor) -> None:
    """Search the blocks on the searcher threads, several at once, while this thread reads the next
    ones and finishes the searched ones in order (redaction, storing, classifying, numbering).

    The searches (Hyperscan, or RE2) release the GIL for the most part, as ISA-L does while it inflates
    on its own thread; this thread's work is the Python in between. At most PIPELINE_DEPTH blocks
    wait, so memory stays bounded. Blocks already read are recorded even when the stream then fails
    (a truncated archive).
    """
    pending: deque[tuple[Future[Searched], bool, bool]] = deque()
    try:
        for block, piece, open_end in blocks:
            pending.append((searchers.submit(scanner.search, block), piece, open_end))
            if len(pending) > PIPELINE_DEPTH:
                _finish_block(scanner, *pending.popleft())
    finally:
        while pending:
            _finish_block(scanner, *pending.popleft())


def _finish_block(scanner: FileScanner, searched: Future[Searched], piece: bool, open_end: bool) -> None:
    scanner.record(scanner.examine(scanner.prepare(searched.result(), open_end), piece))


def _scanned(blocks: Iterator[tuple[bytes, bool, bool]], scanner: FileScanner) -> Iterator[tuple[bytes, int]]:
    """Scan each block, then hand it on (as stored: redacted) with the number of lines before it."""
    for block, piece, open_end in blocks:
        base = scanner.lines
        yield scanner.scan_block(block, piece, open_end), base


def _lines(blocks: Iterator[tuple[bytes, int]]) -> Iterator[tuple[int, str]]:
    for block, base in blocks:
        pieces = block.split(b"\n")
        pieces.pop()  # the block ends with a newline
        for offset, raw in enumerate(pieces, base + 1):
            yield offset, raw.decode("utf-8", "replace").rstrip("\r")


def _finding_from_occurrences(
    bundle_id: str, occ: Occurrences, reference: datetime, boot: datetime | None = None
) -> Finding:
    rule = occ.rule
    first_line, first_raw = occ.first
    _, last_raw = occ.last
    first = line_timestamp(decode_line(first_raw), reference, boot)
    last = line_timestamp(decode_line(last_raw), reference, boot)
    assessed = severity.for_lines(rule, occ.count, first, last, reference)
    return Finding(
        id=finding_id(bundle_id, rule.id, occ.file),
        rule=rule.id,
        severity=assessed.severity,
        severity_reason=assessed.reason,
        remedy=rule.remedy,
        category=rule.category,
        title=rule.title,
        file=occ.file,
        line=first_line,
        count=occ.count,
        evidence=occ.evidence(),
        first_seen=_iso(first),
        last_seen=_iso(last),
    )


def _merge_hit(existing: Finding | None, bundle_id: str, rule: Rule, hit: Hit) -> Finding:
    assessed = severity.for_hit(rule, hit)
    if existing is None:
        return Finding(
            id=finding_id(bundle_id, rule.id, hit.file),
            rule=rule.id,
            severity=assessed.severity,
            severity_reason=assessed.reason,
            remedy=rule.remedy,
            category=rule.category,
            title=rule.title,
            file=hit.file,
            line=hit.line,
            count=hit.count,
            evidence=list(hit.evidence[:MAX_EVIDENCE]),
            detail=dict(hit.detail),
        )
    if assessed.severity.rank > existing.severity.rank:
        existing.severity = assessed.severity
        existing.severity_reason = assessed.reason
    existing.count += hit.count
    existing.line = min(existing.line, hit.line)
    seen = {e.line for e in existing.evidence}
    extra: list[Evidence] = [e for e in hit.evidence if e.line not in seen]
    existing.evidence = sorted(existing.evidence + extra, key=lambda e: e.line)[:MAX_EVIDENCE]
    existing.detail.update(hit.detail)
    return existing


def _events(
    occ: Occurrences, finding: Finding, reference: datetime, boot: datetime | None = None
) -> Iterator[dict[str, Any]]:
    for lineno, raw in occ.samples():
        text = decode_line(raw)
        when = line_timestamp(text, reference, boot)
        if when is None:
            continue
        yield {
            "time": _iso(when),
            "rule": occ.rule.id,
            "severity": finding.severity.value,
            "category": occ.rule.category,
            "file": occ.file,
            "line": lineno,
            "text": text,
        }


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Writer(Protocol):
    def write(self, data: Any, /) -> int: ...
    def close(self) -> None: ...


class _StoredBlocks:
    """What the sink stores of one member: the blocks written to it (gzipped again for ``*.gz``).

    ``size`` is the number of bytes the sink received (None without a sink).
    """

    def __init__(self, writer: IO[bytes] | None, *, recompress: bool) -> None:
        self._writer = writer
        self.size: int | None = 0 if writer is not None else None
        self._target: Any = self if writer is not None else None
        if writer is not None and recompress:
            self._target = isal_igzip.GzipFile(fileobj=_Counted(self), mode="wb", compresslevel=1, mtime=0)

    def write(self, data: Any) -> int:
        if self._target is self:
            return self._store(data)
        if self._target is not None:
            self._target.write(data)
        return len(data)

    def _store(self, data: Any) -> int:
        assert self._writer is not None and self.size is not None
        self._writer.write(data)
        self.size += len(data)
        return len(data)

    def close(self) -> None:
        if self._target is not None and self._target is not self:
            self._target.close()  # the gzip trailer; the sink's writer stays open for its owner
        self._target = None


class _Counted(io.RawIOBase):
    """The file object a GzipFile writes its compressed bytes to: they go to the sink."""

    def __init__(self, owner: _StoredBlocks) -> None:
        self._owner = owner

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self._owner._store(data)


class _LineIndexedWriter:
    """Wraps the sink's writer: every byte written to the stored file also feeds its line index, so the
    offsets are those of the stored bytes, whatever was done to them on the way (redaction)."""

    def __init__(self, target: _Writer, lines: LineIndexBuilder) -> None:
        self._target = target
        self._lines = lines

    def write(self, data: Any) -> int:
        self._lines.feed(data)
        return int(self._target.write(data))

    def close(self) -> None:
        self._target.close()


class _Probe(io.RawIOBase):
    """Peeks at the first bytes of a stream to tell text from binary, then reads through."""

    def __init__(self, source: ByteStream) -> None:
        self._head = source.read(BINARY_PROBE_BYTES)
        self._binary = b"\x00" in self._head
        self._source = source
        self._source_readinto = getattr(source, "readinto", None)

    def is_binary(self) -> bool:
        return self._binary

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:  # the peeked bytes alone: a source that fails next must not take them with it
            if 0 <= size < len(self._head):
                out, self._head = self._head[:size], self._head[size:]
                return out
            out, self._head = self._head, b""
            return out
        return self._source.read(size)

    def readinto(self, buffer: Any) -> int:
        if self._head or self._source_readinto is None:
            data = self.read(len(buffer))
            buffer[: len(data)] = data
            return len(data)
        return int(self._source_readinto(buffer))


class _BoundedGzip(io.RawIOBase):
    """Inflates a rotated ``.gz`` log inside the bundle, with a cap on inflated bytes.

    Concatenated gzip members are read in turn. A truncated file gives everything before the cut,
    then raises EOFError; output is bounded per call whatever the compression ratio.
    """

    _PIECE = 1 << 20

    def __init__(self, raw: ByteStream, max_bytes: int) -> None:
        self._raw = raw
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._in_member = False
        self._left = max_bytes
        self._max = max_bytes

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._inflate()
        self._left -= len(data)
        if self._left < 0:
            raise LimitExceeded(f"rotated log inflates to more than {self._max} bytes")
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _inflate(self) -> bytes:
        while True:
            inflater = self._inflater
            if inflater.unconsumed_tail:
                data = inflater.decompress(inflater.unconsumed_tail, self._PIECE)
            elif inflater.eof:
                rest = inflater.unused_data or self._raw.read(1 << 16)
                if not rest.startswith(b"\x1f\x8b"):
                    return b""  # the end (trailing padding after the last member is ignored)
                self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                data = self._inflater.decompress(rest, self._PIECE)
            else:
                chunk = self._raw.read(1 << 16)
                if not chunk:
                    if self._in_member:
                        raise EOFError("compressed file ended before the end-of-stream marker was reached")
                    return b""
                self._in_member = True
                data = inflater.decompress(chunk, self._PIECE)
            if data:
                return data
