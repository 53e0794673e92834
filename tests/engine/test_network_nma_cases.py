# ruff: noqa: E501  (real-format log, iptables and route lines are longer than the line limit)
"""Every observable Networking issue of the EKS Node Monitoring Agent, as a case: its evidence placed
where eks-log-collector.sh puts it, in the healthy seed bundle, indexed whole. A rule tagged with the
issue must fire, within a sensible severity range; the untouched healthy bundle shows none of them
above INFO."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from eksdiag.engine.indexer import index_bundle
from eksdiag.engine.model import Severity
from eksdiag.engine.rules import CATALOGUE

from tests.fixtures.seed import HEALTHY_ID, bundle_name, iptables_save, node_files, write_bundle

NMA_ISSUES = Path(__file__).resolve().parents[2] / "handlers" / "eksdiag" / "engine" / "catalogue" / "nma_issues.yaml"
COLLECTED = datetime(2025, 3, 6, 18, 22, tzinfo=UTC)
KUBE_PROXY = "var_log/kube-system_kube-proxy-5x9vq_7d1c2a3b-0c4d-4e5f-8a9b-0c1d2e3f4a5b/kube-proxy/0.log"
AWS_NODE = "var_log/kube-system_aws-node-7xk2p_8c1e0d2f-3a4b-4c5d-9e6f-7a8b9c0d1e2f"
IPAMD = "var_log/aws-routed-eni/ipamd.log"
NPA = "var_log/aws-routed-eni/network-policy-agent.log"
Files = dict[str, str]


def ago(minutes: float) -> datetime:
    return COLLECTED - timedelta(minutes=minutes)


def zap(minutes: float, level: str, message: str) -> str:
    ts = ago(minutes).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return json.dumps({"level": level, "ts": ts, "caller": "x/y.go:1", "msg": message}, separators=(",", ":")) + "\n"


def cri(minutes: float, payload: str) -> str:
    return ago(minutes).strftime("%Y-%m-%dT%H:%M:%S.123456789Z") + f" stderr F {payload}\n"


def enis() -> str:
    def entry(ip: str, pod: str) -> dict:
        return {"Address": ip, "IPAMKey": {"networkName": "aws-cni", "containerID": "", "ifName": ""},
                "IPAMMetadata": {"k8sPodNamespace": "default", "k8sPodName": pod}}  # fmt: skip

    return json.dumps({"0": {"TotalIPs": 28, "AssignedIPs": 2, "ENIs": {
        "eni-0a1b2c3d4e5f60718": {"ID": "eni-0a1b2c3d4e5f60718", "IsPrimary": True, "DeviceNumber": 0, "RouteTableID": 254,
                                  "AvailableIPv4Cidrs": {"192.168.40.17/32": {"IPAddresses": {"192.168.40.17": entry("192.168.40.17", "coredns-6b9575c64c-4x2lm")}}}},
        "eni-0f1e2d3c4b5a69788": {"ID": "eni-0f1e2d3c4b5a69788", "IsPrimary": False, "DeviceNumber": 1, "RouteTableID": 2,
                                  "AvailableIPv4Cidrs": {"192.168.52.201/32": {"IPAddresses": {"192.168.52.201": entry("192.168.52.201", "web-5d8c7")}}}},
    }}})  # fmt: skip


def ethtool(counter: str, value: int) -> str:
    values = {c: 0 for c in ("bw_in", "bw_out", "pps", "conntrack", "linklocal")} | {counter: value}
    body = "".join(f"     {c}_allowance_exceeded: {v}\n" for c, v in values.items())
    return f"Interface ens5\nNIC statistics:\n     tx_timeout: 0\n{body}\n"


def with_nat_rule(rule: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        files["networking/iptables-save.txt"] = iptables_save(False).replace(
            "-A PREROUTING -m comment", f"{rule}\n-A PREROUTING -m comment", 1
        )

    return edit


def replace(path: str, old: str, new: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        assert old in files[path], (path, old)
        files[path] = files[path].replace(old, new)

    return edit


def add(path: str, text: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        files[path] = files.get(path, "") + text

    return edit


def both(*edits: Callable[[Files], None]) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        for one in edits:
            one(files)

    return edit


IFCONFIG_NO_LO = (
    "ens5: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 9001\n        inet 192.168.45.12  netmask 255.255.224.0\n"
)

CASES: dict[str, tuple[Callable[[Files], None], Severity, Severity]] = {
    "MACAddressPolicyMisconfigured": (
        add("networking/systemd-network/99-default.link",
            "# /usr/lib/systemd/network/99-default.link\n[Match]\nOriginalName=*\n\n[Link]\nNamePolicy=keep kernel database onboard slot path\nMACAddressPolicy=persistent\n"),
        Severity.MEDIUM, Severity.HIGH),
    "MissingDefaultRoutes": (replace("networking/iproute.txt", "default via 192.168.32.1 dev ens6 table 2\n", ""), Severity.HIGH, Severity.CRITICAL),
    "MissingIPRoutes": (
        both(lambda f: f.update({"ipamd/enis.json": enis()}), replace("networking/iproute.txt", "192.168.52.201 dev eni8f1d0c2e7a4 scope link\n", "")),
        Severity.HIGH, Severity.CRITICAL),
    "MissingIPRules": (
        both(lambda f: f.update({"ipamd/enis.json": enis()}), replace("networking/iprule.txt", "512:\tfrom all to 192.168.40.17 lookup main\n", "")),
        Severity.HIGH, Severity.CRITICAL),
    "MissingLoopbackInterface": (add("networking/ifconfig.txt", IFCONFIG_NO_LO), Severity.CRITICAL, Severity.CRITICAL),
    "NetworkSysctl": (replace("sysctls/sysctl_all.txt", "net.ipv4.ip_forward = 1", "net.ipv4.ip_forward = 0"), Severity.CRITICAL, Severity.CRITICAL),
    "PPSExceeded": (lambda f: f.update({"networking/ethtool.txt": ethtool("pps", 48_000)}), Severity.MEDIUM, Severity.HIGH),
    "KubeProxyNotReady": (
        add(KUBE_PROXY, cri(3, 'E0306 18:19:00.123456       1 reflector.go:147] k8s.io/client-go/informers/factory.go:159: Failed to watch *v1beta1.EndpointSlice: failed to list *v1beta1.EndpointSlice: the server could not find the requested resource')),
        Severity.MEDIUM, Severity.CRITICAL),
    "PortConflict": (with_nat_rule("-A CNI-DN-08cb4d05ff8daf230ce42 -p tcp -m tcp --dport 10250 -j DNAT --to-destination 172.31.106.34:10250"),
                     Severity.MEDIUM, Severity.HIGH),
    "UnexpectedRejectRule": (
        replace("networking/iptables-save.txt", "-A OUTPUT -j KUBE-FIREWALL\n",
                "-A OUTPUT -j KUBE-FIREWALL\n-A OUTPUT -j TWISTLOCK-NET-OUTPUT\n-A TWISTLOCK-NET-OUTPUT -s 1.2.3.4/26 -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m mark --mark 0x10101010 -m comment --comment TWISTLOCK-RULE -j REJECT --reject-with tcp-reset\n"),
        Severity.MEDIUM, Severity.HIGH),
    "LinkLocalExceeded": (lambda f: f.update({"networking/ethtool.txt": ethtool("linklocal", 1843)}), Severity.MEDIUM, Severity.HIGH),
    "BandwidthInExceeded": (lambda f: f.update({"networking/ethtool.txt": ethtool("bw_in", 11072)}), Severity.MEDIUM, Severity.HIGH),
    "BandwidthOutExceeded": (lambda f: f.update({"networking/ethtool.txt": ethtool("bw_out", 5000)}), Severity.MEDIUM, Severity.HIGH),
    "ConntrackExceeded": (lambda f: f.update({"networking/ethtool.txt": ethtool("conntrack", 20_000)}), Severity.HIGH, Severity.HIGH),
    "IPAMDInconsistentState": (
        lambda f: f.update({"ipamd/enis.json": enis(), "ipamd/ipam.json": json.dumps({"version": "vpc-cni-ipam/1", "allocations": [
            {"containerID": "9b2e", "ifName": "eth0", "ipv4": "192.168.52.201", "metadata": {"k8sPodNamespace": "default", "k8sPodName": "api-7c9"}}]})}),
        Severity.MEDIUM, Severity.HIGH),
    "IPAMDNoIPs": (add(IPAMD, zap(4, "error", "InsufficientFreeAddressesInSubnet: There are not enough free addresses in subnet")),
                   Severity.MEDIUM, Severity.HIGH),
    "IPAMDNotReady": (add(IPAMD, zap(2, "error", "Failed to check API server connectivity: invalid configuration: no configuration has been provided")),
                      Severity.MEDIUM, Severity.CRITICAL),
    "IPAMDNotRunning": (lambda f: f.update({"ipamd/enis.json": "", "ipamd/metrics.json": ""}), Severity.HIGH, Severity.CRITICAL),
    "IPAMDRepeatedlyRestart": (add(IPAMD, "".join(zap(60 - 10 * i, "info", "Starting L-IPAMD v1.19.2  ...") for i in range(5))),
                               Severity.MEDIUM, Severity.HIGH),
    "InterfaceNotRunning": (add("networking/ifconfig.txt", "ens5: flags=4099<UP,BROADCAST,MULTICAST>  mtu 9001\nlo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536\n"),
                            Severity.HIGH, Severity.CRITICAL),
    "InterfaceNotUp": (
        both(add("networking/ifconfig.txt", "ens5: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 9001\nlo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536\n"),
             add("networking/ethtool.txt", "Interface ens6\nNIC statistics:\n     pps_allowance_exceeded: 0\n\n")),
        Severity.HIGH, Severity.CRITICAL),
    "NPARepeatedlyRestart": (add(f"{AWS_NODE}/aws-eks-nodeagent/6.log", cri(5, zap(5, "info", "Starting network policy agent: v1.2.0").strip())),
                             Severity.MEDIUM, Severity.HIGH),
    "NPANotRunning": (add(NPA, zap(3, "error", "problem running manager failed to wait for caches to sync")), Severity.MEDIUM, Severity.HIGH),
    "NPABPFRecoveryError": (add(NPA, zap(9, "error", "Failed to recover the BPF state error: map not found") + zap(8, "error", "got err for egress in-mem map for default/web-5d8c7, err key not found")),
                            Severity.MEDIUM, Severity.HIGH),
}  # fmt: skip


def _observable_networking() -> list[str]:
    rows = yaml.safe_load(NMA_ISSUES.read_text())["issues"]
    return [r["name"] for r in rows if r["category"] == "Networking" and not r["not_observable"]]


def _tagged(issue: str) -> set[str]:
    return {rule.id for rule in CATALOGUE if issue in rule.nma}


def test_every_observable_networking_issue_has_a_case() -> None:
    assert sorted(CASES) == sorted(_observable_networking())


@pytest.mark.parametrize("issue", sorted(CASES))
def test_the_issue_placed_in_a_healthy_bundle_gives_its_rule(tmp_path: Path, issue: str) -> None:
    edit, lowest, highest = CASES[issue]
    files = node_files(faulty=False)
    edit(files)
    index = index_bundle(write_bundle(files, tmp_path / bundle_name(HEALTHY_ID)))
    found = [f for f in index.findings if f.rule in _tagged(issue)]
    assert found, (issue, [(f.rule, f.file, f.severity.value) for f in index.findings])
    worst = max(found, key=lambda f: f.severity.rank)
    assert lowest.rank <= worst.severity.rank <= highest.rank, (worst.rule, worst.severity, worst.severity_reason)
    assert worst.severity_reason


def test_the_healthy_bundle_shows_no_networking_issue_above_info(tmp_path: Path) -> None:
    index = index_bundle(write_bundle(node_files(faulty=False), tmp_path / bundle_name(HEALTHY_ID)))
    tagged = {rule for issue in CASES for rule in _tagged(issue)}
    loud = [
        (f.rule, f.severity.value) for f in index.findings if f.rule in tagged and f.severity.rank > Severity.INFO.rank
    ]
    assert loud == []
