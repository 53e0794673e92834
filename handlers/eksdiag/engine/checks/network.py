"""Network artifact rules (iptables, routes, conntrack, ENA, sysctl, DNS, CNI config).

Each check reads the parsed artifacts of one bundle ({bundle path: parsed dict}, shapes from
eksdiag.engine.parsers.network) and returns at most one Hit per (rule, file). A file missing from
the bundle never produces a finding.

Pod, VPC and service ranges are not in the bundle as such; they are inferred (see ``infer_ranges``):
VPC CIDRs from the VPC CNI's ``AWS-SNAT-CHAIN-0`` RETURN rules and the main table's link routes, pod
addresses from host routes to the CNI's veths (prefix from the conflist or ipamd settings) and the
CNI's ``ip rule`` entries, the service range as the /16 around the cluster IPs kube-proxy programmed
in ``KUBE-SERVICES`` and kubelet's clusterDNS (a guess: the real CIDR is not on the node). With no
cluster IP at all, the EKS defaults (10.100.0.0/16, 172.20.0.0/16) are assumed, which caps a
blackhole route over them at MEDIUM. DNS servers: kube-dns cluster IPs, clusterDNS, resolv.conf.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eksdiag.engine.checks._hits import artifacts_of_kind, hit_on_evidence
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Remedy, Rule, Severity
from eksdiag.engine.parsers.netconf import sysctl_line_text

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_EVIDENCE = 5
MAX_DETAIL_ITEMS = 20
EKS_DEFAULT_SERVICE_CIDRS = ("10.100.0.0/16", "172.20.0.0/16")
"""EKS picks one of these when no service CIDR is given; used only when the bundle shows none."""

FILTER_SOURCES = {
    "ipv4": (
        "networking/iptables-filter.txt",
        "networking/iptables.txt",
        "networking/iptables-save-counters.txt",
        "networking/iptables-save.txt",
    ),
    "ipv6": (
        "networking/ip6tables-filter.txt",
        "networking/ip6tables.txt",
        "networking/ip6tables-save-counters.txt",
        "networking/ip6tables-save.txt",
    ),
}
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
DROP_TARGETS = frozenset({"DROP", "REJECT"})
BROAD_PROTOCOLS = frozenset({"all", "0", "tcp", "udp", "6", "17"})
BENIGN_MATCH_MARKERS = (
    "ctstate INVALID",
    "state INVALID",
    "--ctstate INVALID",
    "--state INVALID",
    "mark match 0x8000/0x8000",
    "--mark 0x8000/0x8000",
)
BENIGN_COMMENT_PREFIXES = ("kubernetes ", "block incoming localnet", "kube-proxy")
"""kube-proxy's own rule comments ("kubernetes firewall for dropping marked packets", ...)."""
ROUTE_DROP_TYPES = frozenset({"blackhole", "unreachable", "prohibit"})
BENIGN_V6_UNREACHABLE = frozenset(
    {
        "::/96",
        "::ffff:0.0.0.0/96",
        "2002:a00::/24",
        "2002:7f00::/24",
        "2002:a9fe::/24",
        "2002:ac10::/28",
        "2002:c0a8::/32",
        "2002:e000::/19",
        "3ffe:ffff::/32",
    }
)
ENA_HIGH_COUNTERS = ("pps", "bw_in", "bw_out", "conntrack")
LOCAL_BRIDGE_PREFIXES = ("docker", "br-", "virbr", "cni", "lo", "nerdctl")
"""Devices whose link routes are node-local bridges, not VPC subnets."""
KUBE_PROXY_REPLACEMENT_CNIS = frozenset({"cilium-cni", "cilium"})
"""Main CNI plugins that usually replace kube-proxy (no KUBE-SERVICES chains by design)."""


# ---------------------------------------------------------------- helpers


def _get(artifacts: ArtifactMap, path: str, kind: str) -> Mapping[str, Any] | None:
    artifact = artifacts.get(path)
    if artifact is None or artifact.get("kind") != kind:
        return None
    return artifact


