"""Severity as a model: how bad a finding is follows its evidence, and the finding says why.

A rule's severity is what recent, repeated evidence deserves. Line rules are then scaled by
recency relative to the collection time (never wall-clock now: a bundle read a week later ranks the
same) and by rate (a burst in the last hour outranks one event days ago), within the bounds of the
rule's :class:`~eksdiag.engine.model.Scale`. Artifact checks know their magnitude (a fraction of a
limit, packet counters) and coverage (pod, service or DNS traffic) and set the severity and reason
of their hits themselves; :func:`for_hit` only fills in a reason they did not give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from eksdiag.engine.model import Hit, Rule, Severity, severity_of_rank

RATE_MIN_SPAN = timedelta(minutes=15)


@dataclass(frozen=True)
class Assessment:
    severity: Severity
    reason: str


def for_lines(
    rule: Rule,
    count: int,
    first_seen: datetime | None,
    last_seen: datetime | None,
    collected_at: datetime | None,
) -> Assessment:
    """The severity of ``count`` matching lines of ``rule``, first and last seen at those times."""
    base = rule.severity
    occurrences = _occurrences(count)
    if rule.category == "noise":
        return Assessment(base, f"{occurrences} of known-benign noise; listed so it is not mistaken for a cause.")
    scale = rule.scale
    ceiling = scale.ceiling or base
    steps = 0
    facts = [occurrences]
    if last_seen is None or collected_at is None:
        facts.append("without timestamps, so recency is unknown")
    else:
        age = collected_at - last_seen
        if age > scale.old_after:
            steps -= 2
            facts.append(f"last seen {_duration(age)} before collection")
        elif age > scale.stale_after:
            steps -= 1
            facts.append(f"last seen {_duration(age)} before collection")
        elif age <= scale.recent_within:
            facts.append(f"last seen {_duration(age)} before collection")
            rate = _rate_per_hour(count, first_seen, last_seen)
            if scale.burst_per_hour and rate >= scale.burst_per_hour and count > 1:
                steps += 1
                facts.append(f"a burst of about {rate:.0f} per hour")
        else:
            facts.append(f"last seen {_duration(age)} before collection")
    if scale.lone_lowers and count == 1:
        steps -= 1
        facts.append("a single event")
    rank = max(scale.floor.rank, min(ceiling.rank, base.rank + steps))
    if count < scale.min_count:
        rank = scale.floor.rank
        facts.append(f"fewer than the {scale.min_count} that make it a problem")
    severity = severity_of_rank(rank)
    if severity != base:
        facts.append(f"rule default {base.value}")
    return Assessment(severity, _sentence(facts))


def for_hit(rule: Rule, hit: Hit) -> Assessment:
    """The severity of an artifact check's hit: the check's own, with its reason."""
    severity = hit.severity or rule.severity
    if hit.reason:
        return Assessment(severity, hit.reason)
    what = "the check's measure of this evidence" if hit.severity else "this check's fixed severity"
    return Assessment(severity, f"{severity.value} from {what}: {rule.title[0].lower()}{rule.title[1:]}.")


def _occurrences(count: int) -> str:
    return "1 occurrence" if count == 1 else f"{count} occurrences"


def _rate_per_hour(count: int, first: datetime | None, last: datetime | None) -> float:
    """Occurrences per hour over the evidence's span, the span taken as at least RATE_MIN_SPAN so a
    few lines in the same second are not extrapolated into a storm."""
    if first is None or last is None:
        return 0.0
    span = max(last - first, RATE_MIN_SPAN)
    return count * 3600 / span.total_seconds()


def _duration(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _sentence(facts: list[str]) -> str:
    text = ", ".join(facts)
    return text[0].upper() + text[1:] + "."
