"""Storage artifact rules: processes waiting on block IO, fragmented XFS free space.

- IO delay: ``system/io_throttling.txt`` (or ``system/allprocstat.txt``) holds each process's
  aggregated block-IO delay since it started. The EKS Node Monitoring Agent samples it every ten
  minutes and warns when a process gained 10 s or more; a bundle is one sample, so the delay is
  measured against the process's lifetime instead (its start time in ``allprocstat.txt``, the
  uptime in ``top.txt``): the share of its life spent waiting on the disk.
- XFS: ``storage/xfs.txt`` (``xfs_db -r -c 'freesp -s'``). The agent warns when the average free
  extent is under 16 blocks. Inodes are allocated in chunks of 64: without sparse inode chunks, free
  extents all shorter than a chunk mean file creation fails with ENOSPC although df shows space.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eksdiag.engine.checks._hits import artifacts_of_kind, hit_on_evidence
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Remedy, Rule, Severity

MAX_EVIDENCE = 5
TICKS_PER_SECOND = 100
"""USER_HZ: /proc/<pid>/stat times are in 1/100 s on Linux."""

IO_DELAY_BAR_SECONDS = 10
"""The agent's bar: 10 s of block-IO delay within its sampling interval."""
IO_DELAY_SHARES: tuple[tuple[float, Severity], ...] = ((0.25, Severity.HIGH), (0.05, Severity.MEDIUM))
"""Share of a process's lifetime spent waiting on block IO → severity (LOW below, or lifetime unknown)."""

XFS_SMALL_AVERAGE_BLOCKS = 16
"""The agent's bar for the average free extent (in filesystem blocks)."""
INODES_PER_CHUNK = 64


# --- IO delay ------------------------------------------------------------------------------------


def _uptime_seconds(artifacts: ArtifactMap) -> int | None:
    for _, parsed in artifacts_of_kind(artifacts, "top"):
        uptime = parsed.get("uptime_seconds")
        if isinstance(uptime, int) and uptime > 0:
            return uptime
    return None


def _processes(artifacts: ArtifactMap) -> Mapping[str, Mapping[str, Any]]:
    for _, parsed in artifacts_of_kind(artifacts, "allprocstat"):
        return parsed.get("by_pid") or {}
    return {}


def _delay_rows(artifacts: ArtifactMap) -> tuple[str, list[dict[str, Any]]] | None:
    """(file, rows of pid, name, delay_ticks, line, text): io_throttling.txt, else allprocstat.txt."""
    for path, parsed in artifacts_of_kind(artifacts, "io-throttling"):
        rows = [dict(r) for r in parsed.get("rows") or () if r.get("reliable")]
        return path, rows
    for path, parsed in artifacts_of_kind(artifacts, "allprocstat"):
        rows = [
            {"pid": pid, "name": p.get("comm"), "delay_ticks": p.get("blkio_ticks") or 0, "line": p.get("line")}
            for pid, p in (parsed.get("by_pid") or {}).items()
        ]
        return path, rows
    return None


def _share_severity(share: float | None) -> Severity:
    if share is None:
        return Severity.LOW
    for threshold, severity in IO_DELAY_SHARES:
        if share >= threshold:
            return severity
    return Severity.LOW


def check_io_delays(artifacts: ArtifactMap) -> list[Hit]:
    """Processes with 10 s or more of block-IO delay, ranked by the share of their life it took."""
    found = _delay_rows(artifacts)
    if found is None:
        return []
    path, rows = found
    uptime = _uptime_seconds(artifacts)
    processes = _processes(artifacts)
    delayed: list[dict[str, Any]] = []
    for row in rows:
        seconds = int(row.get("delay_ticks") or 0) / TICKS_PER_SECOND
        if seconds < IO_DELAY_BAR_SECONDS:
            continue
        proc = processes.get(str(row["pid"]))
        lifetime: float | None = None
        if uptime is not None and proc is not None and proc.get("comm") == row.get("name"):
            lifetime = uptime - int(proc.get("start_ticks") or 0) / TICKS_PER_SECOND
        share = seconds / lifetime if lifetime and lifetime >= 60 else None
        delayed.append({**row, "seconds": seconds, "lifetime": lifetime, "share": share})
    if not delayed:
        return []
    for item in delayed:
        item["severity"] = _share_severity(item["share"])
    delayed.sort(key=lambda d: (-d["severity"].rank, -(d["share"] or 0), -d["seconds"]))
    worst = delayed[0]
    if worst["share"] is not None:
        life = f"{worst['share']:.0%} of its {_duration(worst['lifetime'])} life"
    else:
        life = "over a lifetime the bundle does not show, so its rate is unknown"
    reason = (
        f"{worst['name']} (PID {worst['pid']}) waited {worst['seconds']:,.0f} s on block IO, {life}; "
        f"{len(delayed)} process(es) over the agent's {IO_DELAY_BAR_SECONDS} s bar. Long IO waits mean the "
        "volume is slower than the workload needs (EBS throughput or IOPS limits, burst credits)."
    )
    shown = delayed[:MAX_EVIDENCE]
    evidence = sorted(
        (Evidence(int(d["line"]), str(d.get("text") or _stat_text(d))) for d in shown if d.get("line")),
        key=lambda e: e.line,
    )
    return [
        hit_on_evidence(
            "storage.io-delay",
            path,
            evidence,
            count=len(delayed),
            severity=worst["severity"],
            reason=reason,
            detail={
                "uptime_seconds": uptime,
                "processes": [
                    {
                        "pid": d["pid"],
                        "name": d["name"],
                        "delay_seconds": round(d["seconds"], 2),
                        "lifetime_seconds": round(d["lifetime"]) if d["lifetime"] is not None else None,
                        "share": round(d["share"], 4) if d["share"] is not None else None,
                    }
                    for d in delayed[:20]
                ],
            },
        )
    ]


