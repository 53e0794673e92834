# ruff: noqa: E501  (real-format log lines are longer than the line limit)
"""Line rules of the network add-ons on real-format lines: kube-proxy's klog in CRI pod logs, ipamd's and
the network policy agent's zap JSON, the aws-node entrypoint's logrus output; and what whole logs give."""

from __future__ import annotations

import gzip
import json
import tarfile
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from eksdiag.engine.indexer import BundleIndex, index_bundle
from eksdiag.engine.model import Severity
from eksdiag.engine.rules import CATALOGUE
from eksdiag.engine.scanner import compile_rules, rules_for_path

COLLECTED = datetime(2025, 3, 6, 18, 22, tzinfo=UTC)
BUNDLE = "eks_i-0f1a2b3c4d5e6f708_2025-03-06_1822-UTC_0.7.9.tar.gz"
KUBE_PROXY_DIR = "var_log/kube-system_kube-proxy-5x9vq_7d1c2a3b-0c4d-4e5f-8a9b-0c1d2e3f4a5b/kube-proxy"
KUBE_PROXY_FLAT = "var_log/kube-proxy-5x9vq_kube-system_kube-proxy-" + "4be2" * 16 + ".log"
AWS_NODE_DIR = "var_log/kube-system_aws-node-7xk2p_8c1e0d2f-3a4b-4c5d-9e6f-7a8b9c0d1e2f"
IPAMD = "var_log/aws-routed-eni/ipamd.log"
NPA = "var_log/aws-routed-eni/network-policy-agent.log"


def cri(when: datetime, payload: str, stream: str = "stderr") -> str:
    return f"{when.strftime('%Y-%m-%dT%H:%M:%S')}.{when.microsecond:06d}113Z {stream} F {payload}"


def klog(when: datetime, level: str, source: str, message: str) -> str:
    return f"{level}{when.strftime('%m%d %H:%M:%S')}.{when.microsecond:06d}       1 {source}] {message}"


def zap(when: datetime, level: str, caller: str, message: str) -> str:
    ts = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    return json.dumps({"level": level, "ts": ts, "caller": caller, "msg": message}, separators=(",", ":"))


T = COLLECTED - timedelta(minutes=3)
RESTORE_FAILED = klog(T, "E", "proxier.go:1564", '"Failed to execute iptables-restore" err=<')

