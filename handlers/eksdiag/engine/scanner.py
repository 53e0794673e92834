"""Line-rule matching over large blocks of log text.

The hot path of the indexer. A per-line Python loop cannot keep up with gzip, so each block of
complete lines (about 1 MiB) is searched for every rule that applies to the file in one linear pass
(:class:`~eksdiag.engine.multimatch.PatternSet`: Hyperscan, or RE2 where it is missing), which touches
Python only where something may match. Only those lines are classified rule by rule (RE2, exact) and
counted; line numbers come from counting newlines up to each of them.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import re2

from eksdiag.engine.model import Evidence, Rule
from eksdiag.engine.multimatch import Candidate, PatternSet, default_engine
from eksdiag.engine.newlines import BlockLines, newline_marks
from eksdiag.engine.reader import ByteStream
from eksdiag.engine.redact import BlockRedactor, Redaction

EVIDENCE_HEAD = 3
EVIDENCE_TAIL = 2
TIMELINE_SAMPLES = 20
MAX_EVIDENCE_CHARS = 2000
BINARY_PROBE_BYTES = 8192

_OPTIONS = re2.Options()
_OPTIONS.max_mem = 64 << 20


def decode_line(raw: bytes) -> str:
    """Evidence text of one raw line: UTF-8 with replacement, no CR, cut at MAX_EVIDENCE_CHARS."""
    text = raw[: MAX_EVIDENCE_CHARS * 4].decode("utf-8", "replace").rstrip("\r")
    return text if len(text) <= MAX_EVIDENCE_CHARS else text[:MAX_EVIDENCE_CHARS] + "…"


@dataclass
class Occurrences:
    """Aggregated matches of one rule in one file."""

    rule: Rule
    file: str
    count: int = 0
    head: list[tuple[int, bytes]] = field(default_factory=list)
    tail: deque[tuple[int, bytes]] = field(default_factory=lambda: deque(maxlen=EVIDENCE_TAIL))
    samples_head: list[tuple[int, bytes]] = field(default_factory=list)
    samples_tail: deque[tuple[int, bytes]] = field(default_factory=lambda: deque(maxlen=TIMELINE_SAMPLES))

    def add(self, lineno: int, raw: bytes) -> None:
        self.add_many(lineno, raw, [(0, 0, len(raw))])

    def add_many(self, base: int, block: bytes, items: list[tuple[int, int, int]]) -> None:
        """Add the lines ``block[start:end]`` numbered ``base + offset``, in order: the same as one
        :meth:`add` each, but only the lines that can still be kept as evidence or samples are copied
        (a block may hold thousands)."""
        self.count += len(items)
        cap = MAX_EVIDENCE_CHARS * 4

        def item(entry: tuple[int, int, int]) -> tuple[int, bytes]:
            offset, start, end = entry
            return base + offset, block[start : min(end, start + cap)]

        taken = 0
        while len(self.head) < EVIDENCE_HEAD and taken < len(items):
            self.head.append(item(items[taken]))
            taken += 1
        self.tail.extend(item(entry) for entry in items[taken:][-EVIDENCE_TAIL:])
        taken = 0
        while len(self.samples_head) < TIMELINE_SAMPLES and taken < len(items):
            self.samples_head.append(item(items[taken]))
            taken += 1
        self.samples_tail.extend(item(entry) for entry in items[taken:][-TIMELINE_SAMPLES:])

    @property
    def first(self) -> tuple[int, bytes]:
        return self.head[0]

    @property
    def last(self) -> tuple[int, bytes]:
        return self.tail[-1] if self.tail else self.head[-1]

    def evidence(self) -> list[Evidence]:
        return [Evidence(n, decode_line(raw)) for n, raw in (*self.head, *self.tail)]

    def samples(self) -> list[tuple[int, bytes]]:
        return [*self.samples_head, *self.samples_tail]


class RuleSet:
    """The line rules that apply to one kind of file: a view on a shared :class:`PatternSet`."""

    def __init__(self, rules: tuple[Rule, ...], patterns: PatternSet) -> None:
        self.rules = rules
        self.patterns = patterns
        ids = {pattern: i for i, pattern in enumerate(patterns.patterns)}
        self._rules_of: dict[int, list[int]] = {}
        for r, rule in enumerate(rules):
            self._rules_of.setdefault(ids[rule.pattern or ""], []).append(r)
        self.allowed = frozenset(self._rules_of)
        self._plans: dict[tuple[int, ...], list[int]] = {}  # matching pattern ids -> rule indices, in order
        self._decided: dict[frozenset[int], tuple[list[Rule] | None, bool, bool]] = {}
        self._guards = {
            i: tuple(re2.compile(g.encode(), _OPTIONS) for g in rule.guards)
            for i, rule in enumerate(rules)
            if rule.guards
        }

    def candidates(self, block: bytes) -> list[Candidate]:
        return self.patterns.candidates(block, self.allowed)

    def classify(self, line: bytes, ids: frozenset[int] | None = None) -> list[Rule]:
        """Rules matching ``line`` after guards; a noise rule claims its line for itself. ``ids``: the
        patterns that may match it, as :meth:`candidates` found them."""
        if ids is not None:  # the common case, a line of a kind seen before: decided once per set of ids
            rules, always, on_ascii = self.decided(ids)
            if rules is not None and (always or (on_ascii and line.isascii())):
                return rules
        found = self.patterns.matches(line, self.allowed, ids)
        if not found:
            return []
        key = tuple(found)
        indices = self._plans.get(key)
        if indices is None:
            indices = self._plans[key] = sorted(r for i in found for r in self._rules_of[i])
        matched: list[Rule] = []
        for r in indices:
            guards = self._guards.get(r)
            if guards and any(g.search(line) for g in guards):
                continue
            rule = self.rules[r]
            if rule.category == "noise":
                return [rule]
            matched.append(rule)
        return matched

    def decided(self, ids: frozenset[int]) -> tuple[list[Rule] | None, bool, bool]:
        """The rules of a line on which exactly ``ids`` matched (None if guards must look at the line),
        and whether Hyperscan's word is exact for these ids always, or on ASCII lines (cached)."""
        known = self._decided.get(ids)
        if known is None:
            known = self._decided[ids] = self._decide(ids)
        return known

    def _decide(self, ids: frozenset[int]) -> tuple[list[Rule] | None, bool, bool]:
        ids = ids & self.allowed
        indices = sorted(r for i in ids for r in self._rules_of[i])
        if any(r in self._guards for r in indices):
            return None, False, False
        noise = next((self.rules[r] for r in indices if self.rules[r].category == "noise"), None)
        rules = [noise] if noise is not None else [self.rules[r] for r in indices]
        return rules, self.patterns.exact_for(ids, ascii_line=False), self.patterns.exact_for(ids, ascii_line=True)


