"""Processes: crashes the kernel reports (segfaults, fatal traps) and fork failures (out of PIDs or
threads), from the kernel log, the kubelet and containerd journals and the add-on pod logs.

Formats: ``comm[pid]: segfault at <addr> ip ... in <object>[...]`` (``arch/x86/mm/fault.c``),
``traps: comm[pid] general protection fault ...`` / ``trap invalid opcode ...`` (x86), ``comm[pid]:
unhandled exception: ...`` (arm64, 5.x+) and ``comm[pid]: unhandled <fault> (11) at 0x..., esr ...``
(arm64, 4.x); Go's ``fork/exec <path>: resource temporarily unavailable`` and ``runtime: failed to
create new OS thread (have N already; errno=11)``; glibc's ``pthread_create failed: Resource
temporarily unavailable``; bash's ``fork: retry: Resource temporarily unavailable``; the pids
cgroup's ``cgroup: fork rejected by pids controller in <cgroup>``.
"""

from __future__ import annotations

from eksdiag.engine.catalogue.files import ALL_LOGS, KERNEL_LOGS, C, H, L, M
from eksdiag.engine.model import Remedy, Rule, Scale

RULES: tuple[Rule, ...] = (
    Rule(
        "kernel.app-crash",
        M,
        "process",
        "Process crashed (segfault or fatal trap)",
        KERNEL_LOGS,
        pattern=r"\]: segfault at |traps: \S[^\n]*\[\d+\] |\[\d+\]: unhandled exception: "
        r"|\[\d+\]: unhandled [a-z][a-z0-9 ]* \(\d+\) at 0x",
        # a segfault inside NCCL is the accelerator rule's (one event, one finding)
        guards=(r"in libnccl\.so",),
        description=(
            "The kernel killed a process for an invalid memory access or a fatal trap. It names the "
            "process and the object it crashed in; a crash loop shows as many lines. One crash is LOW, "
            "repeated crashes MEDIUM, a burst in the last hour HIGH."
        ),
        scale=Scale(ceiling=H, floor=L, lone_lowers=True, burst_per_hour=20),
        remedy=Remedy.WORKLOAD,
        nma=("AppCrash",),
    ),
    Rule(
        "kernel.fork-failed",
        H,
        "process",
        "fork/exec or thread creation failed: out of PIDs, threads or memory",
        ALL_LOGS,
        pattern=r"fork/exec[^\n]*(?i:resource temporarily unavailable)"
        r"|failed to create new OS thread[^\n]*errno=11"
        r"|pthread_create failed: (?i:resource temporarily unavailable)"
        r"|fork: (?:retry: )?(?i:resource temporarily unavailable)",
        description=(
            "A daemon (kubelet, containerd, runc, an add-on) could not start a process or thread: EAGAIN "
            "from fork or clone means the node hit kernel.pid_max or kernel.threads-max, the user's "
            "process limit, or could not allocate memory for it. Probes, exec and new containers fail "
            "with it. Never below MEDIUM; a burst in the last hour is CRITICAL."
        ),
        scale=Scale(ceiling=C, floor=M, burst_per_hour=6),
        remedy=Remedy.NODE,
        nma=("ForkFailedOutOfPIDs",),
    ),
    Rule(
        "kernel.pids-cgroup-limit",
        M,
        "process",
        "A cgroup hit its PID limit (fork rejected by the pids controller)",
        KERNEL_LOGS,
        pattern=r"cgroup: fork rejected by pids controller in ",
        description=(
            "A pod (or another cgroup) reached its pids.max, the kubelet's podPidsLimit: its own forks "
            "fail while the node has PIDs left. The kernel prints this once per cgroup, so one line "
            "already means the limit was reached; the cgroup path names the pod."
        ),
        scale=Scale(ceiling=H),
        remedy=Remedy.WORKLOAD,
    ),
)
