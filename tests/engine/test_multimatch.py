"""The multi-pattern matcher: the byte-level prefilter never misses a line RE2 matches, both engines
find the same lines, and hostile lines cannot make a block cost more than a linear RE2 pass."""

from __future__ import annotations

import pytest
import re2
from eksdiag.engine import multimatch
from eksdiag.engine.multimatch import ENGINES, LINE_EVENTS, PatternSet, event_budget, hyperscan_available
from eksdiag.engine.newlines import STRIDE
from eksdiag.engine.superset import Unsupported, byte_superset, rewrite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ENGINE_PARAMS = [
    pytest.param(e, marks=pytest.mark.skipif(e == "hyperscan" and not hyperscan_available(), reason="no hyperscan"))
    for e in ENGINES
]
needs_hyperscan = pytest.mark.skipif(not hyperscan_available(), reason="no hyperscan")
#: How blocks are searched: Hyperscan with the automaton for ASCII blocks (other blocks searched with
#: RE2 while they are few), Hyperscan with the automaton of any bytes compiled at the first non-ASCII
#: block, and the RE2 fallback.
MODES = ("hyperscan", "hyperscan-general", "re2")
MODE_PARAMS = [
    pytest.param(m, marks=pytest.mark.skipif(m != "re2" and not hyperscan_available(), reason="no hyperscan"))
    for m in MODES
]


def matcher_for(mode: str, patterns: list[str]) -> PatternSet:
    matcher = PatternSet(patterns, "re2" if mode == "re2" else "hyperscan")
    if mode == "hyperscan-general":
        matcher.general_after_bytes = 0
    return matcher


def re2_lines(patterns: list[str], text: bytes) -> list[int]:
    """Indexes of the lines some pattern matches, line by line: the definition of right."""
    compiled = [re2.compile(p.encode()) for p in patterns]
    return [n for n, line in enumerate(text.split(b"\n")[:-1]) if any(c.search(line) for c in compiled)]


def candidate_lines(matcher: PatternSet, text: bytes) -> list[int]:
    starts = [0] + [i + 1 for i, b in enumerate(text) if b == 0x0A]
    return [starts.index(start) for start, _, _ in matcher.candidates(text)]


def exact_lines(matcher: PatternSet, text: bytes) -> list[int]:
    """Confirmed lines, through the ids the prefilter reported (as the scanner does) and without them."""
    lines = text.split(b"\n")[:-1]
    starts = [0] + [i + 1 for i, b in enumerate(text) if b == 0x0A]
    confirmed = []
    for start, _, ids in matcher.candidates(text):
        n = starts.index(start)
        assert matcher.matches(lines[n], None, ids) == matcher.matches(lines[n])
        if matcher.matches(lines[n], None, ids):
            confirmed.append(n)
    return confirmed


# Where RE2 (UTF-8) and a byte-level engine read the same syntax differently: each row is a pattern
# and a line RE2 matches; the prefilter must report the line.
DIFFERENCES = [
    (r"task \S+ blocked", b"task a\x0bb blocked"),  # RE2's \S matches a vertical tab, PCRE's does not
    (r"a.b", "aéb".encode()),  # one character, two bytes
    (r"a.{2}b", "a€€b".encode()),  # two characters, six bytes
    (r"x[^)]y", "x→y".encode()),
    (r"\xE9t\xE9", "été".encode()),  # a code point, not a byte
    (r"(?i)kill", "\u212aill".encode()),  # KELVIN SIGN folds to k
    (r"(?i)sigterm", "\u017figterm".encode()),  # LATIN SMALL LETTER LONG S folds to s
    (r"(?i)[a-z]+ok", "\u212a\u017fok".encode()),
    (r"^E\d{4} ", b"E0306 12:00:00"),
    (r"^started$", b"started"),
    (r"\Aboot\z", b"boot"),
    (r"\bOOM\b", b"[1] OOM kill"),
    (r"[[:digit:]]{3} Too Many", b"HTTP 429 Too Many Requests"),
    (r"(?i)(?-i:X)y", b"XY"),  # (?-i) is not trusted to narrow: a superset either way
    (r"\Qa.b\E", b"xa.by"),
    (r"\x{20AC}5", "€5".encode()),
    (r"caf\x{E9}|na\x{EF}ve", "naïve".encode()),
    (r"(?s)a.b", b"a-b"),
    (r"\pL+ failed", "é failed".encode()),  # a Unicode category: its ASCII letters, or any multi-byte character
    (r"AP\pN{2}", "AP\u0663\u0664".encode()),  # ARABIC-INDIC digits are numbers
    (r"\p{Greek}+ mount", "αβ mount".encode()),  # a script is not rewritten: RE2 searches it
    (r"x{,3}", b"x{,3}"),  # not a repetition in RE2: a literal
    (r"k\S{1000}", ("k" + "é" * 1000).encode()),  # 1,000 characters, 2,000 bytes: past RE2's counted limit
]