def rules_for_path(path: str, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    return tuple(
        rule for rule in rules if rule.pattern is not None and any(fnmatch.fnmatchcase(path, g) for g in rule.files)
    )


def compile_rules(rules: tuple[Rule, ...], engine: str | None = None) -> RuleSet:
    """The compiled set for ``rules`` (cached), on ``engine`` or the default one (:func:`default_engine`).

    Rules of the catalogue share the one :class:`PatternSet` of :func:`line_patterns` (compiled once
    per process); other rules get a set of their own.
    """
    return _compiled(rules, engine or default_engine())


@lru_cache(maxsize=256)
def _compiled(rules: tuple[Rule, ...], engine: str) -> RuleSet:
    universe = line_patterns(engine)
    known = set(universe.patterns.patterns)
    if all(rule.pattern in known for rule in rules):
        return RuleSet(rules, universe.patterns)
    return RuleSet(rules, PatternSet(list(dict.fromkeys(rule.pattern or "" for rule in rules)), engine))


@dataclass(frozen=True)
class LinePatterns:
    """Everything searched on every line in the one pass: the catalogue's line-rule patterns and the
    redaction triggers (:data:`eksdiag.engine.redact.TRIGGERS`), ``triggers`` being the latter's ids."""

    patterns: PatternSet
    triggers: frozenset[int]


def line_patterns(engine: str | None = None) -> LinePatterns:
    """The shared patterns on ``engine`` or the default one, compiled once per process."""
    return _line_patterns(engine or default_engine())


@lru_cache(maxsize=4)
def _line_patterns(engine: str) -> LinePatterns:
    from eksdiag.engine.redact import TRIGGERS
    from eksdiag.engine.rules import CATALOGUE  # the catalogue imports the checks, which need no scanner

    ordered = list(dict.fromkeys([*(rule.pattern for rule in CATALOGUE if rule.pattern is not None), *TRIGGERS]))
    ids = {pattern: i for i, pattern in enumerate(ordered)}
    return LinePatterns(PatternSet(ordered, engine), frozenset(ids[t] for t in TRIGGERS))


@dataclass
class Redacting:
    """Redaction in the scanner's pass: the file's redactor (PEM state across blocks), where its findings
    go, and where the redacted bytes are stored (the sink's writer, gzipped again for ``*.gz``)."""

    redactor: BlockRedactor
    record: Callable[[Redaction], None]
    store: Any = None


@dataclass
class Searched:
    """What the pass over one block found (:meth:`FileScanner.search`, on any thread): the candidate
    lines for the rules and the redaction triggers, where every STRIDE-th line ends, and whether the
    block is known to hold ASCII bytes only."""

    block: bytes
    found: list[Candidate]
    marks: list[int] | None
    ascii: bool
    redactions: list[Redaction] = field(default_factory=list)
    """the secrets :meth:`FileScanner.prepare` redacted in it (lines counted from the block's first, 1)"""


@dataclass
class BlockHits:
    """What one block held: its newlines, per rule the matching lines (index in the block, bytes), and
    the secrets redacted in it (line numbers counted from the block's first line, 1)."""

    newlines: int
    block: bytes
    hits: dict[str, tuple[Rule, list[tuple[int, int, int]]]]
    """per rule, the matching lines as ``(offset, start, end)``: line ``offset`` of the block is
    ``block[start:end]``"""
    redactions: list[Redaction] = field(default_factory=list)


class FileScanner:
    """Scans the blocks of one file, redacts them, numbers their lines and aggregates matches per rule.

    Per block: :meth:`search` finds the candidate lines in one pass for the rules and the redaction
    triggers (Hyperscan or RE2) and where its lines end (Hyperscan), the GIL released for the most
    part; it keeps no state, so blocks may be searched on several threads at once. Then, in block
    order: :meth:`prepare` redacts the secrets on trigger lines and stores the redacted block,
    :meth:`examine` classifies the rule candidates and numbers them, :meth:`record` aggregates them.
    :meth:`scan_block` does it all for one block.
    """

    def __init__(
        self,
        path: str,
        ruleset: RuleSet | None,
        sink: Callable[[Occurrences], None],
        redacting: Redacting | None = None,
        engine: str | None = None,
        search_helper: Executor | None = None,
    ) -> None:
        self.path = path
        self._ruleset = ruleset
        self._by_rule: dict[str, Occurrences] = {}
        self._sink = sink
        self._redacting = redacting
        self._helper = search_helper  # searches the second half of a block in scan_block
        self._rules = ruleset.allowed if ruleset is not None else frozenset()
        self._patterns: PatternSet | None = ruleset.patterns if ruleset is not None else None
        self._triggers: frozenset[int] = frozenset()
        if redacting is not None:
            shared = line_patterns(engine)
            if self._patterns is None or self._patterns is shared.patterns:
                self._patterns, self._triggers = shared.patterns, shared.triggers
        self._wanted = self._rules | self._triggers
        self._engine = self._patterns.engine if self._patterns is not None else (engine or default_engine())
        self.lines = 0
        """Lines numbered so far (after the last block: the file's line count)."""

    def scan_block(self, block: bytes, piece: bool = False, open_end: bool = False) -> bytes:
        """``block`` holds whole lines and ends with a newline; with ``piece``, it is one part of a
        longer line (its newline is not the line's end); with ``open_end`` that newline was added by
        the reader. Returns the block as stored (redacted)."""
        searched = self.prepare(self.search(block, self._helper), open_end)
        self.record(self.examine(searched, piece))
        return searched.block

    def search(self, block: bytes, helper: Executor | None = None) -> Searched:
        """One pass over ``block`` for the candidate lines of the rules and the redaction triggers and for
        its newlines (with a ``helper``, in two halves on two threads, the newlines in another pass).
        Keeps no state: any thread, several blocks at once."""
        return self._searched(block, self._wanted, helper)

    def _searched(self, block: bytes, wanted: frozenset[int], helper: Executor | None = None) -> Searched:
        patterns = self._patterns
        found: list[Candidate] = []
        marks: list[int] | None = None
        ascii_block = False  # not known: each candidate line is looked at
        if patterns is not None and wanted:
            if helper is not None:
                found = patterns.candidates(block, wanted, helper)
            else:
                result = patterns.search(block, wanted)
                found, marks, ascii_block = result.found, result.marks, result.ascii
        if marks is None:
            marks = newline_marks(block, self._engine)
        return Searched(block, found, marks, ascii_block)

    def prepare(self, searched: Searched, open_end: bool = False) -> Searched:
        """In block order: redact the secrets on the lines where a trigger matched (the block is searched
        again if anything changed) and store the block as redacted. Returns the block as stored and
        its rule candidates and the redactions."""
        redacting = self._redacting
        if redacting is None:
            return searched
        block, found = searched.block, searched.found
        patterns, rules, triggers = self._patterns, self._rules, self._triggers
        trigger_lines: list[int] | None = None
        redactions: list[Redaction] = []
        if triggers:
            trigger_lines = [
                start
                for start, end, ids in found
                if (ids is None or not ids.isdisjoint(triggers))
                and patterns is not None
                and patterns.matches(block[start:end], triggers, ids)
            ]
        if trigger_lines is None or trigger_lines or redacting.redactor.in_key:
            redacted, redactions = redacting.redactor.redact_block(block, 0, trigger_lines)
            if redacted is not block:  # offsets moved: search the redacted block again, rules only
                searched = self._searched(redacted, rules)
                block, found = searched.block, searched.found
        if redacting.store is not None:
            redacting.store.write(block[:-1] if open_end else block)
        if triggers:
            found = [(start, end, ids) for start, end, ids in found if ids is None or not ids.isdisjoint(rules)]
        return Searched(block, found, searched.marks, searched.ascii, redactions)

    def examine(self, searched: Searched, piece: bool = False) -> BlockHits:
        """Number the block's lines and classify its candidate lines (a piece's newline is not counted)."""
        block = searched.block
        lines = BlockLines(block, searched.marks)
        hits: dict[str, tuple[Rule, list[tuple[int, int, int]]]] = {}
        if self._ruleset is not None:
            classify, decided = self._ruleset.classify, self._ruleset.decided
            ascii_block = searched.ascii
            for start, end, ids in searched.found:
                index = lines.before(start)
                rules = None
                if ids is not None and ascii_block:  # most lines: no RE2 needed, no copy of the line
                    known, always, on_ascii = decided(ids)
                    if always or on_ascii:
                        rules = known
                if rules is None:
                    rules = classify(block[start:end], ids)
                for rule in rules:
                    group = hits.get(rule.id)
                    if group is None:
                        group = hits[rule.id] = (rule, [])
                    group[1].append((index, start, end))
        return BlockHits(lines.total() - (1 if piece else 0), block, hits, searched.redactions)

    def record(self, found: BlockHits) -> None:
        """Aggregate the hits of the next block with their exact line numbers."""
        base = self.lines + 1
        for rule_id, (rule, items) in found.hits.items():
            occ = self._by_rule.get(rule_id)
            if occ is None:
                occ = self._by_rule[rule_id] = Occurrences(rule, self.path)
            occ.add_many(base, found.block, items)
        if found.redactions and self._redacting is not None:
            for redaction in found.redactions:
                self._redacting.record(Redaction(self.lines + redaction.line, redaction.kind))
        self.lines += found.newlines

    def finish(self) -> None:
        for occ in self._by_rule.values():
            self._sink(occ)


class BlockReader:
    """Iterate ``(block, piece, open_end)``: blocks of whole lines, each ending with a newline.

    A final line without a newline gets one (``open_end``). A line longer than ``max_line_bytes`` is
    yielded in pieces (``piece`` and ``open_end`` true, a newline added) that all belong to the same
    line, so memory stays bounded on hostile input; ``cut_piece(buffer)`` may choose where a piece
    ends (between tokens, so no secret is cut in two). Reads go straight into one reused buffer
    (``readinto``); each block is one copy of it. When the stream fails, the bytes read before are
    yielded first, then the error is raised.
    """

    def __init__(
        self,
        stream: ByteStream,
        chunk_bytes: int,
        max_line_bytes: int,
        cut_piece: Callable[[bytes], int] | None = None,
    ) -> None:
        self._stream = stream
        self._chunk = chunk_bytes
        self._max_line = max_line_bytes
        self._cut_piece = cut_piece
        self.long_lines = 0

    def __iter__(self) -> Iterator[tuple[bytes, bool, bool]]:
        chunk, max_line = self._chunk, self._max_line
        buf = bytearray(chunk + max(chunk, max_line))
        view = memoryview(buf)
        readinto = readinto_of(self._stream)
        filled = 0  # bytes in buf: the unfinished line carried over, then what was read after it
        while True:
            try:
                got = readinto(view[filled : filled + chunk])
            except Exception:
                if filled:  # a truncated stream: what was read still counts
                    yield bytes(view[:filled]) + b"\n", False, True
                raise
            if not got:
                if filled:
                    yield bytes(view[:filled]) + b"\n", False, True
                return
            filled += got
            cut = buf.rfind(b"\n", filled - got, filled) + 1  # the carried part holds no newline
            if cut == 0:
                if filled >= max_line:
                    self.long_lines += 1
                    piece = bytes(view[:filled])
                    end = (self._cut_piece(piece) or filled) if self._cut_piece is not None else filled
                    yield piece[:end] + b"\n", True, True
                    rest = filled - end
                    if rest:
                        buf[:rest] = piece[end:]
                    filled = rest
                continue
            block = bytes(view[:cut])
            rest = filled - cut
            if rest:
                buf[:rest] = bytes(view[cut:filled])
            filled = rest
            yield block, False, False


def readinto_of(stream: Any) -> Callable[[memoryview], int]:
    """``stream.readinto`` when it has one, else a ``read`` and a copy."""
    method = getattr(stream, "readinto", None)
    if method is not None:
        return method  # type: ignore[no-any-return]

    def readinto(target: memoryview) -> int:
        data = stream.read(len(target))
        target[: len(data)] = data
        return len(data)

    return readinto
