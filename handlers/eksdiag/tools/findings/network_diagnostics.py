"""network_diagnostics: iptables, routes, conntrack, DNS, CNI, ipamd, ENA, interface and systemd link
policy sections with severities.

Built only from the bundle's parsed artifacts and findings. kube-proxy in IPVS or nftables mode has
no KUBE-SVC chains by design, so a missing-chains finding is reported as INFO there, never CRITICAL;
a file that is simply not in the bundle makes its section ``not-collected``, never an issue. The
iptables facts cover every table of both backends: rules written with ``iptables-legacy`` on an
nf_tables node live in kernel tables the default ``iptables`` does not show, and the kernel runs both.
"""

from __future__ import annotations

from typing import Any

from eksdiag.engine.checks.network import KUBE_PROXY_WITHOUT_IPTABLES_CHAINS
from eksdiag.engine.checks.network import kube_proxy_mode as engine_kube_proxy_mode
from eksdiag.engine.checks.network_iptables import BUILTIN, DROP_TARGETS, TableView, table_views, unexpected_drops
from eksdiag.tools.base import ToolContext
from eksdiag.tools.findings._common import LoadedBundle, resolve_bundle
from eksdiag.tools.findings._sections import Section, artifact, build, first_artifact, to_int

NAME = "network_diagnostics"
GROUP = "findings"

SAVE = "networking/iptables-save.txt"
FILTER_LISTINGS = ["networking/iptables-filter.txt", "networking/iptables.txt"]
NAT = "networking/iptables-nat.txt"
SYSCTL = "sysctls/sysctl_all.txt"
INTERFACE_SOURCES = ("networking/ip-addr.txt", "networking/ip-s-link.txt", "networking/ifconfig.txt")
"""Every interface with its flags (the project's collector), else ifconfig (UP interfaces only)."""
MAX_LISTED_INTERFACES = 100


def kube_proxy_mode(bundle: LoadedBundle) -> str:
    """``ipvs``, ``nftables``, ``replaced``, ``iptables`` or ``unknown``: the engine's own detector."""
    return engine_kube_proxy_mode(bundle.index.get("artifacts") or {})


def _iptables(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    save = artifact(bundle, SAVE, "iptables-save")
    path, listing = first_artifact(bundle, FILTER_LISTINGS, "iptables-list")
    chains = listing.get("chains") or ((save.get("tables") or {}).get("filter") or {}).get("chains") or {}
    policies = {name: chains[name].get("policy") for name in ("INPUT", "FORWARD", "OUTPUT") if name in chains}
    tables = [_table(view) for view in table_views(bundle.artifacts)]
    filters = [t for t in tables if t["table"] == "filter"]
    nat_kube = (artifact(bundle, NAT, "iptables-list").get("kube") or {}) or (
        ((save.get("tables") or {}).get("nat") or {}).get("kube") or {}
    )
    ipvs = artifact(bundle, "networking/ipvsadm.txt", "ipvsadm")
    return {
        "backend": save.get("variant"),
        "kubeProxyMode": kube_proxy_mode(bundle),
        "policies": policies,
        "blockingRulesInBuiltinChains": sum(t["blockingRulesInBuiltinChains"] for t in filters),
        "unexpectedBlockingRules": sum(t["unexpectedBlockingRules"] for t in tables),
        "ruleCount": save.get("rule_count", listing.get("rule_count")),
        "kubeServicesChain": nat_kube.get("services_chain"),
        "serviceJumps": nat_kube.get("svc_jumps"),
        "ipvsVirtualServices": ipvs.get("virtual_services"),
        "legacyTables": sorted({f"{t['family']} {t['table']}" for t in tables if t["backend"] == "legacy"}),
        "tables": tables,
        "source": SAVE if save else path,
    }


def _table(view: TableView) -> dict[str, Any]:
    """One table of one backend as its best file (or a later file adding rules) shows it."""
    builtin = [name for name in BUILTIN if name in view.chains]
    return {
        "family": view.family,
        "backend": view.binary,
        "table": view.table,
        "file": view.path,
        "counters": view.counters,
        "addsToBetterSource": not view.primary,
        "policies": {name: (view.chains.get(name) or {}).get("policy") for name in builtin},
        "rules": sum(len(view.rules(name)) for name in view.chains),
        "blockingRulesInBuiltinChains": sum(
            1 for name in builtin for rule in view.rules(name) if rule.get("target") in DROP_TARGETS
        ),
        "unexpectedBlockingRules": len({id(rule) for _, rule, _ in unexpected_drops(view)}),
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


def _interfaces(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    path = next((p for p in INTERFACE_SOURCES if artifact(bundle, p, "interfaces")), None)
    listed = artifact(bundle, path, "interfaces") if path else {}
    interfaces = listed.get("interfaces") or []
    return {
        "source": path,
        "listsDownInterfaces": bool(listed.get("lists_down")),
        "count": len(interfaces),
        "loopbackPresent": any(i.get("loopback") for i in interfaces),
        "notUp": [i.get("name") for i in interfaces if not i.get("up")],
        "notRunning": [i.get("name") for i in interfaces if i.get("up") and not i.get("running")],
        "interfaces": [
            {
                "name": i.get("name"),
                "up": i.get("up"),
                "running": i.get("running"),
                "state": i.get("state"),
                "addresses": i.get("addresses") or [],
                "line": i.get("line"),
            }
            for i in interfaces[:MAX_LISTED_INTERFACES]
        ],
        "truncated": len(interfaces) > MAX_LISTED_INTERFACES,
    }


def _systemd(bundle: LoadedBundle, present: list[str]) -> dict[str, Any]:
    units = [(p, artifact(bundle, p, "systemd-network-unit")) for p in present]
    return {
        "units": [
            {
                "file": p,
                "unit": u.get("unit"),
                "parts": u.get("parts") or [],
                "match": u.get("match") or {},
                "macAddressPolicy": ((u.get("link") or {}).get("MACAddressPolicy") or {}).get("value"),
            }
            for p, u in units
            if u
        ]
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
    Section("interfaces", INTERFACE_SOURCES, ("network.interface.*",), _interfaces),
    Section(
        "systemd",
        ("networking/systemd-network/*",),
        ("network.systemd.*",),
        _systemd,
        "no systemd-networkd configuration in the bundle (AL2's systemd cannot print it)",
    ),
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
