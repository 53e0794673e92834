"""Figures about the multi-pattern matcher that docs/benchmark.md quotes, measured here.

Prints: how the catalogue's line rules and the redaction triggers rewrite (in the automaton, exact,
exact on ASCII lines, searched with RE2), the compile time of the shared database, scan throughput
on blocks of the bench bundle (rules, triggers, both), where one indexing run spends its CPU per
thread, the cost of a matching line, and throughput on hostile lines and large counted repetitions.

Usage: python scripts/matcher_report.py [BUNDLE]   (default .bench/bench-1024mib.tar.gz, made by make bench)
"""

from __future__ import annotations

import sys
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

from isal import igzip_threaded

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "handlers"))

from eksdiag.engine import indexer, multimatch, scanner  # noqa: E402
from eksdiag.engine.multimatch import PatternSet  # noqa: E402
from eksdiag.engine.rules import CATALOGUE  # noqa: E402
from eksdiag.engine.scanner import line_patterns  # noqa: E402
from eksdiag.engine.superset import rewrite  # noqa: E402

MIB = 1 << 20


def blocks_of(bundle: Path, per_file: int = 6) -> list[bytes]:
    """A few 1 MiB blocks of whole lines from each large member."""
    out: list[bytes] = []
    with igzip_threaded.open(bundle, "rb") as raw, tarfile.open(fileobj=raw, mode="r|") as tar:
        for info in tar:
            if info.size < 50 * MIB:
                continue
            member = tar.extractfile(info)
            assert member is not None
            carry = b""
            for _ in range(per_file):
                data = carry + member.read(MIB)
                cut = data.rfind(b"\n") + 1
                out.append(data[:cut])
                carry = data[cut:]
    return out


def throughput(matcher: PatternSet, blocks: list[bytes], allowed: frozenset[int] | None = None) -> float:
    """GB/s of candidates() over the blocks (best of two, CPU time)."""
    best = float("inf")
    for _ in range(2):
        start = time.process_time()
        for block in blocks:
            matcher.candidates(block, allowed)
        best = min(best, time.process_time() - start)
    return sum(map(len, blocks)) / best / 1e9


def cpu_by_thread(bundle: Path) -> dict[str, float]:
    """CPU seconds of one indexing run, per kind of work (thread CPU clocks)."""
    spent: dict[str, float] = {}
    lock = threading.Lock()

    def timed(name: str, function: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                with lock:
                    spent[name] = spent.get(name, 0.0) + time.thread_time() - start

        return run

    scan = multimatch.PatternSet._hyperscan_lines
    examine = scanner.FileScanner.examine
    multimatch.PatternSet._hyperscan_lines = timed("Hyperscan pass", scan)  # type: ignore[method-assign]
    scanner.FileScanner.examine = timed("newline counting and classifying", examine)  # type: ignore[method-assign]
    try:
        process, main = time.process_time(), time.thread_time()
        wall = time.perf_counter()
        indexer.index_bundle(bundle)
        spent["wall"] = time.perf_counter() - wall
        spent["main thread"] = time.thread_time() - main
        spent["all threads"] = time.process_time() - process
    finally:
        multimatch.PatternSet._hyperscan_lines = scan  # type: ignore[method-assign]
        scanner.FileScanner.examine = examine  # type: ignore[method-assign]
    return spent


def main() -> int:
    bundle = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".bench" / "bench-1024mib.tar.gz"
    if not bundle.exists():
        print(f"{bundle} is missing: run make bench first", file=sys.stderr)
        return 2
    shared = line_patterns()
    patterns = shared.patterns.patterns
    rules = [i for i in range(len(patterns)) if i not in shared.triggers]
    rewrites = {i: rewrite(patterns[i]) for i in range(len(patterns)) if i not in shared.patterns.residual}
    exact = sum(1 for i in rules if i in rewrites and rewrites[i].exact)
    ascii_exact = sum(1 for i in rules if i in rewrites and rewrites[i].ascii_exact)
    print(
        f"patterns: {len(rules)} rule patterns, {len(shared.triggers)} redaction triggers; in the automaton "
        f"{len(shared.patterns.hyperscan_ids)}, searched with RE2 {len(shared.patterns.residual)}; rules exact "
        f"on any line {exact}, on ASCII lines {ascii_exact}"
    )
    start = time.process_time()
    PatternSet(list(patterns), "hyperscan")
    print(f"compile of the shared database: {time.process_time() - start:.2f} s CPU")

    blocks = blocks_of(bundle)
    every = shared.patterns
    print(
        f"scan of {len(blocks)} MiB of the bench lines: rules and triggers {throughput(every, blocks):.2f} GB/s, "
        f"rules {throughput(every, blocks, frozenset(rules)):.2f} GB/s (same automaton, other ids ignored), "
        f"rules alone {throughput(PatternSet([patterns[i] for i in rules]), blocks):.2f} GB/s, "
        f"triggers alone {throughput(PatternSet([patterns[i] for i in sorted(shared.triggers)]), blocks):.2f} GB/s, "
        f"RE2 alternation of both {throughput(PatternSet(list(patterns), 're2'), blocks):.2f} GB/s"
    )

    without = {
        t: throughput(PatternSet([p for i, p in enumerate(patterns) if i != t]), blocks[::2]) for t in shared.triggers
    }
    costliest = max(without, key=without.__getitem__)
    print(
        f"costliest trigger: {patterns[costliest]!r}; the shared pass scans at "
        f"{throughput(every, blocks[::2]):.2f} GB/s with it, {without[costliest]:.2f} GB/s without"
    )

    spent = cpu_by_thread(bundle)
    print("one indexing run, CPU seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in spent.items()))

    dense = (
        b"Mar 06 12:00:00 ip-10-0-0-1 kubelet[3456]: I0306 12:00:00.611207    3456 prober.go:107] "
        b'"Probe failed" probeType="Readiness" pod="default/web-1" probeResult="failure"\n'
    )
    rules_set = scanner.compile_rules(scanner.rules_for_path("kubelet/kubelet.log", CATALOGUE))
    block = dense * 8000
    found: list[Any] = []
    file_scanner = scanner.FileScanner("kubelet/kubelet.log", rules_set, found.append)
    start = time.process_time()
    for _ in range(5):
        file_scanner.scan_block(block)
    per_line = (time.process_time() - start) / (5 * 8000) * 1e6
    print(f"a matching line costs {per_line:.1f} µs (search, classify, aggregate; readiness-probe lines)")

    hostile = [
        ("x", b"x" * MIB),
        (r"(?i)password\s*[:=]\s*\S+", b"password= " * (MIB // 10)),
        (r"(?:ab|cd){500}", b"ab" * (MIB // 2)),
        (r"\S{1000}", b"a" * MIB),
    ]
    for pattern, line in hostile:
        text = line + b"\n"
        for engine in ("hyperscan", "re2"):
            matcher = PatternSet([pattern], engine)
            matcher.candidates(text)  # compile the RE2 side once
            start = time.process_time()
            for _ in range(3):
                matcher.candidates(text)
            rate = 3 * len(text) / (time.process_time() - start) / 1e6
            print(f"hostile line, {engine}: {pattern!r} on {line[:12]!r}…: {rate:,.0f} MB/s")
    repeats = (r"\S{1000}", r".{1000}", r"(?:ab|cd){500}", r"(?i)aws_secret_access_key\s*=\s*[A-Za-z0-9/+=]{40}")
    for pattern in repeats:
        start = time.process_time()
        PatternSet([pattern], "hyperscan")
        print(f"compile {pattern!r}: {(time.process_time() - start) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
