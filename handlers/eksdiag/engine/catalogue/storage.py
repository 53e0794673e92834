"""Storage: filesystem and block-device errors, full disks."""

from __future__ import annotations

from eksdiag.engine.catalogue.files import ALL_LOGS, KERNEL_LOGS, C, H
from eksdiag.engine.model import Remedy, Rule

RULES: tuple[Rule, ...] = (
    Rule(
        "kernel.fs-error",
        H,
        "storage",
        "Filesystem or block I/O error",
        KERNEL_LOGS,
        pattern=r"EXT4-fs error|XFS \([^)]+\): (?:Corruption|metadata I/O error|Filesystem has been shut down)"
        r"|blk_update_request: I/O error|I/O error, dev \S+, sector|Buffer I/O error on dev",
        remedy=Remedy.NODE,
    ),
    Rule(
        "runtime.no-space",
        C,
        "storage",
        "No space left on device",
        ALL_LOGS,
        pattern=r"no space left on device",
        remedy=Remedy.NODE,
    ),
)
