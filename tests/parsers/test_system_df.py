"""storage/mounts.txt (mount + df -h) and storage/inodes.txt (df --inodes)."""

from __future__ import annotations

import pytest
from eksdiag.engine.parsers.df import human_to_int, parse_inodes, parse_mounts, percent


def numbered(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(), start=1))


MOUNTS_AL2023 = """\
/dev/nvme0n1p1 on / type xfs (rw,noatime,seclabel,attr2,inode64,logbufs=8,logbsize=32k,sunit=1024,swidth=1024,noquota)
devtmpfs on /dev type devtmpfs (rw,nosuid,seclabel,size=4096k,nr_inodes=1000000,mode=755,inode64)
tmpfs on /dev/shm type tmpfs (rw,nosuid,nodev,seclabel,inode64)
proc on /proc type proc (rw,nosuid,nodev,noexec,relatime)
cgroup2 on /sys/fs/cgroup type cgroup2 (rw,nosuid,nodev,noexec,relatime,seclabel,nsdelegate,memory_recursiveprot)
/dev/nvme0n1p128 on /boot/efi type vfat (rw,noatime,fmask=0077,dmask=0077,codepage=437,iocharset=ascii)
shm on /run/containerd/io.containerd.grpc.v1.cri/sandboxes/9b2e0c1d/shm type tmpfs (rw,nosuid,nodev,noexec,relatime,size=65536k)
overlay on /run/containerd/io.containerd.runtime.v2.task/k8s.io/4be2a1f0/rootfs type overlay (rw,relatime,seclabel,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/12/fs,upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/40/fs,workdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/40/work)
overlay on /run/containerd/io.containerd.runtime.v2.task/k8s.io/9b2e0c1d/rootfs type overlay (rw,relatime,seclabel,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs)
/dev/nvme1n1 on /var/lib/kubelet/plugins/kubernetes.io/csi/ebs.csi.aws.com/5a1e/globalmount type ext4 (rw,relatime,seclabel)

Filesystem       Size  Used Avail Use% Mounted on
devtmpfs         4.0M     0  4.0M   0% /dev
tmpfs            3.8G     0  3.8G   0% /dev/shm
tmpfs            1.6G  1.3M  1.6G   1% /run
/dev/nvme0n1p1    80G   71G  9.2G  89% /
/dev/nvme0n1p128  10M  1.3M  8.7M  13% /boot/efi
shm               64M     0   64M   0% /run/containerd/io.containerd.grpc.v1.cri/sandboxes/9b2e0c1d/shm
overlay           80G   71G  9.2G  89% /run/containerd/io.containerd.runtime.v2.task/k8s.io/4be2a1f0/rootfs
/dev/nvme1n1     9.8G  9.6G  200M  98% /var/lib/kubelet/plugins/kubernetes.io/csi/ebs.csi.aws.com/5a1e/globalmount
"""  # noqa: E501

INODES = """\
Filesystem       Inodes  IUsed    IFree IUse% Mounted on
devtmpfs         981071    366   980705    1% /dev
tmpfs            985423      1   985422    1% /dev/shm
/dev/nvme0n1p1 41942512 3987765 37954747   10% /
/dev/nvme0n1p128      0       0        0     - /boot/efi
"""


def test_mount_section_counts_every_mount_and_overlays() -> None:
    parsed = parse_mounts(numbered(MOUNTS_AL2023))
    assert parsed["kind"] == "mounts"
    assert parsed["mount_count"] == 10
    assert parsed["overlay_count"] == 2
    assert parsed["mount_types"]["tmpfs"] == 2
    assert parsed["df_header_line"] == 12


def test_mount_section_keeps_block_devices_only() -> None:
    parsed = parse_mounts(numbered(MOUNTS_AL2023))
    devices = [(m["device"], m["mountpoint"], m["type"], m["line"]) for m in parsed["block_mounts"]]
    assert devices == [
        ("/dev/nvme0n1p1", "/", "xfs", 1),
        ("/dev/nvme0n1p128", "/boot/efi", "vfat", 6),
        (
            "/dev/nvme1n1",
            "/var/lib/kubelet/plugins/kubernetes.io/csi/ebs.csi.aws.com/5a1e/globalmount",
            "ext4",
            10,
        ),
    ]
    assert parsed["block_mounts"][0]["options"][:2] == ["rw", "noatime"]


