"""Routes and policy rules: blackhole routes, and the per-pod rules and routes the VPC CNI must keep.

A blackhole (unreachable, prohibit) route drops what the kernel routes through it, and the kernel
routes by longest prefix: a more specific route in the same table wins, so a blackhole over a /24
does not touch a pod whose /32 route to its veth sits in the same table. Severity follows what the
route still captures.

For every pod address ipamd assigned (``ipamd/enis.json``, ``ipamd/ipam.json``) the VPC CNI installs
a ``512: from all to <ip> lookup main`` rule and a ``<ip> dev <veth> scope link`` route in main; for
pods on a secondary ENI also ``1536: from <ip> lookup <table>``, and that table needs its own
default route (``default via <gateway> dev <eni> table <n>``). A pod without them is unreachable
(or cannot answer) although ipamd believes it is wired.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from eksdiag.engine.checks._hits import artifacts_of_kind
from eksdiag.engine.checks.network_common import Item, Network, aggregate, get, network
from eksdiag.engine.checks.network_ranges import Ranges, infer_ranges
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Severity

ROUTE_DROP_TYPES = frozenset({"blackhole", "unreachable", "prohibit"})
BENIGN_V6_UNREACHABLE = frozenset(
    {"::/96", "::ffff:0.0.0.0/96", "2002:a00::/24", "2002:7f00::/24", "2002:a9fe::/24", "2002:ac10::/28",
     "2002:c0a8::/32", "2002:e000::/19", "3ffe:ffff::/32"}
)  # fmt: skip
TO_POD_PRIORITY = 512
FROM_POD_PRIORITY = 1536


def _benign_route(route: Mapping[str, Any]) -> bool:
    if route.get("proto") in ("bird", "kernel"):
        return True  # Calico IPAM block blackholes; the kernel's own IPv6 unreachable defaults
    return route.get("type") == "unreachable" and route.get("dst") in BENIGN_V6_UNREACHABLE


def _more_specific_covers(target: Network, hole: Network, table: str, routes: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a route more specific than ``hole`` in ``table`` carries all of ``target``."""
    for route in routes:
        if route.get("table") != table or route.get("type") not in ("unicast", "local"):
            continue
        net, _ = network(route.get("dst"))
        if net is None or net.version != hole.version or net.prefixlen <= hole.prefixlen:
            continue
        if target.subnet_of(net):  # type: ignore[arg-type]
            return True
    return False


def captured(hole: Network, table: str, routes: list[Mapping[str, Any]], ranges: Ranges) -> list[tuple[str, str]]:
    """(kind, fact) for every inferred range whose traffic this route still captures by longest prefix."""
    found: list[tuple[str, str]] = []

    def check(kind: str, label: str, others: Iterable[Network]) -> None:
        for other in others:
            if other.version != hole.version or not hole.overlaps(other):  # type: ignore[arg-type]
                continue
            inside = other if other.subnet_of(hole) else hole  # type: ignore[arg-type]
            if _more_specific_covers(inside, hole, table, routes):
                continue
            shown = other.network_address if other.prefixlen == other.max_prefixlen else other
            found.append((kind, f"{label} {shown}"))
            return

    check("dns", "DNS server", ranges.dns_ips)
    check("services", "Service IP", ranges.cluster_ips)
    check("pods", "pod", ranges.pods)
    check("vpc", "VPC range", ranges.vpc)
    check("services-assumed" if ranges.services_assumed else "services", "service range", ranges.services)
    return found


