"""network_diagnostics: iptables, routes, conntrack, DNS, CNI, ipamd and ENA sections with severities.

Built only from the bundle's parsed artifacts and findings. kube-proxy in IPVS or nftables mode has
no KUBE-SVC chains by design, so a missing-chains finding is reported as INFO there, never CRITICAL;
a file that is simply not in the bundle makes its section ``not-collected``, never an issue.
"""

from __future__ import annotations

from typing import Any

from eksdiag.engine.checks.network import KUBE_PROXY_WITHOUT_IPTABLES_CHAINS
from eksdiag.engine.checks.network import kube_proxy_mode as engine_kube_proxy_mode
from eksdiag.tools.base import ToolContext
from eksdiag.tools.findings._common import LoadedBundle, resolve_bundle
from eksdiag.tools.findings._sections import Section, artifact, build, first_artifact, to_int

NAME = "network_diagnostics"
GROUP = "findings"

SAVE = "networking/iptables-save.txt"
FILTER_LISTINGS = ["networking/iptables-filter.txt", "networking/iptables.txt"]
NAT = "networking/iptables-nat.txt"
SYSCTL = "sysctls/sysctl_all.txt"


def kube_proxy_mode(bundle: LoadedBundle) -> str:
    """``ipvs``, ``nftables``, ``replaced``, ``iptables`` or ``unknown``: the engine's own detector."""
    return engine_kube_proxy_mode(bundle.index.get("artifacts") or {})


