"""Kernel: OOM kills, lockups, hung tasks, panics and BUGs, from dmesg and the system journal."""

from __future__ import annotations

from eksdiag.engine.catalogue.files import KERNEL_LOGS, C, H, M
from eksdiag.engine.model import Remedy, Rule, Scale

RULES: tuple[Rule, ...] = (
    Rule(
        "kernel.oom.cgroup",
        H,
        "memory",
        "Container killed by the cgroup OOM killer",
        KERNEL_LOGS,
        pattern=r"Memory cgroup out of memory: Kill(?:ed)? process",
        scale=Scale(lone_lowers=True),
        remedy=Remedy.WORKLOAD,
    ),
    Rule(
        "kernel.oom.global",
        C,
        "memory",
        "Node-wide out of memory: kernel killed a process",
        KERNEL_LOGS,
        pattern=r"\] Out of memory: Kill(?:ed)? process|kernel: Out of memory: Kill(?:ed)? process",
        scale=Scale(floor=M),
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        "kernel.soft-lockup",
        H,
        "kernel",
        "Kernel soft lockup",
        KERNEL_LOGS,
        pattern=r"BUG: soft lockup - CPU#|watchdog: BUG: soft lockup",
        remedy=Remedy.NODE,
        nma=("SoftLockup",),
    ),
    Rule(
        "kernel.hung-task",
        H,
        "kernel",
        "Kernel hung task (blocked for more than N seconds)",
        KERNEL_LOGS,
        pattern=r"INFO: task \S+ blocked for more than \d+ seconds",
        scale=Scale(lone_lowers=True),
        remedy=Remedy.NODE,
        nma=("AppBlocked",),
    ),
    Rule(
        "kernel.panic",
        C,
        "kernel",
        "Kernel panic, BUG or oops",
        KERNEL_LOGS,
        pattern=r"Kernel panic - not syncing|kernel BUG at |Oops: [0-9a-f]{4} \[",
        scale=Scale(floor=M),
        remedy=Remedy.NODE,
        nma=("KernelBug",),
    ),
)