def check_route_blackhole(artifacts: ArtifactMap) -> list[Hit]:
    hits: list[Hit] = []
    ranges: Ranges | None = None
    for path, table in artifacts_of_kind(artifacts, "ip-route"):
        routes = list(table.get("routes", []))
        items: list[Item] = []
        for route in routes:
            if route.get("type") not in ROUTE_DROP_TYPES or _benign_route(route):
                continue
            ranges = ranges or infer_ranges(artifacts)
            hole, _ = network(route.get("dst"))
            found = captured(hole, route.get("table") or "main", routes, ranges) if hole is not None else []
            kinds = {kind for kind, _ in found}
            facts = "; ".join(fact for _, fact in found)
            where = f"{route['type']} route {route.get('dst')} (table {route.get('table')})"
            if kinds - {"services-assumed"}:
                severity = Severity.HIGH
                reason = f"The {where} drops traffic to {facts}: no more specific route takes it first."
            elif kinds:
                severity = Severity.MEDIUM
                reason = f"The {where} covers {facts}, assumed because the bundle shows no cluster IP."
            else:
                severity = Severity.LOW
                reason = f"The {where} captures no pod, Service, DNS or VPC address the bundle shows."
            item = {"line": route["line"], "type": route["type"], "dst": route.get("dst"), "table": route.get("table"),
                    "overlaps": [fact for _, fact in found], "severity": severity.value}  # fmt: skip
            items.append(Item(severity, Evidence(route["line"], route["text"]), item, reason))
        extra = {"ranges": ranges.to_dict()} if ranges and items else None
        hits.extend(aggregate("network.route.blackhole", path, items, extra))
    return hits


# ---------------------------------------------------------------- VPC CNI rules and routes per pod


def _pod_addresses(artifacts: ArtifactMap) -> dict[str, dict[str, Any]]:
    """ip -> {"pod", "eni", "primary", "table", "source"} for every pod address ipamd assigned."""
    pods: dict[str, dict[str, Any]] = {}
    for path, enis in artifacts_of_kind(artifacts, "ipamd-enis"):
        for card in enis.get("network_cards") or ():
            for eni in card.get("enis") or ():
                table = eni.get("route_table_id")
                if table is None and eni.get("device_number") is not None:
                    table = 254 if eni.get("is_primary") else eni["device_number"] + 1
                for entry in eni.get("assigned") or ():
                    pods[entry["ip"]] = {"pod": entry.get("pod"), "eni": eni.get("id"),
                                         "primary": bool(eni.get("is_primary")), "table": table,
                                         "source": path}  # fmt: skip
    for path, checkpoint in artifacts_of_kind(artifacts, "ipamd-checkpoint"):
        for entry in checkpoint.get("allocations") or ():
            pods.setdefault(entry["ip"], {"pod": entry.get("pod"), "eni": None, "primary": None, "table": None,
                                          "source": path})  # fmt: skip
    return pods


def _host(text: str | None) -> str | None:
    net, negated = network(text)
    if net is None or negated or net.prefixlen != net.max_prefixlen:
        return None
    return str(net.network_address)


def _family_paths(ip: str) -> tuple[str, str]:
    if ipaddress.ip_address(ip).version == 6:
        return "networking/ip6rule.txt", "networking/ip6route.txt"
    return "networking/iprule.txt", "networking/iproute.txt"


def _pod_label(ip: str, meta: Mapping[str, Any]) -> str:
    return f"pod {meta['pod']} ({ip})" if meta.get("pod") else f"pod address {ip}"


