"""Storage: block-device I/O errors and NVMe (EBS) timeouts, filesystem errors, full disks.

Block-layer formats (``block/blk-core.c``, ``fs/buffer.c``): ``end_request: I/O error, dev sde, sector
52428288`` (kernels before 3.18), ``blk_update_request: I/O error, dev nvme1n1, sector 1234`` (to 5.15),
``I/O error, dev nvme1n1, sector 1234 op 0x1:(WRITE) flags 0x800 ...`` (5.16+, AL2023) and ``Buffer I/O
error on dev(ice) md0, logical block 209713024``. NVMe (``drivers/nvme/host/pci.c``): ``nvme nvme1: I/O
123 QID 4 timeout, aborting`` / ``..., reset controller``.
"""

from __future__ import annotations

from eksdiag.engine.catalogue.files import ALL_LOGS, KERNEL_LOGS, C, H, L, M
from eksdiag.engine.model import Remedy, Rule, Scale

RULES: tuple[Rule, ...] = (
    Rule(
        "storage.block-io-error",
        H,
        "storage",
        "Block device I/O error (failing EBS volume or instance-store disk)",
        KERNEL_LOGS,
        pattern=r"\bI/O error, dev [a-z0-9-]+, sector \d|blk_update_request: [^\n]*error, dev [a-z0-9-]+, sector \d"
        r"|Buffer I/O error on dev(?:ice)? [a-z0-9-]+, logical block \d",
        description=(
            "The block layer failed a read or write on a device: an impaired or detached EBS volume, a "
            "failing instance-store disk, or a device removed under a mounted filesystem. Data on it may be "
            "lost and writes fail or hang. Never below MEDIUM; a burst in the last hour is CRITICAL."
        ),
        scale=Scale(ceiling=C, floor=M, burst_per_hour=60),
        remedy=Remedy.NODE,
        nma=("BlockDeviceIOError",),
    ),
    Rule(
        "storage.nvme-timeout",
        H,
        "storage",
        "NVMe (EBS) I/O timeout or controller reset",
        KERNEL_LOGS,
        pattern=r"nvme nvme\d+: I/O \d+ (?:\(\S+\) )?QID \d+ timeout|nvme nvme\d+: (?:controller is down|"
        r"Removing after probe failure|Device not ready)",
        description=(
            "An NVMe command got no answer within nvme_core.io_timeout (EBS volumes on Nitro are NVMe "
            "devices): the volume stalled, was throttled hard or is impaired; tasks waiting on it hang. "
            "A single timeout is MEDIUM."
        ),
        scale=Scale(floor=L, lone_lowers=True),
        remedy=Remedy.NODE,
    ),
    Rule(
        "kernel.fs-error",
        H,
        "storage",
        "Filesystem error or forced shutdown",
        KERNEL_LOGS,
        pattern=r"EXT4-fs error|XFS \([^)]+\): (?:Corruption|Metadata corruption detected|metadata I/O error"
        r"|log I/O error|Filesystem has been shut down|Corruption of in-memory data detected)",
        description=(
            "A filesystem found on-disk corruption or shut itself down (XFS goes read-only until it is "
            "unmounted and repaired). Never below MEDIUM while the log shows it."
        ),
        scale=Scale(floor=M),
        remedy=Remedy.NODE,
    ),
    Rule(
        "runtime.no-space",
        C,
        "storage",
        "No space left on device",
        ALL_LOGS,
        pattern=r"[Nn]o space left on device",
        description=(
            "A write failed with ENOSPC (Go prints it in lower case, C programs capitalised): the disk or "
            "its inodes are exhausted (see storage.disk.usage-high, storage.inode.usage-high). A single "
            "line is HIGH, repeated ones CRITICAL; never below MEDIUM."
        ),
        scale=Scale(floor=M, lone_lowers=True),
        remedy=Remedy.NODE,
    ),
)