def _iptables(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    save = artifact(bundle, SAVE, "iptables-save")
    path, listing = first_artifact(bundle, FILTER_LISTINGS, "iptables-list")
    chains = listing.get("chains") or ((save.get("tables") or {}).get("filter") or {}).get("chains") or {}
    policies = {name: chains[name].get("policy") for name in ("INPUT", "FORWARD", "OUTPUT") if name in chains}
    blocking = 0
    for name in ("INPUT", "FORWARD", "OUTPUT"):
        for rule in (chains.get(name) or {}).get("rules") or []:
            blocking += rule.get("target") in ("DROP", "REJECT")
    nat_kube = (artifact(bundle, NAT, "iptables-list").get("kube") or {}) or (
        ((save.get("tables") or {}).get("nat") or {}).get("kube") or {}
    )
    ipvs = artifact(bundle, "networking/ipvsadm.txt", "ipvsadm")
    return {
        "backend": save.get("variant"),
        "kubeProxyMode": kube_proxy_mode(bundle),
        "policies": policies,
        "blockingRulesInBuiltinChains": blocking,
        "ruleCount": save.get("rule_count", listing.get("rule_count")),
        "kubeServicesChain": nat_kube.get("services_chain"),
        "serviceJumps": nat_kube.get("svc_jumps"),
        "ipvsVirtualServices": ipvs.get("virtual_services"),
        "source": SAVE if save else path,
    }


def _routes(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    table = artifact(bundle, "networking/iproute.txt", "ip-route")
    routes = table.get("routes") or []
    defaults = [
        {"table": r.get("table"), "via": r.get("via"), "dev": r.get("dev"), "line": r.get("line")}
        for r in routes
        if r.get("dst") in ("0.0.0.0/0", "default") and r.get("type") == "unicast"
    ]
    unroutable = [
        {"dst": r.get("dst"), "type": r.get("type"), "table": r.get("table"), "line": r.get("line")}
        for r in routes
        if r.get("type") in ("blackhole", "unreachable", "prohibit")
    ]
    rules = artifact(bundle, "networking/iprule.txt", "ip-rule").get("rules") or []
    forward = (artifact(bundle, SYSCTL, "sysctl").get("values") or {}).get("net.ipv4.ip_forward")
    return {
        "routeCount": len(routes),
        "byType": table.get("by_type"),
        "defaultRoutes": defaults,
        "unroutable": unroutable,
        "policyRules": len(rules),
        "ipForward": forward,
    }


def _conntrack(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    ct = artifact(bundle, "networking/conntrack.txt", "conntrack")
    cpus = (ct.get("stats") or {}).get("cpus") or []
    totals: dict[str, int] = {}
    for cpu in cpus:
        for key in ("insert_failed", "drop", "early_drop", "error"):
            totals[key] = totals.get(key, 0) + (to_int((cpu.get("fields") or {}).get(key)) or 0)
    values = artifact(bundle, SYSCTL, "sysctl").get("values") or {}
    count = to_int(values.get("net.netfilter.nf_conntrack_count"))
    maximum = to_int(values.get("net.netfilter.nf_conntrack_max"))
    return {
        "count": count,
        "max": maximum,
        "usePct": round(100 * count / maximum, 1) if count is not None and maximum else None,
        "entriesListed": ct.get("entries"),
        "insertFailed": totals.get("insert_failed"),
        "drop": totals.get("drop"),
        "earlyDrop": totals.get("early_drop"),
        "cpus": len(cpus),
    }


def _dns(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    resolv = artifact(bundle, "networking/resolv.conf", "resolv-conf")
    kubelet = artifact(bundle, "kubelet/config.json") or artifact(bundle, "kubelet/kubelet-config.json")
    return {
        "nameservers": [n.get("address") for n in resolv.get("nameservers") or []],
        "search": resolv.get("search"),
        "options": resolv.get("options"),
        "clusterDNS": kubelet.get("cluster_dns"),
    }


def _cni(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    configs = [(p, bundle.artifacts.get(p) or {}) for p in present]
    configs = [(p, c) for p, c in configs if c.get("kind") == "cni-config"]
    return {
        "configs": [
            {
                "file": p,
                "valid": c.get("valid"),
                "error": c.get("error"),
                "mainPlugin": c.get("main_plugin"),
                "plugins": c.get("plugin_types"),
                "cniVersion": c.get("cniVersion"),
            }
            for p, c in configs
        ]
    }


def _ipamd(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    enis = artifact(bundle, "ipamd/enis.json")
    metrics = (artifact(bundle, "ipamd/metrics.json").get("metrics")) or {}
    return {
        "totalIps": enis.get("total_ips"),
        "assignedIps": enis.get("assigned_ips"),
        "eniCount": enis.get("eni_count"),
        "metrics": {k: v for k, v in metrics.items() if isinstance(v, (int, float))},
    }


def _ena(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    eth = artifact(bundle, "networking/ethtool.txt", "ethtool")
    return {
        "interfaces": [
            {
                "name": i.get("name"),
                "exceeded": {
                    k: v for k, v in (i.get("counters") or {}).items() if k.endswith("_exceeded") and to_int(v)
                },
            }
            for i in eth.get("interfaces") or []
        ]
    }


SECTIONS: tuple[Section, ...] = (
    Section(
        "iptables",
        ("networking/iptables*.txt", "networking/ip6tables*.txt", "networking/ipvsadm.txt"),
        ("network.iptables.*", "network.kube-proxy.*"),
        _iptables,
    ),
    Section(
        "routes",
        ("networking/iproute.txt", "networking/ip6route.txt", "networking/iprule.txt"),
        ("network.route.*", "network.sysctl.*"),
        _routes,
    ),
    Section("conntrack", ("networking/conntrack.txt",), ("network.conntrack.*",), _conntrack),
    Section("dns", ("networking/resolv.conf",), ("dns.*",), _dns),
    Section("cni", ("cni/*.conf", "cni/*.conflist", "cni/*.json"), ("cni.*", "kubelet.cni-not-ready"), _cni),
    Section(
        "ipamd",
        ("ipamd/*", "var_log/aws-routed-eni/*"),
        ("vpc-cni.*",),
        _ipamd,
        "no VPC CNI (ipamd) files: the node may use another CNI",
    ),
    Section("ena", ("networking/ethtool.txt",), ("network.ena.*",), _ena),
)
SECTION_NAMES = tuple(s.name for s in SECTIONS)


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    bundle = resolve_bundle(args, ctx)
    mode = kube_proxy_mode(bundle)

    def adjust(item: dict[str, Any]) -> dict[str, Any] | None:
        if item["rule"] == "network.kube-proxy.chains-missing" and mode in KUBE_PROXY_WITHOUT_IPTABLES_CHAINS:
            item["severity"] = "INFO"
            item["note"] = f"kube-proxy runs in {mode} mode, which has no KUBE-SVC chains; expected"
        return item

    built = build(bundle, SECTIONS, list(args.get("sections") or []), adjust)
    return {**bundle.header(), "kubeProxyMode": mode, **built}