@pytest.mark.parametrize("mode", MODE_PARAMS)
@pytest.mark.parametrize(("pattern", "line"), DIFFERENCES)
def test_the_prefilter_finds_what_re2_finds_where_the_syntaxes_differ(mode: str, pattern: str, line: bytes) -> None:
    assert re2.compile(pattern.encode()).search(line), "the row itself is wrong"
    text = b"noise before\n" + line + b"\nnoise after\n"
    matcher = matcher_for(mode, [pattern])
    assert candidate_lines(matcher, text) == [1]
    assert matcher.matches(line) == [0]
    assert exact_lines(matcher, text) == [1]


def test_unsupported_syntax_is_searched_with_re2_and_says_why() -> None:
    matcher = PatternSet([r"\p{Greek}+ failed", r"\C\C", "plain"])
    assert set(matcher.residual) == {0, 1}
    assert all(reason.startswith("not rewritten") for reason in matcher.residual.values())
    with pytest.raises(Unsupported):
        byte_superset(r"\p{Han}")


@pytest.mark.parametrize("engine", ENGINE_PARAMS)
def test_patterns_that_need_a_newline_never_match_a_line(engine: str) -> None:
    matcher = PatternSet([r"end\nstart", r"(?:\n)+x"], engine)
    assert byte_superset(r"end\nstart") is None
    assert matcher.candidates(b"end\nstart\nx\n") == []


@pytest.mark.parametrize("engine", ENGINE_PARAMS)
def test_allowed_ids_restrict_the_answer(engine: str) -> None:
    matcher = PatternSet(["alpha", "beta"], engine)
    text = b"alpha\nbeta\nalpha beta\n"
    assert candidate_lines(matcher, text) == [0, 1, 2]
    assert [matcher.matches(line, frozenset({1})) for line in text.split(b"\n")[:-1]] == [[], [1], [1]]
    assert [s for s, _, _ in matcher.candidates(text, frozenset({1}))] == [6, 11]


# -------------------------------------------------------------------------- generated patterns and lines

ATOMS = [
    "a",
    "b",
    "k",
    "s",
    "é",
    "€",
    ".",
    r"\d",
    r"\D",
    r"\s",
    r"\S",
    r"\w",
    r"\W",
    "[a-c]",
    "[^a]",
    "[^)]",
    r"[\d\s]",
    "[[:alpha:]]",
    r"\x{e9}",
    r"\.",
    r"\b",
    "^",
    "$",
    "(?i)k",
    "(?i:s)",
    r"\pN",
    r"[\pL_]",
]
QUANTIFIERS = ["", "", "", "*", "+", "?", "{2}", "{1,3}", "{0,2}", "*?"]
LINE_CHARS = st.sampled_from(
    ["a", "b", "k", "K", "s", "S", "é", "€", "\u212a", "\u017f", " ", "\t", "\x0b", ")", "1", "\u0663"]
)


