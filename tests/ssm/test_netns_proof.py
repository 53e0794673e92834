"""Proof on real kernels: the collector, the engine and the packet capture against network namespaces.

Skipped, with the reason, where network namespaces cannot be made (not root, no `ip netns`).
Every namespace is removed afterwards, even when a test fails (fixture finalizers).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from eksdiag.capture import analyze_summary
from eksdiag.engine.compare import compare
from eksdiag.engine.indexer import BundleIndex, index_bundle
from eksdiag.engine.model import Severity

from tests.ssm.netns_lab import (
    CLIENT_IP,
    DNS_SERVICE_IP,
    INSTANCE_ID,
    REPO,
    SCRIPTS,
    SERVICE_CIDR,
    Node,
    PutServer,
    netns_unavailable_reason,
    new_tag,
    run,
)
from tests.ssm.tar_members import member_names, member_text

pytestmark = pytest.mark.netns

KMS_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="module")
def netns_ready() -> None:
    reason = netns_unavailable_reason()
    if reason:
        pytest.skip(f"real-kernel network namespace tests skipped: {reason}")


@dataclass
class NodeRun:
    node: Node
    answered_before: dict
    answered_after: dict
    bundle: Path
    index: BundleIndex


def _node_run(tmp: Path, broken: bool) -> Iterator[NodeRun]:
    node = Node(new_tag())
    try:
        node.build()
        before = node.dns_queries(3)
        if broken:
            node.break_node()
        after = node.dns_queries(4)
        bundle = node.collect(tmp)
        yield NodeRun(node, before, after, bundle, index_bundle(bundle))
    finally:
        node.destroy()


@pytest.fixture(scope="module")
def broken(netns_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeRun]:
    yield from _node_run(tmp_path_factory.mktemp("broken-node"), broken=True)


@pytest.fixture(scope="module")
def healthy(netns_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeRun]:
    yield from _node_run(tmp_path_factory.mktemp("healthy-node"), broken=False)


def _findings(index: BundleIndex, rule: str) -> list:
    return [f for f in index.findings if f.rule == rule]


# --------------------------------------------------------------------------- the incident itself


def test_seed_incident_breaks_dns_from_the_pod(broken: NodeRun) -> None:
    assert broken.answered_before["answered"] == broken.answered_before["sent"] == 3
    assert broken.answered_after == {**broken.answered_after, "sent": 4, "answered": 0}


def test_healthy_node_answers_dns_through_the_service_dnat(healthy: NodeRun) -> None:
    assert healthy.answered_after["answered"] == healthy.answered_after["sent"] == 4


# --------------------------------------------------------------------------- collector output


def test_collector_archive_is_laid_out_like_eks_log_collector(broken: NodeRun) -> None:
    names = member_names(broken.bundle)
    assert broken.bundle.name.startswith(f"eks_{INSTANCE_ID}_") and broken.bundle.name.endswith(".tar.gz")
    assert all(name == "." or name.startswith("./") for name in names), names[:5]
    assert "./" in names or "." in names
    for expected in (
        "./networking/iptables-save-counters.txt",
        "./networking/iptables-save.txt",
        "./networking/iptables-filter.txt",
        "./networking/iptables-nat.txt",
        "./networking/iptables-mangle.txt",
        "./networking/iproute.txt",
        "./networking/iprule.txt",
        "./networking/ip-s-link.txt",
        "./networking/conntrack.txt",
        "./networking/conntrack-count.txt",
        "./networking/ss-summary.txt",
        "./networking/resolv.conf",
        "./sysctls/sysctl_all.txt",
        "./kernel/dmesg.current",
        "./system/instance-id.txt",
        "./system/eksdiag-collector.txt",
    ):
        assert expected in names, expected
    if shutil.which("nft"):
        assert "./networking/nft-ruleset.txt" in names


def test_collector_keeps_per_rule_counters_of_the_drop_rules(broken: NodeRun) -> None:
    saved = member_text(broken.bundle, "./networking/iptables-save-counters.txt")
    drop = next(line for line in saved.splitlines() if "-A FORWARD -s 10.0.0.0/16 -d 10.0.0.0/16" in line)
    packets = int(drop.split(":")[0].lstrip("["))
    assert packets >= 4, drop
    listing = member_text(broken.bundle, "./networking/iptables-filter.txt")
    assert listing.splitlines()[-2:] == ["=======", "Total Number of Rules: 2"]
    conntrack = member_text(broken.bundle, "./networking/conntrack.txt").splitlines()
    assert conntrack[0] == "*** Output of conntrack -S *** "
    assert "*** Output of conntrack -L ***" in conntrack
    assert f"blackhole {SERVICE_CIDR}" in member_text(broken.bundle, "./networking/iproute.txt")
    sysctls = member_text(broken.bundle, "./sysctls/sysctl_all.txt")
    assert "net.ipv4.ip_forward = 1" in sysctls


# --------------------------------------------------------------------------- engine on real bundles


def test_broken_node_has_critical_forward_drop_with_packet_counters(broken: NodeRun) -> None:
    findings = _findings(broken.index, "network.iptables.forward-drop")
    assert findings, [f.rule for f in broken.index.findings]
    assert any(f.severity is Severity.CRITICAL for f in findings)
    dropped = [
        item
        for f in findings
        for item in f.detail.get("items", [f.detail])
        if isinstance(item, dict) and (item.get("pkts") or 0) > 0
    ]
    assert dropped, [f.detail for f in findings]


def test_broken_node_has_blackhole_route_finding(broken: NodeRun) -> None:
    findings = _findings(broken.index, "network.route.blackhole")
    assert findings
    assert any(SERVICE_CIDR in e.text for f in findings for e in f.evidence)


def test_healthy_node_has_none_of_the_incident_findings(healthy: NodeRun) -> None:
    rules = {f.rule for f in healthy.index.findings}
    assert "network.iptables.forward-drop" not in rules
    assert "network.route.blackhole" not in rules


def test_compare_shows_forward_counters_and_routes_differ(broken: NodeRun, healthy: NodeRun) -> None:
    result = compare(broken.index, healthy.index)
    differing = [d for d in result["dimensions"] if d["differs"]]
    files = {path for d in differing for path in d["files"]}
    assert files & {
        "networking/iptables-save-counters.txt",
        "networking/iptables-filter.txt",
    }, differing
    assert "networking/iproute.txt" in files, differing


# --------------------------------------------------------------------------- SSM document bodies


def _require(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install {' '.join(missing)})")


def _document_program(name: str) -> str:
    document = yaml.safe_load((REPO / "ssm" / "documents" / name).read_text())
    (program,) = document["mainSteps"][0]["inputs"]["runCommand"]
    return program


def _document_env(server: PutServer, **parameters: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "CURL_CA_BUNDLE": str(server.cert),
        "EKSDIAG_SKIP_IMDS": "1",
        "EKSDIAG_SKIP_ELC": "1",
        "EKSDIAG_INSTANCE_ID": INSTANCE_ID,
        "EKSDIAG_MIN_FREE_MB": "50",
        "EKSDIAG_LOCK": str(server.directory / "collector.lock"),
    }
    env.update({f"SSM_{key}": value for key, value in parameters.items()})
    return env


def test_run_collector_document_uploads_the_bundle_with_sse_headers(healthy: NodeRun, tmp_path: Path) -> None:
    _require("curl", "openssl")
    server = PutServer(healthy.node, tmp_path)
    program = tmp_path / "_script.sh"
    program.write_text(_document_program("run-collector.yaml"))
    key = f"uploads/{INSTANCE_ID}/b-1.tar.gz"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = _document_env(server, UploadUrl=server.url(key), SseKmsKeyId=KMS_KEY_ARN) | {"EKSDIAG_TMPDIR": str(scratch)}
    out = run("ip", "netns", "exec", healthy.node.node, "sh", str(program), env=env, timeout=300)
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    assert lines["upload"] == "ok"
    uploaded = server.received / "b-1.tar.gz"
    assert uploaded.stat().st_size == int(lines["size_bytes"])
    (request,) = server.requests()
    assert request["headers"]["x-amz-server-side-encryption"] == "aws:kms"
    assert request["headers"]["x-amz-server-side-encryption-aws-kms-key-id"] == KMS_KEY_ARN
    index = index_bundle(uploaded)
    assert index.bundle["instance_id"] == INSTANCE_ID
    assert not (server.directory / "collector.lock").exists()
    assert list(scratch.iterdir()) == [], "temporary files are removed"


def _start_queries(node: Node, count: int, delay: float) -> threading.Thread:
    def send() -> None:
        time.sleep(delay)
        node.dns_queries(count, timeout=0.3)

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_packet_capture_on_the_pod_veth_reports_unanswered_dns(broken: NodeRun, tmp_path: Path) -> None:
    _require("tcpdump", "curl", "openssl")
    server = PutServer(broken.node, tmp_path)
    program = tmp_path / "_script.sh"
    program.write_text(_document_program("packet-capture.yaml"))
    base = f"captures/{INSTANCE_ID}/c-1"
    env = _document_env(
        server,
        Interface="eniclient",
        DurationSeconds="5",
        Filter="udp port 53",
        PodNamespace="",
        PodName="",
        MaxPackets="1000",
        UploadUrl=server.url(f"{base}/capture.pcap"),
        SummaryUploadUrl=server.url(f"{base}/summary.txt"),
        SseKmsKeyId="",
    )
    queries = _start_queries(broken.node, 5, delay=0.5)
    out = run("ip", "netns", "exec", broken.node.node, "sh", str(program), env=env, timeout=60)
    queries.join(timeout=30)
    assert "upload_pcap: ok" in out and "upload_summary: ok" in out
    pcap = (server.received / "capture.pcap").read_bytes()
    assert pcap[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")
    summary = (server.received / "summary.txt").read_text()
    assert "# interface: eniclient" in summary
    result = analyze_summary(summary)
    unanswered = result["dns"]["unanswered"] + result["dns"]["pending_at_end"]
    assert unanswered == result["dns"]["queries"] >= 4
    assert result["dns"]["unanswered"] >= 3
    assert result["dns"]["unanswered_by_server"][0]["server"] == DNS_SERVICE_IP
    assert result["dns"]["unanswered_examples"][0]["client"].startswith(CLIENT_IP + ".")
    assert any(f["rule"] == "capture.dns.unanswered" and f["severity"] == "HIGH" for f in result["findings"])
    requests = server.requests()
    assert all("x-amz-server-side-encryption" not in r["headers"] for r in requests)


def test_packet_capture_resolves_a_pod_network_namespace_with_crictl(healthy: NodeRun, tmp_path: Path) -> None:
    """PodNamespace/PodName -> crictl pods/inspectp -> pid -> nsenter: capture on the pod's own eth0."""
    _require("tcpdump", "curl", "openssl", "nsenter", "pgrep")
    node = healthy.node
    sleeper = node.start("ip", "netns", "exec", node.client, "sleep", "60")
    time.sleep(0.3)
    pid = sleeper.pid
    children = run("pgrep", "-P", str(pid), check=False).split()
    pid = int(children[0]) if children else pid
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    inspect = {
        "status": {"metadata": {"name": "web-5d8c7", "namespace": "default"}},
        "info": {"pid": pid, "runtimeSpec": {"linux": {"namespaces": [{"type": "pid"}]}}},
    }
    (fake_bin / "inspect.json").write_text(json.dumps(inspect, indent=2))
    crictl = fake_bin / "crictl"
    crictl.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        "pods) echo 4be2c0ffee ;;\n"
        f"inspectp) cat {fake_bin / 'inspect.json'} ;;\n"
        "*) exit 1 ;;\n"
        "esac\n"
    )
    crictl.chmod(0o755)
    (tmp_path / "server").mkdir()
    server = PutServer(node, tmp_path / "server", in_node=False)  # the script runs in the root namespace
    program = tmp_path / "_script.sh"
    program.write_text(_document_program("packet-capture.yaml"))
    env = _document_env(
        server,
        Interface="",
        DurationSeconds="3",
        Filter="udp and port 53",
        PodNamespace="default",
        PodName="web-5d8c7",
        MaxPackets="100",
        UploadUrl=server.url("captures/x/capture.pcap"),
        SummaryUploadUrl=server.url("captures/x/summary.txt"),
        SseKmsKeyId="",
    )
    env["PATH"] = f"{fake_bin}:{env['PATH']}"
    queries = _start_queries(node, 2, delay=1.0)
    out = run("sh", str(program), env=env, timeout=60)  # from the root namespace, like SSM Agent
    queries.join(timeout=30)
    assert "interface: eth0" in out
    result = analyze_summary((server.received / "summary.txt").read_text())
    assert result["dns"]["queries"] == 2 and result["dns"]["answered"] == 2


