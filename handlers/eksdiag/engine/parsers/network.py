"""Artifact parsers (network): the routing table from bundle paths to network parsers.

The parsers themselves live in iptables.py, routes.py, conntrack.py, netconf.py, network_links.py
and network_podlogs.py; this module
binds each to its bundle paths (research/bundle.md 2.5, 2.11, 2.12). The iptables table name and
address family come from the path, so they are bound here with ``functools.partial``.
"""

from __future__ import annotations

from functools import partial

from eksdiag.engine.parsers.base import ArtifactSpec
from eksdiag.engine.parsers.conntrack import parse_conntrack
from eksdiag.engine.parsers.iptables import (
    parse_counter,
    parse_ipset,
    parse_iptables_list,
    parse_iptables_save,
    parse_ipvsadm,
    parse_nft_ruleset,
)
from eksdiag.engine.parsers.netconf import parse_cni_config, parse_ethtool, parse_resolv_conf, parse_sysctl
from eksdiag.engine.parsers.network_links import parse_ifconfig, parse_ip_link, parse_systemd_link
from eksdiag.engine.parsers.network_podlogs import POD_LOG_PATHS, parse_pod_log
from eksdiag.engine.parsers.routes import parse_ip_route, parse_ip_rule

__all__ = ["NETWORK_SPECS", "parse_counter"]

_TABLES = ("filter", "nat", "mangle", "raw", "security")


def _iptables_list_specs() -> tuple[ArtifactSpec, ...]:
    specs: list[ArtifactSpec] = []
    for program, family in (("iptables", "ipv4"), ("ip6tables", "ipv6")):
        for variant, binary in (("", "default"), ("-legacy", "legacy")):
            for table in _TABLES:
                specs.append(
                    ArtifactSpec(
                        "iptables-list",
                        (f"networking/{program}{variant}-{table}.txt",),
                        partial(parse_iptables_list, table=table, family=family, binary=binary),
                    )
                )
            specs.append(
                ArtifactSpec(
                    "iptables-list",
                    (f"networking/{program}{variant}.txt",),
                    partial(parse_iptables_list, table="filter", family=family, binary=binary),
                )
            )
    return tuple(specs)


NETWORK_SPECS: tuple[ArtifactSpec, ...] = (
    # iptables-legacy-save output (the project's collector; what an nf_tables iptables-save hides)
    ArtifactSpec(
        "iptables-save",
        ("networking/iptables-legacy-save*.txt",),
        partial(parse_iptables_save, family="ipv4", binary="legacy"),
    ),
    ArtifactSpec(
        "iptables-save",
        ("networking/ip6tables-legacy-save*.txt",),
        partial(parse_iptables_save, family="ipv6", binary="legacy"),
    ),
    *_iptables_list_specs(),
    ArtifactSpec(
        "iptables-save",
        ("networking/iptables-save.txt", "networking/iptables-save-counters.txt"),
        partial(parse_iptables_save, family="ipv4"),
    ),
    ArtifactSpec(
        "iptables-save",
        ("networking/ip6tables-save.txt", "networking/ip6tables-save-counters.txt"),
        partial(parse_iptables_save, family="ipv6"),
    ),
    ArtifactSpec("nft-ruleset", ("networking/nft-ruleset.txt",), parse_nft_ruleset),
    ArtifactSpec("ipvsadm", ("networking/ipvsadm.txt",), parse_ipvsadm),
    ArtifactSpec("ipset", ("networking/ipset.txt",), parse_ipset),
    ArtifactSpec("ip-route", ("networking/iproute.txt",), partial(parse_ip_route, family="ipv4")),
    ArtifactSpec("ip-route", ("networking/ip6route.txt",), partial(parse_ip_route, family="ipv6")),
    ArtifactSpec("ip-rule", ("networking/iprule.txt",), partial(parse_ip_rule, family="ipv4")),
    ArtifactSpec("ip-rule", ("networking/ip6rule.txt",), partial(parse_ip_rule, family="ipv6")),
    ArtifactSpec("conntrack", ("networking/conntrack.txt", "networking/conntrack6.txt"), parse_conntrack),
    ArtifactSpec("sysctl", ("sysctls/sysctl_all.txt",), parse_sysctl),
    ArtifactSpec("ethtool", ("networking/ethtool.txt",), parse_ethtool),
    ArtifactSpec("resolv-conf", ("networking/resolv.conf",), parse_resolv_conf),
    ArtifactSpec("cni-config", ("cni/*.conflist", "cni/*.conf"), parse_cni_config),
    ArtifactSpec("interfaces", ("networking/ifconfig.txt",), parse_ifconfig),
    ArtifactSpec("interfaces", ("networking/ip-addr.txt", "networking/ip-s-link.txt"), parse_ip_link),
    ArtifactSpec("systemd-network-unit", ("networking/systemd-network/*",), parse_systemd_link),
    ArtifactSpec("pod-log", POD_LOG_PATHS, parse_pod_log),
)
