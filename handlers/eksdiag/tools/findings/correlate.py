"""correlate: a timeline of the bundle's timed events in a window, grouped into bursts, plus
root-cause hypotheses linking findings (see ``_causes``).

The window defaults to the ``windowMinutes`` before the bundle was collected (not wall-clock now);
``pivotFindingId`` centres it on that finding's first occurrence; ``incidentTime`` on a given time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from eksdiag.tools.base import ToolContext, ToolError
from eksdiag.tools.findings._causes import hypotheses
from eksdiag.tools.findings._common import (
    SEVERITY_RANK,
    Window,
    brief,
    clip,
    parse_time,
    resolve_bundle,
    shifted,
    window_from_args,
    worst,
)
from eksdiag.tools.validate import finding_id as check_finding_id

NAME = "correlate"
GROUP = "findings"


def _clusters(events: list[dict[str, Any]], gap_seconds: int) -> list[dict[str, Any]]:
    clusters: list[list[dict[str, Any]]] = []
    for event in events:
        if (
            clusters
            and (parse_time(event["time"]) - parse_time(clusters[-1][-1]["time"])).total_seconds() <= gap_seconds
        ):
            clusters[-1].append(event)
        else:
            clusters.append([event])
    out = []
    for i, members in enumerate(clusters, 1):
        ids = sorted({e["findingId"] for e in members if e["findingId"]})
        out.append(
            {
                "id": f"C{i}",
                "start": members[0]["time"],
                "end": members[-1]["time"],
                "eventCount": len(members),
                "findingIds": ids,
                "rules": sorted({e["rule"] for e in members}),
                "categories": sorted({e["category"] for e in members}),
                "severity": worst([e["severity"] for e in members]),
            }
        )
    return out


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    bundle = resolve_bundle(args, ctx)
    include_noise = args["includeNoise"]
    pivot: dict[str, Any] | None = None
    if args.get("pivotFindingId"):
        pivot = bundle.finding(check_finding_id(args["pivotFindingId"]))
        if pivot is None:
            raise ToolError("NotFound", f"finding {args['pivotFindingId']} is not in bundle {bundle.bundle_id}")
        if not pivot.get("first_seen"):
            raise ToolError(
                "InvalidArgument",
                f"finding {pivot['id']} ({pivot['rule']}) has no timestamp; "
                "pivot on a log finding or give incidentTime",
            )
        span = timedelta(minutes=args["windowMinutes"])
        center = parse_time(pivot["first_seen"])
        why = f"pivot finding plus and minus {args['windowMinutes']} minutes"
        window: Window | None = Window(shifted(center, -span), shifted(center, span), why)
    else:
        window = window_from_args(args, bundle)

    ids = {(f["rule"], f["file"]): f["id"] for f in bundle.findings}
    events: list[dict[str, Any]] = []
    total = 0
    for event in bundle.index.get("events") or []:
        total += 1
        if event["category"] == "noise" and not include_noise:
            continue
        if window is not None and not window.start <= parse_time(event["time"]) <= window.end:
            continue
        events.append(
            {
                "time": event["time"],
                "findingId": ids.get((event["rule"], event["file"])),
                "rule": event["rule"],
                "severity": event["severity"],
                "category": event["category"],
                "file": event["file"],
                "line": event["line"],
                "text": clip(event["text"], 400),
            }
        )
    events.sort(key=lambda e: (e["time"], e["file"], e["line"]))
    clusters = _clusters(events, args["clusterGapSeconds"])
    in_window = {e["findingId"] for e in events if e["findingId"]}
    state = [f for f in bundle.findings if not f.get("first_seen") and f["category"] != "noise"]
    considered = [f for f in bundle.findings if f["id"] in in_window] + state
    state.sort(key=lambda f: -SEVERITY_RANK.get(f["severity"], 0))
    shown = events[: args["maxEvents"]]
    return {
        **bundle.header(),
        "window": window.to_dict() if window else None,
        "pivot": brief(pivot, evidence=2) if pivot else None,
        "events": shown,
        "eventsInWindow": len(events),
        "eventsTotal": total,
        "truncated": len(events) > len(shown),
        "clusters": clusters,
        "stateFindings": [brief(f, evidence=2) for f in state[:20]],
        "rootCauseCandidates": hypotheses(considered),
    }
