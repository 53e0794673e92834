"""iptables checks: DROP/REJECT rules in every table and backend, the FORWARD policy, DNATs that take
the node's own ports, and legacy tables the default ``iptables`` does not show.

Sources, per address family and table, best first: the per-table listing (per-rule counters), the
collector's ``iptables-save -c``, plain ``iptables-save`` (no per-rule counters). Those are what the
default ``iptables`` sees: nf_tables on AL2023, legacy on AL2 (the ``iptables-save`` header says
which). Rules written with ``iptables-legacy`` on an nf_tables node live in separate kernel tables
that only ``iptables-legacy-save`` shows (``networking/iptables-legacy-save-counters.txt``, written
by the project's collector): the kernel runs both rule sets, so both are read. On a legacy node that
file repeats the default one and is skipped.

A DROP/REJECT rule matters when a packet can reach it: it sits in a built-in chain, or in a custom
chain a built-in chain jumps to (directly or through other custom chains). Its severity follows
what it hits (pod, Service, DNS traffic: at least HIGH whatever its counters, because a rule that
was just inserted has counted nothing yet) and its counters (packets already dropped: CRITICAL).
kube-proxy's, Calico's and the VPC CNI's own expected drops are not findings.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from eksdiag.engine.checks.network_common import (
    Item,
    aggregate,
    get,
    is_any,
    network,
    overlaps,
    port_in,
)
from eksdiag.engine.checks.network_ranges import Coverage, Ranges, coverage, infer_ranges
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Severity, severity_of_rank
from eksdiag.engine.parsers.netconf import sysctl_line_text

BUILTIN = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")
TABLES = ("filter", "nat", "mangle", "raw", "security")
DROP_TARGETS = frozenset({"DROP", "REJECT"})
LISTING_NAME = {"filter": ("{p}-filter.txt", "{p}.txt"), "nat": ("{p}-nat.txt",), "mangle": ("{p}-mangle.txt",)}
DEFAULT_SAVES = ("{p}-save-counters.txt", "{p}-save.txt")
LEGACY_SAVES = ("{p}-legacy-save-counters.txt", "{p}-legacy-save.txt")
PROGRAM = {"ipv4": "iptables", "ipv6": "ip6tables"}

EXPECTED_DROP_MARKERS = (
    "ctstate INVALID",
    "state INVALID",
    "mark match 0x8000/0x8000",
    "--mark 0x8000/0x8000",
)
EXPECTED_DROP_CHAINS = (
    "KUBE-IPVS-FILTER",
    "KUBE-IPVS-OUT-FILTER",
    "KUBE-SOURCE-RANGES-FIREWALL",
    "cali-",
    "DOCKER-ISOLATION-STAGE-",
)
"""Chains whose drops are policy by design: kube-proxy IPVS filters and loadBalancerSourceRanges,
Calico network policy, Docker's bridge isolation."""
EXPECTED_DROP_COMMENT_PREFIXES = ("kubernetes ", "kube-proxy", "block incoming localnet")
EXPECTED_DROP_COMMENTS = (
    "has no endpoints",
    "has no local endpoints",
    "traffic not accepted by",
    "Block Node Local Pod access",
)
"""Rule comments of kube-proxy (no-endpoint REJECTs, firewall, localnet) and the VPC CNI."""

RESERVED_PORTS_DEFAULT = "10250,10249,10256,61678-61679,2703,9808-9809"
"""The ports EKS AMIs reserve for node agents (kubelet 10250, kube-proxy 10249/10256, ipamd
61678-61679, ...), used when the bundle has no ``net.ipv4.ip_local_reserved_ports``."""
PORT_OWNERS = {10250: "kubelet", 10249: "kube-proxy metrics", 10256: "kube-proxy health", 61678: "ipamd metrics",
               61679: "ipamd introspection"}  # fmt: skip
