"""Calibration of the kernel, process, storage and accelerator line rules: how each one's severity
follows recency, repetition and bursts (engine/severity.py with the rule's Scale)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from eksdiag.engine.catalogue import accelerators, kernel, process, storage
from eksdiag.engine.checks import accelerators as accelerator_checks
from eksdiag.engine.checks import kernel as kernel_checks
from eksdiag.engine.checks import process as process_checks
from eksdiag.engine.checks import storage as storage_checks
from eksdiag.engine.model import Remedy, Severity
from eksdiag.engine.rules import rule_by_id
from eksdiag.engine.severity import for_lines

C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW
COLLECTED = datetime(2025, 3, 6, 18, 22, tzinfo=UTC)
OURS = (
    *kernel.RULES,
    *process.RULES,
    *accelerators.RULES,
    *storage.RULES,
    *kernel_checks.KERNEL_RULES,
    *process_checks.PROCESS_RULES,
    *storage_checks.STORAGE_RULES,
    *accelerator_checks.ACCELERATOR_RULES,
)
NMA_ISSUES = Path(__file__).resolve().parents[2] / "handlers" / "eksdiag" / "engine" / "catalogue" / "nma_issues.yaml"


def assess(rule: str, count: int, first_ago: timedelta, last_ago: timedelta) -> Severity:
    return for_lines(rule_by_id(rule), count, COLLECTED - first_ago, COLLECTED - last_ago, COLLECTED).severity


MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

CALIBRATION = [
    # rule, count, first seen ago, last seen ago, expected
    ("kernel.oom.cgroup", 1, 3 * DAY, 3 * DAY, L),  # one container OOM kill long before: history
    ("kernel.oom.cgroup", 1, 10 * MIN, 10 * MIN, M),
    ("kernel.oom.cgroup", 4, 2 * HOUR, 10 * MIN, H),
    ("kernel.oom.cgroup", 4, 9 * DAY, 8 * DAY, L),
    ("kernel.oom.global", 1, 10 * MIN, 10 * MIN, H),
    ("kernel.oom.global", 3, 30 * MIN, 5 * MIN, C),
    ("kernel.oom.global", 1, 9 * DAY, 9 * DAY, M),
    ("kernel.soft-lockup", 1, 5 * MIN, 5 * MIN, M),
    ("kernel.soft-lockup", 3, 5 * HOUR, 2 * HOUR, H),
    ("kernel.soft-lockup", 20, 50 * MIN, 1 * MIN, C),
    ("kernel.hung-task", 1, 5 * MIN, 5 * MIN, M),
    ("kernel.hung-task", 5, 20 * MIN, 5 * MIN, H),
    ("kernel.bug", 1, 5 * MIN, 5 * MIN, H),
    ("kernel.bug", 1, 20 * DAY, 20 * DAY, M),
    ("kernel.app-crash", 1, 5 * MIN, 5 * MIN, L),
    ("kernel.app-crash", 3, 3 * HOUR, 2 * HOUR, M),
    ("kernel.app-crash", 60, 40 * MIN, 1 * MIN, H),
    ("kernel.fork-failed", 1, 5 * MIN, 5 * MIN, H),
    ("kernel.fork-failed", 12, 30 * MIN, 1 * MIN, C),
    ("kernel.fork-failed", 2, 9 * DAY, 9 * DAY, M),
    ("storage.block-io-error", 2, 9 * DAY, 9 * DAY, M),
    ("storage.block-io-error", 2, 5 * MIN, 5 * MIN, H),
    ("storage.block-io-error", 200, 30 * MIN, 1 * MIN, C),
    ("storage.nvme-timeout", 1, 5 * MIN, 5 * MIN, M),
    ("accelerator.nvidia.xid-fatal", 1, 5 * MIN, 5 * MIN, C),
    ("accelerator.nvidia.xid-fatal", 1, 9 * DAY, 9 * DAY, H),
    ("accelerator.nvidia.xid-dbe", 1, 2 * DAY, 2 * DAY, H),
    ("accelerator.nvidia.xid", 1, 5 * MIN, 5 * MIN, L),
    ("accelerator.nvidia.xid", 5, 3 * HOUR, 2 * HOUR, M),
    ("accelerator.nvidia.xid", 90, 50 * MIN, 1 * MIN, H),
    ("accelerator.neuron.hbm-uncorrectable", 1, 3 * DAY, 3 * DAY, H),
]


@pytest.mark.parametrize(("rule", "count", "first", "last", "expected"), CALIBRATION)
def test_calibration(rule: str, count: int, first: timedelta, last: timedelta, expected: Severity) -> None:
    assert assess(rule, count, first, last) == expected


def _ours() -> list[str]:
    return [r.id for r in OURS]


@pytest.mark.parametrize("rule_id", _ours())
def test_each_rule_explains_itself_and_says_what_fixes_it(rule_id: str) -> None:
    rule = rule_by_id(rule_id)
    assert rule.remedy in (Remedy.NODE, Remedy.WORKLOAD, Remedy.CONFIGURATION, Remedy.EXTERNAL)
    assert rule_id == "runtime.no-space" or len(rule.description) > 60


def test_nma_tags_name_issues_of_the_catalogue() -> None:
    issues = {i["name"]: i["category"] for i in yaml.safe_load(NMA_ISSUES.read_text(encoding="utf-8"))["issues"]}
    for rule_id in _ours():
        for issue in rule_by_id(rule_id).nma:
            assert issue in issues, (rule_id, issue)
