"""kube-proxy: which mode it runs in, and whether the Service chains it must program exist.

The mode comes from kube-proxy itself first: its pod log announces ``"Using iptables Proxier"``
(or ipvs, nftables) at start. Then from what each mode leaves: IPVS virtual services, KUBE-* ipsets
and KUBE-IPVS chains; kube-proxy's own nftables table (``table ip kube-proxy`` in an nft dump); a CNI
that replaces kube-proxy (Cilium); KUBE-SERVICES chains. The ``(nf_tables)`` in an ``iptables-save``
header is *not* a mode: it names the iptables backend (AL2023 installs iptables-nft), under which
kube-proxy's iptables mode writes the same KUBE-* chains.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eksdiag.engine.checks._hits import artifacts_of_kind
from eksdiag.engine.checks.network_common import Item, aggregate
from eksdiag.engine.checks.network_iptables import TableView, table_views
from eksdiag.engine.checks.network_ranges import kube_summaries
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Severity
from eksdiag.engine.parsers.network_podlogs import pod_log_location

KUBE_PROXY_WITHOUT_IPTABLES_CHAINS = ("ipvs", "nftables", "replaced")
KUBE_PROXY_REPLACEMENT_CNIS = frozenset({"cilium-cni", "cilium"})
"""Main CNI plugins that usually replace kube-proxy (no KUBE-SERVICES chains by design)."""


def announced_mode(artifacts: ArtifactMap) -> tuple[str, str, Mapping[str, Any]] | None:
    """(mode, path, {line, text}) of the latest ``Using <mode> Proxier`` line in kube-proxy's logs."""
    best: tuple[str, str, str, Mapping[str, Any]] | None = None
    for path, log in artifacts_of_kind(artifacts, "pod-log"):
        location = pod_log_location(path)
        announced = log.get("proxy_mode")
        if location is None or location.container != "kube-proxy" or not announced:
            continue
        key = str(log.get("last_time") or "")
        if best is None or key > best[0]:
            best = (key, str(announced["mode"]), path, announced)
    return None if best is None else best[1:]


def kube_proxy_mode(artifacts: ArtifactMap) -> str:
    """How Services are implemented on the node, from what the bundle shows: ``ipvs``, ``nftables``,
    ``replaced`` (the CNI replaces kube-proxy, e.g. Cilium), ``iptables`` or ``unknown``."""
    announced = announced_mode(artifacts)
    if announced is not None and announced[0] in ("iptables", "ipvs", "nftables"):
        return announced[0]
    for _path, ipvs in artifacts_of_kind(artifacts, "ipvsadm"):
        if ipvs.get("virtual_services", 0) > 0:
            return "ipvs"
    for _path, ipset in artifacts_of_kind(artifacts, "ipset"):
        if ipset.get("kube_ipvs_markers"):
            return "ipvs"
    summaries = kube_summaries(artifacts, "ipv4") + kube_summaries(artifacts, "ipv6")
    if any(k.get("ipvs") for k in summaries):
        return "ipvs"
    for _path, nft in artifacts_of_kind(artifacts, "nft-ruleset"):
        if nft.get("kube_proxy"):
            return "nftables"
    for _path, config in artifacts_of_kind(artifacts, "cni-config"):
        if config.get("main_plugin") in KUBE_PROXY_REPLACEMENT_CNIS:
            return "replaced"
    if any(k.get("services_chain") or k.get("proxy_chains") for k in summaries):
        return "iptables"
    if any(view.table == "nat" and "KUBE-SERVICES" in view.chains for view in table_views(artifacts)):
        return "iptables"
    return "unknown"


def _services_programmed(views: list[TableView]) -> bool:
    for view in views:
        services = view.chains.get("KUBE-SERVICES") or {}
        if any(str(r.get("target", "")).startswith("KUBE-SVC-") for r in services.get("rules") or ()):
            return True
        if services.get("rule_count", 0) and not services.get("rules"):
            return True  # rules counted but not stored (a very large table)
    return False


def _anchor(view: TableView) -> Evidence:
    chains = view.chains
    anchor = chains.get("KUBE-SERVICES") or chains.get("PREROUTING") or next(iter(chains.values()))
    return Evidence(anchor["line"], anchor.get("text") or "")


def check_kube_proxy_chains(artifacts: ArtifactMap) -> list[Hit]:
    views = [v for v in table_views(artifacts) if v.table == "nat"]
    ipv4 = [v for v in views if v.family == "ipv4"]
    if not ipv4 or _services_programmed(ipv4):
        return []
    mode = kube_proxy_mode(artifacts)
    if mode in KUBE_PROXY_WITHOUT_IPTABLES_CHAINS:
        return []
    if _services_programmed([v for v in views if v.family == "ipv6"]):
        return []  # an IPv6 cluster: Services live in ip6tables
    view = next((v for v in ipv4 if v.binary == "default"), ipv4[0])
    has_chain = any("KUBE-SERVICES" in v.chains for v in ipv4)
    problem = "KUBE-SERVICES has no KUBE-SVC-* jumps" if has_chain else "KUBE-SERVICES chain missing"
    announced = announced_mode(artifacts)
    if announced is not None:
        severity = Severity.CRITICAL
        reason = (
            f"kube-proxy announced iptables mode ({announced[1]} line {announced[2]['line']}) but the nat table has "
            f"no Service rules ({problem}): no Service IP, cluster DNS included, is translated on this node."
        )
    else:
        severity = Severity.HIGH
        reason = (
            f"The nat table has no Service rules ({problem}) and nothing shows kube-proxy in IPVS or nftables "
            "mode or replaced by the CNI: Service IPs are probably not translated on this node."
        )
    item = {"problem": problem, "mode": mode, "tables_read": sorted({v.path for v in ipv4})}
    return aggregate("network.kube-proxy.chains-missing", view.path, [Item(severity, _anchor(view), item, reason)])
