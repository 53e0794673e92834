"""Compare an unhealthy node's bundle with a healthy baseline, dimension by dimension."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eksdiag.engine.checks.network_iptables import TableView, table_views, unexpected_drops
from eksdiag.engine.checks.system import is_real_filesystem
from eksdiag.engine.indexer import BundleIndex

Artifacts = Mapping[str, Mapping[str, Any]]

FILTER_LISTING = "networking/iptables-filter.txt"
NAT_LISTING = "networking/iptables-nat.txt"
LEGACY_SAVE = "networking/iptables-legacy-save-counters.txt"
ROUTES = "networking/iproute.txt"
CONNTRACK = "networking/conntrack.txt"
SYSCTL = "sysctls/sysctl_all.txt"
DF = "storage/mounts.txt"
INODES = "storage/inodes.txt"
BLOCKING_TARGETS = ("DROP", "REJECT")


@dataclass(frozen=True)
class Measure:
    """The value of one dimension in one bundle, and the files it came from."""

    value: float | int | list[str] | None
    files: tuple[str, ...]


@dataclass(frozen=True)
class Dimension:
    name: str
    description: str
    measure: Callable[[BundleIndex], Measure]


def _rule_text(view: TableView, chain: str, rule: Mapping[str, Any]) -> str:
    parts = [
        f"{view.family}{' legacy' if view.binary == 'legacy' else ''} {view.table}",
        chain,
        str(rule.get("target")),
        str(rule.get("prot", "all")),
        f"{rule.get('source', '0.0.0.0/0')} -> {rule.get('destination', '0.0.0.0/0')}",
    ]
    match = rule.get("match") or rule.get("spec") or ""
    if match:
        parts.append(str(match))
    return " ".join(parts)


def blocking_rules(idx: BundleIndex) -> Measure:
    """Unexpected DROP/REJECT rules traffic can reach, in every table and backend (legacy included)."""
    views = list(table_views(idx.artifacts))
    if not views:
        return Measure(None, ())
    texts: list[str] = []
    files: set[str] = set()
    for view in views:
        for chain, rule, _reach in unexpected_drops(view):
            texts.append(_rule_text(view, chain, rule))
            files.add(view.path)
    return Measure(sorted(texts), tuple(sorted(files or {views[0].path})))


def iptables_rule_count(idx: BundleIndex) -> Measure:
    files = [p for p in (FILTER_LISTING, NAT_LISTING, LEGACY_SAVE) if p in idx.artifacts]
    if not files:
        return Measure(None, ())
    total = sum(int(idx.artifacts[p].get("rule_count") or 0) for p in files)
    return Measure(total, tuple(files))


def _forward_views(idx: BundleIndex) -> list[TableView]:
    return [v for v in table_views(idx.artifacts) if v.table == "filter" and v.family == "ipv4"]


def forward_drop_packets(idx: BundleIndex) -> Measure:
    """Packets counted by blocking rules in FORWARD (both backends), plus the policy counter when it drops."""
    views = _forward_views(idx)
    if not views:
        return Measure(None, ())
    total = 0
    for view in views:
        forward = view.chains.get("FORWARD", {})
        total += sum(int(r.get("pkts") or 0) for r in forward.get("rules", []) if r.get("target") in BLOCKING_TARGETS)
        if forward.get("policy") in BLOCKING_TARGETS:
            total += int(forward.get("policy_packets") or 0)
    return Measure(total, tuple(v.path for v in views))


def forward_packets(idx: BundleIndex) -> Measure:
    views = _forward_views(idx)
    if not views:
        return Measure(None, ())
    total = 0
    for view in views:
        forward = view.chains.get("FORWARD", {})
        total += sum(int(r.get("pkts") or 0) for r in forward.get("rules", []))
        total += int(forward.get("policy_packets") or 0)
    return Measure(total, tuple(v.path for v in views))


def unroutable_routes(idx: BundleIndex) -> Measure:
    routes = idx.artifacts.get(ROUTES)
    if routes is None:
        return Measure(None, ())
    found = sorted(
        f"{r['type']} {r['dst']} table {r.get('table') or 'main'}"
        for r in routes.get("routes", [])
        if r.get("type") in ("blackhole", "unreachable", "prohibit")
    )
    return Measure(found, (ROUTES,))


def route_count(idx: BundleIndex) -> Measure:
    routes = idx.artifacts.get(ROUTES)
    if routes is None:
        return Measure(None, ())
    return Measure(int(routes.get("route_count", len(routes.get("routes", [])))), (ROUTES,))


def conntrack_entries(idx: BundleIndex) -> Measure:
    values = idx.artifacts.get(SYSCTL, {}).get("values", {})
    count = values.get("net.netfilter.nf_conntrack_count")
    if count is not None and str(count).isascii() and str(count).isdigit():
        return Measure(int(count), (SYSCTL,))
    listing = idx.artifacts.get(CONNTRACK)
    if listing is None:
        return Measure(None, ())
    value = listing.get("count") if listing.get("count") is not None else listing.get("entries")
    return Measure(value, (CONNTRACK,))


def conntrack_insert_failed(idx: BundleIndex) -> Measure:
    listing = idx.artifacts.get(CONNTRACK)
    totals = (listing or {}).get("stats", {}).get("totals")
    if not totals:
        return Measure(None, ())
    return Measure(int(totals.get("insert_failed", 0)), (CONNTRACK,))


def rule_count(*rule_ids: str) -> Callable[[BundleIndex], Measure]:
    def measure(idx: BundleIndex) -> Measure:
        findings = [f for f in idx.findings if f.rule in rule_ids]
        return Measure(sum(f.count for f in findings), tuple(sorted({f.file for f in findings})))

    return measure


def max_use_pct(path: str, field: str) -> Callable[[BundleIndex], Measure]:
    def measure(idx: BundleIndex) -> Measure:
        table = idx.artifacts.get(path)
        if table is None:
            return Measure(None, ())
        values = [
            int(fs[field])
            for fs in table.get("filesystems", [])
            if isinstance(fs.get(field), int)
            and is_real_filesystem(str(fs.get("filesystem", "")), str(fs.get("mounted_on", "")))
        ]
        return Measure(max(values) if values else None, (path,))

    return measure


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("routes.unroutable", "blackhole, unreachable and prohibit routes", unroutable_routes),
    Dimension("routes.count", "routes in all tables", route_count),
    Dimension(
        "iptables.blocking_rules",
        "unexpected DROP/REJECT rules traffic reaches, every table, nf_tables and legacy",
        blocking_rules,
    ),
    Dimension("iptables.rule_count", "rules in the filter and nat tables", iptables_rule_count),
    Dimension("iptables.forward_drop_packets", "packets dropped in the FORWARD chain", forward_drop_packets),
    Dimension("iptables.forward_packets", "packets counted in the FORWARD chain", forward_packets),
    Dimension("conntrack.entries", "conntrack entries (nf_conntrack_count)", conntrack_entries),
    Dimension("conntrack.insert_failed", "conntrack insert failures, all CPUs", conntrack_insert_failed),
    Dimension(
        "kubelet.apiserver_errors",
        "kubelet API-server timeouts and node status failures",
        rule_count("kubelet.apiserver-timeout", "kubelet.node-status-update-failed"),
    ),
    Dimension("ipamd.errors", "ipamd error-level log lines", rule_count("vpc-cni.ipamd-error")),
    Dimension(
        "memory.oom_kills", "OOM kills (cgroup and global)", rule_count("kernel.oom.cgroup", "kernel.oom.global")
    ),
    Dimension("disk.max_use_pct", "highest disk use% of a real filesystem", max_use_pct(DF, "use_pct")),
    Dimension("inodes.max_use_pct", "highest inode use% of a real filesystem", max_use_pct(INODES, "iuse_pct")),
)


def _ratio(bundle: Any, baseline: Any) -> float | None:
    if isinstance(bundle, bool) or isinstance(baseline, bool):
        return None
    if isinstance(bundle, (int, float)) and isinstance(baseline, (int, float)) and baseline:
        return round(bundle / baseline, 3)
    return None


def compare_dimension(dimension: Dimension, idx: BundleIndex, baseline: BundleIndex) -> dict[str, Any]:
    mine, theirs = dimension.measure(idx), dimension.measure(baseline)
    entry: dict[str, Any] = {
        "name": dimension.name,
        "description": dimension.description,
        "bundle": mine.value,
        "baseline": theirs.value,
        "ratio": _ratio(mine.value, theirs.value),
        "differs": mine.value != theirs.value,
        "files": sorted(set(mine.files) | set(theirs.files)),
    }
    if isinstance(mine.value, list) or isinstance(theirs.value, list):
        a = set(mine.value) if isinstance(mine.value, list) else set()
        b = set(theirs.value) if isinstance(theirs.value, list) else set()
        entry["only_in_bundle"] = sorted(a - b)
        entry["only_in_baseline"] = sorted(b - a)
        entry["differs"] = a != b
    return entry


def compare(idx: BundleIndex, baseline: BundleIndex) -> dict[str, Any]:
    """Every dimension side by side, and the rules found on one node only."""
    mine = {f.rule for f in idx.findings}
    theirs = {f.rule for f in baseline.findings}
    return {
        "bundle": idx.bundle["id"],
        "baseline": baseline.bundle["id"],
        "dimensions": [compare_dimension(d, idx, baseline) for d in DIMENSIONS],
        "rules": {
            "only_in_bundle": sorted(mine - theirs),
            "only_in_baseline": sorted(theirs - mine),
            "common": sorted(mine & theirs),
        },
    }