@st.composite
def patterns(draw: st.DrawFn) -> str:
    branches = draw(
        st.lists(
            st.lists(st.tuples(st.sampled_from(ATOMS), st.sampled_from(QUANTIFIERS)), min_size=1, max_size=4),
            min_size=1,
            max_size=3,
        )
    )
    text = "|".join("".join(a + (q if a not in ("^", "$", r"\b") else "") for a, q in b) for b in branches)
    return text


LINE_BYTES = st.sampled_from([c.encode() for c in ["a", "b", "k", "é", "€", "\u212a", " ", "\x0b", ")", "1"]])
RAW_BYTES = st.sampled_from([b"\xff", b"\xc3", b"\xa9", b"\x80", b"\xe2\x82"])  # broken UTF-8 too
any_line = st.one_of(
    st.text(LINE_CHARS, max_size=8).map(str.encode),
    st.lists(st.one_of(LINE_BYTES, RAW_BYTES), max_size=8).map(b"".join),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern_list=st.lists(patterns(), min_size=1, max_size=3), lines=st.lists(any_line, min_size=1, max_size=6))
def test_generated_patterns_both_engines_find_exactly_what_re2_finds(
    pattern_list: list[str], lines: list[bytes]
) -> None:
    text = b"".join(line + b"\n" for line in lines)
    expected = re2_lines(pattern_list, text)
    for mode in MODES:
        if mode != "re2" and not hyperscan_available():
            continue
        matcher = matcher_for(mode, pattern_list)
        assert set(expected) <= set(candidate_lines(matcher, text)), (mode, pattern_list)
        assert exact_lines(matcher, text) == expected, (mode, pattern_list)


ascii_line = st.text(
    st.sampled_from(["a", "b", "k", "K", "s", "S", " ", "\t", "\x0b", ")", "1", ".", "-"]), max_size=10
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern_list=st.lists(patterns(), min_size=1, max_size=3), lines=st.lists(ascii_line, min_size=1, max_size=8))
def test_blocks_of_ascii_bytes_use_forms_without_multibyte_alternatives_and_find_exactly_what_re2_finds(
    pattern_list: list[str], lines: list[str]
) -> None:
    text = "".join(line + "\n" for line in lines).encode()
    expected = re2_lines(pattern_list, text)
    for mode in MODES:
        if mode != "re2" and not hyperscan_available():
            continue
        matcher = matcher_for(mode, pattern_list)
        assert set(expected) <= set(candidate_lines(matcher, text)), (mode, pattern_list)
        assert exact_lines(matcher, text) == expected, (mode, pattern_list)


# Forms for text of ASCII bytes: no multi-byte alternative, bounds as written, no fold sentinel needed.
ASCII_FORMS = [
    (r"[MNO][a-zA-Z\pN_-]{23,25}\.", r"[M-O](?:[\x2d0-9A-Z\x5fa-z]){23,25}\x2e"),
    (r"a.{0,20}b", r"a(?:[\x00-\x09\x0b-\x7f]){0,20}b"),
    (r"(?i)sk", r"[Ss][Kk]"),
    (r"caf\x{E9}|bar", r"bar"),  # an ASCII line holds no U+00E9
    (r"\x{E9}", None),
]


@pytest.mark.parametrize(("pattern", "form"), ASCII_FORMS)
def test_the_form_for_ascii_text_is_exact_and_narrow(pattern: str, form: str | None) -> None:
    rewritten = rewrite(pattern, ascii_text=True)
    assert rewritten.form == form
    assert rewritten.exact and not rewritten.folds
    assert "\\x80" not in (rewritten.form or "") and "\\xc0" not in (rewritten.form or "")


