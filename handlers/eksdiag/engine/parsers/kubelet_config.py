"""KubeletConfiguration: ``kubelet/config.json`` (AL2023, nodeadm), ``kubelet/kubelet-config.json`` (AL2)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from eksdiag.engine.parsers.base import Line
from eksdiag.engine.parsers.ipamd import read_json

# KubeletConfiguration field → key in the parsed dict.
FIELDS: dict[str, str] = {
    "clusterDNS": "cluster_dns",
    "clusterDomain": "cluster_domain",
    "maxPods": "max_pods",
    "evictionHard": "eviction_hard",
    "kubeReserved": "kube_reserved",
    "systemReserved": "system_reserved",
    "cgroupDriver": "cgroup_driver",
    "serverTLSBootstrap": "server_tls_bootstrap",
}
_KEY = re.compile(r'"(' + "|".join(FIELDS) + r')"\s*:')


def _string_map(value: Any) -> dict[str, str] | None:
    if not isinstance(value, Mapping):
        return None
    return {str(k): str(v) for k, v in value.items()}


def parse_kubelet_config(lines: Iterable[Line]) -> dict[str, Any]:
    """The diagnosis-relevant fields of a KubeletConfiguration JSON file.

    Returns ``{"kind": "kubelet-config", "valid": bool, "error": str | None, "api_version",
    "config_kind", "cluster_dns": [str] | None, "cluster_domain": str | None, "max_pods": int | None,
    "eviction_hard": {str: str} | None, "kube_reserved": {…} | None, "system_reserved": {…} | None,
    "cgroup_driver": str | None, "server_tls_bootstrap": bool | None,
    "field_lines": {parsed key: line number of its first occurrence}}``. Fields absent from the file
    are ``None`` (kubelet then uses its defaults).
    """
    doc = read_json(lines)
    data = doc.data if isinstance(doc.data, Mapping) else None
    error = doc.error
    if data is None and error is None:
        error = "not a JSON object"
    src: Mapping[str, Any] = data or {}
    cluster_dns = src.get("clusterDNS")
    max_pods = src.get("maxPods")
    tls = src.get("serverTLSBootstrap")
    field_lines: dict[str, int] = {}
    if data is not None:
        for m in _KEY.finditer(doc.text):
            field_lines.setdefault(FIELDS[m.group(1)], doc.line_at(m.start()))
    return {
        "kind": "kubelet-config",
        "valid": data is not None,
        "error": error,
        "api_version": src.get("apiVersion") if isinstance(src.get("apiVersion"), str) else None,
        "config_kind": src.get("kind") if isinstance(src.get("kind"), str) else None,
        "cluster_dns": [str(x) for x in cluster_dns] if isinstance(cluster_dns, list) else None,
        "cluster_domain": src.get("clusterDomain") if isinstance(src.get("clusterDomain"), str) else None,
        "max_pods": max_pods if isinstance(max_pods, int) and not isinstance(max_pods, bool) else None,
        "eviction_hard": _string_map(src.get("evictionHard")),
        "kube_reserved": _string_map(src.get("kubeReserved")),
        "system_reserved": _string_map(src.get("systemReserved")),
        "cgroup_driver": src.get("cgroupDriver") if isinstance(src.get("cgroupDriver"), str) else None,
        "server_tls_bootstrap": tls if isinstance(tls, bool) else None,
        "field_lines": field_lines,
    }