POSITIVE = [
    (f"{KUBE_PROXY_DIR}/0.log", cri(T, RESTORE_FAILED), "network.kube-proxy.sync-failed"),
    (KUBE_PROXY_FLAT, cri(T, RESTORE_FAILED), "network.kube-proxy.sync-failed"),
    ("var_log/kube-proxy.log", RESTORE_FAILED, "network.kube-proxy.sync-failed"),
    (
        f"{KUBE_PROXY_DIR}/1.log",
        cri(T, klog(T, "E", "reflector.go:147", "k8s.io/client-go/informers/factory.go:159: Failed to watch "
            "*v1beta1.EndpointSlice: failed to list *v1beta1.EndpointSlice: the server could not find the requested resource")),
        "network.kube-proxy.watch-failed",
    ),
    (
        f"{KUBE_PROXY_DIR}/0.log",
        cri(T, klog(T, "E", "reflector.go:147", 'k8s.io/client-go/informers/factory.go:159: Failed to watch *v1.Service: '
            'failed to list *v1.Service: Get "https://10.100.0.1:443/api/v1/services?limit=500": dial tcp 10.100.0.1:443: i/o timeout')),
        "network.kube-proxy.watch-failed",
    ),
    (
        f"{KUBE_PROXY_DIR}/0.log",
        cri(T, klog(T, "E", "node.go:152", '"Failed to retrieve node info" err="nodes \\"ip-192-168-45-12\\" not found"')),
        "network.kube-proxy.node-ip-unknown",
    ),
    (
        IPAMD,
        zap(T, "error", "k8sapi/k8sutils.go:208", "Unable to reach API Server: Get \"https://10.100.0.1:443/version?timeout=5s\": dial tcp 10.100.0.1:443: i/o timeout"),
        "vpc-cni.ipamd-apiserver-unreachable",
    ),
    (
        IPAMD,
        zap(T, "error", "aws-k8s-agent/main.go:116", "Failed to check API server connectivity: invalid configuration: no configuration has been provided"),
        "vpc-cni.ipamd-apiserver-unreachable",
    ),
    (
        f"{AWS_NODE_DIR}/aws-node/3.log",
        cri(T, 'time="2025-03-06T18:19:00Z" level=error msg="Timed out waiting for IPAM daemon to start"'),
        "vpc-cni.ipamd-not-ready",
    ),
    (IPAMD, zap(T, "info", "aws-k8s-agent/main.go:105", "Starting L-IPAMD v1.19.2  ..."), "vpc-cni.ipamd-restarted"),
    (
        IPAMD,
        zap(T, "error", "ipamd/ipamd.go:977", "InsufficientFreeAddressesInSubnet: There are not enough free addresses in subnet"),
        "vpc-cni.address-exhaustion",
    ),
    (NPA, zap(T, "error", "ebpf/bpf_client.go:192", "Failed to recover the BPF state error: map not found"), "vpc-cni.npa-bpf-recovery-failed"),
    (
        NPA,
        zap(T, "error", "ebpf/bpf_client.go:461", "got err for ingress in-mem map for default/web-5d8c7, err key not found"),
        "vpc-cni.npa-bpf-recovery-failed",
    ),
    (
        f"{AWS_NODE_DIR}/aws-eks-nodeagent/0.log",
        cri(T, zap(T, "error", "ebpf/bpf_client.go:438", "BPF State Recovery failed error: invalid argument")),
        "vpc-cni.npa-bpf-recovery-failed",
    ),
    (NPA, zap(T, "error", "runtime/asm_amd64.s:1700", "problem running manager failed to wait for caches to sync"), "vpc-cni.npa-failed-to-start"),
    (NPA, zap(T, "info", "runtime/proc.go:272", "Starting network policy agent: v1.2.0, log level: info"), "vpc-cni.npa-restarted"),
]  # fmt: skip

NEGATIVE = [
    (f"{KUBE_PROXY_DIR}/0.log", cri(T, klog(T, "I", "server_linux.go:169", '"Using iptables Proxier"'))),
    (f"{KUBE_PROXY_DIR}/0.log", cri(T, klog(T, "I", "proxier.go:1504", '"Reloading service iptables data" numServices=12'))),
    (IPAMD, zap(T, "info", "k8sapi/k8sutils.go:211", "Successful communication with the Cluster! Cluster Version is: v1.31")),
    (f"{AWS_NODE_DIR}/aws-node/0.log", cri(T, 'time="2025-03-06T18:01:44Z" level=info msg="Checking for IPAM connectivity... "')),
    (NPA, zap(T, "info", "ebpf/bpf_client.go:1033", "Ingress in-mem map not found for default/web-5d8c7")),
    # a kube-proxy line in another component's log is not kube-proxy's
    ("kubelet/kubelet.log", RESTORE_FAILED),
]  # fmt: skip


def classify(path: str, line: str) -> list[str]:
    rules = rules_for_path(path, CATALOGUE)
    return [r.id for r in compile_rules(rules).classify(line.encode())] if rules else []


@pytest.mark.parametrize(("path", "line", "rule"), POSITIVE, ids=[f"{p[2]}:{p[0][-30:]}" for p in POSITIVE])
def test_rule_matches_its_real_format_line(path: str, line: str, rule: str) -> None:
    assert rule in classify(path, line)


