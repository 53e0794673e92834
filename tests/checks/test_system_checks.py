"""Artifact rules storage.disk.usage-high, storage.inode.usage-high, vpc-cni.ip-pool-exhausted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eksdiag.engine.checks.system import (
    SYSTEM_RULES,
    check_disk_usage,
    check_inode_usage,
    check_ip_pool,
)
from eksdiag.engine.model import Evidence, Severity
from eksdiag.engine.parsers.df import parse_inodes, parse_mounts
from eksdiag.engine.parsers.ipamd import parse_enis, parse_metrics


def numbered(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(), start=1))


MOUNT_PART = """\
/dev/nvme0n1p1 on / type xfs (rw,noatime,seclabel,attr2,inode64,noquota)
tmpfs on /dev/shm type tmpfs (rw,nosuid,nodev,seclabel,inode64)

"""
DF_HEADER = "Filesystem       Size  Used Avail Use% Mounted on\n"
HEALTHY_DF = """\
devtmpfs         4.0M     0  4.0M   0% /dev
tmpfs            3.8G     0  3.8G   0% /dev/shm
tmpfs            1.6G  1.3M  1.6G   1% /run
/dev/nvme0n1p1    80G   30G   50G  38% /
/dev/nvme0n1p128  10M  1.3M  8.7M  13% /boot/efi
shm               64M     0   64M   0% /run/containerd/io.containerd.grpc.v1.cri/sandboxes/9b2e/shm
overlay           80G   30G   50G  38% /run/containerd/io.containerd.runtime.v2.task/k8s.io/4be2/rootfs
"""


def mounts_with(root_pct: int, extra: str = "") -> dict[str, Any]:
    df = HEALTHY_DF.replace("30G   50G  38%", f"30G   50G  {root_pct}%") + extra
    return {"storage/mounts.txt": parse_mounts(numbered(MOUNT_PART + DF_HEADER + df))}


ROOT_LINE = 8  # line of "/dev/nvme0n1p1 ... /" in mounts_with()


@pytest.mark.parametrize(
    ("pct", "severity"),
    [
        (84, None),
        (85, Severity.MEDIUM),
        (89, Severity.MEDIUM),
        (90, Severity.HIGH),
        (94, Severity.HIGH),
        (95, Severity.CRITICAL),
        (100, Severity.CRITICAL),
    ],
)
def test_disk_usage_thresholds(pct: int, severity: Severity | None) -> None:
    hits = check_disk_usage(mounts_with(pct))
    if severity is None:
        assert hits == []
        return
    (hit,) = hits
    assert (hit.rule, hit.file, hit.line, hit.count, hit.severity) == (
        "storage.disk.usage-high",
        "storage/mounts.txt",
        ROOT_LINE,
        1,
        severity,
    )
    assert hit.evidence == [Evidence(ROOT_LINE, f"/dev/nvme0n1p1    80G   30G   50G  {pct}% /")]
    assert hit.detail["filesystems"][0]["mounted_on"] == "/"


@pytest.mark.parametrize(
    "row",
    [
        "tmpfs            1.6G  1.6G     0 100% /run",
        "devtmpfs         4.0M  4.0M     0 100% /dev",
        "shm               64M   64M     0 100% /run/containerd/io.containerd.grpc.v1.cri/sandboxes/77/shm",
        "overlay           80G   79G  1.0G  99% /run/containerd/io.containerd.runtime.v2.task/k8s.io/77/rootfs",
        "/dev/nvme0n1p128  10M   10M     0 100% /boot/efi",
        "/dev/loop3        56M   56M     0 100% /snap/core18/2829",
    ],
)
def test_pseudo_filesystems_and_boot_efi_are_ignored(row: str) -> None:
    assert check_disk_usage(mounts_with(38, row + "\n")) == []


def test_several_full_filesystems_give_one_hit_with_worst_severity() -> None:
    csi = "/var/lib/kubelet/plugins/kubernetes.io/csi/ebs.csi.aws.com/5a1e/globalmount"
    pod_volume = "/var/lib/kubelet/pods/3f1c/volumes/kubernetes.io~csi/pvc-1/mount"
    extra = (
        "/dev/nvme1n1     100G   91G  9.0G  91% /var/lib/containerd\n"
        f"/dev/nvme2n1     9.8G  9.8G     0 100% {csi}\n"
        f"/dev/nvme2n1     9.8G  9.8G     0 100% {pod_volume}\n"
    )
    (hit,) = check_disk_usage(mounts_with(86, extra))
    assert hit.severity is Severity.CRITICAL
    assert hit.count == 3  # the bind-mounted duplicate of nvme2n1 is not counted twice
    assert [e.line for e in hit.evidence] == [ROOT_LINE, 12, 13]
    assert [f["filesystem"] for f in hit.detail["filesystems"]] == [
        "/dev/nvme0n1p1",
        "/dev/nvme1n1",
        "/dev/nvme2n1",
    ]


def test_network_data_volume_counts() -> None:
    extra = "127.0.0.1:/      8.0E  7.7E  300P  97% /var/lib/kubelet/pods/1/volumes/kubernetes.io~csi/efs/mount\n"
    (hit,) = check_disk_usage(mounts_with(38, extra))
    assert hit.severity is Severity.CRITICAL


def test_missing_or_other_artifacts_give_nothing() -> None:
    assert check_disk_usage({}) == []
    assert check_inode_usage({}) == []
    assert check_ip_pool({}) == []
    other = {"networking/iproute.txt": {"kind": "ip-route", "routes": []}}
    assert check_disk_usage(other) == check_inode_usage(other) == check_ip_pool(other) == []


INODES = """\
Filesystem       Inodes  IUsed    IFree IUse% Mounted on
devtmpfs         981071    366   980705    1% /dev
tmpfs            985423 985423        0  100% /dev/shm
/dev/nvme0n1p1 41942512 {used} {free}   {pct}% /
/dev/nvme0n1p128      0       0        0     - /boot/efi
"""


@pytest.mark.parametrize(
    ("pct", "severity"),
    [
        (10, None),
        (84, None),
        (85, Severity.MEDIUM),
        (90, Severity.HIGH),
        (95, Severity.CRITICAL),
        (100, Severity.CRITICAL),
    ],
)
def test_inode_usage_thresholds(pct: int, severity: Severity | None) -> None:
    used = 41942512 * pct // 100
    text = INODES.format(used=used, free=41942512 - used, pct=pct)
    hits = check_inode_usage({"storage/inodes.txt": parse_inodes(numbered(text))})
    if severity is None:
        assert hits == []
        return
    (hit,) = hits
    assert (hit.rule, hit.file, hit.line, hit.severity) == (
        "storage.inode.usage-high",
        "storage/inodes.txt",
        4,
        severity,
    )
    assert hit.evidence == [Evidence(4, text.splitlines()[3])]


def enis_json(cards: dict[str, tuple[int, int]]) -> str:
    doc = {
        key: {
            "TotalIPs": total,
            "AssignedIPs": assigned,
            "ENIs": {f"eni-{key}": {"ID": f"eni-{key}", "DeviceNumber": 0}},
        }
        for key, (total, assigned) in cards.items()
    }
    return json.dumps(doc, separators=(",", ":"))


@pytest.mark.parametrize(
    ("cards", "exhausted"),
    [
        ({"0": (28, 27)}, []),
        ({"0": (28, 28)}, ["0"]),
        ({"0": (0, 0)}, []),
        ({"0": (28, 10), "1": (14, 14)}, ["1"]),
        ({"0": (28, 29), "1": (14, 14)}, ["0", "1"]),
    ],
)
def test_ip_pool_from_enis(cards: dict[str, tuple[int, int]], exhausted: list[str]) -> None:
    text = enis_json(cards)
    hits = check_ip_pool({"ipamd/enis.json": parse_enis(numbered(text))})
    if not exhausted:
        assert hits == []
        return
    (hit,) = hits
    assert (hit.rule, hit.file, hit.line, hit.severity, hit.count) == (
        "vpc-cni.ip-pool-exhausted",
        "ipamd/enis.json",
        1,
        Severity.HIGH,
        len(exhausted),
    )
    assert [c["network_card"] for c in hit.detail["network_cards"]] == exhausted
    assert all(e.text == text for e in hit.evidence)  # the short compact line is cited whole


def metrics_text(assigned: int, total: int, eni_allocated: int = 2, eni_max: int = 3) -> str:
    return (
        "# HELP awscni_assigned_ip_addresses The number of IP addresses assigned\n"
        "# TYPE awscni_assigned_ip_addresses gauge\n"
        f"awscni_assigned_ip_addresses {assigned}\n"
        "# TYPE awscni_eni_allocated gauge\n"
        f"awscni_eni_allocated {eni_allocated}\n"
        "# TYPE awscni_eni_max gauge\n"
        f"awscni_eni_max {eni_max}\n"
        "# TYPE awscni_total_ip_addresses gauge\n"
        f"awscni_total_ip_addresses {total}\n"
    )


@pytest.mark.parametrize(
    ("assigned", "total", "fires"), [(27, 28, False), (28, 28, True), (0, 0, False), (30, 28, True)]
)
def test_ip_pool_from_metrics(assigned: int, total: int, fires: bool) -> None:
    hits = check_ip_pool({"ipamd/metrics.json": parse_metrics(numbered(metrics_text(assigned, total)))})
    if not fires:
        assert hits == []
        return
    (hit,) = hits
    assert (hit.file, hit.severity, hit.line) == ("ipamd/metrics.json", Severity.HIGH, 3)
    assert [e.line for e in hit.evidence] == [3, 9]
    assert hit.detail == {
        "assigned_ips": assigned,
        "total_ips": total,
        "eni_allocated": 2,
        "eni_max": 3,
        "eni_limit_reached": False,
    }


def test_eni_limit_reached_adds_detail_and_evidence_to_both_files() -> None:
    artifacts = {
        "ipamd/enis.json": parse_enis(numbered(enis_json({"0": (27, 27)}))),
        "ipamd/metrics.json": parse_metrics(numbered(metrics_text(27, 27, eni_allocated=3, eni_max=3))),
    }
    hits = {hit.file: hit for hit in check_ip_pool(artifacts)}
    assert set(hits) == {"ipamd/enis.json", "ipamd/metrics.json"}
    for hit in hits.values():
        assert hit.detail["eni_limit_reached"] is True
        assert (hit.detail["eni_allocated"], hit.detail["eni_max"]) == (3, 3)
    assert [e.line for e in hits["ipamd/metrics.json"].evidence] == [3, 5, 7, 9]


def test_unreadable_ipamd_files_give_nothing() -> None:
    artifacts = {
        "ipamd/enis.json": parse_enis(numbered("")),
        "ipamd/metrics.json": parse_metrics(numbered("curl: (7) Failed to connect")),
    }
    assert check_ip_pool(artifacts) == []


def test_rule_rows() -> None:
    rows = {rule.id: rule for rule in SYSTEM_RULES}
    assert set(rows) == {"storage.disk.usage-high", "storage.inode.usage-high", "vpc-cni.ip-pool-exhausted"}
    assert rows["storage.disk.usage-high"].category == rows["storage.inode.usage-high"].category == "storage"
    assert rows["vpc-cni.ip-pool-exhausted"].category == "vpc-cni"
    assert all(rule.check is not None and rule.pattern is None for rule in SYSTEM_RULES)