def check_pod_rules_and_routes(artifacts: ArtifactMap) -> list[Hit]:
    """MissingIPRules / MissingIPRoutes: an assigned pod address without its rule or its route."""
    pods = _pod_addresses(artifacts)
    if not pods:
        return []
    rule_items: dict[str, list[Item]] = {}
    route_items: dict[str, list[Item]] = {}
    for ip, meta in sorted(pods.items()):
        rule_path, route_path = _family_paths(ip)
        rules = get(artifacts, rule_path, "ip-rule")
        routes = get(artifacts, route_path, "ip-route")
        if rules is None or routes is None:
            continue
        to_rule = any(r.get("priority") == TO_POD_PRIORITY and _host(r.get("to")) == ip for r in rules["rules"])
        from_rule = any(r.get("priority") == FROM_POD_PRIORITY and _host(r.get("from")) == ip for r in rules["rules"])
        route = any(
            r.get("type") == "unicast" and r.get("table") == "main" and _host(r.get("dst")) == ip and r.get("dev")
            for r in routes["routes"]
        )
        label = _pod_label(ip, meta)
        anchor = next(
            (Evidence(r["line"], r["text"]) for r in rules["rules"] if _host(r.get("from")) == ip), Evidence(1, "")
        )
        secondary = meta.get("primary") is False
        missing = []
        if not to_rule:
            missing.append(f"{TO_POD_PRIORITY}: from all to {ip} lookup main")
        if secondary and not from_rule:
            missing.append(f"{FROM_POD_PRIORITY}: from {ip} lookup {meta.get('table') or '<eni table>'}")
        if missing:
            reason = f"ipamd assigned {label} but the policy rules lack {' and '.join(missing)}: " + (
                "traffic to the pod is not routed to it." if not to_rule else "its replies leave by the wrong ENI."
            )
            detail = {"ip": ip, "pod": meta.get("pod"), "eni": meta.get("eni"), "missing": missing}
            rule_items.setdefault(rule_path, []).append(Item(Severity.HIGH, anchor, detail, reason))
        if not route:
            reason = (
                f"ipamd assigned {label} but the main table has no `{ip} dev <veth> scope link` route: "
                "the pod is unreachable."
            )
            detail = {"ip": ip, "pod": meta.get("pod"), "eni": meta.get("eni")}
            route_items.setdefault(route_path, []).append(Item(Severity.HIGH, Evidence(1, ""), detail, reason))
    hits: list[Hit] = []
    for path, items in rule_items.items():
        hits.extend(aggregate("vpc-cni.pod-ip-rule-missing", path, _counted(items, len(pods))))
    for path, items in route_items.items():
        hits.extend(aggregate("vpc-cni.pod-route-missing", path, _counted(items, len(pods))))
    return hits


def _counted(items: list[Item], total: int) -> list[Item]:
    """Many pods missing their wiring is a node-wide CNI failure: CRITICAL from half of them (and 3+)."""
    if len(items) >= 3 and len(items) * 2 >= total:
        return [item._replace(severity=Severity.CRITICAL, reason=f"{len(items)} of {total} pods: " + item.reason)
                for item in items]  # fmt: skip
    return items


def check_eni_default_routes(artifacts: ArtifactMap) -> list[Hit]:
    """MissingDefaultRoutes: a table that VPC CNI rules send pod traffic to has no default route."""
    hits: list[Hit] = []
    for rule_path, route_path in (
        ("networking/iprule.txt", "networking/iproute.txt"),
        ("networking/ip6rule.txt", "networking/ip6route.txt"),
    ):
        rules = get(artifacts, rule_path, "ip-rule")
        routes = get(artifacts, route_path, "ip-route")
        if rules is None or routes is None:
            continue
        tables: dict[str, list[Mapping[str, Any]]] = {}
        for rule in rules["rules"]:
            if rule.get("priority") == FROM_POD_PRIORITY and rule.get("lookup") and rule.get("lookup") != "main":
                tables.setdefault(str(rule["lookup"]), []).append(rule)
        defaults = {
            str(r.get("table"))
            for r in routes["routes"]
            if r.get("type") == "unicast" and r.get("dst") in ("0.0.0.0/0", "::/0") and (r.get("via") or r.get("dev"))
        }
        items: list[Item] = []
        for table, using in sorted(tables.items()):
            if table in defaults:
                continue
            reason = (
                f"{len(using)} pod rule(s) send traffic to table {table}, which has no default route: "
                "those pods cannot reach anything outside their subnet."
            )
            detail = {"table": table, "pods": [r.get("from") for r in using[:20]], "rules": len(using)}
            severity = Severity.CRITICAL if len(using) >= 3 else Severity.HIGH
            items.append(Item(severity, Evidence(using[0]["line"], using[0]["text"]), detail, reason))
        hits.extend(aggregate("vpc-cni.eni-default-route-missing", rule_path, items))
    return hits