def test_packet_capture_refuses_a_hostile_filter_before_running_anything(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SSM_Filter": f"udp port 53\ntouch {marker}",
        "SSM_UploadUrl": "https://127.0.0.1:1/x?X-Amz-Signature=1",
        "SSM_SummaryUploadUrl": "https://127.0.0.1:1/y?X-Amz-Signature=1",
        "EKSDIAG_TMPDIR": str(tmp_path),
    }
    proc = subprocess.run(
        ["sh", str(SCRIPTS / "packet-capture.sh")], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 1
    assert "Filter has characters outside the BPF whitelist" in proc.stderr
    assert not marker.exists()


# --------------------------------------------------------------------------- cleanup guarantees


def _namespaces() -> set[str]:
    return {line.split()[0] for line in run("ip", "netns", "list").splitlines() if line.strip()}


def test_namespaces_are_removed_even_when_building_fails(netns_ready: None) -> None:
    node = Node(new_tag())
    with pytest.raises(RuntimeError):
        try:
            node.build()
            run("ip", "-n", node.node, "link", "add", "eth0", "type", "veth")  # exists already: fails
        finally:
            node.destroy()
    assert not set(node.namespaces) & _namespaces()


def test_bundle_is_gzip_tar_readable_as_a_stream(broken: NodeRun) -> None:
    data = broken.bundle.read_bytes()
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data)), mode="r:") as tar:
        assert tar.next() is not None
