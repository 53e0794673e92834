"""Limits and node settings: conntrack, ENA allowances, forwarding sysctls, resolv.conf, CNI config.

ENA ``*_allowance_exceeded`` counters count packets queued or dropped since the driver loaded. The
EKS node monitoring agent reports a counter only when it jumps within one 5-minute poll by more than
a burst (pps 320, bw_in 180, the others 100); a bundle holds one reading since boot, so magnitude
is the total against that burst, and, when the node's uptime is known, the average rate per hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eksdiag.engine.checks._hits import artifacts_of_kind
from eksdiag.engine.checks.network_common import Item, aggregate, get, single, to_int
from eksdiag.engine.checks.network_ranges import ipamd_pod_ips
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Severity
from eksdiag.engine.parsers.netconf import sysctl_line_text

MAX_EVIDENCE = 5
ENA_BURST = {
    "pps_allowance_exceeded": 320,
    "bw_in_allowance_exceeded": 180,
    "bw_out_allowance_exceeded": 100,
    "conntrack_allowance_exceeded": 100,
    "linklocal_allowance_exceeded": 100,
}
"""Per-counter bursts the EKS node monitoring agent tolerates in one poll (its token buckets)."""
ENA_MEANING = {
    "pps_allowance_exceeded": "packets over the instance's PPS limit were queued or dropped",
    "bw_in_allowance_exceeded": "inbound traffic over the instance's bandwidth limit was queued or dropped",
    "bw_out_allowance_exceeded": "outbound traffic over the instance's bandwidth limit was queued or dropped",
    "conntrack_allowance_exceeded": "new connections over the instance's connection-tracking limit were dropped",
    "linklocal_allowance_exceeded": (
        "link-local traffic (the VPC DNS resolver, IMDS, NTP) over its PPS limit was dropped"
    ),
}
SUSTAINED_FACTOR = 100
"""Without uptime, a total this many bursts over marks a sustained problem."""


def uptime_seconds(artifacts: ArtifactMap) -> float | None:
    """The node's uptime at collection, from any artifact that knows it (``system/top.txt``'s header)."""
    for _path, artifact in sorted(artifacts.items()):
        value = artifact.get("uptime_seconds") if isinstance(artifact, Mapping) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return None


def ena_item(counter: Mapping[str, Any], uptime: float | None) -> Item | None:
    name, value = str(counter["counter"]), int(counter.get("value") or 0)
    burst = ENA_BURST.get(name)
    if value <= 0 or burst is None:
        return None
    meaning = ENA_MEANING[name]
    where = f"{name} = {value} on {counter['interface']} since boot"
    if value <= burst:
        severity = Severity.LOW
        reason = f"{where}: {meaning}, but fewer than the {burst} one 5-minute burst needs to matter."
    elif uptime:
        per_hour = value / (uptime / 3600)
        span = f"{uptime / 3600:.1f} h" if uptime < 2 * 86400 else f"{uptime / 86400:.1f} days"
        sustained = per_hour >= burst
        severity = Severity.HIGH if sustained else Severity.MEDIUM
        reason = f"{where} ({span}), about {per_hour:.0f} per hour: {meaning}" + (
            "; that is a burst's worth every hour." if sustained else ", in occasional bursts."
        )
    else:
        sustained = value >= burst * SUSTAINED_FACTOR
        severity = Severity.HIGH if sustained else Severity.MEDIUM
        reason = f"{where} ({value // burst} times a {burst} burst; uptime unknown): {meaning}."
    if name == "linklocal_allowance_exceeded" and severity is Severity.HIGH:
        reason += " DNS lookups through the VPC resolver fail or time out."
    detail = {k: counter[k] for k in ("interface", "counter", "value")} | {"burst": burst, "uptime_seconds": uptime}
    return Item(severity, Evidence(counter["line"], counter["text"]), detail, reason)


def check_ena_allowance(artifacts: ArtifactMap) -> list[Hit]:
    uptime = uptime_seconds(artifacts)
    hits: list[Hit] = []
    for path, ethtool in artifacts_of_kind(artifacts, "ethtool"):
        items = [item for c in ethtool.get("allowance_exceeded", []) if (item := ena_item(c, uptime)) is not None]
        hits.extend(aggregate("network.ena.allowance-exceeded", path, items))
    return hits


def check_conntrack_near_full(artifacts: ArtifactMap) -> list[Hit]:
    sysctl = get(artifacts, "sysctls/sysctl_all.txt", "sysctl")
    values = sysctl.get("values", {}) if sysctl else {}
    max_key = next((k for k in ("net.netfilter.nf_conntrack_max", "net.nf_conntrack_max") if k in values), None)
    if sysctl is None or max_key is None:
        return []
    maximum = to_int(values[max_key])
    if not maximum:
        return []
    count_key = "net.netfilter.nf_conntrack_count"
    if count_key in values and to_int(values[count_key]) is not None:
        count = to_int(values[count_key])
        path = "sysctls/sysctl_all.txt"
        evidence = [
            Evidence(sysctl["lines"][count_key], sysctl_line_text(dict(sysctl), count_key)),
            Evidence(sysctl["lines"][max_key], sysctl_line_text(dict(sysctl), max_key)),
        ]
        source = "sysctl"
    else:
        table = get(artifacts, "networking/conntrack.txt", "conntrack")
        if table is None:
            return []
        count = table.get("count") if table.get("count") is not None else table.get("entries")
        anchor = table.get("list_marker") or (
            {"line": table["count_line"], "text": str(table["count"])} if table.get("count_line") else None
        )
        if count is None or anchor is None:
            return []
        path, evidence, source = "networking/conntrack.txt", [Evidence(anchor["line"], anchor["text"])], "conntrack -L"
    assert count is not None
    ratio = count / maximum
    if ratio >= 0.9:
        severity = Severity.HIGH
    elif ratio >= 0.75:
        severity = Severity.MEDIUM
    else:
        return []
    reason = (
        f"The conntrack table holds {count} of {maximum} entries ({ratio:.0%}): when it is full the kernel drops "
        "packets of new connections."
    )
    detail = {"count": count, "max": maximum, "ratio": round(ratio, 4), "source": source}
    hits = single("network.conntrack.table-near-full", path, Item(severity, evidence[0], detail, reason))
    hits[0].evidence = evidence
    return hits


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
        reason = (
            f"conntrack counted {insert_failed} insert failures and {drop} drops on {len(cpus)} CPUs since boot: "
            "typically racing UDP (DNS) packets of one flow"
            + ("; at this volume lookups time out." if severity is Severity.HIGH else ".")
        )
        detail = {"insert_failed": insert_failed, "drop": drop, "early_drop": totals.get("early_drop", 0),
                  "clash_resolve": totals.get("clash_resolve"), "cpus_affected": len(cpus)}  # fmt: skip
        hit = single("network.conntrack.insert-failed", path, Item(severity, evidence[0], detail, reason), len(cpus))[0]
        hit.evidence = evidence
        hits.append(hit)
    return hits


def _ipv6_pods(artifacts: ArtifactMap) -> bool:
    return any(":" in ip for ip in ipamd_pod_ips(artifacts))


def check_forwarding(artifacts: ArtifactMap) -> list[Hit]:
    """NetworkSysctl: the node must forward pod traffic (``net.ipv4.ip_forward = 1``; with IPv6 pods,
    ``net.ipv6.conf.all.forwarding = 1``)."""
    sysctl = get(artifacts, "sysctls/sysctl_all.txt", "sysctl")
    if sysctl is None:
        return []
    values = sysctl.get("values", {})
    items: list[Item] = []
    checks = [("net.ipv4.ip_forward", "IPv4")]
    if _ipv6_pods(artifacts):
        checks.append(("net.ipv6.conf.all.forwarding", "IPv6"))
    for key, family in checks:
        if key not in values or str(values[key]).strip() == "1":
            continue
        reason = (
            f"{key} = {str(values[key]).strip()}: the node does not forward {family} packets, so no pod traffic "
            "leaves or reaches its pods."
        )
        evidence = Evidence(sysctl["lines"][key], sysctl_line_text(dict(sysctl), key))
        items.append(Item(Severity.CRITICAL, evidence, {key: str(values[key]).strip(), "expected": "1"}, reason))
    return aggregate("network.sysctl.ip-forward-disabled", "sysctls/sysctl_all.txt", items)


def check_resolv_nameserver(artifacts: ArtifactMap) -> list[Hit]:
    hits: list[Hit] = []
    for path, resolv in artifacts_of_kind(artifacts, "resolv-conf"):
        if resolv.get("nameservers"):
            continue
        content = resolv.get("content", [])
        evidence = [Evidence(c["line"], c["text"]) for c in content[:MAX_EVIDENCE]]
        reason = (
            "resolv.conf names no nameserver: the node's resolver falls back to 127.0.0.1, and kubelet and pods "
            "with dnsPolicy Default inherit it."
        )
        detail = {"empty": not content, "search": resolv.get("search", []), "options": resolv.get("options", [])}
        hit = single("dns.resolv.no-nameserver", path, Item(Severity.HIGH, Evidence(1, ""), detail, reason))[0]
        hit.evidence = evidence
        hit.line = evidence[0].line if evidence else 1
        hits.append(hit)
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
            reason = f"{path} is not valid JSON ({config.get('error')}): the runtime cannot set up pod networking."
        else:
            anchor = config.get("plugins_line") or config.get("first_line")
            detail = {"problem": "no main CNI plugin", "plugin_types": config.get("plugin_types", [])}
            helpers = ", ".join(config.get("plugin_types") or []) or "none"
            reason = f"{path} chains only helper plugins ({helpers}): no plugin gives pods an address."
        evidence = Evidence(anchor["line"], anchor["text"]) if anchor else Evidence(1, "")
        hits.extend(single("cni.config.invalid", path, Item(Severity.HIGH, evidence, detail, reason)))
    return hits
