"""Kernel artifact rules: compressed swap in RAM (zram) filling up.

The EKS Node Monitoring Agent reads ``/sys/block/zram*/mm_stat`` and warns when the data stored in a
zram device passes 10 % of its size. The bundle has no sysfs, but ``storage/lsblk.txt`` lists zram
devices with their size and ``system/top.txt`` the swap in use: when the swap devices are exactly the
zram devices (swap total equals their summed size), swap used is the data stored in them.
"""

from __future__ import annotations

from eksdiag.engine.checks._hits import artifacts_of_kind, hit_on_evidence
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Remedy, Rule, Severity

ZRAM_BAR = 0.10
"""The agent's bar: stored data above 10 % of the device size."""
ZRAM_SHARES: tuple[tuple[float, Severity], ...] = (
    (0.90, Severity.HIGH),
    (0.50, Severity.MEDIUM),
    (ZRAM_BAR, Severity.LOW),
)
SAME_SIZE = 0.02
"""Swap total and zram size agree within this share (lsblk rounds sizes)."""


def check_zram_usage(artifacts: ArtifactMap) -> list[Hit]:
    devices = [
        d
        for _, parsed in artifacts_of_kind(artifacts, "lsblk")
        for d in parsed.get("devices") or ()
        if str(d.get("name", "")).startswith("zram") and d.get("size")
    ]
    tops = artifacts_of_kind(artifacts, "top")
    if not devices or not tops:
        return []
    top_path, top = tops[0]
    swap = top.get("swap") or {}
    total, used = swap.get("total"), swap.get("used")
    zram_size = sum(int(d["size"]) for d in devices)
    if not total or used is None or abs(total - zram_size) > SAME_SIZE * zram_size:
        return []
    share = used / zram_size
    severity = next((s for threshold, s in ZRAM_SHARES if share > threshold), None)
    if severity is None:
        return []
    names = ", ".join(str(d["name"]) for d in devices)
    reason = (
        f"zram swap ({names}) holds {share:.0%} of its {zram_size / 2**30:.1f} GiB, over the agent's "
        f"{ZRAM_BAR:.0%}: the node is short of memory and compresses pages into RAM to keep going."
    )
    return [
        hit_on_evidence(
            "kernel.zram-usage-high",
            top_path,
            [Evidence(int(swap["line"]), str(swap.get("text") or ""))],
            severity=severity,
            reason=reason,
            detail={"zram_devices": [d["name"] for d in devices], "zram_bytes": zram_size, "share": round(share, 4)},
        )
    ]


KERNEL_RULES: tuple[Rule, ...] = (
    Rule(
        id="kernel.zram-usage-high",
        severity=Severity.MEDIUM,
        category="memory",
        title="zram (compressed swap in RAM) filling up",
        files=("storage/lsblk.txt", "system/top.txt"),
        check=check_zram_usage,
        description=(
            "Swap used against the zram devices' size when swap is only zram: LOW above 10 % (the agent's "
            "ZramHighUsage bar), MEDIUM above 50 %, HIGH above 90 %."
        ),
        remedy=Remedy.WORKLOAD,
        nma=("ZramHighUsage",),
    ),
)