ENTRY_TRAFFIC = {
    "FORWARD": "pod traffic forwarded by the node",
    "INPUT": "traffic to the node itself (kubelet, hostNetwork pods)",
    "OUTPUT": "traffic the node sends (kubelet, hostNetwork pods)",
    "PREROUTING": "every packet arriving, pods included, before routing",
    "POSTROUTING": "every packet leaving",
}


@dataclass(frozen=True)
class TableView:
    """One netfilter table as one file shows it."""

    path: str
    family: str
    binary: str
    """``default`` (what plain ``iptables`` shows) or ``legacy`` (``iptables-legacy``)."""
    table: str
    chains: Mapping[str, Any]
    counters: bool
    covered: frozenset[tuple[str, ...]] = frozenset()
    """Rules (:func:`rule_key`) a better source of the same table already shows: not reported again."""

    @property
    def primary(self) -> bool:
        """The best source of its table (the others only add rules it does not show)."""
        return not self.covered

    def rules(self, chain: str) -> list[Mapping[str, Any]]:
        """The rules of ``chain`` this view reports (those no better source already showed)."""
        rules = (self.chains.get(chain) or {}).get("rules") or ()
        return [r for r in rules if not self.covered or rule_key(chain, r) not in self.covered]


PROTOCOL_NAMES = {"0": "all", "1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp", "132": "sctp"}


def _address_key(text: str | None) -> str:
    if is_any(text):
        return "any"
    net, negated = network(text)
    return ("!" if negated else "") + str(net) if net is not None else str(text)


def rule_key(chain: str, rule: Mapping[str, Any]) -> tuple[str, ...]:
    """What identifies a rule across a listing and an ``iptables-save`` of the same table."""
    prot = str(rule.get("prot") or "all").lower()
    return (
        chain,
        str(rule.get("target") or ""),
        _address_key(rule.get("source")),
        _address_key(rule.get("destination")),
        PROTOCOL_NAMES.get(prot, prot),
        str(rule.get("dport") or "").replace(" ", ""),
    )


def _keys(chains: Mapping[str, Any]) -> set[tuple[str, ...]]:
    return {rule_key(name, rule) for name, chain in chains.items() for rule in chain.get("rules") or ()}


def _chains_of(artifact: Mapping[str, Any], table: str) -> tuple[Mapping[str, Any] | None, bool]:
    if artifact.get("kind") == "iptables-list":
        if artifact.get("table") == table and artifact.get("chains"):
            return artifact["chains"], True
        return None, False
    saved = (artifact.get("tables") or {}).get(table)
    if not saved or not saved.get("chains"):
        return None, False
    return saved["chains"], bool(artifact.get("counters"))


def default_backend(artifacts: ArtifactMap, family: str) -> str | None:
    """``nf_tables`` or ``legacy``: what the default ``iptables-save`` of ``family`` reported."""
    program = PROGRAM[family]
    for name in DEFAULT_SAVES:
        saved = get(artifacts, f"networking/{name.format(p=program)}", "iptables-save")
        if saved is not None and saved.get("variant"):
            return str(saved["variant"])
    return None


def table_views(artifacts: ArtifactMap) -> Iterator[TableView]:
    """Every (family, binary, table) the bundle holds: its best source first, then any other file
    of the same table that shows rules the better ones do not (a listing and a save taken at
    different times, or a file edited by hand)."""
    for family, program in PROGRAM.items():
        binaries = ["default"]
        if default_backend(artifacts, family) != "legacy":
            binaries.append("legacy")  # its own kernel tables, invisible to nf_tables iptables
        for binary in binaries:
            for table in TABLES:
                names: tuple[str, ...]
                if binary == "default":
                    names = (*LISTING_NAME.get(table, ()), *DEFAULT_SAVES)
                else:
                    names = tuple(n.replace("{p}", "{p}-legacy") for n in LISTING_NAME.get(table, ())) + LEGACY_SAVES
                seen: set[tuple[str, ...]] | None = None
                for name in names:
                    path = f"networking/{name.format(p=program)}"
                    artifact = artifacts.get(path)
                    if artifact is None or artifact.get("kind") not in ("iptables-list", "iptables-save"):
                        continue
                    chains, counters = _chains_of(artifact, table)
                    if chains is None:
                        continue
                    keys = _keys(chains)
                    if seen is None:
                        yield TableView(path, family, binary, table, chains, counters)
                        seen = keys
                    elif keys - seen:
                        yield TableView(path, family, binary, table, chains, counters, frozenset(seen))
                        seen |= keys


