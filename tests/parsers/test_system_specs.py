"""SYSTEM_SPECS routing, and properties every system parser keeps on arbitrary input."""

from __future__ import annotations

import json

import pytest
from eksdiag.engine.parsers import spec_for
from eksdiag.engine.parsers.system import SYSTEM_SPECS
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("storage/mounts.txt", "mounts"),
        ("storage/inodes.txt", "inodes"),
        ("system/instance-id.txt", "instance-id"),
        ("system/region.txt", "region"),
        ("system/availability-zone.txt", "availability-zone"),
        ("kubelet/config.json", "kubelet-config"),
        ("kubelet/kubelet-config.json", "kubelet-config"),
        ("ipamd/enis.json", "ipamd-enis"),
        ("ipamd/metrics.json", "ipamd-metrics"),
        ("ipamd/ipam.json", "ipamd-checkpoint"),
        ("ipamd/ipam-nic-1.json", "ipamd-checkpoint"),
        ("ipamd/ipamd-env-settings.json", "ipamd-env-settings"),
        ("ipamd/networkutils-env-settings.json", "networkutils-env-settings"),
    ],
)
def test_paths_route_to_their_parser_and_kind(path: str, kind: str) -> None:
    spec = spec_for(path)
    assert spec is not None
    assert spec.kind == kind
    assert spec.parse([])["kind"] == kind


@pytest.mark.parametrize(
    "path",
    [
        "var_log/messages",
        "var_log/aws-routed-eni/ipamd.log",
        "kubelet/kubelet.log",
        "kubelet/config.json.d/00-nodeadm.conf",
        "ipamd/pods.json",
        "storage/lsblk.txt",
        "system/ps.txt",
    ],
)
def test_logs_and_other_files_are_not_system_artifacts(path: str) -> None:
    spec = spec_for(path)
    assert spec is None or spec not in SYSTEM_SPECS


def test_kinds_are_unique() -> None:
    kinds = [s.kind for s in SYSTEM_SPECS]
    assert len(kinds) == len(set(kinds))


_FRAGMENTS = st.sampled_from(
    [
        "",
        "Filesystem       Size  Used Avail Use% Mounted on",
        "Filesystem       Inodes  IUsed    IFree IUse% Mounted on",
        "/dev/nvme0n1p1    80G   71G  9.2G  89% /",
        "/dev/nvme0n1p1 41942512 3987765 37954747   10% /",
        "/dev/nvme0n1p1 on / type xfs (rw,noatime)",
        "i-0123456789abcdef0",
        "us-west-2b",
        '{"0":{"TotalIPs":28,"AssignedIPs":27,"ENIs":{"eni-1":{"ID":"eni-1","AvailableIPv4Cidrs":{"x":{"IsPrefix":true}}}}}}',
        '{"TotalIPs":"x","ENIs":[1]}',
        '{"ENIIPPools":{"eni-1":{"IPv4Addresses":[1]}}}',
        '{"version":"vpc-cni-ipam/1","allocations":[1,{"metadata":[]}]}',
        '{"maxPods":1e400,"evictionHard":{"a":[1]}}',
        "awscni_total_ip_addresses 1e400",
        'awscni_assigned_ip_addresses{a="b"} NaN',
        "{",
        "[",
        "\x00\ufffd",
    ]
)
_LINES = st.lists(st.one_of(_FRAGMENTS, st.text(max_size=80)), max_size=12)


@settings(max_examples=150, deadline=None)
@given(lines=_LINES)
def test_every_system_parser_returns_strict_json_on_arbitrary_lines(lines: list[str]) -> None:
    numbered = list(enumerate(lines, start=1))
    for spec in SYSTEM_SPECS:
        parsed = spec.parse(iter(numbered))
        assert parsed["kind"] == spec.kind
        json.dumps(parsed, allow_nan=False)