def _network(text: str | None) -> tuple[Network | None, bool]:
    """(network, negated) for ``10.0.0.0/8``, ``!10.0.0.0/8``, ``10.0.0.1``; (None, False) if not one."""
    if not text:
        return None, False
    negated = text.startswith("!")
    body = text[1:] if negated else text
    if body == "anywhere":
        body = "0.0.0.0/0"
    try:
        return ipaddress.ip_network(body, strict=False), negated
    except ValueError:
        return None, False


def _is_any(text: str | None) -> bool:
    network, negated = _network(text)
    return text in (None, "", "anywhere") or (network is not None and not negated and network.prefixlen == 0)


def _overlaps(network: Network, negated: bool, other: Network) -> bool:
    if network.version != other.version:
        return False
    if negated:
        return not other.subnet_of(network)  # type: ignore[arg-type]
    return network.overlaps(other)  # type: ignore[arg-type]


def _port_includes_53(dport: str | None) -> bool:
    if not dport:
        return False
    negated = dport.startswith("!")
    body = dport.lstrip("!")
    hit = False
    for part in body.split(","):
        low, is_range, high = part.partition(":")
        try:
            lo = int(low) if low else 0
            hi = int(high) if high else (65535 if is_range else lo)
        except ValueError:
            continue
        if lo <= 53 <= hi:
            hit = True
    return hit != negated


def _aggregate(
    rule_id: str,
    path: str,
    items: list[tuple[Severity, Evidence, dict[str, Any]]],
    extra: Mapping[str, Any] | None = None,
) -> list[Hit]:
    """One Hit per (rule, file): worst severity, evidence = up to 5 lines, worst first."""
    if not items:
        return []
    ordered = sorted(items, key=lambda item: (-item[0].rank, item[1].line))
    evidence = [item[1] for item in ordered[:MAX_EVIDENCE]]
    detail: dict[str, Any] = {"items": [item[2] for item in ordered[:MAX_DETAIL_ITEMS]]}
    if extra:
        detail.update(extra)
    return [
        hit_on_evidence(
            rule_id,
            path,
            evidence,
            count=len(items),
            severity=ordered[0][0],
            detail=detail,
        )
    ]


# ---------------------------------------------------------------- range inference


@dataclass
class Ranges:
    """Address ranges inferred from the bundle, each with where it came from."""

    vpc: list[Network] = field(default_factory=list)
    pods: list[Network] = field(default_factory=list)
    services: list[Network] = field(default_factory=list)
    dns_ips: list[Network] = field(default_factory=list)
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
    network, negated = _network(text)
    if network is not None and not negated and network.prefixlen > 0 and network not in target:
        target.append(network)


def _kube_summaries(artifacts: ArtifactMap, family: str) -> list[Mapping[str, Any]]:
    summaries: list[Mapping[str, Any]] = []
    for path in NAT_SOURCES[family]:
        listing = _get(artifacts, path, "iptables-list")
        if listing is not None:
            summaries.append(listing.get("kube", {}))
        saved = _get(artifacts, path, "iptables-save")
        if saved is not None and "nat" in saved.get("tables", {}):
            summaries.append(saved["tables"]["nat"].get("kube", {}))
    return summaries


