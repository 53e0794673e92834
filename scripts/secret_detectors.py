"""Compare secret detectors on node-log lines: secrets found, benign lines flagged, speed.

The corpus is the red-team cases of ``tests/security/test_redaction_rules.py`` (one planted secret per
line, every kind) and benign lines from the seed bundles, the bench generator and real node formats.
Each detector runs in the interpreter that has it installed, on a corpus file written by this project:

    .venv/bin/python scripts/secret_detectors.py --dump /tmp/corpus.json      # also measures eksdiag
    VENV/bin/python scripts/secret_detectors.py --corpus /tmp/corpus.json     # detect-secrets, kingfisher

A detector "finds" a case when one of the values it reports is, or contains, the planted secret.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_corpus() -> dict[str, list]:
    sys.path.insert(0, str(ROOT))
    import scripts.bench as bench
    from tests.fixtures import seed
    from tests.security.test_redaction_rules import BENIGN, CASES

    benign = [
        line for faulty in (True, False) for text in seed.node_files(faulty).values() for line in text.splitlines()
    ]
    for template in bench.KUBELET + bench.INCIDENT + bench.CONTAINERD + bench.IPAMD + bench.DMESG:
        for i in range(50):
            stamp = f"18:{i % 60:02d}:{i % 60:02d}"
            benign.append(template.format(t=stamp, n=i, r=bench._id(i), h=seed.HOST, s=1000 + i))
    return {"planted": [[kind, line, secret] for kind, line, secret in CASES], "benign": benign + BENIGN}


def _detect_secrets() -> tuple[str, Callable[[str], list[str]]] | None:
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    except ImportError:
        return None
    plugins = [cls() for kind, cls in get_mapping_from_secret_type_to_class().items() if "High Entropy" not in kind]
    name = next((f"{d} {metadata.version(d)}" for d in ("bc-detect-secrets", "detect-secrets") if _installed(d)), "?")
    return name, lambda line: [v for p in plugins for v in p.analyze_string(line)]


def _kingfisher() -> tuple[str, Callable[[str], list[str]]] | None:
    try:
        from kingfisher_sdk import Rules, Scanner
    except ImportError:
        return None
    started = time.perf_counter()
    scanner = Scanner(Rules(cache=False), base64=False)
    print(f"kingfisher: rules compiled in {time.perf_counter() - started:.1f}s")
    return f"kingfisher-secret-scanner {metadata.version('kingfisher-secret-scanner')}", lambda line: [
        f.secret for f in scanner.scan(line.encode())
    ]


def _eksdiag() -> tuple[str, Callable[[str], list[str]]] | None:
    try:
        from eksdiag.engine.redact import redact_line
    except ImportError:
        return None

    def found(line: str) -> list[str]:
        redacted, kinds = redact_line(line.encode())
        return [line] if kinds and redacted != line.encode() else []

    return "eksdiag redact_line (rules + bc-detect-secrets)", found


def _installed(dist: str) -> bool:
    try:
        metadata.version(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


def evaluate(name: str, detect: Callable[[str], list[str]], corpus: dict[str, list], eksdiag: bool) -> None:
    planted = corpus["planted"]
    hits = 0
    for _, line, secret in planted:
        values = detect(line)
        if eksdiag:
            from eksdiag.engine.redact import redact_line

            hits += secret.encode() not in redact_line(line.encode())[0]
        else:
            hits += any(secret in v or v in secret for v in values if v)
    flagged = sum(1 for line in corpus["benign"] if detect(line))
    lines = corpus["benign"] * 3
    started = time.perf_counter()
    for line in lines:
        detect(line)
    per_line = (time.perf_counter() - started) / len(lines)
    print(
        f"{name}: found {hits}/{len(planted)}, benign lines flagged {flagged}/{len(corpus['benign'])}, "
        f"{per_line * 1e6:.0f} us/line"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump", help="write the corpus here (needs this project's environment)")
    parser.add_argument("--corpus", help="read the corpus from here")
    args = parser.parse_args()
    if args.corpus:
        corpus = json.loads(Path(args.corpus).read_text())
    else:
        corpus = build_corpus()
        if args.dump:
            Path(args.dump).write_text(json.dumps(corpus))
    for make, ours in ((_detect_secrets, False), (_kingfisher, False), (_eksdiag, True)):
        backend = make()
        if backend is not None:
            evaluate(*backend, corpus, ours)
    return 0


if __name__ == "__main__":
    sys.exit(main())
