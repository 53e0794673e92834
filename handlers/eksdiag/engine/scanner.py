"""Line-rule matching over large blocks of log text.

The hot path of the indexer. A per-line Python loop cannot keep up with gzip, so each block of
complete lines (about 1 MiB) is searched with one RE2 alternation of every rule that applies to
the file: a linear-time DFA pass that touches Python only where something matched. Only the
matched lines are classified rule by rule and counted; line numbers come from counting newlines
between matches.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import re2

from eksdiag.engine.model import Evidence, Rule
from eksdiag.engine.reader import ByteStream

EVIDENCE_HEAD = 3
EVIDENCE_TAIL = 2
TIMELINE_SAMPLES = 20
MAX_EVIDENCE_CHARS = 2000
BINARY_PROBE_BYTES = 8192

_OPTIONS = re2.Options()
_OPTIONS.max_mem = 64 << 20  # room for the DFA of the combined alternation


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
        self.count += 1
        item = (lineno, bytes(raw[: MAX_EVIDENCE_CHARS * 4]))
        if len(self.head) < EVIDENCE_HEAD:
            self.head.append(item)
        else:
            self.tail.append(item)
        if len(self.samples_head) < TIMELINE_SAMPLES:
            self.samples_head.append(item)
        else:
            self.samples_tail.append(item)

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
    """The line rules that apply to one kind of file, compiled once."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        patterns = [f"(?:{rule.pattern})" for rule in rules]
        self.combined = re2.compile("|".join(patterns).encode(), _OPTIONS)
        self._set = re2.Set.SearchSet(_OPTIONS)
        for rule in rules:
            self._set.Add(rule.pattern.encode())  # type: ignore[union-attr]
        self._set.Compile()
        self._guards = {
            i: tuple(re2.compile(g.encode(), _OPTIONS) for g in rule.guards)
            for i, rule in enumerate(rules)
            if rule.guards
        }

    def classify(self, line: bytes) -> list[Rule]:
        """Rules matching ``line`` after guards; a noise rule claims its line for itself."""
        indices = self._set.Match(line)
        if not indices:
            return []
        matched: list[Rule] = []
        for i in sorted(indices):
            guards = self._guards.get(i)
            if guards and any(g.search(line) for g in guards):
                continue
            rule = self.rules[i]
            if rule.category == "noise":
                return [rule]
            matched.append(rule)
        return matched


def rules_for_path(path: str, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    return tuple(
        rule for rule in rules if rule.pattern is not None and any(fnmatch.fnmatchcase(path, g) for g in rule.files)
    )


@lru_cache(maxsize=256)
def compile_rules(rules: tuple[Rule, ...]) -> RuleSet:
    return RuleSet(rules)


class FileScanner:
    """Scans the blocks of one file and aggregates matches per rule."""

    def __init__(self, path: str, ruleset: RuleSet | None, sink: Callable[[Occurrences], None]) -> None:
        self.path = path
        self._ruleset = ruleset
        self._by_rule: dict[str, Occurrences] = {}
        self._sink = sink

    def scan_block(self, block: bytes, line_base: int) -> None:
        """``block`` holds whole lines and ends with a newline; ``line_base`` lines precede it."""
        self.record(block, line_base, self.find_lines(block))

    def find_lines(self, block: bytes) -> list[tuple[int, int]]:
        """``(start, end)`` of every line of ``block`` that some rule may match.

        Only RE2 work (it releases the GIL), so blocks can be searched on another thread while the
        next block is read and inflated.
        """
        ruleset = self._ruleset
        if ruleset is None:
            return []
        search = ruleset.combined.search
        spans: list[tuple[int, int]] = []
        pos = 0
        while True:
            match = search(block, pos)
            if match is None:
                return spans
            start = match.start()
            line_start = block.rfind(b"\n", 0, start) + 1
            line_end = block.find(b"\n", start)
            if line_end < 0:
                line_end = len(block)
            spans.append((line_start, line_end))
            pos = line_end + 1

    def record(self, block: bytes, line_base: int, spans: list[tuple[int, int]]) -> None:
        """Classify the candidate lines and aggregate them with their exact line numbers."""
        if not spans or self._ruleset is None:
            return
        classify = self._ruleset.classify
        count_nl = block.count
        counted_pos = 0
        counted = line_base
        for line_start, line_end in spans:
            counted += count_nl(b"\n", counted_pos, line_start)
            counted_pos = line_start
            line = block[line_start:line_end]
            for rule in classify(line):
                occ = self._by_rule.get(rule.id)
                if occ is None:
                    occ = self._by_rule[rule.id] = Occurrences(rule, self.path)
                occ.add(counted + 1, line)

    def finish(self) -> None:
        for occ in self._by_rule.values():
            self._sink(occ)


class BlockReader:
    """Iterate ``(block, line_base)``: blocks of whole lines, each ending with a newline.

    A final line without a newline gets one. A line longer than ``max_line_bytes`` is yielded in
    pieces that all carry the same line number, so memory stays bounded on hostile input.
    After iteration, ``lines`` is the number of lines read.
    """

    def __init__(self, stream: ByteStream, chunk_bytes: int, max_line_bytes: int) -> None:
        self._stream = stream
        self._chunk = chunk_bytes
        self._max_line = max_line_bytes
        self.lines = 0
        self.long_lines = 0

    def __iter__(self) -> Iterator[tuple[bytes, int]]:
        carry = b""
        read = self._stream.read
        while True:
            data = read(self._chunk)
            if not data:
                if carry:
                    yield carry + b"\n", self.lines
                    self.lines += 1
                return
            buf = carry + data if carry else data
            cut = buf.rfind(b"\n") + 1
            if cut == 0:
                if len(buf) >= self._max_line:
                    self.long_lines += 1
                    yield buf + b"\n", self.lines  # a piece of an over-long line; same line number
                    carry = b""
                else:
                    carry = buf
                continue
            block = buf[:cut] if cut < len(buf) else buf
            carry = buf[cut:]
            yield block, self.lines
            self.lines += block.count(b"\n")
