"""Which node a bundle comes from: from its name when the name says, else from its contents.

eks-log-collector names its archive ``eks_<instanceId>_<UTC time>_<version>.tar.gz``. The id is
empty (``eks__<time>_<version>.tar.gz``) when the script could not reach IMDS or ran with
``--eks_hybrid=true``; then it also writes no ``system/instance-id.txt`` (that file is a copy of
``/var/lib/cloud/data/instance-id`` or the IMDS answer, made only with an IMDS token). What still
names the node inside the bundle is the kubelet's provider id: nodeadm writes
``providerID: aws:///<az>/<instance id>`` into ``kubelet/config.json`` on EC2, and hybrid nodes
register as ``eks-hybrid:///<region>/<cluster>/<node name>``, the node name being the SSM managed
instance id (``mi-`` and 17 hex digits) under SSM hybrid activations; ``system/ps.txt`` shows the
kubelet's ``--provider-id`` / ``--hostname-override`` flags when they are flags.

Matching is exact: ``i-0f1a2b3c`` never matches ``i-0f1a2b3c4d5e6f708``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

NODE_ID = re.compile(r"i-[0-9a-f]{17}|i-[0-9a-f]{8}|mi-[0-9a-f]{17}")
_NAME = re.compile(
    r"eks_(?P<id>[^_/]*)_\d{4}-\d{2}-\d{2}_\d{4}-[A-Za-z]{1,5}_[0-9A-Za-z.\-]*?(?:\.tar\.gz|\.tgz)?",
)
_PROVIDER_ID = re.compile(
    r"aws:///[a-z0-9-]+/(?P<ec2>i-[0-9a-f]{17}|i-[0-9a-f]{8})\b|eks-hybrid:///[^/\s\"]+/[^/\s\"]+/(?P<hybrid>mi-[0-9a-f]{17})\b"
)
_FLAG = re.compile(r"--(?:hostname-override|provider-id)[= ](?:\S*/)?(?P<id>i-[0-9a-f]{17}|mi-[0-9a-f]{17})\b")
#: Files that may name the node, with how much of each is read.
KUBELET_CONFIGS = ("kubelet/config.json", "kubelet/kubelet-config.json")
PS_FILE = "system/ps.txt"
_READ_LIMIT = 1 << 20


def is_node_id(value: Any) -> bool:
    return isinstance(value, str) and NODE_ID.fullmatch(value) is not None


def name_identity(name: str) -> tuple[bool, str | None]:
    """``(is_collector_name, node id)`` of an archive or folder name; the id is None for ``eks__``
    names and for names that hold no well-formed id."""
    match = _NAME.fullmatch(name)
    if match is None:
        return False, None
    node = match.group("id")
    return True, node if is_node_id(node) else None


def _provider_id(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("providerID"), str):
        text = data["providerID"]
    match = _PROVIDER_ID.search(text)
    if match is None:
        return None
    return match.group("ec2") or match.group("hybrid")


def content_identity(index: dict[str, Any], read_text: Callable[[str, int], str | None]) -> str | None:
    """The node id the bundle's own files give, or None. ``read_text(path, limit)`` returns the first
    ``limit`` bytes of an extracted file as text (None when it is not there)."""
    meta = index.get("bundle") or {}
    if is_node_id(meta.get("instance_id")):
        return str(meta["instance_id"])
    listed = {f.get("path") for f in index.get("files") or [] if isinstance(f, dict)}
    configs = [p for p in listed if isinstance(p, str) and p.startswith("kubelet/config.json.d/")]
    for path in [*KUBELET_CONFIGS, *sorted(configs)]:
        text = read_text(path, _READ_LIMIT) if path in listed else None
        found = _provider_id(text) if text else None
        if found:
            return found
    text = read_text(PS_FILE, _READ_LIMIT) if PS_FILE in listed else None
    for line in (text or "").splitlines():
        if "kubelet" in line:
            match = _FLAG.search(line)
            if match:
                return match.group("id")
    return None
