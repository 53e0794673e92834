"""The address ranges a rule or a route can hit: pods, Services, cluster DNS, the VPC, the node.

None of them is written down in a bundle; they are inferred, each with where it came from:
- VPC CIDRs from the VPC CNI's ``AWS-SNAT-CHAIN-0`` RETURN rules and the main table's link routes;
- pod addresses from ipamd's own records (``ipamd/enis.json`` assigned addresses, the
  ``ipamd/ipam.json`` checkpoint), host routes to the CNI's veths (prefix from the conflist or
  ipamd settings) and the CNI's ``ip rule`` entries; link-local and multicast routes every veth
  carries (``fe80::/64``) are not pods;
- the Service range as the /16 (IPv6 /108) around the cluster IPs kube-proxy programmed in
  ``KUBE-SERVICES`` and kubelet's clusterDNS (a guess: the real CIDR is not on the node). With no
  cluster IP at all the EKS defaults (10.100.0.0/16, 172.20.0.0/16) are assumed;
- DNS servers: kube-dns cluster IPs, clusterDNS, resolv.conf nameservers;
- node addresses: route sources and the addresses of the node's interfaces.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eksdiag.engine.checks._hits import artifacts_of_kind
from eksdiag.engine.checks.network_common import MAX_DETAIL_ITEMS, Network, get, is_any, network, overlaps, port_in
from eksdiag.engine.model import ArtifactMap

EKS_DEFAULT_SERVICE_CIDRS = ("10.100.0.0/16", "172.20.0.0/16")
"""EKS picks one of these when no service CIDR is given; used only when the bundle shows none."""
LOCAL_BRIDGE_PREFIXES = ("docker", "br-", "virbr", "cni", "lo", "nerdctl")
"""Devices whose link routes are node-local bridges, not VPC subnets."""
BROAD_PROTOCOLS = frozenset({"all", "0", "tcp", "udp", "6", "17"})
NAT_SOURCES = {
    "ipv4": (
        "networking/iptables-nat.txt",
        "networking/iptables-save-counters.txt",
        "networking/iptables-save.txt",
    ),
    "ipv6": (
        "networking/ip6tables-nat.txt",
        "networking/ip6tables-save-counters.txt",
        "networking/ip6tables-save.txt",
    ),
}


@dataclass
class Ranges:
    """Address ranges inferred from the bundle, each with where it came from."""

    vpc: list[Network] = field(default_factory=list)
    pods: list[Network] = field(default_factory=list)
    services: list[Network] = field(default_factory=list)
    cluster_ips: list[Network] = field(default_factory=list)
    dns_ips: list[Network] = field(default_factory=list)
    node_ips: list[Network] = field(default_factory=list)
    services_assumed: bool = False
    notes: list[str] = field(default_factory=list)

    def labelled(self) -> Iterable[tuple[str, Network]]:
        for net in self.services:
            yield ("service range (assumed EKS default)" if self.services_assumed else "service range"), net
        for net in self.pods:
            yield "pod range", net
        for net in self.vpc:
            yield "VPC range", net

    def to_dict(self) -> dict[str, Any]:
        return {
            "vpc": [str(n) for n in self.vpc[:MAX_DETAIL_ITEMS]],
            "pods": [str(n) for n in self.pods[:MAX_DETAIL_ITEMS]],
            "pod_count": len(self.pods),
            "services": [str(n) for n in self.services],
            "services_assumed": self.services_assumed,
            "dns_ips": [str(n) for n in self.dns_ips],
            "notes": self.notes,
        }


def _add(target: list[Network], text: str | None) -> None:
    net, negated = network(text)
    if net is not None and not negated and net.prefixlen > 0 and net not in target:
        target.append(net)


def _is_pod_candidate(text: str | None) -> bool:
    net, _ = network(text)
    return net is not None and not (net.is_link_local or net.is_multicast or net.is_loopback)


def kube_summaries(artifacts: ArtifactMap, family: str) -> list[Mapping[str, Any]]:
    summaries: list[Mapping[str, Any]] = []
    for path in NAT_SOURCES[family]:
        listing = get(artifacts, path, "iptables-list")
        if listing is not None:
            summaries.append(listing.get("kube", {}))
        saved = get(artifacts, path, "iptables-save")
        if saved is not None and "nat" in saved.get("tables", {}):
            summaries.append(saved["tables"]["nat"].get("kube", {}))
    return summaries


def ipamd_pod_ips(artifacts: ArtifactMap) -> list[str]:
    """Pod addresses ipamd assigned: its datastore (``enis.json``) and its checkpoint (``ipam.json``)."""
    found: list[str] = []
    for _path, enis in artifacts_of_kind(artifacts, "ipamd-enis"):
        for card in enis.get("network_cards") or ():
            for eni in card.get("enis") or ():
                found.extend(entry["ip"] for entry in eni.get("assigned") or () if entry.get("ip"))
    for _path, checkpoint in artifacts_of_kind(artifacts, "ipamd-checkpoint"):
        found.extend(entry["ip"] for entry in checkpoint.get("allocations") or () if entry.get("ip"))
    return list(dict.fromkeys(found))


def veth_prefix(artifacts: ArtifactMap) -> str:
    prefix = "eni"
    for _path, env in artifacts_of_kind(artifacts, "networkutils-env-settings"):
        value = (env.get("settings") or {}).get("AWS_VPC_K8S_CNI_VETHPREFIX")
        if isinstance(value, str) and value:
            prefix = value
    for _path, config in artifacts_of_kind(artifacts, "cni-config"):
        aws = config.get("aws_cni") or {}
        if isinstance(aws.get("vethPrefix"), str) and aws["vethPrefix"]:
            prefix = aws["vethPrefix"]
    return prefix


def infer_ranges(artifacts: ArtifactMap) -> Ranges:
    ranges = Ranges()
    prefix = veth_prefix(artifacts)
    cluster_ips: list[str] = []
    for family in ("ipv4", "ipv6"):
        for kube in kube_summaries(artifacts, family):
            for cidr in kube.get("snat_return_cidrs", []):
                _add(ranges.vpc, cidr)
            cluster_ips.extend(kube.get("cluster_ips", []))
            for ip in kube.get("dns_ips", []):
                _add(ranges.dns_ips, ip)
    if ranges.vpc:
        ranges.notes.append("VPC CIDRs from the VPC CNI's AWS-SNAT-CHAIN-0 RETURN rules")
    for _path, table in artifacts_of_kind(artifacts, "ip-route"):
        for route in table.get("routes", []):
            dev = route.get("dev") or ""
            if route.get("src"):
                _add(ranges.node_ips, route["src"])
            if route.get("type") != "unicast":
                continue
            if dev.startswith(prefix) and route.get("table") == "main":
                if _is_pod_candidate(route.get("dst")):
                    _add(ranges.pods, route.get("dst"))
            elif (
                route.get("proto") == "kernel"
                and route.get("scope") == "link"
                and route.get("table") == "main"
                and not dev.startswith(LOCAL_BRIDGE_PREFIXES)
                and _is_pod_candidate(route.get("dst"))
            ):
                _add(ranges.vpc, route.get("dst"))
    for _path, rules in artifacts_of_kind(artifacts, "ip-rule"):
        for rule in rules.get("rules", []):
            if rule.get("priority") == 512 and rule.get("to"):
                _add(ranges.pods, rule["to"])
            elif rule.get("priority") == 1536 and rule.get("from") not in (None, "all"):
                _add(ranges.pods, rule["from"])
    for ip in ipamd_pod_ips(artifacts):
        _add(ranges.pods, ip)
    if ranges.pods:
        ranges.notes.append(f"pod addresses from ipamd, routes to {prefix}* veths and VPC CNI ip rules")
    for _path, interfaces in artifacts_of_kind(artifacts, "interfaces"):
        for interface in interfaces.get("interfaces") or ():
            if not interface.get("loopback") and not str(interface.get("name", "")).startswith(prefix):
                for address in interface.get("addresses") or ():
                    if _is_pod_candidate(address):
                        _add(ranges.node_ips, address)
    for _path, kubelet in artifacts_of_kind(artifacts, "kubelet-config"):
        for ip in kubelet.get("cluster_dns") or []:
            if isinstance(ip, str):
                _add(ranges.dns_ips, ip)
                cluster_ips.append(ip)
    for ip in cluster_ips:
        _add(ranges.cluster_ips, ip)
        net, _ = network(ip)
        if net is None:
            continue
        supernet = net.supernet(new_prefix=16) if net.version == 4 else net.supernet(new_prefix=108)
        if supernet not in ranges.services:
            ranges.services.append(supernet)
    if ranges.services:
        ranges.notes.append(
            "service range guessed as the /16 (IPv6: /108) around KUBE-SERVICES cluster IPs or kubelet clusterDNS"
        )
    else:
        ranges.services = [ipaddress.ip_network(c) for c in EKS_DEFAULT_SERVICE_CIDRS]
        ranges.services_assumed = True
        ranges.notes.append("no cluster IPs in the bundle: assumed the EKS default service CIDRs")
    for _path, resolv in artifacts_of_kind(artifacts, "resolv-conf"):
        for server in resolv.get("nameservers", []):
            _add(ranges.dns_ips, server.get("address"))
    return ranges


@dataclass(frozen=True)
class Coverage:
    """What traffic a rule's selectors reach: ``dns``, ``services``, ``pods``, ``vpc``, ``all``."""

    kinds: frozenset[str]
    facts: tuple[str, ...]

    @property
    def hits_cluster_traffic(self) -> bool:
        """Pod, Service or DNS traffic (pods live in the VPC's ranges)."""
        return bool(self.kinds & {"dns", "services", "pods", "vpc", "all"})