@pytest.mark.parametrize(("path", "line"), NEGATIVE, ids=[f"{p[0][-30:]}" for p in NEGATIVE])
def test_normal_lines_match_no_network_rule(path: str, line: str) -> None:
    assert [r for r in classify(path, line) if r.startswith(("network.", "vpc-cni."))] == []


# --------------------------------------------------------------------------- whole logs, indexed


def bundle(tmp_path: Path, files: dict[str, bytes]) -> BundleIndex:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / BUNDLE
    with tarfile.open(path, "w:gz") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            info.mtime = int(COLLECTED.timestamp())
            tar.addfile(info, BytesIO(data))
    return index_bundle(path)


def lines(*texts: str) -> bytes:
    return "".join(t + "\n" for t in texts).encode()


def findings(index: BundleIndex, rule: str) -> list:
    return [f for f in index.findings if f.rule == rule]


def test_an_hour_of_iptables_restore_failures_in_kube_proxys_pod_log_is_critical(tmp_path: Path) -> None:
    """kube-proxy's own pod log had no rule: an hour of failed syncs gave nothing."""
    failures = []
    for minute in range(0, 60, 1):
        when = COLLECTED - timedelta(minutes=60 - minute)
        failures.append(cri(when, klog(when, "E", "proxier.go:1564", '"Failed to execute iptables-restore" err=<')))
        failures.append(
            cri(when, '	exit status 2: iptables-restore v1.8.8 (nf_tables): unknown option "--xor-mark"')
        )
        failures.append(cri(when, klog(when, "I", "proxier.go:858", '"Sync failed" retryingTime="30s"')))
    index = bundle(tmp_path, {f"{KUBE_PROXY_DIR}/0.log": lines(*failures)})
    [finding] = findings(index, "network.kube-proxy.sync-failed")
    assert finding.severity is Severity.CRITICAL and finding.count == 60
    assert "burst" in finding.severity_reason


def test_rotated_kube_proxy_log_is_read(tmp_path: Path) -> None:
    when = COLLECTED - timedelta(hours=30)
    data = gzip.compress(
        lines(cri(when, klog(when, "E", "proxier.go:1564", '"Failed to execute iptables-restore" err=<')))
    )
    index = bundle(tmp_path, {f"{KUBE_PROXY_DIR}/0.log.20250305-121500.gz": data})
    [finding] = findings(index, "network.kube-proxy.sync-failed")
    assert finding.severity.rank <= Severity.MEDIUM.rank  # one event, a day old


@pytest.mark.parametrize(
    ("starts", "every_minutes", "expected"),
    [(1, 5, Severity.INFO), (4, 5, Severity.INFO), (5, 300, Severity.MEDIUM), (12, 5, Severity.HIGH)],
)
def test_ipamd_restarts_count_from_five_starts(
    tmp_path: Path, starts: int, every_minutes: int, expected: Severity
) -> None:
    log = [
        zap(COLLECTED - timedelta(minutes=every_minutes * (starts - i)), "info", "aws-k8s-agent/main.go:105",
            "Starting L-IPAMD v1.19.2  ...")
        for i in range(starts)
    ]  # fmt: skip
    [found] = findings(bundle(tmp_path, {IPAMD: lines(*log)}), "vpc-cni.ipamd-restarted")
    assert found.severity is expected
    if starts < 5:
        assert "fewer than the 5 that make it a problem" in found.severity_reason


def test_one_bpf_recovery_error_ranks_low_two_medium(tmp_path: Path) -> None:
    error = zap(T, "error", "ebpf/bpf_client.go:192", "Failed to recover the BPF state error: map not found")
    [one] = findings(bundle(tmp_path / "one", {NPA: lines(error)}), "vpc-cni.npa-bpf-recovery-failed")
    [two] = findings(bundle(tmp_path / "two", {NPA: lines(error, error)}), "vpc-cni.npa-bpf-recovery-failed")
    assert (one.severity, two.severity) == (Severity.LOW, Severity.MEDIUM) and two.remedy.value == "node"
