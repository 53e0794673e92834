"""One kernel log, several copies in a bundle: one event gives one finding, with wall-clock times.

eks-log-collector.sh writes the kernel ring buffer twice, ``kernel/dmesg.current`` (raw stamps:
seconds since boot) and ``kernel/dmesg.human.current`` (``dmesg --ctime``); AL2 adds
``kernel/dmesg.boot`` (the ring buffer as it was at boot) and rsyslog's ``var_log/messages``; GPU
AMIs add ``gpu/nvidia-bug-report.log.gz``, which repeats the NVRM lines and the whole ``dmesg``.

Two decisions, taken here once for every rule that reads only those files:

- **Boot time.** Raw stamps become wall-clock times from the boot time the bundle shows: the offset
  between the same messages in ``dmesg.current`` and ``dmesg.human.current`` (what ``dmesg --ctime``
  itself computed), else ``btime`` in ``system/procstat.txt``, else the uptime in ``system/top.txt``.
- **One finding per rule.** Findings of one rule in several copies merge into the finding of the
  copy first in KERNEL_LOG_COPIES (the timestamped human file when present): its evidence and line,
  the number of distinct events across the copies (the same message within SAME_MOMENT is one event)
  when every line was sampled, else the largest count any one copy shows (``var_log/messages`` may
  reach back to earlier boots), the earliest first and the latest last time of all copies, and the
  copies in ``detail["copies"]``. The timeline keeps one event per message and moment.
"""

from __future__ import annotations

import fnmatch
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eksdiag.engine import severity
from eksdiag.engine.model import Finding, Rule
from eksdiag.engine.parsers.logline import parse_dmesg, parse_journal_short

KERNEL_LOG_COPIES: tuple[str, ...] = (
    "kernel/dmesg.human.current",
    "kernel/dmesg.current",
    "kernel/dmesg.boot",
    "var_log/messages*",
    "var_log/syslog*",
    "gpu/nvidia-bug-report.log*",
)
"""Where the kernel log lands, most preferred first (fnmatch globs over bundle paths)."""

KERNEL_LOG_GLOBS = frozenset({"kernel/dmesg*", "var_log/messages*", "var_log/syslog*", "gpu/nvidia-bug-report.log*"})
"""A line rule whose file globs are all among these reads only kernel-log copies."""

SAME_MOMENT = timedelta(seconds=2)
"""Two copies of one line are this close in time (``--ctime`` and journal stamps drop fractions)."""


@dataclass(frozen=True)
class BootTime:
    when: datetime
    source: str
    """The bundle file it was read from (``kernel/dmesg.human.current``, ``system/procstat.txt``, ...)."""


def copy_rank(path: str) -> int | None:
    """Position of ``path`` in KERNEL_LOG_COPIES (lower is preferred); None if not a kernel-log copy."""
    for rank, pattern in enumerate(KERNEL_LOG_COPIES):
        if fnmatch.fnmatchcase(path, pattern):
            return rank
    return None


def reads_only_kernel_logs(rule: Rule) -> bool:
    return rule.pattern is not None and bool(rule.files) and all(g in KERNEL_LOG_GLOBS for g in rule.files)


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


# --- one finding per rule ------------------------------------------------------------------------


def merge_copies(
    findings: MutableMapping[tuple[str, str], Finding],
    events: list[dict[str, Any]],
    rules: Mapping[str, Rule],
    collected_at: datetime,
) -> None:
    """Merge, in place, each kernel-log rule's findings across the copies (see module doc)."""
    groups: dict[str, list[tuple[int, Finding]]] = {}
    for (rule_id, path), finding in findings.items():
        rule = rules.get(rule_id)
        rank = copy_rank(path)
        if rule is None or rank is None or not reads_only_kernel_logs(rule):
            continue
        groups.setdefault(rule_id, []).append((rank, finding))
    merged = {rule_id: sorted(members, key=lambda m: (m[0], m[1].file)) for rule_id, members in groups.items()}
    merged = {rule_id: members for rule_id, members in merged.items() if len(members) > 1}
    if not merged:
        return
    sampled = Counter((e["rule"], e["file"]) for e in events if e["rule"] in merged)
    distinct = _dedupe_events(events, merged)
    for rule_id, members in merged.items():
        copies = [f for _, f in members]
        every_line_seen = all(sampled[(rule_id, f.file)] == f.count for f in copies)
        count = distinct[rule_id] if every_line_seen else max(f.count for f in copies)
        kept = _merge(rules[rule_id], copies, count, collected_at)
        for finding in copies[1:]:
            del findings[(rule_id, finding.file)]
        for event in events:
            if event["rule"] == rule_id:
                event["severity"] = kept.severity.value


def _merge(rule: Rule, members: list[Finding], count: int, collected_at: datetime) -> Finding:
    kept = members[0]
    firsts = [t for t in (_parse(f.first_seen) for f in members) if t is not None]
    lasts = [t for t in (_parse(f.last_seen) for f in members) if t is not None]
    first = min(firsts) if firsts else None
    last = max(lasts) if lasts else None
    assessed = severity.for_lines(rule, count, first, last, collected_at)
    names = ", ".join(f.file for f in members)
    kept.count = count
    kept.first_seen = _iso(first)
    kept.last_seen = _iso(last)
    kept.severity = assessed.severity
    kept.severity_reason = (
        f"{assessed.reason} Each event counted once across {len(members)} copies of the kernel log ({names})."
    )
    kept.detail = {
        **kept.detail,
        "copies": [
            {"file": f.file, "line": f.line, "count": f.count, "first_seen": f.first_seen, "last_seen": f.last_seen}
            for f in members
        ],
    }
    return kept


def _dedupe_events(events: list[dict[str, Any]], merged: Mapping[str, Any]) -> Counter[str]:
    """Keep one timeline event per (rule, message, moment) of the merged rules, from the preferred copy;
    return how many distinct events each merged rule has."""
    order = sorted(
        range(len(events)),
        key=lambda i: (copy_rank(events[i]["file"]) if events[i]["rule"] in merged else -1, i),
    )
    seen: dict[tuple[str, str], list[datetime]] = {}
    distinct: Counter[str] = Counter()
    drop: set[int] = set()
    for i in order:
        event = events[i]
        if event["rule"] not in merged:
            continue
        when = _parse(event.get("time"))
        if when is None:
            continue
        key = (event["rule"], kernel_message(event.get("text", "")))
        times = seen.setdefault(key, [])
        if any(abs(when - t) <= SAME_MOMENT for t in times):
            drop.add(i)
        else:
            times.append(when)
            distinct[event["rule"]] += 1
    if drop:
        events[:] = [e for i, e in enumerate(events) if i not in drop]
    return distinct


def kernel_message(text: str) -> str:
    """The kernel's message without what each copy adds: the syslog prefix (``Mar  6 18:21:40 host
    kernel:``) and the dmesg stamp (``[ 1187.402233]`` or ``[Thu Mar  6 18:21:40 2025]``)."""
    entry = parse_journal_short(text)
    if entry is not None:
        text = entry.message
    stamped = parse_dmesg(text)
    if stamped is not None:
        text = stamped.message
    return text.strip()


def _parse(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    return _utc(when).isoformat().replace("+00:00", "Z")


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