@needs_hyperscan
def test_non_ascii_blocks_are_searched_with_re2_until_the_automaton_of_any_bytes_pays_off() -> None:
    matcher = PatternSet(["café", "plain"], "hyperscan")
    text = "x\ncafé here\nplain\nnaïve\n".encode()
    matcher.general_after_bytes = 4 * len(text)  # two searches a round
    for _ in range(2):
        assert matcher.search(text).ascii is False
        assert exact_lines(matcher, text) == [1, 2]
        assert matcher._general_state == "absent"
    found = matcher.search(text)  # past general_after_bytes: compiled now, and it marks newlines too
    assert matcher._general_state == "compiled" and found.marks == [] and not found.ascii
    assert exact_lines(matcher, text) == [1, 2]
    assert candidate_lines(matcher, text) == [1, 2]
    ascii_text = b"x\nplain\n"
    assert matcher.search(ascii_text).ascii and exact_lines(matcher, ascii_text) == [1]


@needs_hyperscan
def test_a_pattern_hyperscan_takes_only_in_prefilter_mode_is_confirmed_by_re2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = multimatch._hs_database

    def strict_only_with_prefilter(forms: dict[int, str], flags: dict[int, int]) -> object:
        if any("zz" in form and not flags[i] & multimatch.hyperscan.HS_FLAG_PREFILTER for i, form in forms.items()):
            raise multimatch.hyperscan.error("Pattern is too large.")
        return real(forms, flags)

    monkeypatch.setattr(multimatch, "_hs_database", strict_only_with_prefilter)
    matcher = PatternSet(["a(?:zz)+b", "plain"], "hyperscan")
    assert 0 in matcher.hyperscan_ids and 0 not in matcher.residual
    assert not matcher.exact_for(frozenset({0}), ascii_line=True)
    assert matcher.exact_for(frozenset({1}), ascii_line=True)
    assert exact_lines(matcher, b"azzzzb\nazzzb\nplain\n") == [0, 2]


@needs_hyperscan
@settings(max_examples=100, deadline=None)
@given(lines=st.lists(st.text(st.sampled_from(["a", "x", " ", "é"]), max_size=6), max_size=600))
def test_the_pass_also_marks_every_stride_th_newline(lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines).encode()
    ends = [i + 1 for i, byte in enumerate(text) if byte == 0x0A]
    for mode in ("hyperscan", "hyperscan-general"):
        matcher = matcher_for(mode, ["x"])
        result = matcher.search(text)
        if mode == "hyperscan" and not text.isascii():
            assert result.marks is None  # searched with RE2
        else:
            assert result.marks == ends[STRIDE - 1 :: STRIDE]
        assert result.ascii == text.isascii()
        assert result.found == matcher.candidates(text)
    assert PatternSet(["x"], "re2").search(text).marks is None


# ----------------------------------------------------------------------------------- hostile blocks


@needs_hyperscan
def test_a_line_matching_at_every_byte_costs_one_re2_pass_not_a_callback_per_match() -> None:
    matcher = PatternSet(["CrashLoopBackOff", "x"], "hyperscan")
    storm = b"x" * 200_000 + b"\n"  # a match at every byte of one line, then ordinary lines
    text = storm + b"ok\n" * 100 + b"kubelet: CrashLoopBackOff\n"
    assert event_budget(len(text)) < 200_000
    assert candidate_lines(matcher, text) == [0, 101]
    assert matcher.storms == 1
    result = matcher.search(text)  # the marks of a stopped scan are not used
    assert (result.found, result.marks) == (matcher.candidates(text), None)
    assert PatternSet(["CrashLoopBackOff", "x"], "re2").candidates(text) == matcher.candidates(text)


@needs_hyperscan
def test_one_short_line_matching_at_every_byte_is_enough_to_hand_the_block_to_re2() -> None:
    matcher = PatternSet(["x"], "hyperscan")
    text = b"x" * (LINE_EVENTS + 1) + b"\n" + b"quiet line\n" * 1000
    assert len(matcher.candidates(text)) == 1
    assert matcher.storms == 1


@needs_hyperscan
def test_every_line_matching_stays_under_the_budget() -> None:
    matcher = PatternSet(["table full, dropping packet"], "hyperscan")
    text = b"[12.5] nf_conntrack: table full, dropping packet\n" * 20000
    assert len(matcher.candidates(text)) == 20000
    assert matcher.storms == 0
