"""Process artifact rules: PIDs and open files against the kernel's limits, zombies, large
environments, cron jobs that run faster than every five minutes.

Severity is the fraction of a limit (the EKS Node Monitoring Agent warns from 70 %) or a count
against the agent's bar, and every hit says why in one sentence. Sources: ``system/ps.txt``,
``system/ps-threads.txt``, ``system/allprocstat.txt``, ``system/top.txt``,
``system/large_environments.txt``, ``sysctls/sysctl_all.txt``, ``var_log/cron``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from eksdiag.engine.checks._hits import artifacts_of_kind, hit_on_evidence
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Remedy, Rule, Severity
from eksdiag.engine.parsers.limits import KernelLimits, SysctlValue, kernel_limits

SYSCTL = "sysctls/sysctl_all.txt"
MAX_EVIDENCE = 5

LIMIT_THRESHOLDS: tuple[tuple[float, Severity], ...] = (
    (0.95, Severity.CRITICAL),
    (0.85, Severity.HIGH),
    (0.70, Severity.MEDIUM),
)
"""Fraction of a kernel limit in use → severity; below 70 % (the agent's bar) nothing is reported."""

ZOMBIE_BAR = 20
"""The agent warns from 20 zombie processes."""
ZOMBIE_MANY = 500
LARGE_ENVIRONMENT_BAR = 1000
"""The collector lists, and the agent warns about, processes with more than 1000 variables."""
LARGE_ENVIRONMENT_MANY = 5000


def limit_severity(fraction: float) -> Severity | None:
    for threshold, severity in LIMIT_THRESHOLDS:
        if fraction >= threshold:
            return severity
    return None


def _sysctl(artifacts: ArtifactMap) -> KernelLimits:
    return kernel_limits(artifacts.get(SYSCTL))


def _limit_detail(value: SysctlValue | None) -> dict[str, Any] | None:
    return None if value is None else {"file": SYSCTL, "line": value.line, "text": value.text, "value": value.value}


# --- PIDs ----------------------------------------------------------------------------------------


def _task_usage(artifacts: ArtifactMap) -> tuple[str, int, str, list[Mapping[str, Any]]] | None:
    """(file, count, what is counted, top holders) from the best source the bundle holds."""
    for path, parsed in artifacts_of_kind(artifacts, "ps-threads"):
        if parsed.get("threads"):
            return path, int(parsed["threads"]), "threads", list(parsed.get("top") or [])
    for path, parsed in artifacts_of_kind(artifacts, "allprocstat"):
        if parsed.get("threads"):
            return path, int(parsed["threads"]), "threads", []
    for path, parsed in artifacts_of_kind(artifacts, "ps"):
        if parsed.get("processes"):
            return path, int(parsed["processes"]), "processes", []
    for path, parsed in artifacts_of_kind(artifacts, "top"):
        tasks = parsed.get("tasks") or {}
        if tasks.get("total"):
            return path, int(tasks["total"]), "processes", []
    return None


def check_pid_limit(artifacts: ArtifactMap) -> list[Hit]:
    """Threads (each takes a PID) against the tighter of ``kernel.pid_max`` and ``kernel.threads-max``."""
    limits = _sysctl(artifacts)
    candidates = [v for v in (limits.pid_max, limits.threads_max) if v is not None and v.value > 0]
    usage = _task_usage(artifacts)
    if not candidates or usage is None:
        return []
    path, used, measure, top = usage
    limit = min(candidates, key=lambda v: v.value)
    limit_key = "kernel.pid_max" if limit is limits.pid_max else "kernel.threads-max"
    fraction = used / limit.value
    severity = limit_severity(fraction)
    if severity is None:
        return []
    holders = [t for t in top if t.get("text")][:MAX_EVIDENCE]
    evidence = [Evidence(int(t["line"]), str(t["text"])) for t in holders]
    if not evidence:  # no per-process lines to show: point at the limit instead
        path, evidence = SYSCTL, [Evidence(limit.line, limit.text)]
    biggest = (
        f" Most threads: {holders[0]['command'][:80]} (PID {holders[0]['pid']}, {holders[0]['threads']:,})."
        if holders
        else ""
    )
    lower_bound = " (a lower bound: threads were not counted)" if measure == "processes" else ""
    reason = (
        f"{used:,} {measure}{lower_bound} use {fraction:.0%} of {limit_key} = {limit.value:,}, the node's "
        f"tighter task limit; at 100% every fork and thread creation fails (kubelet, containerd, probes).{biggest}"
    )
    return [
        hit_on_evidence(
            "process.pid-limit-near",
            path,
            evidence,
            severity=severity,
            reason=reason,
            detail={
                "used": used,
                "measure": measure,
                "limit_key": limit_key,
                "limit": limit.value,
                "fraction": round(fraction, 4),
                "pid_max": _limit_detail(limits.pid_max),
                "threads_max": _limit_detail(limits.threads_max),
                "top": [{k: t.get(k) for k in ("pid", "threads", "command")} for t in holders],
            },
        )
    ]


# --- open files ----------------------------------------------------------------------------------


def check_file_limit(artifacts: ArtifactMap) -> list[Hit]:
    """Allocated file handles (``fs.file-nr``) against the system-wide maximum."""
    limits = _sysctl(artifacts)
    if limits.file_nr is None or limits.file_nr_line is None:
        return []
    allocated, _, maximum = limits.file_nr
    if maximum <= 0:
        return []
    fraction = allocated / maximum
    severity = limit_severity(fraction)
    if severity is None:
        return []
    evidence = [Evidence(limits.file_nr_line.line, limits.file_nr_line.text)]
    if limits.file_max is not None:
        evidence.append(Evidence(limits.file_max.line, limits.file_max.text))
    evidence.sort(key=lambda e: e.line)
    reason = (
        f"{allocated:,} open file handles use {fraction:.0%} of fs.file-max = {maximum:,}; at 100% every open, "
        "socket and pipe on the node fails with ENFILE. A process leaking descriptors is the usual cause."
    )
    return [
        hit_on_evidence(
            "process.file-limit-near",
            SYSCTL,
            evidence,
            severity=severity,
            reason=reason,
            detail={"allocated": allocated, "maximum": maximum, "fraction": round(fraction, 4)},
        )
    ]


# --- zombies -------------------------------------------------------------------------------------


def check_zombies(artifacts: ArtifactMap) -> list[Hit]:
    """Processes in state Z in ``ps`` (the agent warns from 20), grouped by the parent not reaping them."""
    hits: list[Hit] = []
    for path, parsed in artifacts_of_kind(artifacts, "ps"):
        zombies = int(parsed.get("zombies") or 0)
        if zombies < ZOMBIE_BAR:
            continue
        rows = list(parsed.get("zombie_rows") or [])
        parents = Counter((r.get("parent_pid"), r.get("parent")) for r in rows)
        top = [
            {"pid": pid, "command": command, "zombies": n}
            for (pid, command), n in parents.most_common(5)
            if pid is not None
        ]
        severity = Severity.HIGH if zombies >= ZOMBIE_MANY else Severity.MEDIUM
        culprit = (
            f" {top[0]['zombies']} of them are children of {str(top[0]['command'])[:80]} (PID {top[0]['pid']}), "
            "which does not reap them."
            if top
            else ""
        )
        reason = (
            f"{zombies:,} zombie (defunct) processes, the agent's bar is {ZOMBIE_BAR}; each holds a PID until its "
            f"parent reaps it.{culprit}"
        )
        evidence = [Evidence(int(r["line"]), str(r["text"])) for r in rows[:MAX_EVIDENCE]]
        hits.append(
            hit_on_evidence(
                "process.zombies",
                path,
                evidence,
                count=zombies,
                severity=severity,
                reason=reason,
                detail={"zombies": zombies, "parents": top},
            )
        )
    return hits


# --- large environments --------------------------------------------------------------------------


def _commands(artifacts: ArtifactMap) -> Mapping[str, str]:
    for _, parsed in artifacts_of_kind(artifacts, "ps"):
        return parsed.get("commands") or {}
    return {}


def check_large_environments(artifacts: ArtifactMap) -> list[Hit]:
    """Processes with more than 1000 environment variables (``system/large_environments.txt``)."""
    hits: list[Hit] = []
    commands = _commands(artifacts)
    for path, parsed in artifacts_of_kind(artifacts, "large-environments"):
        largest = parsed.get("largest")
        processes = int(parsed.get("processes") or 0)
        if not largest or int(largest.get("count") or 0) <= LARGE_ENVIRONMENT_BAR:
            continue
        count = int(largest["count"])
        severity = Severity.MEDIUM if count >= LARGE_ENVIRONMENT_MANY else Severity.LOW
        command = commands.get(str(largest["pid"]))
        named = f" ({command[:80]})" if command else ""
        reason = (
            f"{processes} process(es) have more than {LARGE_ENVIRONMENT_BAR} environment variables, the largest "
            f"{count:,} in PID {largest['pid']}{named}: usually one variable set per Service from "
            "enableServiceLinks, which slows process start and can exceed the exec argument limit."
        )
        rows = list(parsed.get("rows") or [])
        ordered = sorted(rows, key=lambda r: -int(r["count"]))[:MAX_EVIDENCE]
        evidence = sorted((Evidence(int(r["line"]), str(r["text"])) for r in ordered), key=lambda e: e.line)
        hits.append(
            hit_on_evidence(
                "process.environment-large",
                path,
                evidence,
                count=processes,
                severity=severity,
                reason=reason,
                detail={
                    "processes": [
                        {"pid": r["pid"], "variables": r["count"], "command": commands.get(str(r["pid"]))}
                        for r in ordered
                    ]
                },
            )
        )
    return hits


# --- cron ----------------------------------------------------------------------------------------


def check_rapid_cron(artifacts: ArtifactMap) -> list[Hit]:
    """Cron jobs that ran again within five minutes of their previous run (the agent's bar)."""
    hits: list[Hit] = []
    for path, parsed in artifacts_of_kind(artifacts, "cron"):
        jobs = list(parsed.get("rapid") or [])
        if not jobs:
            continue
        rapid_jobs = int(parsed.get("rapid_jobs") or len(jobs))
        fastest = min(int(j["min_gap_seconds"]) for j in jobs if j.get("min_gap_seconds") is not None)
        severity = Severity.MEDIUM if fastest < 60 or rapid_jobs >= 5 else Severity.LOW
        top = jobs[0]
        cadence = "twice within one minute" if fastest < 60 else f"every {max(1, fastest // 60)} min"
        reason = (
            f"{rapid_jobs} cron job(s) ran again within 5 minutes, the fastest {cadence}; the most frequent: "
            f"({top['user']}) {str(top['command'])[:80]} with {top['rapid_runs']} rapid runs. Jobs this frequent "
            "load the node if they do real work; duplicated crontab entries run twice."
        )
        evidence: list[Evidence] = []
        for job in jobs[:MAX_EVIDENCE]:
            evidence.append(Evidence(int(job["first_line"]), str(job["first_text"])))
        evidence.sort(key=lambda e: e.line)
        hits.append(
            hit_on_evidence(
                "process.cron-rapid",
                path,
                evidence,
                count=sum(int(j["rapid_runs"]) for j in jobs),
                severity=severity,
                reason=reason,
                detail={
                    "jobs": [
                        {k: j.get(k) for k in ("user", "command", "runs", "rapid_runs", "min_gap_seconds")}
                        for j in jobs[:20]
                    ]
                },
            )
        )
    return hits


PROCESS_RULES: tuple[Rule, ...] = (
    Rule(
        id="process.pid-limit-near",
        severity=Severity.HIGH,
        category="process",
        title="Threads and processes near the kernel's PID or thread limit",
        files=("system/ps-threads.txt", "system/allprocstat.txt", "system/ps.txt", "system/top.txt", SYSCTL),
        check=check_pid_limit,
        description=(
            "Every thread takes a PID: the node's tasks (ps -eTF) against the tighter of kernel.pid_max and "
            "kernel.threads-max (sysctls). MEDIUM from 70 % (the agent's ApproachingKernelPidMax), HIGH from "
            "85 %, CRITICAL from 95 %; the reason names the processes holding the most threads."
        ),
        remedy=Remedy.WORKLOAD,
        nma=("ApproachingKernelPidMax",),
    ),
    Rule(
        id="process.file-limit-near",
        severity=Severity.HIGH,
        category="process",
        title="Open files near the system-wide limit (fs.file-max)",
        files=(SYSCTL,),
        check=check_file_limit,
        description=(
            "fs.file-nr's allocated handles against its maximum: MEDIUM from 70 % (the agent's "
            "ApproachingMaxOpenFiles), HIGH from 85 %, CRITICAL from 95 %."
        ),
        remedy=Remedy.WORKLOAD,
        nma=("ApproachingMaxOpenFiles",),
    ),
    Rule(
        id="process.zombies",
        severity=Severity.MEDIUM,
        category="process",
        title="Many zombie processes (a parent is not reaping its children)",
        files=("system/ps.txt",),
        check=check_zombies,
        description=(
            "20 or more processes in state Z (defunct) in ps: MEDIUM, HIGH from 500. The ps forest names the "
            "parent that does not reap them, often a container whose PID 1 is not an init."
        ),
        remedy=Remedy.WORKLOAD,
        nma=("ExcessiveZombieProcesses",),
    ),
    Rule(
        id="process.environment-large",
        severity=Severity.LOW,
        category="process",
        title="Processes with more than 1000 environment variables",
        files=("system/large_environments.txt",),
        check=check_large_environments,
        description=(
            "The collector lists processes with more than 1000 environment variables, nearly always Service "
            "links (enableServiceLinks) in a namespace with many Services: LOW, MEDIUM from 5000."
        ),
        remedy=Remedy.CONFIGURATION,
        nma=("LargeEnvironment",),
    ),
    Rule(
        id="process.cron-rapid",
        severity=Severity.LOW,
        category="process",
        title="Cron jobs running faster than every five minutes",
        files=("var_log/cron",),
        check=check_rapid_cron,
        description=(
            "A cron job (user, command) that ran again within five minutes of its previous run: LOW; MEDIUM "
            "when one ran twice within a minute (duplicated entries) or five or more jobs do."
        ),
        remedy=Remedy.CONFIGURATION,
        nma=("RapidCron",),
    ),
)
