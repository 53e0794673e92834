"""storage_diagnostics: disks, inodes, mounts, filesystem errors and slow IO, pod volumes and CSI driver
logs with severities.

A CSI driver that left no logs on the node is ``not-collected`` (many nodes run none), never critical.
Pod volumes are kubelet's side of a mount (``MountVolume.SetUp failed``, a pod's ``/etc/hosts`` that
cannot be mounted); the CSI node plugin's own errors are in its pod logs, which the collector copies
into ``var_log/`` (the EBS, EFS, FSx, file-cache, S3 CSI drivers and Mountpoint for S3 pods).
"""

from __future__ import annotations

import re
from typing import Any

from eksdiag.tools.base import ToolContext
from eksdiag.tools.findings._common import LoadedBundle, resolve_bundle
from eksdiag.tools.findings._sections import Section, artifact, build, matches

NAME = "storage_diagnostics"
GROUP = "findings"
PSEUDO = ("tmpfs", "devtmpfs", "shm", "overlay", "none", "efivarfs")
CSI_DRIVERS = ("ebs-csi", "efs-csi", "fsx-openzfs-csi", "fsx-csi", "file-cache-csi", "s3-csi", "mount-s3", "mount_s3")
"""Name parts of the CSI node plugins' pod logs the collector copies, most specific first."""
CSI_LOGS = ("var_log/*csi*", "var_log/*mount-s3*", "var_log/*mount_s3*")
VOLUME_RULES = ("storage.volume.*", "runtime.etc-hosts-mount-failed")
_VOLUME_NAME = re.compile(r'for volume \\?"([^"\\]+)\\?"')


def _filesystems(table: dict[str, Any], pct: str) -> list[dict[str, Any]]:
    rows = []
    for fs in table.get("filesystems") or []:
        if fs.get("filesystem") in PSEUDO:
            continue
        rows.append(
            {
                "filesystem": fs.get("filesystem"),
                "mountedOn": fs.get("mounted_on"),
                "usePct": fs.get(pct),
                "line": fs.get("line"),
                **({"sizeBytes": fs["size"], "availBytes": fs.get("avail")} if "size" in fs else {}),
                **({"inodes": fs["inodes"], "inodesFree": fs.get("ifree")} if "inodes" in fs else {}),
            }
        )
    return rows


def _disks(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    return {"filesystems": _filesystems(artifact(bundle, "storage/mounts.txt", "mounts"), "use_pct")}


def _inodes(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    return {"filesystems": _filesystems(artifact(bundle, "storage/inodes.txt", "inodes"), "iuse_pct")}


def _mounts(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    mounts = artifact(bundle, "storage/mounts.txt", "mounts")
    return {
        "mountCount": mounts.get("mount_count"),
        "types": mounts.get("mount_types"),
        "overlayCount": mounts.get("overlay_count"),
        "blockMounts": [
            {"device": m.get("device"), "mountpoint": m.get("mountpoint"), "type": m.get("type")}
            for m in mounts.get("block_mounts") or []
        ],
    }


def _filesystem(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    return {"logsRead": present[:20]}


def _csi(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    drivers = {next((d for d in CSI_DRIVERS if d in p), None) for p in present}
    named = sorted("mount-s3" if d == "mount_s3" else d for d in drivers if d)
    return {"drivers": sorted(set(named)), "logFiles": present[:20]}


def _volumes(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    """How often kubelet failed to mount a pod's volumes, and the volumes its evidence names."""
    findings = [f for f in bundle.findings if matches(f["rule"], VOLUME_RULES)]
    names = {
        found.group(1)
        for f in findings
        for e in f.get("evidence") or []
        if (found := _VOLUME_NAME.search(str(e.get("text", "")))) is not None
    }
    return {
        "mountFailures": sum(f["count"] for f in findings if f["rule"].startswith("storage.volume.")),
        "etcHostsMountFailures": sum(f["count"] for f in findings if f["rule"] == "runtime.etc-hosts-mount-failed"),
        "volumes": sorted(names)[:20],
    }


SECTIONS: tuple[Section, ...] = (
    Section("disks", ("storage/mounts.txt",), ("storage.disk.*",), _disks),
    Section("inodes", ("storage/inodes.txt",), ("storage.inode.*",), _inodes),
    Section("mounts", ("storage/mounts.txt", "storage/fstab.txt", "storage/lsblk.txt"), (), _mounts),
    Section(
        "filesystem",
        (
            "kernel/dmesg*",
            "kubelet/kubelet.log*",
            "containerd/containerd-log.txt*",
            "var_log/messages*",
            "var_log/syslog*",
            "storage/xfs.txt",
            "system/io_throttling.txt",
        ),
        (
            "kernel.fs-error",
            "storage.block-io-error",
            "storage.nvme-timeout",
            "storage.io-delay",
            "storage.xfs-free-space-fragmented",
            "runtime.no-space",
            "runtime.snapshot-error",
            "kubelet.eviction.disk",
            "kubelet.disk-usage-slow",
        ),
        _filesystem,
    ),
    Section(
        "volumes",
        ("kubelet/kubelet.log*", "containerd/containerd-log.txt*", "var_log/messages*", "var_log/syslog*"),
        VOLUME_RULES,
        _volumes,
    ),
    Section(
        "csi",
        CSI_LOGS,
        ("storage.csi.*",),
        _csi,
        "no CSI driver logs in the bundle: no CSI driver pod ran on this node (not an error by itself)",
        issues_from_files=True,
    ),
)
SECTION_NAMES = tuple(s.name for s in SECTIONS)


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    bundle = resolve_bundle(args, ctx)
    built = build(bundle, SECTIONS, list(args.get("sections") or []))
    return {**bundle.header(), **built}
