"""Severity as a model: recency relative to the collection time, rate, single events, stated reasons."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eksdiag.engine import severity
from eksdiag.engine.model import CATEGORIES, Hit, Remedy, Rule, Scale, Severity
from eksdiag.engine.rules import CATALOGUE

COLLECTED = datetime(2026, 3, 6, 18, 22, tzinfo=UTC)
SCHEMAS = Path(__file__).resolve().parents[2] / "handlers" / "eksdiag" / "schemas"


def line_rule(base: Severity = Severity.HIGH, **scale: object) -> Rule:
    return Rule(
        "kernel.test",
        base,
        "kernel",
        "Test rule",
        pattern="x",
        scale=Scale(**scale),  # type: ignore[arg-type]
        remedy=Remedy.NODE,
    )


def ago(**kw: float) -> datetime:
    return COLLECTED - timedelta(**kw)


def test_recent_evidence_keeps_the_rule_severity_and_says_when() -> None:
    got = severity.for_lines(line_rule(), 3, ago(minutes=30), ago(minutes=5), COLLECTED)
    assert got.severity is Severity.HIGH
    assert got.reason == "3 occurrences, last seen 5 min before collection."


@pytest.mark.parametrize(
    ("age", "expected"),
    [(timedelta(hours=2), Severity.HIGH), (timedelta(days=2), Severity.MEDIUM), (timedelta(days=9), Severity.LOW)],
)
def test_older_evidence_counts_less(age: timedelta, expected: Severity) -> None:
    got = severity.for_lines(line_rule(), 2, COLLECTED - age - timedelta(minutes=1), COLLECTED - age, COLLECTED)
    assert got.severity is expected
    if expected is not Severity.HIGH:
        assert "rule default HIGH" in got.reason


def test_a_burst_in_the_last_hour_outranks_one_event_days_ago() -> None:
    rule = line_rule(Severity.MEDIUM, ceiling=Severity.HIGH, burst_per_hour=10, lone_lowers=True)
    burst = severity.for_lines(rule, 40, ago(minutes=50), ago(minutes=2), COLLECTED)
    lone_old = severity.for_lines(rule, 1, ago(days=3), ago(days=3), COLLECTED)
    assert burst.severity is Severity.HIGH
    assert "burst of about 50 per hour" in burst.reason
    assert lone_old.severity is Severity.LOW
    assert "a single event" in lone_old.reason


def test_the_floor_and_ceiling_bound_the_result() -> None:
    rule = line_rule(Severity.CRITICAL, floor=Severity.HIGH)
    assert severity.for_lines(rule, 1, ago(days=30), ago(days=30), COLLECTED).severity is Severity.HIGH
    rule = line_rule(Severity.MEDIUM, burst_per_hour=1)  # no ceiling: never rises above the rule
    assert severity.for_lines(rule, 99, ago(minutes=9), ago(minutes=1), COLLECTED).severity is Severity.MEDIUM


def test_lines_without_time_keep_the_rule_severity() -> None:
    got = severity.for_lines(line_rule(), 5, None, None, COLLECTED)
    assert got.severity is Severity.HIGH
    assert "recency is unknown" in got.reason


def test_noise_is_never_scaled() -> None:
    rule = Rule("noise.test", Severity.LOW, "noise", "Noise", pattern="x", remedy=Remedy.NONE)
    got = severity.for_lines(rule, 1000, ago(minutes=5), ago(minutes=1), COLLECTED)
    assert got.severity is Severity.LOW
    assert "known-benign noise" in got.reason


def test_an_artifact_hit_keeps_the_checks_severity_and_reason() -> None:
    rule = Rule("network.test", Severity.HIGH, "network", "DROP rule", check=lambda _: [], remedy=Remedy.CONFIGURATION)
    hit = Hit("network.test", "f", 1, [], severity=Severity.CRITICAL, reason="It drops DNS traffic.")
    assert severity.for_hit(rule, hit) == severity.Assessment(Severity.CRITICAL, "It drops DNS traffic.")
    bare = severity.for_hit(rule, Hit("network.test", "f", 1, []))
    assert bare.severity is Severity.HIGH
    assert bare.reason.startswith("HIGH from this check's fixed severity")


def test_every_rule_has_a_known_category_and_a_remedy() -> None:
    for rule in CATALOGUE:
        assert rule.category in CATEGORIES
        assert isinstance(rule.remedy, Remedy)
        assert (rule.remedy is Remedy.NONE) == (rule.category == "noise"), rule.id


def _category_enums(node: object) -> list[list[str]]:
    found: list[list[str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "category" and isinstance(value, dict) and "enum" in value:
                found.append(value["enum"])
            if key == "categories" and isinstance(value, dict) and "enum" in value.get("items", {}):
                found.append(value["items"]["enum"])
            found.extend(_category_enums(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_category_enums(value))
    return found


@pytest.mark.parametrize("schema", sorted((SCHEMAS / "findings").glob("*.json")), ids=lambda p: p.name)
def test_tool_schemas_list_exactly_the_catalogue_categories(schema: Path) -> None:
    for enum in _category_enums(json.loads(schema.read_text())):
        assert enum == list(CATEGORIES), f"{schema.name}: category enum differs from eksdiag.engine.model.CATEGORIES"