# ---------------------------------------------------------------- reachability


@dataclass(frozen=True)
class Reach:
    """How packets reach a chain: the built-in chain they enter by and the jump rules on the way."""

    entry: str
    path: tuple[Mapping[str, Any], ...]


def reachable_chains(chains: Mapping[str, Any]) -> dict[str, Reach]:
    """Every chain a packet can reach from a built-in chain of one table (first path found, BFS)."""
    reach: dict[str, Reach] = {}
    queue: deque[str] = deque()
    for name in BUILTIN:
        if name in chains:
            reach[name] = Reach(name, ())
            queue.append(name)
    while queue:
        name = queue.popleft()
        for rule in (chains.get(name) or {}).get("rules") or ():
            target = rule.get("target") or ""
            if target in chains and target not in reach:
                reach[target] = Reach(reach[name].entry, (*reach[name].path, rule))
                queue.append(target)
    return reach


def expected_drop(chain: str, rule: Mapping[str, Any]) -> bool:
    """A DROP/REJECT that kube-proxy, Calico or the VPC CNI install by design."""
    if chain.startswith(EXPECTED_DROP_CHAINS):
        return True
    text = f"{rule.get('match') or ''} {rule.get('spec') or ''}"
    if any(marker in text for marker in EXPECTED_DROP_MARKERS):
        return True
    comment = (rule.get("comment") or "").lower()
    if comment.startswith(EXPECTED_DROP_COMMENT_PREFIXES) or any(p.lower() in comment for p in EXPECTED_DROP_COMMENTS):
        return True
    if chain in ("KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES") and "icmp-port-unreachable" in str(
        rule.get("reject_with") or rule.get("match") or ""
    ):
        return True
    source, destination = rule.get("source") or "", rule.get("destination") or ""
    return source.startswith("!127.0.0.0/8") and destination.startswith("127.0.0.0/8")


def effective_selectors(rule: Mapping[str, Any], reach: Reach) -> dict[str, Any]:
    """The rule's address/protocol/port selectors narrowed by the jumps that lead to it."""
    merged = {key: rule.get(key) for key in ("source", "destination", "prot", "dport")}
    for jump in reach.path:
        for key in ("source", "destination"):
            if is_any(merged[key]) and not is_any(jump.get(key)):
                merged[key] = jump.get(key)
        if (merged["prot"] or "all") in ("all", "0") and (jump.get("prot") or "all") not in ("all", "0"):
            merged["prot"] = jump.get("prot")
        if merged["dport"] is None and jump.get("dport"):
            merged["dport"] = jump["dport"]
    return merged


def drop_severity(pkts: int | None, covered: Coverage, builtin: bool) -> tuple[Severity, str]:
    """Severity and the magnitude part of the reason for a reachable DROP/REJECT."""
    if covered.hits_cluster_traffic:
        if pkts:
            return Severity.CRITICAL, f"it has already dropped {pkts} packets"
        if pkts == 0:
            return Severity.HIGH, "its counter is zero (just inserted, or not hit yet), but the traffic it covers is"
        return Severity.HIGH, "its counters are not in the bundle"
    if pkts:
        return (Severity.HIGH if builtin else Severity.MEDIUM), f"it has dropped {pkts} packets"
    return Severity.MEDIUM, "it covers no pod, Service or DNS range the bundle shows and has dropped nothing yet"


