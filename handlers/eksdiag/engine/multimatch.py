"""Many RE2 patterns over a block of lines in one pass: which lines may match, then which patterns do.

:class:`PatternSet` is the indexer's hot path and knows nothing of rules: given RE2 patterns (the
catalogue's line rules for one kind of file, and any other set that must be found on every line,
such as secret triggers), :meth:`PatternSet.candidates` returns the spans of the lines of a block
that may match, and :meth:`PatternSet.matches` the exact pattern ids matching one line. Sets that
must share one pass over the bytes are concatenated; a caller tells them apart by id.

Two engines find candidates, both in linear time:

* ``hyperscan`` (Vectorscan, the ``hyperscan`` wheel): every pattern rewritten as a byte-level
  superset (:mod:`eksdiag.engine.superset`) in one automaton, scanned once per block with the GIL
  released. Callbacks are counted: a block that reports more than :func:`event_budget` matches
  (hostile lines that match at every byte) stops the scan and is searched with RE2 instead.
  Blocks are scanned with forms rewritten for ASCII text, which have no multi-byte alternatives and
  no widened bounds and scan about half again as fast, plus one pattern that stops the scan at the
  first byte above 0x7F (cheaper than ``bytes.isascii`` beforehand). Nearly every block of a node's
  logs is ASCII; the others are searched with one RE2 alternation of the forms for any bytes, until
  enough of them were seen (:data:`GENERAL_AFTER_BYTES`) to compile the automaton of any bytes.
  The same pass marks every :data:`~eksdiag.engine.newlines.STRIDE`-th newline (:meth:`PatternSet.search`),
  so line numbers need no count of every byte under the GIL.
* ``re2``, the fallback where the wheel is missing: one alternation per block, as before.

Patterns Hyperscan refuses (even in its prefilter mode), and patterns the rewriter does not
translate, are searched with RE2 alongside. Every candidate line is confirmed with an RE2 set of the
original patterns, so both engines give exactly the same answer.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import re2

from eksdiag.engine.newlines import MARKS_FORM
from eksdiag.engine.superset import FOLD_SENTINEL, Unsupported, rewrite

try:
    import hyperscan
except ImportError:  # pragma: no cover - the wheel exists for every Lambda platform; RE2 serves without it
    hyperscan = None  # type: ignore[assignment]

ENGINE_ENV = "EKSDIAG_MATCHER"
ENGINES = ("hyperscan", "re2")
#: Match callbacks allowed per block before Hyperscan hands the block to RE2: a fixed floor plus one per
#: 16 bytes. Real logs report about one per matching line, even a flood of short lines that all match
#: (60-byte "table full, dropping packet" lines); a hostile line reports one per byte.
#: Blocks at least this large are searched in two halves on two threads when a helper is given.
SPLIT_BYTES = 256 << 10
EVENT_FLOOR = 1024
BYTES_PER_EVENT = 16
#: Matches reported within one line before the block goes to RE2: a line that matches at every byte
#: costs this many callbacks, not one per byte.
LINE_EVENTS = 64
#: Bytes of non-ASCII blocks searched with RE2 (about 0.6 GB/s) before the automaton of any bytes is
#: compiled (about 0.1 s): most bundles hold a few such blocks (lsblk's tree), some hold whole files.
GENERAL_AFTER_BYTES = 64 << 20
#: the id of the newline marks' pattern in both automata (pattern ids are positions, far below it)
MARKS_ID = 1 << 30
#: the id of the pattern that stops the scan of the ASCII automaton at a byte above 0x7F
NON_ASCII_ID = MARKS_ID + 1
NON_ASCII_FORM = r"[\x80-\xff]"
_RE2_MAX_MEM = 64 << 20  # room for the DFA of a combined alternation
# \A or \z outside a character class: in a whole-block search they would mean the block's edges.
_TEXT_ANCHOR = re.compile(r"(?<!\\)(?:\\\\)*\\[Az]")

Span = tuple[int, int]  # (start, end) of one line: end is the index of its newline
Candidate = tuple[int, int, frozenset[int] | None]  # a span, and the patterns that may match it if known


def hyperscan_available() -> bool:
    return hyperscan is not None


def default_engine() -> str:
    """``hyperscan`` when the library loads, else ``re2``; ``EKSDIAG_MATCHER=re2`` forces the fallback."""
    wanted = os.environ.get(ENGINE_ENV, "").strip().lower()
    if wanted == "re2" or hyperscan is None:
        return "re2"
    return "hyperscan"


def event_budget(block_len: int) -> int:
    return EVENT_FLOOR + block_len // BYTES_PER_EVENT


def _re2_options(latin1: bool) -> Any:
    options = re2.Options()
    options.max_mem = _RE2_MAX_MEM
    if latin1:
        options.encoding = re2.Options.Encoding.LATIN1
    return options


def _re2_alternation(expressions: Sequence[str], *, latin1: bool) -> Any:
    body = "|".join(f"(?:{e})" for e in expressions)
    return re2.compile(f"(?m){body}".encode("latin-1" if latin1 else "utf-8"), _re2_options(latin1))


class PatternSet:
    """A set of RE2 patterns (ids are their positions), compiled once for whole-block line search.

    One set can serve many kinds of files: ``allowed`` (a frozenset of ids) restricts an answer to
    the patterns that apply to a file. One big automaton scans as fast as a small one (often faster)
    and is compiled once, where a set per kind of file would compile several.
    """

    def __init__(self, patterns: Sequence[str], engine: str | None = None) -> None:
        self.patterns = tuple(patterns)
        self.engine = engine or default_engine()
        if self.engine not in ENGINES:
            raise ValueError(f"unknown matcher engine {self.engine!r}: use one of {ENGINES}")
        if self.engine == "hyperscan" and hyperscan is None:
            raise ValueError("the hyperscan engine needs the hyperscan package")
        self._exact = re2.Set.SearchSet(_re2_options(latin1=False))
        for pattern in self.patterns:
            if self._exact.Add(pattern.encode()) < 0:
                raise ValueError(f"not an RE2 pattern: {pattern!r}")
        self._exact.Compile()

        self._forms: dict[int, str] = {}
        self._ascii_forms: dict[int, str] = {}
        #: why a pattern is not in the Hyperscan automaton (searched with RE2 instead)
        self.residual: dict[int, str] = {}
        exact: dict[int, bool] = {}
        ascii_exact: dict[int, bool] = {}
        folds: set[int] = set()
        for i, pattern in enumerate(self.patterns):
            try:
                rewritten = rewrite(pattern)
                on_ascii = rewrite(pattern, ascii_text=True)
            except Unsupported as exc:
                self.residual[i] = f"not rewritten: {exc}"
                continue
            if rewritten.form is not None:  # None: it needs a newline, so no line can match it
                self._forms[i] = rewritten.form
                exact[i] = rewritten.exact and on_ascii.exact
                ascii_exact[i] = rewritten.ascii_exact and on_ascii.exact
                if on_ascii.form is not None:  # None: no line of ASCII bytes can match it
                    self._ascii_forms[i] = on_ascii.form
                if rewritten.folds:
                    folds.add(i)

        # Two automata. Blocks of ASCII bytes (nearly every block of a node log) are searched with forms
        # that need no multi-byte alternatives and no widened bounds, compiled here. The automaton of any
        # bytes is compiled once non-ASCII blocks are many (GENERAL_AFTER_BYTES); until then RE2 does.
        self._ascii_db: Any = None
        self._general_db: Any = None
        self._general_state = "absent"  # then "compiled", or "unusable" (it refused what the other took)
        self._non_ascii_bytes = 0
        #: bytes of non-ASCII blocks searched with RE2 before the automaton of any bytes is compiled
        self.general_after_bytes = GENERAL_AFTER_BYTES
        self._scratch = threading.local()
        self.hyperscan_ids: frozenset[int] = frozenset()
        self._folds = frozenset(folds)
        self._sentinel = len(self.patterns)  # the id of FOLD_SENTINEL in the automaton of any bytes
        if self.engine == "hyperscan" and self._forms:
            self._ascii_db, _, refused, loose = _compile_hyperscan(
                {**self._ascii_forms, MARKS_ID: MARKS_FORM, NON_ASCII_ID: NON_ASCII_FORM}
            )
            if {MARKS_ID, NON_ASCII_ID} & (refused.keys() | loose):  # pragma: no cover - two small patterns
                raise ValueError("Hyperscan did not compile the newline marks exactly")
            self.hyperscan_ids = frozenset(i for i in self._forms if i not in refused)
            for i, reason in refused.items():
                self.residual[i] = f"refused by Hyperscan: {reason}"
            for i in loose:  # compiled in Hyperscan's prefilter mode: a looser automaton, RE2 confirms
                exact[i] = ascii_exact[i] = False
        self._exact_ids = frozenset(i for i in self.hyperscan_ids if exact[i])
        self._ascii_exact_ids = frozenset(i for i in self.hyperscan_ids if ascii_exact[i])
        self._singles: list[Any] = [None] * len(self.patterns)
        self._singletons = [frozenset([i]) for i in range(len(self.patterns))]
        self._ordered: dict[frozenset[int], list[int]] = {}
        self._re2_parts: dict[frozenset[int] | None, _Re2Parts] = {}
        self._lock = threading.Lock()
        #: blocks whose Hyperscan scan reported more matches than their budget (searched with RE2)
        self.storms = 0

    # -- the whole-block pass
    def candidates(
        self, block: bytes, allowed: frozenset[int] | None = None, helper: Executor | None = None
    ) -> list[Candidate]:
        """The lines of ``block`` (whole lines, ending with a newline) that may match, in order, each once:
        ``(start, end, ids)``, ``end`` being the index of the line's newline.

        A superset of the lines some (allowed) pattern matches. ``ids``, when not None, holds every
        allowed pattern that may match the line (what Hyperscan reported on it); pass it on to
        :meth:`matches`. Linear in ``len(block)``. With a ``helper`` thread, the second half of a large
        block is searched there while this thread searches the first (the search releases the GIL).
        """
        return self._find(block, allowed, helper, marks=False).found

    def search(self, block: bytes, allowed: frozenset[int] | None = None) -> Found:
        """:meth:`candidates`, and from the same pass over the bytes the offsets just past every
        :data:`~eksdiag.engine.newlines.STRIDE`-th newline of the block and whether it is all ASCII."""
        return self._find(block, allowed, None, marks=True)

    def _find(self, block: bytes, allowed: frozenset[int] | None, helper: Executor | None, marks: bool) -> Found:
        parts = self._re2_for(allowed)
        if parts.every_line:
            return Found([(start, end, None) for start, end in _all_lines(block)], None, False)
        found: list[list[Candidate]] = []
        result = Found([], None, False)
        if self.hyperscan_ids and (allowed is None or allowed & self.hyperscan_ids):
            on_ascii = self._scan_ascii(block, allowed, parts, helper, marks)
            if on_ascii is not None:
                result = on_ascii
            else:  # a byte above 0x7F
                general = self._general(len(block))
                scanned = (
                    self._hyperscan_lines(general, block, 0, len(block), allowed, parts, marks) if general else None
                )
                if scanned is not None:  # the automaton of any bytes never stops at one
                    result = Found(scanned.found, scanned.marks, False)
                else:
                    result = Found(_unknown(_re2_lines(parts.hyperscan_as_re2, block)), None, False)
            found.append(result.found)
        for regexp in (parts.bytes_re, parts.utf8_re):
            if regexp is not None:
                found.append(_unknown(_re2_lines(regexp, block)))
        if len(found) <= 1:
            return Found(found[0], result.marks, result.ascii) if found else result
        merged: dict[int, Candidate] = {}
        for lines in found:
            for line in lines:
                seen = merged.get(line[0])
                merged[line[0]] = line if seen is None else (line[0], line[1], None)  # found twice: ask RE2
        return Found([merged[start] for start in sorted(merged)], result.marks, result.ascii)

    def _scan_ascii(
        self, block: bytes, allowed: frozenset[int] | None, parts: _Re2Parts, helper: Executor | None, marks: bool
    ) -> Found | None:
        """The ASCII automaton's candidates (and marks), or None if the block holds a byte above 0x7F."""
        database = self._ascii_db
        middle = block.find(b"\n", len(block) // 2) + 1 if len(block) >= SPLIT_BYTES else 0
        if helper is not None and 0 < middle < len(block):  # two halves on two threads, no copy of either
            second = helper.submit(self._hyperscan_lines, database, block, middle, len(block), allowed, parts)
            first = self._hyperscan_lines(database, block, 0, middle, allowed, parts)
            rest = second.result()
            if first is None or rest is None:
                return None
            return Found(first.found + rest.found, None, first.ascii and rest.ascii)
        return self._hyperscan_lines(database, block, 0, len(block), allowed, parts, marks)

    def matches(
        self, line: bytes, allowed: frozenset[int] | None = None, ids: frozenset[int] | None = None
    ) -> list[int]:
        """The ids of the (allowed) patterns matching ``line`` (no newline), ascending.

        With ``ids`` from :meth:`candidates`, only those patterns are tried, and those whose rewrite is
        exact (on this line: most are, on ASCII lines) are taken as they are; without, the RE2 set of
        every pattern decides.
        """
        if ids is not None:
            if allowed is not None:
                ids = ids & allowed
            if ids <= self._exact_ids or (ids <= self._ascii_exact_ids and line.isascii()):
                ordered = self._ordered.get(ids)
                if ordered is None:
                    ordered = self._ordered[ids] = sorted(ids)
                return ordered
            exact = self._ascii_exact_ids if line.isascii() else self._exact_ids
            return [i for i in sorted(ids) if i in exact or self._single(i).Match(line)]
        found = self._exact.Match(line)
        if not found:
            return []
        return sorted(found if allowed is None else (i for i in found if i in allowed))

    def exact_for(self, ids: frozenset[int], *, ascii_line: bool) -> bool:
        """Whether Hyperscan reporting exactly ``ids`` on a line means RE2 matches exactly those (on any
        line, or on a line of ASCII bytes)."""
        return ids <= (self._ascii_exact_ids if ascii_line else self._exact_ids)

    def _single(self, i: int) -> Any:
        """An RE2 set of pattern ``i`` alone (its ``Match`` is the cheapest yes/no RE2 offers)."""
        single = self._singles[i]
        if single is None:
            single = re2.Set.SearchSet(_re2_options(latin1=False))
            single.Add(self.patterns[i].encode())
            single.Compile()
            self._singles[i] = single
        return single

    def _hyperscan_lines(
        self,
        database: Any,
        block: bytes,
        low: int,
        high: int,
        allowed: frozenset[int] | None,
        parts: _Re2Parts,
        marks: bool = False,
    ) -> Found | None:
        """The candidate lines of ``block[low:high]`` (whole lines) as ``database`` reports them, with
        ``marks`` the newline marks of that range; None if the ASCII automaton stopped at a byte above
        0x7F. ``ascii`` is True when the scan went through (for the ASCII automaton: the range is ASCII)."""
        # per line start: [end, the one pattern reported on it, or the set of them]
        lines: dict[int, list[Any]] = {}
        # current line's start and end, events in the range, the range's budget, events in the line
        state = [-1, -1, 0, event_budget(high - low), 0]
        current: list[Any] = [0, -1]
        rfind, find = block.rfind, block.find

        sentinel, folding = self._sentinel, self._folds & self.hyperscan_ids
        if allowed is not None:
            folding &= allowed
        found_marks: list[int] = []
        add_mark = found_marks.append
        non_ascii: list[bool] = []

        def on_match(pattern: int, _start: int, end: int, _flags: int, _context: object) -> bool:
            nonlocal current
            end += low
            if pattern == MARKS_ID:
                add_mark(end)
                return False
            if pattern == NON_ASCII_ID:
                non_ascii.append(True)
                return True
            state[2] += 1
            if pattern == sentinel:  # KELVIN SIGN or LONG S: every pattern that folds k or s may match here
                if not folding:
                    return state[2] > state[3]
                pattern = min(folding)
                extra: frozenset[int] = folding
            else:
                extra = frozenset()
                if allowed is not None and pattern not in allowed:
                    return state[2] > state[3]
            if state[0] <= end <= state[1]:
                reported = current[1]
                if reported != pattern or extra:
                    if not isinstance(reported, set):
                        reported = current[1] = {reported}
                    reported.add(pattern)
                    reported |= extra
                state[4] += 1
                return state[4] > LINE_EVENTS or state[2] > state[3]
            if end == 0 or block[end - 1] == 0x0A:
                # forms never match a newline, so this match is empty: at the start of the line at `end`
                if end == high:
                    return state[2] > state[3]  # after the last newline: no line there
                start = end
            else:  # the match's last byte, end - 1, lies inside its line
                start = rfind(b"\n", 0, end - 1) + 1
            stop = find(b"\n", end)
            seen = lines.get(start)
            if seen is None:
                current = lines[start] = [stop, {pattern, *extra} if extra else pattern]
            else:  # reported out of order: back to a line seen before
                current = seen
                reported = seen[1]
                seen[1] = (reported if isinstance(reported, set) else {reported}) | {pattern} | extra
            state[0], state[1], state[4] = start, stop, 1
            return state[2] > state[3]

        try:
            database.scan(_view(block, low, high), match_event_handler=on_match, scratch=self._thread_scratch(database))
        except hyperscan.ScanTerminated:
            if non_ascii:
                return None
            with self._lock:
                self.storms += 1
            # too many matches for callbacks: the same forms as one RE2 alternation, one linear pass
            found = {start: stop for start, stop in _re2_lines(parts.hyperscan_as_re2, block, low, high)}
            return Found([(start, found[start], None) for start in sorted(found)], None, False)
        singles = self._singletons
        found_lines = [
            (start, stop, frozenset(ids) if isinstance(ids, set) else singles[ids])
            for start, (stop, ids) in sorted(lines.items())
        ]
        return Found(found_lines, found_marks if marks else None, True)

    def _general(self, size: int) -> Any:
        """The automaton of any bytes for a non-ASCII block of ``size`` bytes: None while such blocks are
        few (RE2 searches them), compiled (once) when they add up to ``general_after_bytes``.

        It must hold what the ASCII one holds, as exactly: otherwise it is not used, and RE2 keeps
        searching non-ASCII blocks (always right, slower)."""
        with self._lock:
            self._non_ascii_bytes += size
        if self._general_state == "absent" and self._non_ascii_bytes > self.general_after_bytes:
            with self._lock:
                if self._general_state == "absent":
                    forms = {i: self._forms[i] for i in self.hyperscan_ids}
                    if self._folds & self.hyperscan_ids:
                        forms[self._sentinel] = FOLD_SENTINEL
                    database, accepted, _, loose = _compile_hyperscan({**forms, MARKS_ID: MARKS_FORM})
                    forms[MARKS_ID] = MARKS_FORM
                    usable = accepted == forms.keys() and not loose & (
                        self._exact_ids | self._ascii_exact_ids | {MARKS_ID}
                    )
                    self._general_db = database if usable else None
                    self._general_state = "compiled" if usable else "unusable"
        return self._general_db

    def _thread_scratch(self, database: Any) -> Any:
        """This thread's scratch space for ``database`` (Hyperscan needs one per scanning thread)."""
        scratches = getattr(self._scratch, "value", None)
        if scratches is None:
            scratches = self._scratch.value = {}
        scratch = scratches.get(id(database))
        if scratch is None:
            scratch = scratches[id(database)] = hyperscan.Scratch(database)
        return scratch

    def _re2_for(self, allowed: frozenset[int] | None) -> _Re2Parts:
        """The RE2 side for these ids, compiled on first use: what Hyperscan does not search, and the
        Hyperscan forms again for blocks that report too many matches."""
        parts = self._re2_parts.get(allowed)
        if parts is not None:
            return parts
        ids = sorted(range(len(self.patterns)) if allowed is None else allowed)
        in_automaton = [i for i in ids if i in self.hyperscan_ids]
        rest = [i for i in ids if i in self._forms and i not in self.hyperscan_ids]
        untranslated = [i for i in ids if i in self.residual and i not in self._forms]
        storm_re, too_big = self._forms_re2(in_automaton)
        bytes_re, too_big_rest = self._forms_re2(rest)
        untranslated = sorted({*untranslated, *too_big, *too_big_rest})
        originals = [self.patterns[i] for i in untranslated]
        parts = _Re2Parts(
            hyperscan_as_re2=storm_re,
            bytes_re=bytes_re,
            utf8_re=_re2_alternation(originals, latin1=False) if originals else None,
            every_line=any(_TEXT_ANCHOR.search(p) for p in originals),
        )
        with self._lock:
            return self._re2_parts.setdefault(allowed, parts)

    def _forms_re2(self, ids: list[int]) -> tuple[Any, list[int]]:
        """One Latin-1 RE2 alternation of these forms, and the ids whose form RE2 refuses (too large
        once rewritten: RE2 bounds repetitions and program size); those are searched as written."""
        if not ids:
            return None, []
        sentinel = [FOLD_SENTINEL] if not self._folds.isdisjoint(ids) else []
        try:
            return _re2_alternation([self._forms[i] for i in ids] + sentinel, latin1=True), []
        except re2.error:
            pass
        good: list[int] = []
        bad: list[int] = []
        for i in ids:
            try:
                _re2_alternation([self._forms[i]], latin1=True)
                good.append(i)
            except re2.error:
                bad.append(i)
        sentinel = [FOLD_SENTINEL] if not self._folds.isdisjoint(good) else []
        return (_re2_alternation([self._forms[i] for i in good] + sentinel, latin1=True) if good else None), bad


@dataclass(frozen=True)
class Found:
    """What one pass over a block found: the candidate lines (see :meth:`PatternSet.candidates`), the
    newline marks (None where Hyperscan did not search the whole block in one scan), and whether
    the block is all ASCII (False where unknown)."""

    found: list[Candidate]
    marks: list[int] | None
    ascii: bool


@dataclass(frozen=True)
class _Re2Parts:
    hyperscan_as_re2: Any
    bytes_re: Any
    utf8_re: Any
    every_line: bool


def _compile_hyperscan(
    forms: dict[int, str], loose: frozenset[int] = frozenset()
) -> tuple[Any, frozenset[int], dict[int, str], frozenset[int]]:
    """One block-mode database of every form Hyperscan accepts; refused forms are retried in its
    prefilter mode (a looser automaton: RE2 confirms anyway) and the rest reported with the reason.
    ``loose``: ids known to need prefilter mode. Returns the database (None if empty), the accepted
    ids, the refused ones and the ids compiled in prefilter mode."""
    flags = {i: hyperscan.HS_FLAG_MULTILINE | (hyperscan.HS_FLAG_PREFILTER if i in loose else 0) for i in forms}
    if MARKS_ID in flags:
        flags[MARKS_ID] = 0  # \A is the start of the buffer
    refused: dict[int, str] = {}
    if not forms:
        return None, frozenset(), refused, frozenset()
    try:
        return _hs_database(forms, flags), frozenset(forms), refused, frozenset(loose & forms.keys())
    except hyperscan.error:
        pass
    for i in sorted(forms):
        try:
            _hs_database({i: forms[i]}, {i: flags[i]})
            continue
        except hyperscan.error:
            flags[i] |= hyperscan.HS_FLAG_PREFILTER
        try:
            _hs_database({i: forms[i]}, {i: flags[i]})
        except hyperscan.error as exc:
            refused[i] = str(exc.args[0] if exc.args else exc)
    accepted = {i: f for i, f in forms.items() if i not in refused}
    prefiltered = frozenset(i for i in accepted if flags[i] & hyperscan.HS_FLAG_PREFILTER)
    if not accepted:
        return None, frozenset(), refused, prefiltered
    return _hs_database(accepted, flags), frozenset(accepted), refused, prefiltered


def _hs_database(forms: dict[int, str], flags: dict[int, int]) -> Any:
    ids = sorted(forms)
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[forms[i].encode("latin-1") for i in ids],
        ids=ids,
        elements=len(ids),
        flags=[flags[i] for i in ids],
    )
    return database


