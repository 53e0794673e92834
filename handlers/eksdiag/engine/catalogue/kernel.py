"""Kernel: OOM kills, lockups and RCU stalls, hung tasks, BUGs, oopses and panics, from dmesg and the
system journal.

Patterns follow the kernel's own format strings (``mm/oom_kill.c``, ``kernel/watchdog.c``,
``kernel/hung_task.c``, ``kernel/rcu/tree_stall.h``, ``lib/bug.c``, ``arch/x86/mm/fault.c``) and match
in every copy of the kernel log: ``dmesg`` raw and ``--ctime`` lines (``[...] message``) and rsyslog's
``... kernel: message`` on AL2. One event in several copies is one finding (``engine.copies``).
"""

from __future__ import annotations

from eksdiag.engine.catalogue.files import KERNEL_LOGS, C, H, L, M
from eksdiag.engine.model import Remedy, Rule, Scale

RULES: tuple[Rule, ...] = (
    Rule(
        "kernel.oom.cgroup",
        H,
        "memory",
        "Container killed by the cgroup OOM killer",
        KERNEL_LOGS,
        pattern=r"Memory cgroup out of memory: Kill(?:ed)? process",
        description=(
            "A container reached its memory limit and the kernel killed a process in it. Repeated kills in "
            "the last day are HIGH; a single kill is one level lower, and kills days before the collection "
            "count less again: they are history, not the incident."
        ),
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
        description=(
            "The whole node ran out of memory (not one container's limit): kubelet's reservations and "
            "eviction thresholds did not keep pods from exhausting it. Repeated kills in the last day are "
            "CRITICAL, a single one HIGH; never below MEDIUM while the log shows it."
        ),
        scale=Scale(floor=M, lone_lowers=True),
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        "kernel.soft-lockup",
        H,
        "kernel",
        "CPU soft or hard lockup",
        KERNEL_LOGS,
        pattern=r"BUG: soft lockup - CPU#|watchdog: BUG: soft lockup|Watchdog detected hard LOCKUP on cpu",
        description=(
            "A CPU ran kernel code without scheduling for tens of seconds (soft lockup) or without taking "
            "interrupts (hard lockup): CPU starvation (steal on a burstable or oversubscribed host), heavy "
            "reclaim or a kernel bug. Kubelet and containerd stall with it. A single lockup is MEDIUM, "
            "repeated ones HIGH, a burst in the last hour CRITICAL."
        ),
        scale=Scale(ceiling=C, floor=L, lone_lowers=True, burst_per_hour=10),
        remedy=Remedy.NODE,
        nma=("SoftLockup",),
    ),
    Rule(
        "kernel.rcu-stall",
        H,
        "kernel",
        "RCU stall: a CPU or task held up the kernel's grace periods",
        KERNEL_LOGS,
        pattern=r"rcu: INFO: rcu_(?:sched|preempt|bh) (?:self-)?detected (?:stalls|stall)"
        r"|INFO: rcu_(?:sched|preempt|bh) (?:self-)?detected (?:stalls|stall)",
        description=(
            "RCU grace periods stalled for tens of seconds: a CPU stuck with interrupts or preemption off, "
            "usually alongside soft lockups, or a starved vCPU. The same remedy as a lockup."
        ),
        scale=Scale(lone_lowers=True),
        remedy=Remedy.NODE,
    ),
    Rule(
        "kernel.hung-task",
        H,
        "kernel",
        "Task blocked for a long time (hung task, usually waiting on IO)",
        KERNEL_LOGS,
        pattern=r"task [^\n]*?:\d+ blocked for more than \d+ ?s",
        description=(
            "A task waited in uninterruptible sleep longer than kernel.hung_task_timeout_secs (120 s by "
            "default), nearly always on storage (an EBS volume out of throughput or burst credits, a stuck "
            "NFS/EFS mount). The kernel reports at most kernel.hung_task_warnings (10) per boot, so a few "
            "lines are already many. A single report is MEDIUM."
        ),
        scale=Scale(lone_lowers=True),
        remedy=Remedy.NODE,
        nma=("AppBlocked",),
    ),
    Rule(
        "kernel.bug",
        H,
        "kernel",
        "Kernel BUG or oops",
        KERNEL_LOGS,
        # "BUG:" right after a dmesg stamp (raw or --ctime, with an optional printk caller id) or after
        # syslog's "kernel:": an application's own "[worker] BUG:" in var_log/messages is not the kernel's
        pattern=r"\[ *\d+\.\d+\](?:\[ *[TC]\d+\])? BUG: "
        r"|\[[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2} \d{4}\](?:\[ *[TC]\d+\])? BUG: "
        r"|kernel: (?:\[ *\d+\.\d+\] )?BUG: |kernel BUG at "
        r"|Oops: (?:[0-9a-f]{4} \[#|general protection fault|invalid opcode|divide error)"
        r"|general protection fault(?:, probably for non-canonical address 0x[0-9a-f]+)?: [0-9a-f]{4} \[#",
        guards=(r"BUG: soft lockup",),
        description=(
            "The kernel reported a BUG (an invalid state it checks for: a NULL or bad page dereference, "
            "scheduling while atomic, a bad page state, a workqueue lockup) or an oops. The kernel that "
            "logged it stays suspect until the node reboots, so old reports never drop below MEDIUM; "
            "soft lockups have their own rule."
        ),
        scale=Scale(floor=M),
        remedy=Remedy.NODE,
        nma=("KernelBug",),
    ),
    Rule(
        "kernel.panic",
        C,
        "kernel",
        "Kernel panic",
        KERNEL_LOGS,
        pattern=r"Kernel panic - not syncing",
        description=(
            "The kernel panicked; EKS AMIs reboot 10 s later (kernel.panic = 10), so the line survives only "
            "in a log that reached disk before the reboot (var_log/messages on AL2, dmesg.boot) and is from "
            "an earlier boot: it ages like any event, never below MEDIUM."
        ),
        scale=Scale(floor=M),
        remedy=Remedy.NODE,
    ),
)