def _drop_item(view: TableView, chain: str, rule: Mapping[str, Any], reach: Reach, ranges: Ranges) -> Item:
    selectors = effective_selectors(rule, reach)
    covered = coverage(selectors, ranges)
    builtin = chain == reach.entry
    severity, magnitude = drop_severity(rule.get("pkts"), covered, builtin)
    where = f"{view.table} {chain}" if builtin else f"{view.table} {chain} (reached from {reach.entry})"
    backend = " written with iptables-legacy" if view.binary == "legacy" else ""
    if covered.facts:
        hits = f"affects cluster traffic ({', '.join(covered.facts)})"
    else:
        hits = f"catches {ENTRY_TRAFFIC.get(reach.entry, 'its traffic')}"
    reason = f"{rule.get('target')} rule{backend} in {where} {hits}; {magnitude}."
    detail = {
        "line": rule["line"],
        "table": view.table,
        "chain": chain,
        "entry": reach.entry,
        "via": [j.get("text", "").strip() for j in reach.path][:5],
        "target": rule.get("target"),
        "source": selectors["source"],
        "destination": selectors["destination"],
        "prot": selectors["prot"],
        "dport": selectors["dport"],
        "pkts": rule.get("pkts"),
        "bytes": rule.get("bytes"),
        "covers": list(covered.facts),
        "backend": view.binary,
        "severity": severity.value,
    }
    return Item(severity, Evidence(rule["line"], rule["text"]), detail, reason)


def reachable_drops(view: TableView, builtin_only: str | None = None) -> Iterator[tuple[str, Mapping[str, Any], Reach]]:
    """(chain, rule, reach) of every unexpected DROP/REJECT a packet can reach in ``view``.

    ``builtin_only``: only rules placed directly in that built-in chain; otherwise only rules in
    custom chains (the built-in ones have their own rules)."""
    for chain, reach in reachable_chains(view.chains).items():
        if builtin_only is not None and chain != builtin_only:
            continue
        if builtin_only is None and chain in BUILTIN:
            continue
        for rule in view.rules(chain):
            if rule.get("target") in DROP_TARGETS and not expected_drop(chain, rule):
                yield chain, rule, reach


def unexpected_drops(view: TableView) -> Iterator[tuple[str, Mapping[str, Any], Reach]]:
    """Every unexpected DROP/REJECT a packet can reach in ``view``, built-in chains first."""
    for builtin in BUILTIN:
        yield from reachable_drops(view, builtin_only=builtin)
    yield from reachable_drops(view)


def _extra(view: TableView, ranges: Ranges, items: list[Item]) -> dict[str, Any]:
    extra: dict[str, Any] = {"family": view.family, "backend": view.binary, "ranges": ranges.to_dict()}
    if any(item.detail["pkts"] is None for item in items):
        extra["counters"] = "unavailable (iptables-save without -c)"
    return extra


def builtin_chain_drop_check(rule_id: str, chain: str) -> Any:
    def check(artifacts: ArtifactMap) -> list[Hit]:
        ranges: Ranges | None = None
        hits: list[Hit] = []
        for view in table_views(artifacts):
            if view.table != "filter":
                continue
            found = list(reachable_drops(view, builtin_only=chain))
            if not found:
                continue
            ranges = ranges or infer_ranges(artifacts)
            items = [_drop_item(view, c, r, reach, ranges) for c, r, reach in found]
            hits.extend(aggregate(rule_id, view.path, items, _extra(view, ranges, items)))
        return hits

    check.__name__ = f"check_{chain.lower()}_drop"
    return check


UNREACHED = Reach("none", ())
"""Where a chain no built-in chain jumps to is entered from: nowhere (yet)."""


