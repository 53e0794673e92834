"""summarize: a grounded incident summary of the findings the caller names.

Every finding id must belong to the bundle: unknown ids are rejected and listed, never guessed at.
The summary quotes the evidence lines it relies on and attaches runbooks by rule id. Its own prose
(headline, caveats) is built from catalogue text and ids only: never from bundle text or file names.
"""

from __future__ import annotations

from typing import Any

from eksdiag.tools.base import ToolContext, ToolError
from eksdiag.tools.findings._causes import hypotheses
from eksdiag.tools.findings._common import SEVERITY_RANK, brief, resolve_bundle, runbooks_for, severity_counts

NAME = "summarize"
GROUP = "findings"


def _headline(bundle_header: dict[str, Any], top: dict[str, Any] | None, picked: list[dict[str, Any]]) -> str:
    node = bundle_header.get("instanceId") or bundle_header["bundleId"]
    if top is not None:
        return (
            f"{node}: most likely root cause is {top['title']} ({top['rule']}, {top['severity']}, "
            f"finding {top['findingId']}); it explains {len(top['explains'])} of the other findings: {top['reason']}."
        )
    worst = picked[0]
    return (
        f"{node}: {len(picked)} finding(s); the most severe is {worst['title']} ({worst['rule']}, {worst['severity']})."
    )


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    bundle = resolve_bundle(args, ctx)
    wanted = list(dict.fromkeys(args["findingIds"]))
    known = {f["id"]: f for f in bundle.findings}
    unknown = [fid for fid in wanted if fid not in known]
    if unknown:
        raise ToolError(
            "InvalidArgument",
            f"{len(unknown)} finding id(s) are not in bundle {bundle.bundle_id}: {', '.join(unknown)}; "
            "use ids returned by findings___errors for this bundle",
            details={"unknownFindingIds": unknown, "knownCount": len(wanted) - len(unknown)},
        )
    picked = sorted((known[fid] for fid in wanted), key=lambda f: (-SEVERITY_RANK.get(f["severity"], 0), f["rule"]))
    candidates = hypotheses(picked)
    links = runbooks_for([f["rule"] for f in picked])
    header = bundle.header()
    top = candidates[0] if candidates else None
    runbook_ids = sorted({rb for f in picked for rb in links.get(f["rule"], [])})
    return {
        **header,
        "grounded": True,
        "headline": _headline(header, top, picked),
        "rootCause": top,
        "alternatives": candidates[1:],
        "findings": [{**brief(f, evidence=3), "runbooks": links.get(f["rule"], [])} for f in picked],
        "severityCounts": severity_counts(picked),
        "categories": sorted({f["category"] for f in picked}),
        "runbooks": runbook_ids,
        "complete": bool(bundle.meta.get("complete", False)),
        "caveats": _caveats(bundle.meta, picked, top),
    }


def _caveats(meta: dict[str, Any], picked: list[dict[str, Any]], top: dict[str, Any] | None) -> list[str]:
    notes = []
    if not meta.get("complete", True):
        # the problems name bundle files, which the bundle's author chose: they stay in findings___validate
        problems = len(meta.get("problems") or [])
        notes.append(f"the bundle is incomplete ({problems} problem(s); see findings___validate)")
    if top is None:
        notes.append("no causal link among the given findings; the list is ordered by severity only")
    elif top["confidence"] != "high":
        notes.append(f"root cause confidence is {top['confidence']}: {top['timing']}")
    if any(f["category"] == "noise" for f in picked):
        notes.append("some findings are known-benign noise")
    return notes