def coverage(rule: Mapping[str, Any], ranges: Ranges) -> Coverage:
    """What pod, Service and DNS traffic a rule (its address, protocol and port selectors) covers."""
    kinds: set[str] = set()
    facts: list[str] = []
    dport = rule.get("dport")
    prot = (rule.get("prot") or "all").lower()
    if port_in(dport, 53):
        kinds.add("dns")
        facts.append("DNS (port 53)")
    source, destination = rule.get("source"), rule.get("destination")
    if is_any(source) and is_any(destination):
        if prot in BROAD_PROTOCOLS and dport is None:
            kinds.add("all")
            facts.append("all traffic (source and destination 0.0.0.0/0)")
        return Coverage(frozenset(kinds), tuple(facts))
    for side, text in (("source", source), ("destination", destination)):
        if is_any(text):
            continue
        net, negated = network(text)
        if net is None:
            continue
        for dns in ranges.dns_ips:
            if side == "destination" and overlaps(net, negated, dns):
                kinds.add("dns")
                facts.append(f"destination {text} includes DNS server {dns.network_address}")
                break
        for cluster_ip in ranges.cluster_ips:
            if side == "destination" and overlaps(net, negated, cluster_ip) and "dns" not in kinds:
                kinds.add("services")
                facts.append(f"destination {text} includes Service IP {cluster_ip.network_address}")
                break
        for label, other in ranges.labelled():
            if overlaps(net, negated, other):
                kinds.add({"pod range": "pods", "VPC range": "vpc"}.get(label, "services"))
                facts.append(f"{side} {text} overlaps {label} {other}")
                break
    return Coverage(frozenset(kinds), tuple(facts))
