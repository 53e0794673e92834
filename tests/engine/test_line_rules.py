"""Each line rule on real-format lines (bundle.md section 4), with its near misses."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from eksdiag.engine.rules import CATALOGUE, LINE_RULES, rule_by_id
from eksdiag.engine.scanner import compile_rules, rules_for_path

from tests.engine.kernel_lines import KERNEL_POSITIVE

J = "Mar 06 18:10:31 ip-192-168-45-12.us-west-2.compute.internal"

POSITIVE = [
    (
        "kernel/dmesg.current",
        "[12345.679601] Memory cgroup out of memory: Killed process 48211 (python3) "
        "total-vm:1934112kB, anon-rss:520144kB, file-rss:10240kB, shmem-rss:0kB, UID:1000 pgtables:1356kB "
        "oom_score_adj:996",
        "kernel.oom.cgroup",
    ),
    (
        "kernel/dmesg.human.current",
        "[Thu Mar  6 18:21:40 2025] Out of memory: Killed process 911 (java) total-vm:9934112kB",
        "kernel.oom.global",
    ),
    (
        "kernel/dmesg.current",
        "[ 8812.001122] watchdog: BUG: soft lockup - CPU#3 stuck for 22s! [kworker/3:1:211]",
        "kernel.soft-lockup",
    ),
    (
        "kernel/dmesg.current",
        "[ 9812.5] INFO: task containerd:2890 blocked for more than 120 seconds.",
        "kernel.hung-task",
    ),
    ("kernel/dmesg.current", "[ 9999.1] Kernel panic - not syncing: Fatal exception", "kernel.panic"),
    (
        "kernel/dmesg.current",
        "[  77.1] XFS (nvme1n1): Corruption detected. Unmount and run xfs_repair",
        "kernel.fs-error",
    ),
    (
        "kernel/dmesg.current",
        "[  78.2] EXT4-fs error (device nvme1n1): ext4_find_entry:1455: inode #2",
        "kernel.fs-error",
    ),
    (
        "kernel/dmesg.current",
        "[23456.001122] nf_conntrack: nf_conntrack: table full, dropping packet",
        "network.conntrack.table-full",
    ),
    (
        "kubelet/kubelet.log",
        f'{J} kubelet[3456]: I0306 18:10:31.5 3456 kubelet.go:2412] "Skipping pod '
        'synchronization" err="PLEG is not healthy: pleg was last seen active 3m0s ago"',
        "kubelet.pleg-unhealthy",
    ),
    (
        "kubelet/kubelet.log",
        f"{J} kubelet[3456]: E0306 18:10:31.5 3456 kubelet_node_status.go:536] "
        '"Unable to update node status" err="update node status exceeds retry count"',
        "kubelet.node-status-update-failed",
    ),
    (
        "kubelet/kubelet.log",
        f"{J} kubelet[3456]: E0306 18:10:31.5 3456 reflector.go:147] failed to list "
        '*v1.Node: Get "https://X.gr7.us-west-2.eks.amazonaws.com/api/v1/nodes": net/http: TLS handshake timeout',
        "kubelet.apiserver-timeout",
    ),
    (
        "kubelet/kubelet.log",
        f"{J} kubelet[3456]: E0306 18:10:31.5 3456 kubelet_node_status.go:96] "
        '"Unable to register node with API server" err="Unauthorized" node="ip-192-168-45-12"',
        "kubelet.registration-failed",
    ),
    (
        "kubelet/kubelet.log",
        f"{J} kubelet[3456]: E0306 18:10:31.5 3456 certificate_manager.go:562] "
        "x509: certificate has expired or is not yet valid: current time 2025-03-06T18:10:31Z is after 2025-03-01",
        "kubelet.certificate-error",
    ),
    (
        "kubelet/kubelet.log",
        f"{J} kubelet[3456]: W0306 18:15:09.8 3456 eviction_manager.go:366] "
        '"Eviction manager: attempting to reclaim" resourceName="memory"',
        "kubelet.eviction.memory",
    ),
    (
        "kubelet/kubelet.log",
        f"{J} kubelet[3456]: W0306 18:15:09.8 3456 eviction_manager.go:366] "
        '"Eviction manager: attempting to reclaim" resourceName="ephemeral-storage"',
        "kubelet.eviction.disk",
    ),
    (
        "kubelet/kubelet.log",
        f"{J} kubelet[3456]: W0306 18:15:09.8 3456 eviction_manager.go:366] "
        '"Eviction manager: attempting to reclaim" resourceName="pids"',
        "kubelet.eviction.pid",
    ),
    (
        "kubelet/kubelet.log",
        f'{J} kubelet[3456]: E0306 18:20:31.0 3456 pod_workers.go:1301] "Error syncing pod, '
        'skipping" err="failed to \\"StartContainer\\" for \\"app\\" with CrashLoopBackOff"',
        "kubelet.crashloop",
    ),
    (
        "kubelet/kubelet.log",
        f'{J} kubelet[3456]: E0306 18:01:44.1 3456 kubelet.go:3002] "Container runtime '
        'network not ready" networkReady="NetworkReady=false reason:NetworkPluginNotReady message:Network plugin '
        'returns error: cni plugin not initialized"',
        "kubelet.cni-not-ready",
    ),
    (
        "kubelet/kubelet.log",
        f'{J} kubelet[3456]: E0306 18:14:02.0 3456 log.go:32] "RunPodSandbox from runtime '
        'service failed" err="rpc error: code = Unknown desc = failed to setup network for sandbox \\"9b2e\\""',
        "cni.plugin-failed",
    ),
    (
        "containerd/containerd-log.txt",
        f'{J} containerd[2890]: time="2025-03-06T18:19:58.3Z" level=error '
        'msg="PullImage \\"123456789012.dkr.ecr.us-west-2.amazonaws.com/app:v2\\" failed" error="failed to pull and '
        'unpack image: 403 Forbidden"',
        "runtime.image-pull-failed",
    ),
    (
        "containerd/containerd-log.txt",
        f'{J} containerd[2890]: time="2025-03-06T18:19:58.3Z" level=error '
        'msg="PullImage \\"docker.io/library/nginx:1.27\\" failed" error="429 Too Many Requests - Server message: '
        'toomanyrequests: You have reached your pull rate limit"',
        "runtime.image-pull-throttled",
    ),
    (
        "containerd/containerd-log.txt",
        f'{J} containerd[2890]: time="2025-03-06T18:19:58.3Z" level=error '
        'msg="failed to prepare extraction snapshot \\"extract-1\\": snapshot sha256:ab already exists"',
        "runtime.snapshot-error",
    ),
    (
        "containerd/containerd-log.txt",
        f'{J} containerd[2890]: time="2025-03-06T18:19:58.3Z" level=error '
        'msg="write /var/lib/containerd/tmpmounts/x: no space left on device"',
        "runtime.no-space",
    ),
    (
        "containerd/containerd-log.txt",
        f'{J} containerd[2890]: time="2025-03-06T18:14:02.8Z" level=error '
        'msg="RunPodSandbox for &PodSandboxMetadata{Name:web,Uid:3f1c,Namespace:default,Attempt:3,} failed, error"',
        "runtime.sandbox-create-failed",
    ),
    (
        "var_log/aws-routed-eni/ipamd.log",
        '{"level":"error","ts":"2025-03-06T18:05:33.004Z","caller":'
        '"datastore/data_store.go:858","msg":"DataStore has no available IP/Prefix addresses"}',
        "vpc-cni.address-exhaustion",
    ),
    (
        "var_log/aws-routed-eni/ipamd.log",
        '{"level":"error","ts":"2025-03-06T18:05:33.004Z","caller":'
        '"ipamd/ipamd.go:800","msg":"Failed to increase pool size due to not able to allocate ENI '
        'AttachmentLimitExceeded"}',
        "vpc-cni.eni-attach-failed",
    ),
    (
        "var_log/aws-routed-eni/ipamd.log",
        '{"level":"error","ts":"2025-03-06T18:10:33.004Z","caller":'
        '"ipamd/ipamd.go:1712","msg":"Failed to reconcile IP pool: dial tcp 1.2.3.4:443: i/o timeout"}',
        "vpc-cni.ipamd-reconcile-error",
    ),
    (
        "var_log/aws-routed-eni/plugin.log",
        '{"level":"error","ts":"2025-03-06T18:05:33.1Z","caller":'
        '"routed-eni-cni-plugin/cni.go:280","msg":"Error received from AddNetwork grpc call for containerID 9b2e: '
        'failed to assign an IP address to container"}',
        "vpc-cni.address-exhaustion",
    ),
    *KERNEL_POSITIVE,
]

NEGATIVE = [  # lines a naive matcher would flag (see reference.md B5, B6)
    (
        "kubelet/kubelet.log",
        f'{J} kubelet[3456]: I0306 18:01:12.5 3456 kubelet.go:2337] "SyncLoop ADD" '
        'source="api" pods=["default/test-latest"]',
    ),
    (
        "var_log/aws-routed-eni/ipamd.log",
        '{"level":"debug","ts":"2025-03-06T18:01:47.902Z","caller":'
        '"ipamd/ipamd.go:1650","msg":"DEBUG: Reconcile existing ENI eni-0a1b2c3d4e5f60718 IP pool"}',
    ),
    ("kernel/dmesg.current", "[    0.000000] Linux version 6.1.128-136.201.amzn2023.x86_64"),
    ("kernel/dmesg.current", "[   12.1] EXT4-fs (nvme0n1p1): mounted filesystem with ordered data mode"),
    (
        "containerd/containerd-log.txt",
        f'{J} containerd[2890]: time="2025-03-06T18:01:13.4Z" level=info '
        'msg="StartContainer for \\"4be2\\" returns successfully"',
    ),
]


def classify(path: str, line: str) -> list[str]:
    rules = rules_for_path(path, CATALOGUE)
    return [r.id for r in compile_rules(rules).classify(line.encode())] if rules else []


@pytest.mark.parametrize(("path", "line", "rule"), POSITIVE, ids=[p[2] + ":" + p[0] for p in POSITIVE])
def test_rule_matches_its_real_format_line(path: str, line: str, rule: str) -> None:
    assert rule in classify(path, line)


@pytest.mark.parametrize(("path", "line"), NEGATIVE)
def test_normal_lines_match_no_rule(path: str, line: str) -> None:
    assert classify(path, line) == []


def _positive_examples_of_domain_tests() -> set[str]:
    """Rules with a positive example in the domain test modules (``test_<domain>_rules.py``, POSITIVE)."""
    found: set[str] = set()
    for path in sorted(Path(__file__).parent.glob("test_*_rules.py")):
        if path.stem != Path(__file__).stem:
            module = importlib.import_module(f"tests.engine.{path.stem}")
            found |= {example[-1] for example in getattr(module, "POSITIVE", ())}
    return found


def test_every_line_rule_has_a_positive_example() -> None:
    covered = {rule for _, _, rule in POSITIVE} | {r.id for r in LINE_RULES if r.category == "noise"}
    covered |= _positive_examples_of_domain_tests()
    covered |= {"vpc-cni.ipamd-error"}  # asserted with the reconcile example below
    assert {r.id for r in LINE_RULES} <= covered


def test_an_error_level_ipamd_line_counts_as_an_ipamd_error_too() -> None:
    line = '{"level":"error","ts":"2025-03-06T18:10:33.004Z","msg":"Failed to reconcile IP pool"}'
    assert set(classify("var_log/aws-routed-eni/ipamd.log", line)) == {
        "vpc-cni.ipamd-reconcile-error",
        "vpc-cni.ipamd-error",
    }


def test_rules_only_apply_to_their_files() -> None:
    line = "[23456.001122] nf_conntrack: nf_conntrack: table full, dropping packet"
    assert classify("var_log/aws-routed-eni/ipamd.log", line) == []
    assert classify("kernel/dmesg.current", line) == ["network.conntrack.table-full"]


def test_catalogue_ids_are_unique_dotted_and_resolvable() -> None:
    ids = [r.id for r in CATALOGUE]
    assert len(ids) == len(set(ids))
    for rule_id in ids:
        assert rule_id == rule_id.lower() and "." in rule_id
        assert rule_by_id(rule_id).id == rule_id


def test_a_registry_timeout_during_image_pull_is_not_an_api_server_timeout() -> None:
    line = (
        f'{J} kubelet[3456]: E0306 18:19:58.3 3456 log.go:32] "PullImage from image service failed" err="rpc '
        'error: code = Unknown desc = failed to pull and unpack image \\"123456789012.dkr.ecr.us-west-2.amazonaws'
        '.com/app:v2\\": dial tcp 52.94.1.7:443: i/o timeout" image="app:v2"'
    )
    assert classify("kubelet/kubelet.log", line) == ["runtime.image-pull-failed"]