def infer_ranges(artifacts: ArtifactMap) -> Ranges:
    ranges = Ranges()
    veth_prefix = "eni"
    for _path, env in artifacts_of_kind(artifacts, "networkutils-env-settings"):
        prefix = (env.get("settings") or {}).get("AWS_VPC_K8S_CNI_VETHPREFIX")
        if isinstance(prefix, str) and prefix:
            veth_prefix = prefix
    for _path, config in artifacts_of_kind(artifacts, "cni-config"):
        aws = config.get("aws_cni") or {}
        if isinstance(aws.get("vethPrefix"), str) and aws["vethPrefix"]:
            veth_prefix = aws["vethPrefix"]
    cluster_ips: list[str] = []
    for family in ("ipv4", "ipv6"):
        for kube in _kube_summaries(artifacts, family):
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
            if route.get("type") != "unicast":
                continue
            if dev.startswith(veth_prefix) and route.get("table") == "main":
                _add(ranges.pods, route.get("dst"))
            elif (
                route.get("proto") == "kernel"
                and route.get("scope") == "link"
                and route.get("table") == "main"
                and not dev.startswith(LOCAL_BRIDGE_PREFIXES)
            ):
                network, _ = _network(route.get("dst"))
                if network is not None and not network.is_link_local:
                    _add(ranges.vpc, route.get("dst"))
    for _path, rules in artifacts_of_kind(artifacts, "ip-rule"):
        for rule in rules.get("rules", []):
            if rule.get("priority") == 512 and rule.get("to"):
                _add(ranges.pods, rule["to"])
            elif rule.get("priority") == 1536 and rule.get("from") not in (None, "all"):
                _add(ranges.pods, rule["from"])
    if ranges.pods:
        ranges.notes.append(f"pod addresses from routes to {veth_prefix}* veths and VPC CNI ip rules")
    for _path, kubelet in artifacts_of_kind(artifacts, "kubelet-config"):
        for ip in kubelet.get("cluster_dns") or []:
            if isinstance(ip, str):
                _add(ranges.dns_ips, ip)
                cluster_ips.append(ip)
    for ip in cluster_ips:
        network, _ = _network(ip)
        if network is None:
            continue
        supernet = network.supernet(new_prefix=16) if network.version == 4 else network.supernet(new_prefix=108)
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


# ---------------------------------------------------------------- iptables filter rules


def _filter_source(artifacts: ArtifactMap, family: str) -> tuple[str, dict[str, Mapping[str, Any]]] | None:
    """The first present filter-table source of ``family`` that has built-in chains."""
    for path in FILTER_SOURCES[family]:
        listing = _get(artifacts, path, "iptables-list")
        chains: Mapping[str, Any] | None = None
        if listing is not None:
            chains = listing.get("chains")
        saved = _get(artifacts, path, "iptables-save")
        if saved is not None:
            chains = saved.get("tables", {}).get("filter", {}).get("chains")
        if chains and any(name in chains for name in ("INPUT", "FORWARD", "OUTPUT")):
            return path, dict(chains)
    return None


def _benign_drop(rule: Mapping[str, Any]) -> bool:
    text = f"{rule.get('match') or ''} {rule.get('spec') or ''}"
    if any(marker in text for marker in BENIGN_MATCH_MARKERS):
        return True
    if (rule.get("comment") or "").lower().startswith(BENIGN_COMMENT_PREFIXES):
        return True
    source, destination = rule.get("source") or "", rule.get("destination") or ""
    return source.startswith("!127.0.0.0/8") and destination.startswith("127.0.0.0/8")


def _coverage(rule: Mapping[str, Any], ranges: Ranges) -> list[str]:
    """What pod/service/DNS traffic the rule's addresses and ports cover (empty: none shown)."""
    covered: list[str] = []
    dport = rule.get("dport")
    prot = (rule.get("prot") or "all").lower()
    dns_port = _port_includes_53(dport)
    if dns_port:
        covered.append("DNS (port 53)")
    source, destination = rule.get("source"), rule.get("destination")
    if _is_any(source) and _is_any(destination):
        if prot in BROAD_PROTOCOLS and (dport is None or dns_port):
            covered.append("all traffic (source and destination 0.0.0.0/0)")
        return covered
    for side, text in (("source", source), ("destination", destination)):
        if _is_any(text):
            continue
        network, negated = _network(text)
        if network is None:
            continue
        for label, other in ranges.labelled():
            if _overlaps(network, negated, other):
                covered.append(f"{side} {text} overlaps {label} {other}")
                break
        for dns in ranges.dns_ips:
            if side == "destination" and _overlaps(network, negated, dns):
                covered.append(f"destination {text} includes DNS server {dns.network_address}")
                break
    return covered


def _drop_severity(pkts: int | None, covered: list[str]) -> Severity:
    if pkts is None:
        return Severity.HIGH if covered else Severity.MEDIUM
    if pkts > 0:
        return Severity.CRITICAL if covered else Severity.HIGH
    return Severity.MEDIUM


