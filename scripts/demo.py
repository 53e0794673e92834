"""``make demo``: the seed incident investigated end to end through the local MCP server.

Builds the seed bundles (a faulty node and a healthy one), starts ``eksdiag serve --bundles DIR``
over stdio, and has the official MCP Python client walk
collect -> status -> errors -> search -> correlate -> read -> summarize -> compare_nodes,
printing each step briefly and ending with the root cause and its evidence.

    python scripts/demo.py [--bundles DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _seed(folder: Path) -> tuple[str, str]:
    sys.path.insert(0, str(REPO))
    from tests.fixtures.seed import FAULTY_ID, HEALTHY_ID, build_seed_bundles

    build_seed_bundles(folder)
    return FAULTY_ID, HEALTHY_ID


def _step(number: int, title: str) -> None:
    print(f"\n[{number}] {title}")


def _say(text: str) -> None:
    print(textwrap.indent(textwrap.fill(text, width=108, subsequent_indent="  "), "    "))


async def _walk(bundles: Path, faulty: str, healthy: str) -> int:
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "eksdiag.server", "--bundles", str(bundles)])

    async with Client(params) as client:

        async def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
            result = await client.call_tool(name, args)
            payload = result.structured_content or json.loads(result.content[0].text)
            if result.is_error:
                raise SystemExit(f"{name} failed: {json.dumps(payload)}")
            return dict(payload)

        tools = (await client.list_tools()).tools
        print(f"connected to eksdiag over stdio: {len(tools)} tools ({', '.join(t.name for t in tools[:4])}, ...)")

        _step(1, f"nodelog___collect instanceId={faulty}")
        collected = await call("nodelog___collect", {"instanceId": faulty})
        bundle = collected["bundleId"]
        _say(f"bundle {bundle} ({collected['state']}); locally the bundle file is imported instead of running SSM")

        _step(2, f"nodelog___status bundleId={bundle}")
        status = await call("nodelog___status", {"bundleId": bundle})
        counts = ", ".join(f"{k} {v}" for k, v in status.get("findingCounts", {}).items() if v)
        _say(f"state {status['state']}, done={status['done']}; findings: {counts}")

        _step(3, "findings___errors (worst first, noise left out)")
        errors = await call("findings___errors", {"bundleId": bundle})
        for f in errors["findings"][:6]:
            _say(f"{f['severity']:<8} {f['rule']:<36} {f['file']}:{f['line']}  x{f['count']}  {f['id']}")
        if errors["total"] > 6:
            _say(f"... {errors['total'] - 6} more; {errors['excluded']['noise']} known-benign noise findings left out")

        _step(4, 'findings___search pattern="i/o timeout|TLS handshake timeout" (RE2, exact line numbers)')
        found = await call(
            "findings___search", {"bundleId": bundle, "pattern": "i/o timeout|TLS handshake timeout", "maxMatches": 50}
        )
        files = sorted({m["file"] for m in found["matches"]})
        first = found["matches"][0] if found["matches"] else None
        _say(f"{found['returned']} matching lines in {', '.join(files)}")
        if first:
            _say(f"first: {first['file']}:{first['line']}: {first['text'][:150]}")

        _step(5, "findings___correlate (the hour before collection)")
        correlated = await call("findings___correlate", {"bundleId": bundle})
        _say(
            f"{correlated['eventsInWindow']} timed events in {len(correlated['clusters'])} bursts; "
            f"{len(correlated['stateFindings'])} findings describe the node's state at collection time"
        )
        for c in correlated["rootCauseCandidates"]:
            explains = ", ".join(c["explainsRules"][:4])
            _say(f"#{c['rank']} {c['rule']} ({c['confidence']}) explains {len(c['explains'])}: {explains}")

        top = correlated["rootCauseCandidates"][0]
        _step(6, f"findings___read findingId={top['findingId']} (the lines around the top candidate)")
        read = await call("findings___read", {"bundleId": bundle, "findingId": top["findingId"], "contextLines": 4})
        _say(
            f"{read['path']} lines {read['startLine']}-{read['endLine']} (bytes {read['startByte']}-{read['endByte']}):"
        )
        for line in read["content"].splitlines():
            print(f"      | {line[:120]}")

        _step(7, "findings___summarize (grounded in the finding ids from errors)")
        ids = [f["id"] for f in errors["findings"]]
        summary = await call("findings___summarize", {"bundleId": bundle, "findingIds": ids})
        _say(summary["headline"])
        _say(f"runbooks: {', '.join(summary['runbooks'][:6])}")

        _step(8, f"findings___compare_nodes with the healthy node {healthy}")
        await call("nodelog___collect", {"instanceId": healthy})
        compared = await call("findings___compare_nodes", {"instanceIds": [faulty, healthy]})
        (comparison,) = compared["comparisons"]
        for d in comparison["dimensions"][:6]:
            _say(f"{d['name']:<32} faulty {d['bundle']}  vs  healthy {d['baseline']}")
        unique = next(u["rules"] for u in compared["uniqueRules"] if u["bundleId"] == bundle)
        _say(f"only on the faulty node: {', '.join(unique[:6])}")

        cause = summary["rootCause"] or top
        print("\nROOT CAUSE")
        _say(f"{cause['title']} ({cause['rule']}, {cause['severity']}, confidence {cause['confidence']})")
        _say(f"why: {cause['reason']}")
        print("EVIDENCE")
        for e in cause["evidence"]:
            print(f"      {e['file']}:{e['line']}: {e['text'].strip()[:110]}")
        print(f"  explains {len(cause['explains'])} other findings: {', '.join(cause['explainsRules'])}")
    return 0


def main(argv: list[str] | None = None) -> int:
    import anyio

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundles", type=Path, help="folder for the seed bundles (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    opts = parser.parse_args(argv)
    started = time.monotonic()
    temporary = None if opts.bundles else Path(tempfile.mkdtemp(prefix="eksdiag-demo-"))
    folder = opts.bundles or temporary
    assert folder is not None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        faulty, healthy = _seed(folder)
        print(f"seed incident: faulty node {faulty}, healthy node {healthy}; bundles in {folder}")
        code = anyio.run(_walk, folder, faulty, healthy)
    finally:
        if temporary is not None and not opts.keep:
            shutil.rmtree(temporary, ignore_errors=True)
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
