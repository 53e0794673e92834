"""compare_nodes: 2 to 10 bundles side by side: the engine's dimensions against a baseline bundle,
and the finding rules common to all bundles or unique to one (by rule id, each bundle counted once).
"""

from __future__ import annotations

from typing import Any

from eksdiag.tools.base import ToolContext, ToolError
from eksdiag.tools.findings._common import (
    SEVERITY_RANK,
    LoadedBundle,
    load_bundle,
    resolve_bundle,
    severity_counts,
    worst,
)
from eksdiag.tools.validate import bundle_id as check_bundle_id

NAME = "compare_nodes"
GROUP = "findings"


def _score(findings: list[dict[str, Any]]) -> int:
    """Badness: severity-weighted count of distinct non-noise rules (lower is healthier)."""
    worst_by_rule: dict[str, int] = {}
    for f in findings:
        rank = SEVERITY_RANK.get(f["severity"], 0)
        worst_by_rule[f["rule"]] = max(worst_by_rule.get(f["rule"], 0), rank)
    return sum(10**rank for rank in worst_by_rule.values())


def _dimension(entry: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": entry["name"],
        "description": entry.get("description", ""),
        "differs": bool(entry.get("differs")),
        "ratio": entry.get("ratio"),
        "files": list(entry.get("files") or []),
    }
    for side in ("bundle", "baseline"):
        value = entry.get(side)
        if isinstance(value, list):
            out[side] = len(value)
            out[f"{side}Items"] = [str(v) for v in value][:50]
        else:
            out[side] = value
    if "only_in_bundle" in entry:
        out["onlyInBundle"] = list(entry["only_in_bundle"])[:50]
        out["onlyInBaseline"] = list(entry["only_in_baseline"])[:50]
    return out


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    from eksdiag.engine.compare import compare
    from eksdiag.engine.indexer import BundleIndex

    bundle_ids, instance_ids = args.get("bundleIds"), args.get("instanceIds")
    if bool(bundle_ids) == bool(instance_ids):
        raise ToolError("InvalidArgument", "give exactly one of bundleIds or instanceIds (2 to 10 of them)")
    if bundle_ids:
        bundles = [load_bundle(check_bundle_id(bid), ctx) for bid in bundle_ids]
    else:
        bundles = [resolve_bundle({"instanceId": iid}, ctx) for iid in instance_ids or []]
    seen: set[str] = set()
    for b in bundles:
        if b.bundle_id in seen:
            raise ToolError("InvalidArgument", f"bundle {b.bundle_id} is given twice (two instances share it?)")
        seen.add(b.bundle_id)

    include_noise = args["includeNoise"]

    def relevant(b: LoadedBundle) -> list[dict[str, Any]]:
        return [f for f in b.findings if include_noise or f["category"] != "noise"]

    scores = {b.bundle_id: _score(relevant(b)) for b in bundles}
    if args.get("baselineBundleId"):
        baseline = next((b for b in bundles if b.bundle_id == args["baselineBundleId"]), None)
        if baseline is None:
            raise ToolError("InvalidArgument", "baselineBundleId must be one of the compared bundles")
        reason = "chosen by the caller"
    else:
        baseline = min(bundles, key=lambda b: (scores[b.bundle_id], b.bundle_id))
        reason = "the bundle with the fewest and least severe findings"

    base_index = BundleIndex.from_dict(baseline.index)
    comparisons = []
    for b in bundles:
        if b is baseline:
            continue
        result = compare(BundleIndex.from_dict(b.index), base_index)
        dims = [_dimension(d) for d in result["dimensions"]]
        differing = [d for d in dims if d["differs"]]
        comparisons.append(
            {
                "bundleId": b.bundle_id,
                "baselineBundleId": baseline.bundle_id,
                "differingDimensions": len(differing),
                "dimensions": dims if args["allDimensions"] else differing,
            }
        )

    rule_sets = {b.bundle_id: {f["rule"] for f in relevant(b)} for b in bundles}
    common = sorted(set.intersection(*rule_sets.values()))
    unique = []
    for b in bundles:
        others = set().union(*(rules for bid, rules in rule_sets.items() if bid != b.bundle_id))
        unique.append({"bundleId": b.bundle_id, "rules": sorted(rule_sets[b.bundle_id] - others)})
    matrix = []
    for rule in sorted(set().union(*rule_sets.values())):
        present: list[dict[str, Any]] = []
        severities: list[str] = []
        for b in bundles:
            hits = [f for f in relevant(b) if f["rule"] == rule]
            if hits:
                severities.extend(f["severity"] for f in hits)
                present.append(
                    {
                        "bundleId": b.bundle_id,
                        "count": sum(int(f["count"]) for f in hits),
                        "findingIds": [f["id"] for f in hits],
                    }
                )
        matrix.append({"rule": rule, "severity": worst(severities), "bundles": present})
    matrix.sort(key=lambda row: (-SEVERITY_RANK.get(row["severity"] or "INFO", 0), row["rule"]))

    return {
        "bundles": [
            {
                **b.header(),
                "findingCount": len(relevant(b)),
                "severityCounts": severity_counts(relevant(b)),
                "score": scores[b.bundle_id],
            }
            for b in bundles
        ],
        "baselineBundleId": baseline.bundle_id,
        "baselineReason": reason,
        "comparisons": comparisons,
        "commonRules": common,
        "uniqueRules": unique,
        "matrix": matrix,
    }
