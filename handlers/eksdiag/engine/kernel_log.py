"""The kernel log's wall-clock times: when the running kernel booted, from what the bundle shows.

eks-log-collector.sh writes the kernel ring buffer twice, ``kernel/dmesg.current`` (raw stamps:
seconds since boot) and ``kernel/dmesg.human.current`` (``dmesg --ctime``). Raw stamps become
wall-clock times from the boot time: the offset between the same messages in the two files (what
``dmesg --ctime`` itself computed), else ``btime`` in ``system/procstat.txt``, else the uptime in
``system/top.txt``. (One event in several copies of the kernel log is one finding: ``engine.copies``.)
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class BootTime:
    when: datetime
    source: str
    """The bundle file it was read from (``kernel/dmesg.human.current``, ``system/procstat.txt``, ...)."""


# --- boot time -----------------------------------------------------------------------------------


def boot_time(artifacts: Mapping[str, Mapping[str, Any]], collected_at: datetime | None) -> BootTime | None:
    """When the running kernel booted, from the best evidence the bundle holds (see module doc)."""
    paired = _boot_from_dmesg_pair(artifacts)
    if paired is not None:
        return BootTime(paired, "kernel/dmesg.human.current")
    procstat = artifacts.get("system/procstat.txt") or {}
    btime = procstat.get("btime")
    if isinstance(btime, int) and btime > 0:
        try:
            return BootTime(datetime.fromtimestamp(btime, UTC), "system/procstat.txt")
        except (OverflowError, OSError, ValueError):
            pass
    top = artifacts.get("system/top.txt") or {}
    uptime = top.get("uptime_seconds")
    if isinstance(uptime, int) and collected_at is not None:
        try:
            return BootTime(_utc(collected_at) - timedelta(seconds=uptime), "system/top.txt")
        except OverflowError:
            pass
    return None


def _boot_from_dmesg_pair(artifacts: Mapping[str, Mapping[str, Any]]) -> datetime | None:
    raw = (artifacts.get("kernel/dmesg.current") or {}).get("raw") or []
    human = (artifacts.get("kernel/dmesg.human.current") or {}).get("ctime") or []
    if not raw or not human:
        return None
    raw_once = _unique(raw)
    human_once = _unique(human)
    # dmesg --ctime prints the whole seconds of the boot time plus the whole seconds of the stamp
    offsets = [human_once[msg] - math.floor(seconds) for msg, seconds in raw_once.items() if msg in human_once]
    if not offsets:
        return None
    try:
        return datetime.fromtimestamp(statistics.median(offsets), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _unique(pairs: Iterable[Any]) -> dict[str, float]:
    """message -> stamp for the messages that occur once (a repeated message pairs ambiguously)."""
    counts: Counter[str] = Counter()
    stamps: dict[str, float] = {}
    for pair in pairs:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        stamp, message = pair
        if not isinstance(message, str) or not message.strip() or not isinstance(stamp, int | float):
            continue
        counts[message] += 1
        stamps[message] = float(stamp)
    return {msg: stamp for msg, stamp in stamps.items() if counts[msg] == 1}


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