def unreached_rules(view: TableView) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(chain, rule) of every rule in a custom chain that no built-in chain reaches."""
    reached = reachable_chains(view.chains)
    for chain in view.chains:
        if chain not in reached:
            for rule in view.rules(chain):
                yield chain, rule


def _unreached_drop_item(view: TableView, chain: str, rule: Mapping[str, Any]) -> Item:
    reason = (
        f"{rule.get('target')} rule in {view.table} {chain}, a chain no built-in chain jumps to: it drops nothing "
        "today, and everything it matches as soon as a jump to it is added."
    )
    detail = {"line": rule["line"], "table": view.table, "chain": chain, "entry": None, "target": rule.get("target"),
              "pkts": rule.get("pkts"), "backend": view.binary, "severity": Severity.LOW.value}  # fmt: skip
    return Item(Severity.LOW, Evidence(rule["line"], rule["text"]), detail, reason)


def check_custom_chain_drop(artifacts: ArtifactMap) -> list[Hit]:
    """DROP/REJECT in custom chains (reached from a built-in chain, or not yet: LOW), and drops in
    the built-in chains of tables other than filter."""
    ranges: Ranges | None = None
    hits: list[Hit] = []
    for view in table_views(artifacts):
        found = [d for d in unexpected_drops(view) if view.table != "filter" or d[0] not in BUILTIN]
        dormant = [
            (chain, rule)
            for chain, rule in unreached_rules(view)
            if rule.get("target") in DROP_TARGETS and not expected_drop(chain, rule)
        ]
        if not found and not dormant:
            continue
        ranges = ranges or infer_ranges(artifacts)
        items = [_drop_item(view, c, r, reach, ranges) for c, r, reach in found]
        items += [_unreached_drop_item(view, c, r) for c, r in dormant]
        hits.extend(aggregate("network.iptables.reachable-drop", view.path, items, _extra(view, ranges, items)))
    return hits


def check_forward_policy(artifacts: ArtifactMap) -> list[Hit]:
    hits: list[Hit] = []
    for view in table_views(artifacts):
        forward = view.chains.get("FORWARD") if view.table == "filter" and view.primary else None
        if not forward or forward.get("policy") in (None, "ACCEPT") or not forward.get("text"):
            continue
        packets = forward.get("policy_packets")
        severity = Severity.HIGH if packets else Severity.MEDIUM
        counted = f"it has dropped {packets} packets" if packets else "its counter is zero so far"
        reason = (
            f"The {view.family} FORWARD policy is {forward['policy']}: pod traffic no rule accepts is dropped; "
            f"{counted}."
        )
        item = {"policy": forward["policy"], "policy_packets": packets, "policy_bytes": forward.get("policy_bytes"),
                "family": view.family, "backend": view.binary}  # fmt: skip
        hits.extend(
            aggregate(
                "network.iptables.forward-policy",
                view.path,
                [Item(severity, Evidence(forward["line"], forward["text"]), item, reason)],
            )
        )
    return hits


# ---------------------------------------------------------------- DNAT on the node's own ports


def reserved_ports(artifacts: ArtifactMap) -> tuple[str, list[Evidence]]:
    sysctl = get(artifacts, "sysctls/sysctl_all.txt", "sysctl")
    key = "net.ipv4.ip_local_reserved_ports"
    if sysctl is not None and str((sysctl.get("values") or {}).get(key, "")).strip():
        evidence = [Evidence(sysctl["lines"][key], sysctl_line_text(dict(sysctl), key))]
        return str(sysctl["values"][key]).strip(), evidence
    return RESERVED_PORTS_DEFAULT, []


def _ports_of(spec: str) -> list[int]:
    ports: list[int] = []
    for part in spec.replace(" ", "").split(","):
        low, _, high = part.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            ports.extend(range(int(low), int(high or low) + 1))
    return ports


def _to_node(selectors: Mapping[str, Any], rule: Mapping[str, Any], reach: Reach, ranges: Ranges) -> bool:
    """Whether the DNAT applies to traffic addressed to the node (any destination, LOCAL, a node IP)."""
    local = any(str(r.get("dst_type") or "") == "LOCAL" for r in (*reach.path, rule))
    destination = selectors.get("destination")
    if local or is_any(destination):
        return True
    net, negated = network(destination)
    return net is not None and any(overlaps(net, negated, ip) for ip in ranges.node_ips)


def check_port_conflict(artifacts: ArtifactMap) -> list[Hit]:
    """A DNAT (hostPort, a security agent) on a port the node reserves for its own agents: the API
    server's requests to kubelet (logs, exec, metrics) or health probes land somewhere else."""
    spec, _evidence = reserved_ports(artifacts)
    ports = set(_ports_of(spec)) | {10250}
    ranges: Ranges | None = None
    hits: list[Hit] = []
    for view in table_views(artifacts):
        if view.table != "nat":
            continue
        items: list[Item] = []
        reached = reachable_chains(view.chains)
        candidates = [(chain, rule, reach) for chain, reach in reached.items() for rule in view.rules(chain)]
        candidates += [(chain, rule, UNREACHED) for chain, rule in unreached_rules(view)]
        for chain, rule, reach in candidates:
            if rule.get("target") != "DNAT":
                continue
            port = next((p for p in sorted(ports) if port_in(rule.get("dport"), p)), None)
            if port is None:
                continue
            ranges = ranges or infer_ranges(artifacts)
            selectors = effective_selectors(rule, reach)
            if not _to_node(selectors, rule, reach, ranges):
                continue
            owner = PORT_OWNERS.get(port, "a node agent (net.ipv4.ip_local_reserved_ports)")
            severity = Severity.HIGH if port == 10250 else Severity.MEDIUM
            effect = "; the API server can no longer reach kubelet (logs, exec, metrics)." if port == 10250 else "."
            if reach is UNREACHED:
                severity = severity_of_rank(severity.rank - 1)
                effect = f", once a jump to {chain} exists (none does now)."
            reason = (
                f"A DNAT in nat {chain} sends traffic for port {port} ({owner}) to "
                f"{rule.get('to_destination') or 'another address'}{effect}"
            )
            detail = {"line": rule["line"], "chain": chain, "entry": reach.entry, "port": port, "owner": owner,
                      "to_destination": rule.get("to_destination"), "pkts": rule.get("pkts"),
                      "backend": view.binary, "severity": severity.value}  # fmt: skip
            items.append(Item(severity, Evidence(rule["line"], rule["text"]), detail, reason))
        hits.extend(aggregate("network.iptables.port-conflict", view.path, items, {"reserved_ports": spec}))
    return hits


# ---------------------------------------------------------------- legacy tables nobody reads


def check_legacy_tables_hidden(artifacts: ArtifactMap) -> list[Hit]:
    """nf_tables ``iptables`` warned that legacy tables exist and the bundle has no legacy dump: rules
    the kernel applies are invisible to every other check."""
    hits: list[Hit] = []
    for family, program in PROGRAM.items():
        if any(f"networking/{n.format(p=program)}" in artifacts for n in LEGACY_SAVES):
            continue
        for path, artifact in sorted(artifacts.items()):
            if not path.startswith(f"networking/{program}") or artifact.get("kind") not in (
                "iptables-list",
                "iptables-save",
            ):
                continue
            warning = next(
                (w for w in artifact.get("warnings") or () if "legacy tables present" in str(w.get("text"))), None
            )
            if warning is None:
                continue
            reason = (
                f"{program} reports iptables-legacy tables the bundle does not hold: their rules still filter "
                "traffic, and no check can see them (collect iptables-legacy-save -c)."
            )
            item = Item(Severity.MEDIUM, Evidence(warning["line"], warning["text"]), {"family": family}, reason)
            hits.extend(aggregate("network.iptables.legacy-tables-unread", path, [item]))
            break
    return hits