def _stat_text(row: Mapping[str, Any]) -> str:
    return f"{row['pid']} ({row['name']}) ... blkio {row['delay_ticks']}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} day"


# --- XFS -----------------------------------------------------------------------------------------


def _chunk_blocks(fs: Mapping[str, Any]) -> int:
    isize = fs.get("isize") or 512
    bsize = fs.get("bsize") or 4096
    return max(1, -(-INODES_PER_CHUNK * int(isize) // int(bsize)))


def _xfs_assessment(fs: Mapping[str, Any]) -> tuple[Severity, str] | None:
    average = fs.get("average_extent")
    if average is None or average >= XFS_SMALL_AVERAGE_BLOCKS:
        return None
    chunk = _chunk_blocks(fs)
    histogram = fs.get("histogram") or []
    free_blocks = fs.get("free_blocks") or sum(int(r["blocks"]) for r in histogram)
    usable = sum(int(r["blocks"]) for r in histogram if int(r["from"]) >= chunk)
    usable_share = usable / free_blocks if histogram and free_blocks else None
    sparse = fs.get("sparse_inodes")
    name = fs.get("device") or "an XFS filesystem"
    if usable_share is not None:
        starved = usable_share < 0.10
        share = f"; {usable_share:.0%} of the free blocks lie in extents of {chunk}+ blocks"
    else:
        starved = average < chunk
        share = ""
    severity = Severity.HIGH if starved and not sparse else Severity.MEDIUM
    if sparse:
        sparse_note = " (sparse inode chunks are on, which softens it)"
    elif sparse is False:
        sparse_note = " and sparse inode chunks are off"
    else:
        sparse_note = ""
    reason = (
        f"{name}: average free extent {average:g} blocks, under the agent's {XFS_SMALL_AVERAGE_BLOCKS}{share}. "
        f"A new inode chunk needs {chunk} contiguous blocks{sparse_note}: file creation can fail with "
        "'no space left on device' while df shows free space."
    )
    return severity, reason


def check_xfs_free_space(artifacts: ArtifactMap) -> list[Hit]:
    hits: list[Hit] = []
    for path, parsed in artifacts_of_kind(artifacts, "xfs"):
        assessed: list[tuple[Severity, str, Mapping[str, Any]]] = []
        for fs in parsed.get("filesystems") or ():
            verdict = _xfs_assessment(fs)
            if verdict is not None and fs.get("average_line") is not None:
                assessed.append((*verdict, fs))
        if not assessed:
            continue
        assessed.sort(key=lambda a: -a[0].rank)
        severity, reason, _ = assessed[0]
        evidence = sorted(
            (Evidence(int(fs["average_line"]), str(fs["average_text"])) for _, _, fs in assessed[:MAX_EVIDENCE]),
            key=lambda e: e.line,
        )
        hits.append(
            hit_on_evidence(
                "storage.xfs-free-space-fragmented",
                path,
                evidence,
                count=len(assessed),
                severity=severity,
                reason=reason if len(assessed) == 1 else f"{reason} {len(assessed)} XFS filesystems are affected.",
                detail={
                    "filesystems": [
                        {
                            k: fs.get(k)
                            for k in ("device", "average_extent", "free_extents", "free_blocks", "bsize", "isize")
                        }
                        | {"sparse_inodes": fs.get("sparse_inodes")}
                        for _, _, fs in assessed
                    ]
                },
            )
        )
    return hits


STORAGE_RULES: tuple[Rule, ...] = (
    Rule(
        id="storage.io-delay",
        severity=Severity.HIGH,
        category="storage",
        title="Processes spend a large share of their time waiting on block IO",
        files=("system/io_throttling.txt", "system/allprocstat.txt", "system/top.txt"),
        check=check_io_delays,
        description=(
            "A process with 10 s or more of block-IO delay (the agent's IODelays bar): HIGH when it spent a "
            "quarter of its life waiting, MEDIUM from 5 %, LOW below or when its lifetime is unknown."
        ),
        remedy=Remedy.CONFIGURATION,
        nma=("IODelays",),
    ),
    Rule(
        id="storage.xfs-free-space-fragmented",
        severity=Severity.HIGH,
        category="storage",
        title="XFS free space fragmented (small average free extent)",
        files=("storage/xfs.txt",),
        check=check_xfs_free_space,
        description=(
            "xfs_db freesp: the average free extent under 16 blocks (the agent's XFSSmallAverageClusterSize) is "
            "MEDIUM; HIGH when, without sparse inode chunks, under a tenth of the free space lies in extents "
            "long enough for a new inode chunk, so creating files fails despite free space."
        ),
        remedy=Remedy.NODE,
        nma=("XFSSmallAverageClusterSize",),
    ),
)
