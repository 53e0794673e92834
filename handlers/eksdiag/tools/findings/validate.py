"""validate: is the bundle complete? Archive integrity, the sections and key files it should hold."""

from __future__ import annotations

from typing import Any

from eksdiag.tools.base import ToolContext
from eksdiag.tools.findings._common import resolve_bundle

NAME = "validate"
GROUP = "findings"

#: (section, files of which at least one should be present and non-empty)
EXPECTED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("system", ("system/instance-id.txt", "system/ps.txt", "system/services.txt")),
    ("kernel", ("kernel/dmesg.current", "kernel/dmesg.human.current")),
    ("kubelet", ("kubelet/kubelet.log",)),
    ("containerd", ("containerd/containerd-log.txt",)),
    ("networking", ("networking/iptables-save.txt", "networking/iptables-filter.txt", "networking/iproute.txt")),
    ("conntrack", ("networking/conntrack.txt",)),
    ("dns", ("networking/resolv.conf",)),
    ("storage", ("storage/mounts.txt", "storage/inodes.txt")),
    ("ipamd", ("var_log/aws-routed-eni/ipamd.log", "ipamd/enis.json")),
    ("cni", ("cni/10-aws.conflist",)),
    ("sysctls", ("sysctls/sysctl_all.txt",)),
)


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    bundle = resolve_bundle(args, ctx)
    files = bundle.files
    sections = []
    for name, wanted in EXPECTED:
        present = [p for p in wanted if p in files and int(files[p].get("size") or 0) > 0]
        sections.append({"name": name, "present": bool(present), "files": present, "expected": list(wanted)})
    missing = [s["name"] for s in sections if not s["present"]]
    meta = bundle.meta
    archive_complete = bool(meta.get("complete", False))
    skipped = list(bundle.index.get("skipped") or [])
    return {
        **bundle.header(),
        "complete": archive_complete and not missing,
        "archiveComplete": archive_complete,
        "problems": list(meta.get("problems") or [])[:20],
        "variant": meta.get("variant"),
        "region": meta.get("region"),
        "availabilityZone": meta.get("availability_zone"),
        "fileCount": len(files),
        "bytesUncompressed": meta.get("bytes_uncompressed"),
        "bytesCompressed": meta.get("bytes_compressed"),
        "findingCount": len(bundle.findings),
        "sections": sections,
        "missingSections": missing,
        "skipped": [{"path": s.get("path"), "reason": s.get("reason")} for s in skipped[:50]],
        "skippedCount": len(skipped),
    }