def _unknown(spans: list[Span]) -> list[Candidate]:
    """Candidate lines whose patterns are not known (RE2 tries them all)."""
    return [(start, end, None) for start, end in spans]


def _view(block: bytes, low: int, high: int) -> Any:
    """``block[low:high]`` to scan: a view, no copy, where the wheel takes one (0.8 and later)."""
    if low == 0 and high == len(block):
        return block
    return memoryview(block)[low:high] if _scan_takes_views() else block[low:high]


@lru_cache(maxsize=1)
def _scan_takes_views() -> bool:
    database = _hs_database({0: "x"}, {0: 0})
    try:
        database.scan(memoryview(b"x"), match_event_handler=None)
    except TypeError:  # pragma: no cover - hyperscan 0.7 (the manylinux2014 aarch64 wheels) takes bytes only
        return False
    return True


def _re2_lines(regexp: Any, block: bytes, low: int = 0, high: int | None = None) -> list[Span]:
    """Lines holding the start of some match (in ``block[low:high]``, whole lines), found one match at a
    time from the next line on."""
    search = regexp.search
    rfind, find = block.rfind, block.find
    spans: list[Span] = []
    pos = low
    high = len(block) if high is None else high
    while True:
        match = search(block, pos, high)
        if match is None or match.start() >= high:  # an empty match after the last newline
            return spans
        start = match.start()
        line_start = rfind(b"\n", 0, start) + 1
        line_end = find(b"\n", start)
        if line_end < 0:
            line_end = len(block)
        spans.append((line_start, line_end))
        pos = line_end + 1


def _all_lines(block: bytes) -> list[Span]:
    spans: list[Span] = []
    start = 0
    find = block.find
    while start < len(block):
        end = find(b"\n", start)
        if end < 0:
            end = len(block)
        spans.append((start, end))
        start = end + 1
    return spans
