"""errors: the bundle's findings, worst first, filtered by severity, category and time, paged."""

from __future__ import annotations

from typing import Any

from eksdiag.tools.base import ToolContext
from eksdiag.tools.findings._common import (
    SEVERITY_RANK,
    brief,
    cursor_int,
    cursor_secret,
    decode_cursor,
    encode_cursor,
    query_key,
    resolve_bundle,
    runbooks_for,
    severity_counts,
    window_from_args,
)

NAME = "errors"
GROUP = "findings"


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    bundle = resolve_bundle(args, ctx)
    window = window_from_args(args, bundle)
    floor = SEVERITY_RANK[args["minSeverity"]]
    categories = set(args.get("categories") or ())
    include_noise = bool(args["includeNoise"]) or "noise" in categories

    kept: list[dict[str, Any]] = []
    excluded = {"belowSeverity": 0, "category": 0, "noise": 0, "outsideWindow": 0}
    untimed = 0
    for finding in bundle.findings:
        if finding["category"] == "noise" and not include_noise:
            excluded["noise"] += 1
        elif SEVERITY_RANK.get(finding["severity"], 0) < floor:
            excluded["belowSeverity"] += 1
        elif categories and finding["category"] not in categories:
            excluded["category"] += 1
        else:
            inside = window.overlaps(finding.get("first_seen"), finding.get("last_seen")) if window else True
            if inside is False:
                excluded["outsideWindow"] += 1
                continue
            untimed += inside is None
            kept.append(finding)

    key = query_key(
        NAME,
        bundle.bundle_id,
        args["minSeverity"],
        sorted(categories),
        include_noise,
        window.to_dict() if window else None,
        args["pageSize"],
    )
    secret = cursor_secret(ctx, bundle)
    position = decode_cursor(args.get("cursor"), key, secret)
    offset = cursor_int(position, "o", 0, len(kept)) if position else 0
    page = kept[offset : offset + args["pageSize"]]
    links = runbooks_for([f["rule"] for f in page])
    findings = [{**brief(f, args["evidenceLines"]), "runbooks": links.get(f["rule"], [])} for f in page]
    end = offset + len(page)
    meta = bundle.meta
    result: dict[str, Any] = {
        **bundle.header(),
        "window": window.to_dict() if window else None,
        "total": len(kept),
        "returned": len(findings),
        "offset": offset,
        "findings": findings,
        "summary": severity_counts(kept),
        "excluded": excluded,
        "untimedIncluded": untimed,
        "coverage": {
            "complete": bool(meta.get("complete", False)),
            "files": len(bundle.files),
            "skipped": len(bundle.index.get("skipped") or []),
            "problems": list(meta.get("problems") or [])[:10],
        },
        "nextCursor": encode_cursor(key, {"o": end}, secret) if end < len(kept) else None,
    }
    return result
