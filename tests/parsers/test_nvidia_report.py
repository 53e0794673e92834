"""The ``nvidia-smi --query`` snapshot in ``gpu/nvidia-bug-report.log(.gz)``, and the GPU checks over it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eksdiag.engine.checks.accelerators import ECC, FABRIC, PCIE, POWER, REMAP, THERMAL
from eksdiag.engine.model import Severity
from eksdiag.engine.parsers import spec_for
from eksdiag.engine.parsers.nvidia import parse_nvidia_bug_report

from tests.fixtures import node_state

PATH = "gpu/nvidia-bug-report.log.gz"


def lines(text: str) -> Iterator[tuple[int, str]]:
    return enumerate(text.splitlines(), 1)


def parsed(**smi: object) -> dict:
    return parse_nvidia_bug_report(lines(node_state.nvidia_bug_report(**smi)))


def test_the_report_is_routed_to_the_parser_compressed_or_not() -> None:
    for path in (PATH, "gpu/nvidia-bug-report.log"):
        spec = spec_for(path)
        assert spec is not None and spec.kind == "nvidia-bug-report"


def test_a_healthy_gpu() -> None:
    report = parsed()
    assert report["attached_gpus"] == 1 and report["smi_line"] == 11
    [gpu] = report["gpus"]
    assert gpu["bus"] == "00000000:53:00.0" and gpu["product"] == "NVIDIA H100 80GB HBM3"
    assert (gpu["ecc_uncorrectable"], gpu["remap_pending"], gpu["remap_failure"], gpu["replays"]) == (
        0,
        False,
        False,
        0,
    )
    assert gpu["retirement_pending"] is False and gpu["slowdowns"] == []
    assert (gpu["fabric_state"], gpu["fabric_status"]) == ("Completed", "Success")


def test_only_volatile_uncorrectable_counts_and_the_line_is_kept() -> None:
    [gpu] = parsed(dbe=2)["gpus"]
    assert gpu["ecc_uncorrectable"] == 2
    assert gpu["evidence"]["ecc_uncorrectable"]["text"].strip() == "DRAM Uncorrectable            : 2"


def test_older_drivers_double_bit_totals_and_throttle_reasons() -> None:
    text = (
        "==============NVSMI LOG==============\n"
        "GPU 00000000:00:1E.0\n"
        "    Product Name                    : Tesla V100-SXM2-16GB\n"
        "    Clocks Throttle Reasons\n"
        "        HW Slowdown                 : Active\n"
        "            HW Thermal Slowdown     : Active\n"
        "    ECC Errors\n"
        "        Volatile\n"
        "            Single Bit\n"
        "                Device Memory       : 4\n"
        "                Total               : 4\n"
        "            Double Bit\n"
        "                Device Memory       : 1\n"
        "                Total               : 1\n"
        "        Aggregate\n"
        "            Double Bit\n"
        "                Total               : 7\n"
        "    Retired Pages\n"
        "        Single Bit ECC              : 0\n"
        "        Double Bit ECC              : 1\n"
        "        Pending Page Blacklist      : Yes\n"
    )
    [gpu] = parse_nvidia_bug_report(lines(text))["gpus"]
    assert gpu["ecc_uncorrectable"] == 1 and gpu["retirement_pending"] is True
    assert gpu["slowdowns"] == ["HW Thermal Slowdown"]


CHECKS = [
    (ECC, {"dbe": 1}, Severity.CRITICAL, "uncorrectable"),
    (REMAP, {"remap_pending": "Yes"}, Severity.HIGH, "waits for a GPU reset"),
    (REMAP, {"remap_pending": "Yes", "remap_failure": "Yes"}, Severity.CRITICAL, "no spare rows"),
    (THERMAL, {"hw_thermal": "Active"}, Severity.HIGH, "HW Thermal Slowdown"),
    (POWER, {"power_brake": "Active"}, Severity.HIGH, "power brake"),
    (PCIE, {"replays": 3}, Severity.LOW, "3 PCIe replays"),
    (PCIE, {"replays": 250}, Severity.MEDIUM, "250 PCIe replays"),
    (FABRIC, {"fabric_status": "Failure"}, Severity.CRITICAL, "training failed"),
]


@pytest.mark.parametrize(("check", "smi", "severity", "words"), CHECKS)
def test_gpu_checks(check, smi: dict, severity: Severity, words: str) -> None:  # type: ignore[no-untyped-def]
    assert check({PATH: parsed()}) == []
    [hit] = check({PATH: parsed(**smi)})
    assert hit.severity == severity and words in hit.reason and "00000000:53:00.0" in hit.reason
    assert hit.evidence and all(e.line > 11 for e in hit.evidence)