def _chain_drop_check(rule_id: str, chain: str) -> Any:
    def check(artifacts: ArtifactMap) -> list[Hit]:
        ranges: Ranges | None = None
        hits: list[Hit] = []
        for family in ("ipv4", "ipv6"):
            source = _filter_source(artifacts, family)
            if source is None:
                continue
            path, chains = source
            items: list[tuple[Severity, Evidence, dict[str, Any]]] = []
            for rule in (chains.get(chain) or {}).get("rules", []):
                if rule.get("target") not in DROP_TARGETS or _benign_drop(rule):
                    continue
                ranges = ranges or infer_ranges(artifacts)
                covered = _coverage(rule, ranges)
                severity = _drop_severity(rule.get("pkts"), covered)
                items.append(
                    (
                        severity,
                        Evidence(rule["line"], rule["text"]),
                        {
                            "line": rule["line"],
                            "chain": chain,
                            "target": rule.get("target"),
                            "source": rule.get("source"),
                            "destination": rule.get("destination"),
                            "prot": rule.get("prot"),
                            "dport": rule.get("dport"),
                            "pkts": rule.get("pkts"),
                            "bytes": rule.get("bytes"),
                            "covers": covered,
                            "severity": severity.value,
                        },
                    )
                )
            extra = {"family": family, "ranges": ranges.to_dict()} if ranges and items else None
            if items and any(item[2]["pkts"] is None for item in items):
                extra = {**(extra or {}), "counters": "unavailable (iptables-save without -c)"}
            hits.extend(_aggregate(rule_id, path, items, extra))
        return hits

    check.__name__ = f"check_{chain.lower()}_drop"
    return check


def check_forward_policy(artifacts: ArtifactMap) -> list[Hit]:
    hits: list[Hit] = []
    for family in ("ipv4", "ipv6"):
        source = _filter_source(artifacts, family)
        if source is None:
            continue
        path, chains = source
        forward = chains.get("FORWARD")
        if not forward or forward.get("policy") in (None, "ACCEPT") or not forward.get("text"):
            continue
        packets = forward.get("policy_packets")
        severity = Severity.HIGH if packets else Severity.MEDIUM
        item = {
            "policy": forward["policy"],
            "policy_packets": packets,
            "policy_bytes": forward.get("policy_bytes"),
            "family": family,
        }
        hits.extend(
            _aggregate(
                "network.iptables.forward-policy",
                path,
                [(severity, Evidence(forward["line"], forward["text"]), item)],
            )
        )
    return hits


# ---------------------------------------------------------------- kube-proxy


def _nat_source(artifacts: ArtifactMap, family: str) -> tuple[str, Mapping[str, Any], Evidence] | None:
    """(path, kube summary, evidence line) of the first nat-table source of ``family``."""
    for path in NAT_SOURCES[family]:
        listing = _get(artifacts, path, "iptables-list")
        if listing is not None and listing.get("chains"):
            chains = listing["chains"]
            anchor = chains.get("KUBE-SERVICES") or chains.get("PREROUTING") or next(iter(chains.values()))
            return path, listing.get("kube", {}), Evidence(anchor["line"], anchor["text"])
        saved = _get(artifacts, path, "iptables-save")
        if saved is not None and "nat" in saved.get("tables", {}):
            nat = saved["tables"]["nat"]
            chain = nat["chains"].get("KUBE-SERVICES")
            if chain and chain.get("text"):
                evidence = Evidence(chain["line"], chain["text"])
            else:
                evidence = Evidence(nat["line"], nat.get("text") or "*nat")
            return path, nat.get("kube", {}), evidence
    return None


KUBE_PROXY_WITHOUT_IPTABLES_CHAINS = ("ipvs", "nftables", "replaced")


