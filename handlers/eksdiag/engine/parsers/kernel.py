"""Artifact parsers (kernel, processes, storage state): the routing table from bundle paths to them.

The parsers live in ``process`` (ps, top, /proc/stat, large environments), ``blockio`` (IO delays,
XFS free space, lsblk), ``dmesg`` (stamps that map boot-relative time to wall time), ``nvidia`` (the bug report's
``nvidia-smi --query``) and ``cron``;
paths follow eks-log-collector.sh (research/bundle.md 2.1, 2.2, 2.4, 2.13).
"""

from __future__ import annotations

from eksdiag.engine.parsers.base import ArtifactSpec
from eksdiag.engine.parsers.blockio import parse_io_throttling, parse_lsblk, parse_xfs
from eksdiag.engine.parsers.cron import parse_cron_log
from eksdiag.engine.parsers.dmesg import parse_dmesg_log
from eksdiag.engine.parsers.nvidia import parse_nvidia_bug_report
from eksdiag.engine.parsers.process import (
    parse_allprocstat,
    parse_large_environments,
    parse_procstat,
    parse_ps,
    parse_ps_threads,
    parse_top,
)

KERNEL_SPECS: tuple[ArtifactSpec, ...] = (
    ArtifactSpec("ps", ("system/ps.txt",), parse_ps),
    ArtifactSpec("ps-threads", ("system/ps-threads.txt",), parse_ps_threads),
    ArtifactSpec("top", ("system/top.txt",), parse_top),
    ArtifactSpec("procstat", ("system/procstat.txt",), parse_procstat),
    ArtifactSpec("allprocstat", ("system/allprocstat.txt",), parse_allprocstat),
    ArtifactSpec("large-environments", ("system/large_environments.txt",), parse_large_environments),
    ArtifactSpec("io-throttling", ("system/io_throttling.txt",), parse_io_throttling),
    ArtifactSpec("xfs", ("storage/xfs.txt",), parse_xfs),
    ArtifactSpec("lsblk", ("storage/lsblk.txt",), parse_lsblk),
    ArtifactSpec("dmesg", ("kernel/dmesg.current", "kernel/dmesg.human.current", "kernel/dmesg.boot"), parse_dmesg_log),
    ArtifactSpec(
        "nvidia-bug-report", ("gpu/nvidia-bug-report.log", "gpu/nvidia-bug-report.log.gz"), parse_nvidia_bug_report
    ),
    ArtifactSpec("cron", ("var_log/cron", "var_log/cron-*", "var_log/cron.[0-9]*"), parse_cron_log),
)
