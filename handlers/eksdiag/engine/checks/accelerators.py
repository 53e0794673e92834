"""NVIDIA GPU state at collection time, from the ``nvidia-smi --query`` snapshot in
``gpu/nvidia-bug-report.log(.gz)`` (parsed by ``parsers.nvidia``).

The EKS Node Monitoring Agent learns the same from DCGM while the node runs: double-bit (uncorrectable)
ECC errors, page retirement and row remapping, thermal and power violations, PCIe replays, NVSwitch
fabric health. A bundle holds one snapshot: counters since the driver loaded and slowdowns active at
that moment. Each check returns at most one hit for the report, naming the GPUs affected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eksdiag.engine.checks._hits import artifacts_of_kind, hit_on_evidence
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Remedy, Rule, Severity

REPORT = "gpu/nvidia-bug-report.log*"
MAX_EVIDENCE = 8
PCIE_REPLAYS_MANY = 100
PCIE_REPLAYS_STORM = 10_000
FABRIC_FINE = frozenset({"Success", "N/A", "Not Supported"})
FABRIC_DONE = frozenset({"Completed", "N/A", "Not Supported"})

Verdict = tuple[Severity, str, list[str]]
"""(severity, what is wrong with this GPU, the evidence keys that show it)."""


def _gpu_hits(
    artifacts: ArtifactMap, rule: str, judge: Callable[[Mapping[str, Any]], Verdict | None], cause: str
) -> list[Hit]:
    hits: list[Hit] = []
    for path, parsed in artifacts_of_kind(artifacts, "nvidia-bug-report"):
        judged = [(gpu, verdict) for gpu in parsed.get("gpus") or () if (verdict := judge(gpu)) is not None]
        if not judged:
            continue
        judged.sort(key=lambda item: -item[1][0].rank)
        evidence: list[Evidence] = []
        for gpu, (_, _, keys) in judged:
            for key in keys:
                shown = (gpu.get("evidence") or {}).get(key)
                if shown and len(evidence) < MAX_EVIDENCE:
                    evidence.append(Evidence(int(shown["line"]), str(shown["text"])))
        evidence.sort(key=lambda e: e.line)
        worst, what, _ = judged[0][1]
        others = f" ({len(judged)} GPUs affected)" if len(judged) > 1 else ""
        reason = f"GPU {judged[0][0]['bus']}: {what}{others}. {cause}"
        hits.append(
            hit_on_evidence(
                rule,
                path,
                evidence,
                count=len(judged),
                severity=worst,
                reason=reason,
                detail={"gpus": [{"bus": g["bus"], "product": g.get("product"), "finding": v[1]} for g, v in judged]},
            )
        )
    return hits


def _ecc(gpu: Mapping[str, Any]) -> Verdict | None:
    count = gpu.get("ecc_uncorrectable")
    if not count:
        return None
    return (
        Severity.CRITICAL,
        f"{count} uncorrectable (double-bit) ECC errors since the driver loaded",
        ["ecc_uncorrectable"],
    )


def _remap(gpu: Mapping[str, Any]) -> Verdict | None:
    if gpu.get("remap_failure"):
        return (
            Severity.CRITICAL,
            "row remapping failed: the GPU has no spare rows left for bad memory",
            ["remap_failure"],
        )
    if gpu.get("remap_pending") or gpu.get("retirement_pending"):
        keys = [k for k in ("remap_pending", "retirement_pending") if gpu.get(k)]
        return Severity.HIGH, "a bad memory row or page waits for a GPU reset to be remapped or retired", keys
    return None


def _thermal(gpu: Mapping[str, Any]) -> Verdict | None:
    active = [s for s in gpu.get("slowdowns") or () if "Thermal" in s]
    if not active:
        return None
    severity = Severity.HIGH if "HW Thermal Slowdown" in active else Severity.MEDIUM
    return (
        severity,
        f"{' and '.join(active)} active at collection: clocks cut to stay under the temperature limit",
        active,
    )


def _power(gpu: Mapping[str, Any]) -> Verdict | None:
    if "HW Power Brake Slowdown" not in (gpu.get("slowdowns") or ()):
        return None
    return (
        Severity.HIGH,
        "HW Power Brake Slowdown active: the platform asserted the power brake",
        ["HW Power Brake Slowdown"],
    )


def _pcie(gpu: Mapping[str, Any]) -> Verdict | None:
    replays = gpu.get("replays")
    if not replays:
        return None
    if replays >= PCIE_REPLAYS_STORM:
        severity = Severity.HIGH
    elif replays >= PCIE_REPLAYS_MANY:
        severity = Severity.MEDIUM
    else:
        severity = Severity.LOW
    return severity, f"{replays:,} PCIe replays since reset (link-level retransmissions)", ["replays"]


def _fabric(gpu: Mapping[str, Any]) -> Verdict | None:
    state, status = gpu.get("fabric_state"), gpu.get("fabric_status")
    if state is None and status is None:
        return None
    if state in FABRIC_DONE and (status is None or status in FABRIC_FINE):
        return None
    if state not in FABRIC_DONE:
        return Severity.HIGH, f"NVSwitch fabric not trained (state {state})", ["fabric_state"]
    return Severity.CRITICAL, f"NVSwitch fabric training failed (status {status})", ["fabric_status"]


@dataclass(frozen=True)
class GpuCheck:
    """One rule over the GPUs of the snapshot: ``judge`` says what is wrong with a GPU, ``cause`` why it matters."""

    rule: str
    severity: Severity
    title: str
    judge: Callable[[Mapping[str, Any]], Verdict | None]
    cause: str
    description: str
    nma: str

    def __call__(self, artifacts: ArtifactMap) -> list[Hit]:
        return _gpu_hits(artifacts, self.rule, self.judge, self.cause)

    def as_rule(self) -> Rule:
        return Rule(
            id=self.rule,
            severity=self.severity,
            category="accelerator",
            title=self.title,
            files=(REPORT,),
            check=self,
            description=self.description,
            remedy=Remedy.NODE,
            nma=(self.nma,),
        )


ECC = GpuCheck(
    "accelerator.nvidia.ecc-uncorrectable",
    Severity.CRITICAL,
    "GPU uncorrectable (double-bit) ECC errors since the driver loaded",
    _ecc,
    "Data on the GPU was lost; it needs a reset before it can be trusted again.",
    "nvidia-smi's volatile uncorrectable ECC counters (DRAM and SRAM, or Double Bit on older GPUs) above 0.",
    "NvidiaDoubleBitError",
)
REMAP = GpuCheck(
    "accelerator.nvidia.memory-remap",
    Severity.HIGH,
    "GPU memory row remapping or page retirement pending or failed",
    _remap,
    "EC2 recommends replacing the instance when GPU memory rows fail.",
    "Remapped Rows Pending (HIGH: needs a GPU reset) or Remapping Failure Occurred (CRITICAL); Retired Pages "
    "pending on older GPUs.",
    "NvidiaPageRetirement",
)
THERMAL = GpuCheck(
    "accelerator.nvidia.thermal-slowdown",
    Severity.HIGH,
    "GPU thermal slowdown active at collection",
    _thermal,
    "Jobs on the GPU run slower; a GPU that keeps overheating on EC2 is a hardware fault.",
    "Clocks Event Reasons: HW Thermal Slowdown (HIGH) or SW Thermal Slowdown (MEDIUM) active.",
    "NvidiaThermalError",
)
POWER = GpuCheck(
    "accelerator.nvidia.power-brake",
    Severity.HIGH,
    "GPU power brake slowdown active at collection",
    _power,
    "The GPU runs at minimum clocks while the brake holds.",
    "Clocks Event Reasons: HW Power Brake Slowdown active (a power-supply or platform signal).",
    "NvidiaPowerError",
)
PCIE = GpuCheck(
    "accelerator.nvidia.pcie-replays",
    Severity.MEDIUM,
    "GPU PCIe replays since reset",
    _pcie,
    "Replays cost bandwidth; a growing count means a degrading link.",
    "PCI Replays Since Reset: LOW above 0, MEDIUM from 100, HIGH from 10,000.",
    "NvidiaPCIeError",
)
FABRIC = GpuCheck(
    "accelerator.nvidia.fabric-unhealthy",
    Severity.CRITICAL,
    "NVSwitch fabric not trained or failed",
    _fabric,
    "Without a trained fabric the GPUs cannot use NVLink: multi-GPU jobs fail.",
    "nvidia-smi Fabric State not Completed (HIGH) or Status not Success (CRITICAL) on NVSwitch systems.",
    "NvidiaFabricError",
)

ACCELERATOR_RULES: tuple[Rule, ...] = tuple(c.as_rule() for c in (ECC, REMAP, THERMAL, POWER, PCIE, FABRIC))