def kube_proxy_mode(artifacts: ArtifactMap) -> str:
    """How Services are implemented on the node, from what the bundle shows: ``ipvs``, ``nftables``,
    ``replaced`` (the CNI replaces kube-proxy, e.g. Cilium), ``iptables`` or ``unknown``."""
    for _path, ipvs in artifacts_of_kind(artifacts, "ipvsadm"):
        if ipvs.get("virtual_services", 0) > 0:
            return "ipvs"
    for _path, ipset in artifacts_of_kind(artifacts, "ipset"):
        if ipset.get("kube_ipvs_markers"):
            return "ipvs"
    for kube in _kube_summaries(artifacts, "ipv4") + _kube_summaries(artifacts, "ipv6"):
        if kube.get("ipvs"):
            return "ipvs"
    for _path, nft in artifacts_of_kind(artifacts, "nft-ruleset"):
        if nft.get("kube_proxy"):
            return "nftables"
    for _path, config in artifacts_of_kind(artifacts, "cni-config"):
        if config.get("main_plugin") in KUBE_PROXY_REPLACEMENT_CNIS:
            return "replaced"
    saves = [a for _p, a in artifacts_of_kind(artifacts, "iptables-save") if a.get("family") == "ipv4"]
    listings = [a for _p, a in artifacts_of_kind(artifacts, "iptables-list") if a.get("family") == "ipv4"]
    if saves and any(a.get("variant") == "nf_tables" for a in saves):
        proxy_chains = sum(
            t.get("kube", {}).get("proxy_chains", 0) for a in saves for t in a.get("tables", {}).values()
        )
        proxy_chains += sum(a.get("kube", {}).get("proxy_chains", 0) for a in listings)
        if proxy_chains == 0:
            return "nftables"
    summaries = _kube_summaries(artifacts, "ipv4") + _kube_summaries(artifacts, "ipv6")
    if any(k.get("services_chain") or k.get("proxy_chains") for k in summaries):
        return "iptables"
    return "unknown"


def check_kube_proxy_chains(artifacts: ArtifactMap) -> list[Hit]:
    source = _nat_source(artifacts, "ipv4")
    if source is None:
        return []
    path, kube, evidence = source
    if kube.get("services_chain") and kube.get("svc_jumps", 0) > 0:
        return []
    if kube_proxy_mode(artifacts) in KUBE_PROXY_WITHOUT_IPTABLES_CHAINS:
        return []
    ipv6 = _nat_source(artifacts, "ipv6")
    if ipv6 is not None and ipv6[1].get("svc_jumps", 0) > 0:
        return []  # an IPv6 cluster: services live in ip6tables
    problem = (
        "KUBE-SERVICES chain missing" if not kube.get("services_chain") else "KUBE-SERVICES has no KUBE-SVC-* jumps"
    )
    item = {
        "problem": problem,
        "svc_jumps": kube.get("svc_jumps", 0),
        "proxy_chains": kube.get("proxy_chains", 0),
    }
    return _aggregate("network.kube-proxy.chains-missing", path, [(Severity.HIGH, evidence, item)])


# ---------------------------------------------------------------- routes


def _benign_route(route: Mapping[str, Any]) -> bool:
    if route.get("proto") in ("bird", "kernel"):
        return True  # Calico IPAM block blackholes; the kernel's own IPv6 unreachable defaults
    return route.get("type") == "unreachable" and route.get("dst") in BENIGN_V6_UNREACHABLE


def check_route_blackhole(artifacts: ArtifactMap) -> list[Hit]:
    hits: list[Hit] = []
    ranges: Ranges | None = None
    for path, table in artifacts_of_kind(artifacts, "ip-route"):
        items: list[tuple[Severity, Evidence, dict[str, Any]]] = []
        for route in table.get("routes", []):
            if route.get("type") not in ROUTE_DROP_TYPES or _benign_route(route):
                continue
            ranges = ranges or infer_ranges(artifacts)
            network, _ = _network(route.get("dst"))
            overlaps: list[str] = []
            assumed_only = True
            if network is not None:
                for label, other in ranges.labelled():
                    if _overlaps(network, False, other):
                        overlaps.append(f"{label} {other}")
                        assumed_only = assumed_only and "assumed" in label
            if overlaps and not assumed_only:
                severity = Severity.HIGH
            elif overlaps:
                severity = Severity.MEDIUM
            else:
                severity = Severity.LOW
            item = {
                "line": route["line"],
                "type": route["type"],
                "dst": route.get("dst"),
                "table": route.get("table"),
                "overlaps": overlaps,
                "severity": severity.value,
            }
            items.append((severity, Evidence(route["line"], route["text"]), item))
        extra = {"ranges": ranges.to_dict()} if ranges and items else None
        hits.extend(_aggregate("network.route.blackhole", path, items, extra))
    return hits


