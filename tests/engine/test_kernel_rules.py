"""The kernel, process, storage and accelerator line rules: each real-format line is claimed by exactly
one of them (one event, one finding), and look-alike lines by none."""

from __future__ import annotations

import pytest
from eksdiag.engine.catalogue import accelerators, kernel, process, storage
from eksdiag.engine.rules import CATALOGUE
from eksdiag.engine.scanner import compile_rules, rules_for_path

from tests.engine.kernel_lines import KERNEL_NEGATIVE, KERNEL_POSITIVE, SOFT_LOCKUP_RAW

OURS = frozenset(r.id for r in (*kernel.RULES, *process.RULES, *accelerators.RULES, *storage.RULES))


def ours(path: str, line: str) -> list[str]:
    rules = rules_for_path(path, CATALOGUE)
    matched = compile_rules(rules).classify(line.encode()) if rules else []
    return sorted(r.id for r in matched if r.id in OURS)


@pytest.mark.parametrize(("path", "line", "rule"), KERNEL_POSITIVE, ids=[f"{r}:{p}" for p, _, r in KERNEL_POSITIVE])
def test_one_line_one_rule(path: str, line: str, rule: str) -> None:
    assert ours(path, line) == [rule]


@pytest.mark.parametrize(("path", "line"), KERNEL_NEGATIVE)
def test_look_alike_lines_match_none(path: str, line: str) -> None:
    assert ours(path, line) == []


def test_the_old_soft_lockup_format_is_a_lockup_not_a_kernel_bug() -> None:
    assert ours("kernel/dmesg.current", SOFT_LOCKUP_RAW) == ["kernel.soft-lockup"]


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        (48, "accelerator.nvidia.xid-dbe"),
        (63, "accelerator.nvidia.xid-row-remap"),
        (64, "accelerator.nvidia.xid-row-remap"),
        (74, "accelerator.nvidia.xid-nvlink"),
        *[(c, "accelerator.nvidia.xid-fatal") for c in accelerators.FATAL_XIDS if c not in (48, 63, 64, 74)],
        *[(c, "accelerator.nvidia.xid") for c in (13, 31, 43, 45, 92, 94, 4, 460, 1580)],
    ],
)
def test_each_xid_lands_in_its_rule(code: int, rule: str) -> None:
    line = f"[ 6610.2] NVRM: Xid (PCI:0000:10:1c): {code}, pid=1, name=python3, details"
    assert ours("kernel/dmesg.current", line) == [rule]


def test_the_bug_report_is_read_for_gpu_lines_only() -> None:
    line = "[ 88.1] BUG: kernel NULL pointer dereference, address: 0000000000000010"
    assert ours("gpu/nvidia-bug-report.log.gz", line) == []
    assert ours("gpu/nvidia-bug-report.log.gz", "[ 6.1] NVRM: Xid (PCI:0000:10:1c): 79, pid=0, name=, x") == [
        "accelerator.nvidia.xid-fatal"
    ]
