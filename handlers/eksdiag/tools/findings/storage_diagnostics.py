"""storage_diagnostics: disks, inodes, mounts, filesystem errors and CSI driver logs with severities.

A CSI driver that left no logs on the node is ``not-collected`` (many nodes run none), never critical.
"""

from __future__ import annotations

from typing import Any

from eksdiag.tools.base import ToolContext
from eksdiag.tools.findings._common import LoadedBundle, resolve_bundle
from eksdiag.tools.findings._sections import Section, artifact, build

NAME = "storage_diagnostics"
GROUP = "findings"
PSEUDO = ("tmpfs", "devtmpfs", "shm", "overlay", "none", "efivarfs")


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
    drivers = sorted(
        {d for p in present for d in ("ebs-csi", "efs-csi", "fsx-csi", "s3-csi", "mountpoint-s3") if d in p}
    )
    return {"drivers": drivers, "logFiles": present[:20]}


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
        ),
        _filesystem,
    ),
    Section(
        "csi",
        ("var_log/*csi*", "var_log/**/*csi*", "var_log/*mountpoint-s3*"),
        (),
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