# ---------------------------------------------------------------- conntrack


def _int(value: Any) -> int | None:
    try:
        return int(str(value).split()[0])
    except (ValueError, IndexError):
        return None


def check_conntrack_near_full(artifacts: ArtifactMap) -> list[Hit]:
    sysctl = _get(artifacts, "sysctls/sysctl_all.txt", "sysctl")
    values = sysctl.get("values", {}) if sysctl else {}
    max_key = next((k for k in ("net.netfilter.nf_conntrack_max", "net.nf_conntrack_max") if k in values), None)
    if sysctl is None or max_key is None:
        return []
    maximum = _int(values[max_key])
    if not maximum:
        return []
    count_key = "net.netfilter.nf_conntrack_count"
    if count_key in values and _int(values[count_key]) is not None:
        count = _int(values[count_key])
        path = "sysctls/sysctl_all.txt"
        evidence = [
            Evidence(sysctl["lines"][count_key], sysctl_line_text(dict(sysctl), count_key)),
            Evidence(sysctl["lines"][max_key], sysctl_line_text(dict(sysctl), max_key)),
        ]
        source = "sysctl"
    else:
        table = _get(artifacts, "networking/conntrack.txt", "conntrack")
        if table is None:
            return []
        count = table.get("count") if table.get("count") is not None else table.get("entries")
        anchor = table.get("list_marker") or (
            {"line": table["count_line"], "text": str(table["count"])} if table.get("count_line") else None
        )
        if count is None or anchor is None:
            return []
        path, evidence, source = (
            "networking/conntrack.txt",
            [Evidence(anchor["line"], anchor["text"])],
            "conntrack -L",
        )
    assert count is not None
    ratio = count / maximum
    if ratio >= 0.9:
        severity = Severity.HIGH
    elif ratio >= 0.75:
        severity = Severity.MEDIUM
    else:
        return []
    detail = {"count": count, "max": maximum, "ratio": round(ratio, 4), "source": source}
    return [
        hit_on_evidence(
            "network.conntrack.table-near-full",
            path,
            evidence,
            severity=severity,
            detail=detail,
        )
    ]


def check_conntrack_insert_failed(artifacts: ArtifactMap) -> list[Hit]:
    hits: list[Hit] = []
    for path, table in artifacts_of_kind(artifacts, "conntrack"):
        totals = table.get("stats", {}).get("totals", {})
        insert_failed, drop = totals.get("insert_failed", 0), totals.get("drop", 0)
        worst = max(insert_failed, drop)
        if worst <= 0:
            continue
        severity = Severity.HIGH if worst >= 1000 else Severity.MEDIUM
        cpus = [
            c
            for c in table["stats"].get("cpus", [])
            if c["fields"].get("insert_failed", 0) or c["fields"].get("drop", 0)
        ]
        cpus.sort(key=lambda c: -(c["fields"].get("insert_failed", 0) + c["fields"].get("drop", 0)))
        evidence = [Evidence(c["line"], c["text"]) for c in cpus[:MAX_EVIDENCE]]
        if not evidence:
            continue
        detail = {
            "insert_failed": insert_failed,
            "drop": drop,
            "early_drop": totals.get("early_drop", 0),
            "clash_resolve": totals.get("clash_resolve"),
            "cpus_affected": len(cpus),
        }
        hits.append(
            hit_on_evidence(
                "network.conntrack.insert-failed",
                path,
                evidence,
                count=len(cpus),
                severity=severity,
                detail=detail,
            )
        )
    return hits


# ---------------------------------------------------------------- ENA, sysctl, DNS, CNI


