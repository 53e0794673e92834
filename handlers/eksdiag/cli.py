"""`eksdiag`: findings, compare and timeline of EKS node bundles, and the local MCP server.

Exit codes: 0 success, 2 bad input (one-line reason on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eksdiag.engine.compare import compare
from eksdiag.engine.indexer import BundleError, BundleIndex, Limits, index_bundle
from eksdiag.engine.model import Severity
from eksdiag.engine.redact_log import NO_REDACT_WARNING
from eksdiag.engine.timeline import timeline


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit code 2."""


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(max_total_bytes=args.max_bytes, max_ratio=args.max_ratio)


def _load(path: str, args: argparse.Namespace) -> BundleIndex:
    if not Path(path).exists():
        raise UsageError(f"no such bundle: {path}")
    if args.no_redact:
        print(NO_REDACT_WARNING, file=sys.stderr, flush=True)
    try:
        return index_bundle(path, limits=_limits(args), redact=not args.no_redact)
    except BundleError as exc:
        raise UsageError(f"{path}: {exc}") from None


def _severities(text: str | None) -> set[Severity] | None:
    if not text:
        return None
    try:
        return {Severity.parse(part) for part in text.split(",") if part.strip()}
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def cmd_findings(args: argparse.Namespace) -> int:
    idx = _load(args.bundle, args)
    wanted = _severities(args.severity)
    findings = [f for f in idx.findings if wanted is None or f.severity in wanted]
    if args.json:
        _print_json({"bundle": idx.bundle, "findings": [f.to_dict() for f in findings], "skipped": idx.skipped})
        return 0
    b = idx.bundle
    print(
        f"bundle {b['id']}  instance {b.get('instance_id') or '-'}  collected {b.get('collected_at') or '-'}"
        f"  variant {b['variant']}  files {b['files']}  complete {b['complete']}"
    )
    for problem in b.get("problems", []):
        print(f"  problem: {problem}")
    rows = [
        [f.severity.value, f.rule, f"{f.file}:{f.line}", str(f.count), f.evidence[0].text[:90] if f.evidence else ""]
        for f in findings
    ]
    print(_table(rows, ["SEVERITY", "RULE", "WHERE", "COUNT", "EVIDENCE"]))
    return 0


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "; ".join(value) if value else "(none)"
    return str(value)


def cmd_compare(args: argparse.Namespace) -> int:
    result = compare(_load(args.bundle, args), _load(args.baseline, args))
    if args.json:
        _print_json(result)
        return 0
    rows = [
        [
            ("* " if d["differs"] else "  ") + d["name"],
            _fmt(d["bundle"])[:70],
            _fmt(d["baseline"])[:50],
            "-" if d["ratio"] is None else f"{d['ratio']:g}",
        ]
        for d in result["dimensions"]
    ]
    print(_table(rows, ["DIMENSION (* differs)", "BUNDLE", "BASELINE", "RATIO"]))
    rules = result["rules"]
    print(f"\nrules only on this node: {', '.join(rules['only_in_bundle']) or '(none)'}")
    print(f"rules only on the baseline: {', '.join(rules['only_in_baseline']) or '(none)'}")
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    result = timeline(_load(args.bundle, args), window_minutes=args.window_minutes)
    if args.json:
        _print_json(result)
        return 0
    print(
        f"collected {result['collected_at']}  clusters {len(result['clusters'])}"
        f"  excluded by window {result['excluded_events']}"
    )
    for c in result["clusters"]:
        print(f"{c['start']} .. {c['end']}  {c['severity']:<8} {c['events']:>4} events  {', '.join(c['rules'])}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eksdiag", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def bundle_command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("bundle", help="a .tar.gz/.tgz bundle or an extracted bundle folder")
        p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        p.add_argument(
            "--max-bytes",
            type=int,
            default=Limits.max_total_bytes,
            help="stop after this many uncompressed bytes (default %(default)s)",
        )
        p.add_argument(
            "--max-ratio",
            type=float,
            default=Limits.max_ratio,
            help="stop above this compression ratio (default %(default)s)",
        )
        p.add_argument(
            "--no-redact",
            action="store_true",
            help="UNSAFE, local use only: do not redact secrets (keys, tokens, passwords) in the output",
        )
        return p

    p = bundle_command("findings", "severity-ranked findings of one bundle")
    p.add_argument("--severity", help="comma list, e.g. CRITICAL,HIGH")
    p.set_defaults(func=cmd_findings)
    p = bundle_command("compare", "compare a bundle with a healthy baseline")
    p.add_argument("--baseline", required=True, help="the healthy node's bundle")
    p.set_defaults(func=cmd_compare)
    p = bundle_command("timeline", "events on one timeline, clustered")
    p.add_argument("--window-minutes", type=int, help="only the last N minutes before collection")
    p.set_defaults(func=cmd_timeline)
    sub.add_parser("serve", help="serve the MCP tools locally over stdio or HTTP (see `eksdiag serve --help`)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["serve"]:  # the server owns its own options
        from eksdiag.server import main as serve_main

        return int(serve_main(arguments[1:]) or 0)
    parser = build_parser()
    args = parser.parse_args(arguments)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"eksdiag: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
