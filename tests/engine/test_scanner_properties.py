"""The block scanner agrees with a naive per-line scan, whatever the chunk boundaries (hypothesis)."""

from __future__ import annotations

import io
import re

import pytest
from eksdiag.engine.multimatch import ENGINES, hyperscan_available
from eksdiag.engine.rules import CATALOGUE
from eksdiag.engine.scanner import BlockReader, FileScanner, Occurrences, compile_rules, rules_for_path
from hypothesis import given, settings
from hypothesis import strategies as st

ENGINE_PARAMS = [
    pytest.param(e, marks=pytest.mark.skipif(e == "hyperscan" and not hyperscan_available(), reason="no hyperscan"))
    for e in ENGINES
]

PATH = "kubelet/kubelet.log"
RULES = rules_for_path(PATH, CATALOGUE)
FRAGMENTS = [
    "PLEG is not healthy",
    "CrashLoopBackOff",
    "plain text",
    "",
    "é\x00",
    "Unable to register node",
    "no space left on device",
    "x" * 50,
]

lines_strategy = st.lists(st.lists(st.sampled_from(FRAGMENTS), max_size=4).map(" ".join), max_size=60)


def naive(lines: list[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for n, line in enumerate(lines, 1):
        for rule in compile_rules(RULES, "re2").classify(line.encode()):
            out.setdefault(rule.id, []).append(n)
    return out


@pytest.mark.parametrize("engine", ENGINE_PARAMS)
@settings(max_examples=150, deadline=None)
@given(lines=lines_strategy, chunk=st.integers(min_value=1, max_value=300), trailing_newline=st.booleans())
def test_block_scan_equals_per_line_scan(engine: str, lines: list[str], chunk: int, trailing_newline: bool) -> None:
    text = "\n".join(lines) + ("\n" if trailing_newline and lines else "")
    found: list[Occurrences] = []
    scanner = FileScanner(PATH, compile_rules(RULES, engine), found.append)
    reader = BlockReader(io.BytesIO(text.encode()), chunk, 10**6)
    for block, piece, open_end in reader:
        scanner.scan_block(block, piece, open_end)
    scanner.finish()
    expected = naive(text.split("\n") if text else [])
    assert {o.rule.id: o.count for o in found} == {rule: len(lines) for rule, lines in expected.items()}
    for occ in found:
        assert occ.first[0] == expected[occ.rule.id][0]
        assert occ.last[0] == expected[occ.rule.id][-1]
    assert scanner.lines == len(re.findall("\n", text)) + (1 if text and not text.endswith("\n") else 0)