def check_ena_allowance(artifacts: ArtifactMap) -> list[Hit]:
    hits: list[Hit] = []
    for path, ethtool in artifacts_of_kind(artifacts, "ethtool"):
        items: list[tuple[Severity, Evidence, dict[str, Any]]] = []
        for counter in ethtool.get("allowance_exceeded", []):
            if counter.get("value", 0) <= 0:
                continue
            high = counter["counter"].startswith(ENA_HIGH_COUNTERS)
            severity = Severity.HIGH if high else Severity.MEDIUM
            detail = {k: counter[k] for k in ("interface", "counter", "value")}
            if counter["counter"].startswith("linklocal"):
                detail["meaning"] = "link-local traffic (DNS resolver, IMDS, NTP) throttled"
            items.append((severity, Evidence(counter["line"], counter["text"]), detail))
        hits.extend(_aggregate("network.ena.allowance-exceeded", path, items))
    return hits


def check_ip_forward(artifacts: ArtifactMap) -> list[Hit]:
    sysctl = _get(artifacts, "sysctls/sysctl_all.txt", "sysctl")
    key = "net.ipv4.ip_forward"
    if sysctl is None or str(sysctl.get("values", {}).get(key, "")).strip() != "0":
        return []
    evidence = Evidence(sysctl["lines"][key], sysctl_line_text(dict(sysctl), key))
    return _aggregate(
        "network.sysctl.ip-forward-disabled",
        "sysctls/sysctl_all.txt",
        [(Severity.CRITICAL, evidence, {key: "0"})],
    )


def check_resolv_nameserver(artifacts: ArtifactMap) -> list[Hit]:
    hits: list[Hit] = []
    for path, resolv in artifacts_of_kind(artifacts, "resolv-conf"):
        if resolv.get("nameservers"):
            continue
        content = resolv.get("content", [])
        evidence = [Evidence(c["line"], c["text"]) for c in content[:MAX_EVIDENCE]]
        hits.append(
            hit_on_evidence(
                "dns.resolv.no-nameserver",
                path,
                evidence,
                severity=Severity.HIGH,
                detail={
                    "empty": not content,
                    "search": resolv.get("search", []),
                    "options": resolv.get("options", []),
                },
            )
        )
    return hits


def check_cni_config(artifacts: ArtifactMap) -> list[Hit]:
    hits: list[Hit] = []
    for path, config in artifacts_of_kind(artifacts, "cni-config"):
        if config.get("valid") and config.get("main_plugin"):
            continue
        if not config.get("valid"):
            anchor = (
                {"line": config["error_line"], "text": config["error_text"]}
                if config.get("error_line")
                else config.get("first_line")
            )
            detail = {"problem": "invalid JSON", "error": config.get("error")}
        else:
            anchor = config.get("plugins_line") or config.get("first_line")
            detail = {"problem": "no main CNI plugin", "plugin_types": config.get("plugin_types", [])}
        evidence = [Evidence(anchor["line"], anchor["text"])] if anchor else []
        hits.append(
            hit_on_evidence(
                "cni.config.invalid",
                path,
                evidence,
                severity=Severity.HIGH,
                detail=detail,
            )
        )
    return hits


# ---------------------------------------------------------------- catalogue rows

_FILTER_FILES = FILTER_SOURCES["ipv4"] + FILTER_SOURCES["ipv6"]

