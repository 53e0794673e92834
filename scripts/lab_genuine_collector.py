"""Run the genuine eks-log-collector.sh on a namespace node with real faults, index the bundles, and
report what the engine finds (run as root; not part of ``make test``: the script cannot be fetched in CI).

    python scripts/lab_genuine_collector.py --elc PATH [--keep DIR]

PATH is a copy of awslabs/amazon-eks-ami ``log-collector-script/linux/eks-log-collector.sh`` (for
example ``git -C <amazon-eks-ami mirror> show HEAD:log-collector-script/linux/eks-log-collector.sh``);
it is read, never stored in the repository. Two collections per node, clean and faulty
(``tests/lab/faults.py``): the genuine script alone (``--eks_hybrid=true``, as on a node without
IMDS), and the project's collector wrapping it (``EKSDIAG_ELC``), which adds per-rule counters,
``iptables-legacy-save`` and ``ip addr``. Each run happens in a private mount namespace whose
``/tmp`` is empty and whose ``/var/log`` is a lab folder holding kube-proxy's pod log (clean: it
announces iptables mode; faulty: an hour of failed iptables-restore syncs), so the collector copies
it the way it copies a node's. ``ping`` and ``killall`` are replaced on PATH by no-ops: the node has
no route out and no containerd.

Prints, per collection, each fault's expected rule and whether it was found (with severity and file),
and every finding above MEDIUM on the clean node.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KUBE_PROXY_POD = "kube-system_kube-proxy-5x9vq_7d1c2a3b-0c4d-4e5f-8a9b-0c1d2e3f4a5b"
KUBE_PROXY_ID = "4be2" * 16


def _kube_proxy_log(faulty: bool) -> str:
    now = datetime.now(UTC)

    def line(when: datetime, level: str, source: str, message: str) -> str:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "113Z"
        klog = f"{level}{when.strftime('%m%d %H:%M:%S.%f')}       1 {source}] {message}"
        return f"{stamp} stderr F {klog}\n"

    start = now - timedelta(hours=2)
    out = [line(start, "I", "server_linux.go:169", '"Using iptables Proxier"')]
    if faulty:
        for minute in range(60, 0, -1):
            out.append(
                line(
                    now - timedelta(minutes=minute),
                    "E",
                    "proxier.go:1564",
                    '"Failed to execute iptables-restore" err=<',
                )
            )
    return "".join(out)


def _var_log(root: Path, faulty: bool) -> Path:
    var_log = root / "var_log"
    pod_dir = var_log / "pods" / KUBE_PROXY_POD / "kube-proxy"
    pod_dir.mkdir(parents=True)
    (pod_dir / "0.log").write_text(_kube_proxy_log(faulty))
    containers = var_log / "containers"
    containers.mkdir()
    flat = containers / f"kube-proxy-5x9vq_kube-system_kube-proxy-{KUBE_PROXY_ID}.log"
    flat.symlink_to(pod_dir / "0.log")
    return var_log


def _shims(root: Path) -> Path:
    shims = root / "shims"
    shims.mkdir()
    for tool, body in (("ping", "exit 1"), ("killall", "exit 0")):
        (shims / tool).write_text(f"#!/bin/sh\n{body}\n")
        (shims / tool).chmod(0o755)
    return shims


def _collect(node_ns: str, root: Path, elc: Path, wrapped: bool, faulty: bool) -> Path:
    """One collection in a private mount namespace; returns the archive."""
    var_log = _var_log(root, faulty)
    out = root / "out"
    out.mkdir()
    shims = _shims(root)
    path = f"{shims}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    if wrapped:
        wrapper = root / "elc-hybrid.sh"
        wrapper.write_text(f'#!/bin/sh\nexec bash {shlex.quote(str(elc))} --eks_hybrid=true "$@"\n')
        wrapper.chmod(0o755)
        env = {"EKSDIAG_ELC": str(wrapper), "EKSDIAG_ELC_LOGDIR": "/var/log", "EKSDIAG_SKIP_IMDS": "1",
               "EKSDIAG_INSTANCE_ID": "i-0123456789abcdef0", "EKSDIAG_MIN_FREE_MB": "50", "EKSDIAG_CMD_TIMEOUT": "30",
               "EKSDIAG_PATH": path}  # fmt: skip
        command = (
            f"sh {shlex.quote(str(REPO / 'ssm' / 'scripts' / 'collect-node-diagnostics.sh'))} {shlex.quote(str(out))}"
        )
    else:
        env = {}
        genuine = f"bash {shlex.quote(str(elc))} --eks_hybrid=true"
        command = f"cd {shlex.quote(str(out))} && {genuine} && cp /var/log/eks_*.tar.gz ."
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    script = (
        "set -e; mount -t tmpfs lab-tmp /tmp; "
        f"mount --bind {shlex.quote(str(var_log))} /var/log; "
        f"ip netns exec {node_ns} env PATH={shlex.quote(path)} {exports} sh -c {shlex.quote(command)}"
    )
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    (root / "collector.log").write_text(proc.stdout + proc.stderr)
    archives = sorted(out.glob("eks_*.tar.gz"))
    if proc.returncode != 0 or not archives:
        raise RuntimeError(f"collection failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return archives[-1]


def _report(label: str, archive: Path, faults: tuple[str, ...]) -> dict:
    from eksdiag.engine.indexer import index_bundle

    from tests.lab.faults import EXPECTED

    index = index_bundle(archive)
    result: dict = {"collection": label, "archive": archive.name, "findings": len(index.findings), "faults": {}}
    for fault, expected in EXPECTED.items():
        found = [f for f in index.findings if f.rule == expected.rule]
        entry = [{"severity": f.severity.value, "file": f.file, "reason": f.severity_reason} for f in found]
        if fault in faults:
            result["faults"][fault] = {"rule": expected.rule, "found": entry}
        elif found:
            result.setdefault("unexpected", {})[expected.rule] = entry
    result["above_medium"] = [
        {"rule": f.rule, "severity": f.severity.value, "file": f.file, "reason": f.severity_reason}
        for f in index.findings
        if f.severity.rank > 2
    ]
    kube_proxy = [f for f in index.findings if f.rule.startswith("network.kube-proxy")]
    result["kube_proxy"] = [{"rule": f.rule, "severity": f.severity.value, "file": f.file} for f in kube_proxy]
    result["bundle_files"] = sorted(
        f["path"] for f in index.files if f["path"].startswith(("var_log/kube", "networking/ip", "networking/eth"))
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--elc", type=Path, required=True, help="path of a copy of eks-log-collector.sh")
    parser.add_argument("--keep", type=Path, help="keep the bundles in this folder")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from tests.lab.faults import FAULTS, build_with_faults
    from tests.ssm.netns_lab import Node, netns_unavailable_reason, new_tag

    reason = netns_unavailable_reason()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    results = []
    work = Path(tempfile.mkdtemp(prefix="eksdiag-lab-", dir="/var/tmp"))
    try:
        for faulty in (False, True):
            faults = FAULTS if faulty else ()
            node = Node(new_tag())
            try:
                dns = build_with_faults(node, faults)
                for wrapped in (False, True):
                    how = "project collector + genuine" if wrapped else "genuine only"
                    label = f"{'faulty' if faulty else 'clean'} / {how}"
                    root = work / label.replace(" / ", "-").replace(" + ", "-").replace(" ", "-")
                    root.mkdir(parents=True)
                    archive = _collect(node.node, root, args.elc.resolve(), wrapped, faulty)
                    result = _report(label, archive, faults)
                    result["dns_answered"] = f"{dns['answered']}/{dns['sent']}"
                    results.append(result)
                    if args.keep:
                        args.keep.mkdir(parents=True, exist_ok=True)
                        shutil.copy(archive, args.keep / f"{root.name}-{archive.name}")
            finally:
                node.destroy()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("run as root (network and mount namespaces)", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(main())