def test_df_rows_have_bytes_percent_and_exact_line() -> None:
    parsed = parse_mounts(numbered(MOUNTS_AL2023))
    root = next(r for r in parsed["filesystems"] if r["mounted_on"] == "/")
    assert root == {
        "filesystem": "/dev/nvme0n1p1",
        "size": 80 << 30,
        "used": 71 << 30,
        "avail": round(9.2 * (1 << 30)),
        "use_pct": 89,
        "mounted_on": "/",
        "line": 16,
        "text": "/dev/nvme0n1p1    80G   71G  9.2G  89% /",
    }
    assert len(parsed["filesystems"]) == 8
    assert parsed["unparsed"] == 0


def test_df_row_with_wrapped_filesystem_name_is_joined() -> None:
    text = (
        "Filesystem      Size  Used Avail Use% Mounted on\n"
        "/dev/mapper/vg0-very-long-logical-volume-name\n"
        "                 20G   19G  1.0G  95% /data\n"
    )
    (row,) = parse_mounts(numbered(text))["filesystems"]
    assert (row["filesystem"], row["use_pct"], row["mounted_on"], row["line"]) == (
        "/dev/mapper/vg0-very-long-logical-volume-name",
        95,
        "/data",
        3,
    )


def test_df_mountpoint_with_spaces_is_kept_whole() -> None:
    text = "Filesystem Size Used Avail Use% Mounted on\n/dev/xvdf 10G 1G 9G 10% /mnt/my data\n"
    (row,) = parse_mounts(numbered(text))["filesystems"]
    assert row["mounted_on"] == "/mnt/my data"


def test_mounts_without_df_section_is_still_parsed() -> None:
    parsed = parse_mounts(numbered(MOUNTS_AL2023.split("\n\n")[0]))
    assert parsed["mount_count"] == 10
    assert parsed["filesystems"] == []
    assert parsed["df_header_line"] is None


def test_garbage_rows_are_counted_not_raised() -> None:
    text = "Filesystem Size Used Avail Use% Mounted on\ndf: /run/user/0: Permission denied\n/dev/x 1G 1G 0 lots /\n"
    parsed = parse_mounts(numbered(text))
    assert parsed["filesystems"] == []
    assert parsed["unparsed"] == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("512", 512),
        ("4.0M", 4 << 20),
        ("1.3M", round(1.3 * (1 << 20))),
        ("80G", 80 << 30),
        ("2.5T", round(2.5 * (1 << 40))),
        ("1P", 1 << 50),
        ("41M", 41 << 20),
        ("-", None),
        ("G", None),
        ("", None),
    ],
)
def test_human_sizes_are_powers_of_1024(text: str, expected: int | None) -> None:
    assert human_to_int(text) == expected


@pytest.mark.parametrize(("text", "expected"), [("89%", 89), ("0%", 0), ("100%", 100), ("-", None), ("x%", None)])
def test_percent(text: str, expected: int | None) -> None:
    assert percent(text) == expected


def test_inodes_rows() -> None:
    parsed = parse_inodes(numbered(INODES))
    assert parsed["kind"] == "inodes"
    assert parsed["df_header_line"] == 1
    root = next(r for r in parsed["filesystems"] if r["mounted_on"] == "/")
    assert root == {
        "filesystem": "/dev/nvme0n1p1",
        "inodes": 41942512,
        "iused": 3987765,
        "ifree": 37954747,
        "iuse_pct": 10,
        "mounted_on": "/",
        "line": 4,
        "text": "/dev/nvme0n1p1 41942512 3987765 37954747   10% /",
    }


def test_inodes_dash_percent_is_none() -> None:
    parsed = parse_inodes(numbered(INODES))
    efi = next(r for r in parsed["filesystems"] if r["mounted_on"] == "/boot/efi")
    assert efi["iuse_pct"] is None
    assert efi["inodes"] == 0


def test_inodes_human_suffixes() -> None:
    text = "Filesystem     Inodes IUsed IFree IUse% Mounted on\n/dev/nvme0n1p1    40M  3.9M   37M   10% /\n"
    (row,) = parse_inodes(numbered(text))["filesystems"]
    assert (row["inodes"], row["iused"], row["iuse_pct"]) == (40 << 20, round(3.9 * (1 << 20)), 10)
