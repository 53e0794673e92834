"""Order a bundle's timestamped events on one timeline and cluster them by time proximity.

Windows are relative to the bundle's collection time, never to wall-clock now: a bundle read a
week after collection shows the same timeline as on the day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from eksdiag.engine.indexer import BundleIndex
from eksdiag.engine.model import Severity

DEFAULT_GAP_SECONDS = 120


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def timeline(
    idx: BundleIndex,
    *,
    window_minutes: int | None = None,
    gap_seconds: int = DEFAULT_GAP_SECONDS,
    max_events: int = 500,
) -> dict[str, Any]:
    """Events (sampled matches of every finding) in time order, and clusters of nearby events.

    ``window_minutes`` keeps the events of the last N minutes before the collection time.
    A cluster starts wherever two consecutive events are more than ``gap_seconds`` apart.
    """
    collected = idx.bundle.get("collected_at")
    start: datetime | None = None
    if window_minutes is not None and collected:
        start = _parse(collected) - timedelta(minutes=window_minutes)
    events = [e for e in idx.events if start is None or _parse(e["time"]) >= start]
    excluded = len(idx.events) - len(events)
    clusters: list[dict[str, Any]] = []
    previous: datetime | None = None
    for event in events:
        when = _parse(event["time"])
        if previous is None or (when - previous).total_seconds() > gap_seconds:
            clusters.append(
                {
                    "start": event["time"],
                    "end": event["time"],
                    "events": 0,
                    "rules": [],
                    "files": [],
                    "severity": Severity.INFO.value,
                }
            )
        cluster = clusters[-1]
        cluster["end"] = event["time"]
        cluster["events"] += 1
        if event["rule"] not in cluster["rules"]:
            cluster["rules"].append(event["rule"])
        if event["file"] not in cluster["files"]:
            cluster["files"].append(event["file"])
        if Severity(event["severity"]).rank > Severity(cluster["severity"]).rank:
            cluster["severity"] = event["severity"]
        previous = when
    return {
        "bundle": idx.bundle["id"],
        "collected_at": collected,
        "window": {"minutes": window_minutes, "start": start.isoformat() if start else None, "end": collected},
        "excluded_events": excluded,
        "clusters": clusters,
        "events": events[:max_events],
        "truncated": len(events) > max_events,
    }
