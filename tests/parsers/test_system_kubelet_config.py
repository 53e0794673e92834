"""kubelet/config.json (AL2023) and kubelet/kubelet-config.json (AL2)."""

from __future__ import annotations

import json

import pytest
from eksdiag.engine.parsers.kubelet_config import parse_kubelet_config


def numbered(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(), start=1))


AL2023_CONFIG = {
    "kind": "KubeletConfiguration",
    "apiVersion": "kubelet.config.k8s.io/v1beta1",
    "address": "0.0.0.0",
    "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True}},
    "cgroupDriver": "systemd",
    "clusterDNS": ["10.100.0.10"],
    "clusterDomain": "cluster.local",
    "evictionHard": {"memory.available": "100Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%"},
    "kubeReserved": {"cpu": "70m", "ephemeral-storage": "1Gi", "memory": "442Mi"},
    "maxPods": 29,
    "serverTLSBootstrap": True,
    "systemReserved": {"cpu": "100m", "memory": "100Mi"},
}


def test_al2023_config_fields() -> None:
    parsed = parse_kubelet_config(numbered(json.dumps(AL2023_CONFIG, indent=4)))
    assert parsed["valid"] is True
    assert parsed["error"] is None
    assert parsed["config_kind"] == "KubeletConfiguration"
    assert parsed["api_version"] == "kubelet.config.k8s.io/v1beta1"
    assert parsed["cluster_dns"] == ["10.100.0.10"]
    assert parsed["cluster_domain"] == "cluster.local"
    assert parsed["max_pods"] == 29
    assert parsed["eviction_hard"] == {
        "memory.available": "100Mi",
        "nodefs.available": "10%",
        "nodefs.inodesFree": "5%",
    }
    assert parsed["kube_reserved"]["memory"] == "442Mi"
    assert parsed["system_reserved"] == {"cpu": "100m", "memory": "100Mi"}
    assert parsed["cgroup_driver"] == "systemd"
    assert parsed["server_tls_bootstrap"] is True


def test_field_lines_point_at_the_key() -> None:
    lines = numbered(json.dumps(AL2023_CONFIG, indent=4))
    parsed = parse_kubelet_config(lines)
    for key, json_key in (("max_pods", '"maxPods"'), ("cluster_dns", '"clusterDNS"')):
        number = parsed["field_lines"][key]
        assert json_key in lines[number - 1][1]


def test_al2_minimal_config_leaves_absent_fields_none() -> None:
    text = (
        '{"kind":"KubeletConfiguration","apiVersion":"kubelet.config.k8s.io/v1beta1","clusterDomain":"cluster.local"}'
    )
    parsed = parse_kubelet_config(numbered(text))
    assert parsed["valid"] is True
    assert parsed["cluster_domain"] == "cluster.local"
    for key in ("cluster_dns", "max_pods", "eviction_hard", "cgroup_driver", "server_tls_bootstrap"):
        assert parsed[key] is None


@pytest.mark.parametrize(
    ("text", "error_start"),
    [
        ("", "empty"),
        ("cat: /etc/kubernetes/kubelet/config.json: No such file", "not JSON"),
        ('{"maxPods": ', "invalid JSON"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_unreadable_config_is_invalid(text: str, error_start: str) -> None:
    parsed = parse_kubelet_config(numbered(text))
    assert parsed["valid"] is False
    assert parsed["error"].startswith(error_start)
    assert parsed["max_pods"] is None


def test_wrong_types_are_dropped() -> None:
    parsed = parse_kubelet_config(
        numbered('{"maxPods": "110", "clusterDNS": "10.100.0.10", "serverTLSBootstrap": "true"}')
    )
    assert (parsed["max_pods"], parsed["cluster_dns"], parsed["server_tls_bootstrap"]) == (None, None, None)