NETWORK_RULES: tuple[Rule, ...] = (
    Rule(
        id="network.iptables.forward-drop",
        severity=Severity.CRITICAL,
        category="network",
        title="iptables DROP/REJECT rule in the FORWARD chain",
        files=_FILTER_FILES,
        check=_chain_drop_check("network.iptables.forward-drop", "FORWARD"),
        description="DROP/REJECT placed directly in FORWARD: CRITICAL when it has matched packets and "
        "covers pod, service or DNS traffic, HIGH when it has matched other packets, MEDIUM when latent.",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        id="network.iptables.input-drop",
        severity=Severity.HIGH,
        category="network",
        title="iptables DROP/REJECT rule in the INPUT chain",
        files=_FILTER_FILES,
        check=_chain_drop_check("network.iptables.input-drop", "INPUT"),
        description="DROP/REJECT placed directly in INPUT (kube-proxy's own chains are not considered).",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        id="network.iptables.output-drop",
        severity=Severity.HIGH,
        category="network",
        title="iptables DROP/REJECT rule in the OUTPUT chain",
        files=_FILTER_FILES,
        check=_chain_drop_check("network.iptables.output-drop", "OUTPUT"),
        description="DROP/REJECT placed directly in OUTPUT (kube-proxy's own chains are not considered).",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        id="network.iptables.forward-policy",
        severity=Severity.HIGH,
        category="network",
        title="iptables FORWARD chain policy is not ACCEPT",
        files=_FILTER_FILES,
        check=check_forward_policy,
        description="Pod-to-pod and pod-to-service traffic is forwarded; a DROP policy that counted packets "
        "is HIGH, MEDIUM while its counter is zero.",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        id="network.kube-proxy.chains-missing",
        severity=Severity.HIGH,
        category="network",
        title="kube-proxy service chains missing from the nat table",
        files=NAT_SOURCES["ipv4"],
        check=check_kube_proxy_chains,
        description="No KUBE-SERVICES chain, or one without KUBE-SVC-* jumps, while kube-proxy is not in "
        "IPVS or nftables mode: Service IPs are not translated on this node.",
        remedy=Remedy.NODE,
    ),
    Rule(
        id="network.route.blackhole",
        severity=Severity.HIGH,
        category="network",
        title="blackhole/unreachable/prohibit route",
        files=("networking/iproute.txt", "networking/ip6route.txt"),
        check=check_route_blackhole,
        description="HIGH when the route overlaps the service, pod or VPC range; Calico (proto bird) IPAM "
        "blackholes and kernel defaults are ignored.",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        id="network.conntrack.table-near-full",
        severity=Severity.HIGH,
        category="conntrack",
        title="conntrack table near its maximum",
        files=("sysctls/sysctl_all.txt", "networking/conntrack.txt"),
        check=check_conntrack_near_full,
        description="nf_conntrack_count / nf_conntrack_max at 90% or more is HIGH, 75% or more MEDIUM.",
        remedy=Remedy.CONFIGURATION,
        nma=("ConntrackExceeded",),
    ),
    Rule(
        id="network.conntrack.insert-failed",
        severity=Severity.MEDIUM,
        category="conntrack",
        title="conntrack insert failures or drops",
        files=("networking/conntrack.txt",),
        check=check_conntrack_insert_failed,
        description="conntrack -S insert_failed/drop totals above zero (HIGH from 1000): typically UDP "
        "DNS races or a full table.",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        id="network.ena.allowance-exceeded",
        severity=Severity.HIGH,
        category="network",
        title="ENA network allowance exceeded",
        files=("networking/ethtool.txt",),
        check=check_ena_allowance,
        description="The instance hit its PPS, bandwidth or conntrack allowance (HIGH) or the link-local "
        "(DNS/IMDS) allowance (MEDIUM); packets were queued or dropped.",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        id="network.sysctl.ip-forward-disabled",
        severity=Severity.CRITICAL,
        category="network",
        title="IPv4 forwarding disabled (net.ipv4.ip_forward = 0)",
        files=("sysctls/sysctl_all.txt",),
        check=check_ip_forward,
        description="Without IP forwarding the node cannot route pod traffic.",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        id="dns.resolv.no-nameserver",
        severity=Severity.HIGH,
        category="dns",
        title="resolv.conf has no nameserver",
        files=("networking/resolv.conf",),
        check=check_resolv_nameserver,
        description="The node's resolver falls back to 127.0.0.1; kubelet and pods with dnsPolicy Default "
        "inherit the broken configuration.",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        id="cni.config.invalid",
        severity=Severity.HIGH,
        category="cni",
        title="CNI network configuration invalid",
        files=("cni/*.conflist", "cni/*.conf"),
        check=check_cni_config,
        description="A CNI config file that is not valid JSON or has no main plugin makes sandbox creation fail.",
        remedy=Remedy.CONFIGURATION,
    ),
)
