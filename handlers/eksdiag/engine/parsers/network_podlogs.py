"""Container logs of the node's network add-ons (aws-node, its network policy agent, kube-proxy).

eks-log-collector.sh copies ``/var/log/pods/kube-system_<pod>_<uid>/`` into ``var_log/`` (one
folder per container, ``<restart count>.log`` and kubelet's rotations ``N.log.<time>[.gz]``) and
the ``/var/log/containers/<pod>_<ns>_<container>-<id>.log`` links as flat files (research/bundle.md
2.13). Lines are CRI records: ``<RFC3339Nano> <stdout|stderr> <F|P> <payload>``.

The line rules read the messages; this parser keeps what a check needs beyond single lines: how many
lines and over what time, kube-proxy's proxy mode as it announced it at start, and the last line.
Where a file sits (pod, container, restart count) is read from its path by :func:`pod_log_location`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eksdiag.engine.parsers.base import Line
from eksdiag.engine.parsers.logline import parse_cri

POD_LOG_PATHS = (
    "var_log/kube-system_aws-node-*/*/*.log*",
    "var_log/kube-system_kube-proxy-*/*/*.log*",
    "var_log/aws-node-*_kube-system_*.log",
    "var_log/kube-proxy-*_kube-system_*.log",
)
"""The pod logs of the VPC CNI (containers aws-node, aws-eks-nodeagent, aws-vpc-cni-init) and of
kube-proxy, in the folder and the flat layout."""

_PROXIER = re.compile(r'"?Using (iptables|ipvs|nftables|kernelspace|userspace) [Pp]roxier"?')
_UNKNOWN_MODE = re.compile(r"Unknown proxy mode, assuming (iptables|ipvs|nftables) proxy")
_FOLDER = re.compile(r"^var_log/kube-system_(.+)_([0-9a-f-]{8,})/([^/]+)/(\d+)\.log(?:\.\d{8}-\d{6}(?:\.gz)?)?$")
_FLAT = re.compile(r"^var_log/(.+)_kube-system_(.+)-([0-9a-f]{64})\.log$")


@dataclass(frozen=True)
class PodLogLocation:
    pod: str
    container: str
    restarts: int | None
    """The container's restart count (kubelet names the current log ``<restarts>.log``); None for
    the flat copies and for rotated files, whose number is not the latest."""
    rotated: bool


def pod_log_location(path: str) -> PodLogLocation | None:
    """Pod, container and restart count of a pod log's bundle path; None when it is not one."""
    folder = _FOLDER.match(path)
    if folder:
        pod, _uid, container, number = folder.groups()
        rotated = not path.endswith(f"/{number}.log")
        return PodLogLocation(pod, container, None if rotated else int(number), rotated)
    flat = _FLAT.match(path)
    if flat:
        return PodLogLocation(flat.group(1), flat.group(2), None, False)
    return None


def parse_pod_log(lines: Iterable[Line]) -> dict[str, Any]:
    """``{"kind": "pod-log", "lines": int, "first_time", "last_time" (CRI times or None),
    "proxy_mode": {"mode", "line", "text"} | None, "last": {"line", "text"} | None}``."""
    count = 0
    first_time: str | None = None
    last_time: str | None = None
    last: dict[str, Any] | None = None
    mode: dict[str, Any] | None = None
    for number, text in lines:
        if not text.strip():
            continue
        count += 1
        record = parse_cri(text)
        payload = record.payload if record else text
        if record is not None:
            first_time = first_time or record.time
            last_time = record.time
        last = {"line": number, "text": text}
        if "roxier" in payload or "proxy mode" in payload:
            found = _PROXIER.search(payload) or _UNKNOWN_MODE.search(payload)
            if found:
                mode = {"mode": found.group(1), "line": number, "text": text}
    return {
        "kind": "pod-log",
        "lines": count,
        "first_time": first_time,
        "last_time": last_time,
        "proxy_mode": mode,
        "last": last,
    }
