"""Network artifact rules: the catalogue rows, one per check; the checks live by domain beside this.

- ``network_iptables``: DROP/REJECT rules in every table and backend (nf_tables and legacy), the
  FORWARD policy, DNATs on the node's own ports, legacy tables nobody captured;
- ``network_kube_proxy``: kube-proxy's mode and its Service chains;
- ``network_routes``: blackhole routes by longest prefix, the VPC CNI's per-pod rules and routes and
  its per-ENI default routes;
- ``network_ipamd``: ipamd down or inconsistent, network add-on containers restarting;
- ``network_interfaces``: loopback, interfaces not up or without carrier, the systemd MAC policy;
- ``network_limits``: conntrack, ENA allowances, forwarding sysctls, resolv.conf, CNI config;
- ``network_ranges``: the pod, Service, DNS, VPC and node ranges the severities weigh coverage by.

Each check returns at most one Hit per (rule, file), with its severity and a one-sentence reason.
A file missing from the bundle never produces a finding.
"""

from __future__ import annotations

from eksdiag.engine.checks import network_interfaces as interfaces
from eksdiag.engine.checks import network_ipamd as ipamd
from eksdiag.engine.checks import network_iptables as iptables
from eksdiag.engine.checks import network_limits as limits
from eksdiag.engine.checks import network_routes as routes
from eksdiag.engine.checks.network_kube_proxy import (
    KUBE_PROXY_WITHOUT_IPTABLES_CHAINS,
    check_kube_proxy_chains,
    kube_proxy_mode,
)
from eksdiag.engine.checks.network_ranges import Ranges, infer_ranges
from eksdiag.engine.model import ArtifactMap, Check, Hit, Remedy, Rule, Severity

__all__ = ["KUBE_PROXY_WITHOUT_IPTABLES_CHAINS", "NETWORK_RULES", "Ranges", "infer_ranges", "kube_proxy_mode"]


def only(rule_id: str, check: Check) -> Check:
    """The hits of ``rule_id`` from a check that reports several rules in one pass."""

    def filtered(artifacts: ArtifactMap) -> list[Hit]:
        return [hit for hit in check(artifacts) if hit.rule == rule_id]

    filtered.__name__ = f"{check.__name__}__{rule_id.rsplit('.', 1)[-1].replace('-', '_')}"
    return filtered


_PROGRAMS = ("iptables", "ip6tables", "iptables-legacy", "ip6tables-legacy")
_FILTER_FILES = tuple(
    f"networking/{p}{s}" for p in _PROGRAMS for s in ("-filter.txt", ".txt", "-save-counters.txt", "-save.txt")
)
_ALL_IPTABLES = tuple(f"networking/{p}*.txt" for p in ("iptables", "ip6tables"))
_REJECT = ("UnexpectedRejectRule",)
_ENA = ("PPSExceeded", "BandwidthInExceeded", "BandwidthOutExceeded", "ConntrackExceeded", "LinkLocalExceeded")

NETWORK_RULES: tuple[Rule, ...] = (
    Rule(
        id="network.iptables.forward-drop",
        severity=Severity.CRITICAL,
        category="network",
        title="iptables DROP/REJECT rule in the FORWARD chain",
        files=_FILTER_FILES,
        check=iptables.builtin_chain_drop_check("network.iptables.forward-drop", "FORWARD"),
        description="DROP/REJECT placed directly in FORWARD (nf_tables or legacy): CRITICAL when it has dropped "
        "pod, Service or DNS traffic, HIGH when it covers such traffic but has not counted yet or dropped other "
        "packets, MEDIUM when it covers nothing the bundle shows.",
        remedy=Remedy.CONFIGURATION,
        nma=_REJECT,
    ),
    Rule(
        id="network.iptables.input-drop",
        severity=Severity.HIGH,
        category="network",
        title="iptables DROP/REJECT rule in the INPUT chain",
        files=_FILTER_FILES,
        check=iptables.builtin_chain_drop_check("network.iptables.input-drop", "INPUT"),
        description="DROP/REJECT placed directly in INPUT (kube-proxy's own rules are not considered).",
        remedy=Remedy.CONFIGURATION,
        nma=_REJECT,
    ),
    Rule(
        id="network.iptables.output-drop",
        severity=Severity.HIGH,
        category="network",
        title="iptables DROP/REJECT rule in the OUTPUT chain",
        files=_FILTER_FILES,
        check=iptables.builtin_chain_drop_check("network.iptables.output-drop", "OUTPUT"),
        description="DROP/REJECT placed directly in OUTPUT (kube-proxy's own rules are not considered).",
        remedy=Remedy.CONFIGURATION,
        nma=_REJECT,
    ),
    Rule(
        id="network.iptables.reachable-drop",
        severity=Severity.HIGH,
        category="network",
        title="iptables DROP/REJECT rule in a custom chain that traffic reaches",
        files=_ALL_IPTABLES,
        check=iptables.check_custom_chain_drop,
        description="DROP/REJECT in a custom chain a built-in chain jumps to (any table, nf_tables or legacy), or "
        "in a built-in chain of raw/mangle/nat/security; kube-proxy, Calico and VPC CNI drops are expected. "
        "Severity as for the FORWARD rule, by coverage of the whole jump path and by counters.",
        remedy=Remedy.CONFIGURATION,
        nma=_REJECT,
    ),
    Rule(
        id="network.iptables.forward-policy",
        severity=Severity.HIGH,
        category="network",
        title="iptables FORWARD chain policy is not ACCEPT",
        files=_FILTER_FILES,
        check=iptables.check_forward_policy,
        description="Pod-to-pod and pod-to-service traffic is forwarded; a DROP policy that counted packets "
        "is HIGH, MEDIUM while its counter is zero.",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        id="network.iptables.port-conflict",
        severity=Severity.HIGH,
        category="network",
        title="DNAT rule takes a port the node reserves for its agents (kubelet 10250)",
        files=_ALL_IPTABLES,
        check=iptables.check_port_conflict,
        description="A DNAT (a hostPort, an agent) for traffic to the node on a port in "
        "net.ipv4.ip_local_reserved_ports: on 10250 (HIGH) the API server reaches something else instead of "
        "kubelet; kube-proxy and ipamd ports MEDIUM.",
        remedy=Remedy.CONFIGURATION,
        nma=("PortConflict",),
    ),
    Rule(
        id="network.iptables.legacy-tables-unread",
        severity=Severity.MEDIUM,
        category="network",
        title="iptables-legacy tables exist but are not in the bundle",
        files=_ALL_IPTABLES,
        check=iptables.check_legacy_tables_hidden,
        description="iptables (nf_tables) warned that legacy tables are present and no iptables-legacy-save "
        "output was collected: rules the kernel applies are invisible.",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        id="network.kube-proxy.chains-missing",
        severity=Severity.HIGH,
        category="network",
        title="kube-proxy service chains missing from the nat table",
        files=_ALL_IPTABLES,
        check=check_kube_proxy_chains,
        description="No KUBE-SERVICES chain, or one without KUBE-SVC-* jumps, while kube-proxy is not in IPVS or "
        "nftables mode (its own log, IPVS state or its nft table say which; the iptables backend does not): "
        "CRITICAL when kube-proxy announced iptables mode, HIGH otherwise.",
        remedy=Remedy.NODE,
        nma=("KubeProxyNotReady",),
    ),
    Rule(
        id="network.kube-proxy.restarting",
        severity=Severity.MEDIUM,
        category="network",
        title="kube-proxy container restarting",
        files=("var_log/kube-system_kube-proxy-*",),
        check=only("network.kube-proxy.restarting", ipamd.check_addon_restarts),
        description="kube-proxy's log file is <restarts>.log: 5 or more restarts MEDIUM, 20 or more HIGH.",
        remedy=Remedy.NODE,
        nma=("KubeProxyNotReady",),
    ),
    Rule(
        id="network.route.blackhole",
        severity=Severity.HIGH,
        category="network",
        title="blackhole/unreachable/prohibit route",
        files=("networking/iproute.txt", "networking/ip6route.txt"),
        check=routes.check_route_blackhole,
        description="HIGH when, by longest prefix, the route still captures DNS, Service, pod or VPC addresses; "
        "MEDIUM over an assumed service range only; LOW otherwise. Calico (proto bird) IPAM blackholes and "
        "kernel defaults are ignored.",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        id="vpc-cni.pod-ip-rule-missing",
        severity=Severity.HIGH,
        category="vpc-cni",
        title="Pod address assigned by ipamd has no VPC CNI ip rule",
        files=("networking/iprule.txt", "networking/ip6rule.txt"),
        check=only("vpc-cni.pod-ip-rule-missing", routes.check_pod_rules_and_routes),
        description="Every pod address in ipamd's datastore or checkpoint needs `512: from all to <ip> lookup main` "
        "(and, on a secondary ENI, `1536: from <ip> lookup <table>`); CRITICAL when half the pods (3+) lack them.",
        remedy=Remedy.NODE,
        nma=("MissingIPRules",),
    ),
    Rule(
        id="vpc-cni.pod-route-missing",
        severity=Severity.HIGH,
        category="vpc-cni",
        title="Pod address assigned by ipamd has no route to its veth",
        files=("networking/iproute.txt", "networking/ip6route.txt"),
        check=only("vpc-cni.pod-route-missing", routes.check_pod_rules_and_routes),
        description="Every pod address ipamd assigned needs `<ip> dev <veth> scope link` in the main table.",
        remedy=Remedy.NODE,
        nma=("MissingIPRoutes",),
    ),
    Rule(
        id="vpc-cni.eni-default-route-missing",
        severity=Severity.HIGH,
        category="vpc-cni",
        title="ENI route table used by pod rules has no default route",
        files=("networking/iprule.txt", "networking/ip6rule.txt"),
        check=routes.check_eni_default_routes,
        description="A table that `1536: from <pod> lookup <table>` rules use needs `default via <gw> dev <eni> "
        "table <table>`; CRITICAL with 3 or more pods behind it.",
        remedy=Remedy.NODE,
        nma=("MissingDefaultRoutes",),
    ),
    Rule(
        id="vpc-cni.ipamd-not-running",
        severity=Severity.HIGH,
        category="vpc-cni",
        title="ipamd did not answer (introspection files empty) while the VPC CNI is installed",
        files=("ipamd/enis.json",),
        check=ipamd.check_ipamd_not_running,
        description="The collector's curl to ipamd's introspection port got nothing: ipamd (aws-node) is down.",
        remedy=Remedy.NODE,
        nma=("IPAMDNotRunning",),
    ),
    Rule(
        id="vpc-cni.ipamd-state-inconsistent",
        severity=Severity.MEDIUM,
        category="vpc-cni",
        title="ipamd datastore and checkpoint disagree about pod addresses",
        files=("ipamd/ipam.json", "ipamd/ipam-nic-*.json"),
        check=ipamd.check_ipamd_inconsistent,
        description="A pod with one address in ipamd's datastore (enis.json) and another in its checkpoint "
        "(ipam.json), or one address held by two pods; HIGH from 3 conflicts.",
        remedy=Remedy.NODE,
        nma=("IPAMDInconsistentState",),
    ),
    Rule(
        id="vpc-cni.aws-node-restarting",
        severity=Severity.MEDIUM,
        category="vpc-cni",
        title="aws-node (ipamd) container restarting",
        files=("var_log/kube-system_aws-node-*",),
        check=only("vpc-cni.aws-node-restarting", ipamd.check_addon_restarts),
        description="The aws-node container's log file is <restarts>.log: 5 or more restarts MEDIUM, 20 or more HIGH.",
        remedy=Remedy.NODE,
        nma=("IPAMDRepeatedlyRestart",),
    ),
    Rule(
        id="vpc-cni.network-policy-agent-restarting",
        severity=Severity.MEDIUM,
        category="vpc-cni",
        title="Network policy agent container restarting",
        files=("var_log/kube-system_aws-node-*",),
        check=only("vpc-cni.network-policy-agent-restarting", ipamd.check_addon_restarts),
        description="The aws-eks-nodeagent container's log file is <restarts>.log: 5 or more MEDIUM, 20 or more HIGH.",
        remedy=Remedy.NODE,
        nma=("NPARepeatedlyRestart",),
    ),
    Rule(
        id="network.interface.loopback-missing",
        severity=Severity.CRITICAL,
        category="network",
        title="Loopback interface missing or down",
        files=("networking/ip-addr.txt", "networking/ip-s-link.txt", "networking/ifconfig.txt"),
        check=interfaces.check_loopback,
        description="No loopback in ip addr, or none in ifconfig (which lists UP interfaces only, so a loopback "
        "that is down is absent too): local connectivity (127.0.0.1) fails.",
        remedy=Remedy.NODE,
        nma=("MissingLoopbackInterface", "InterfaceNotUp"),
    ),
    Rule(
        id="network.interface.not-up",
        severity=Severity.HIGH,
        category="network",
        title="Network interface administratively down",
        files=("networking/ip-addr.txt", "networking/ip-s-link.txt", "networking/ethtool.txt"),
        check=only("network.interface.not-up", interfaces.check_interfaces),
        description="An interface without UP (ip addr, ifconfig -a), or one ethtool.txt lists that ifconfig does "
        "not: CRITICAL for the loopback and the primary interface, HIGH for another ENI, MEDIUM for a pod veth.",
        remedy=Remedy.NODE,
        nma=("InterfaceNotUp",),
    ),
    Rule(
        id="network.interface.not-running",
        severity=Severity.HIGH,
        category="network",
        title="Network interface up without carrier (not RUNNING)",
        files=("networking/ip-addr.txt", "networking/ip-s-link.txt", "networking/ifconfig.txt"),
        check=only("network.interface.not-running", interfaces.check_interfaces),
        description="UP but not RUNNING / no LOWER_UP: same severities as an interface that is down.",
        remedy=Remedy.NODE,
        nma=("InterfaceNotRunning",),
    ),
    Rule(
        id="network.systemd.mac-address-policy",
        severity=Severity.HIGH,
        category="network",
        title="systemd link policy rewrites pod veth MAC addresses",
        files=("networking/systemd-network/*.link",),
        check=interfaces.check_mac_address_policy,
        description="A .link unit matching veths whose effective MACAddressPolicy is not none: HIGH with the VPC "
        "CNI (its static ARP entries break), MEDIUM otherwise.",
        remedy=Remedy.CONFIGURATION,
        nma=("MACAddressPolicyMisconfigured",),
    ),
    Rule(
        id="network.conntrack.table-near-full",
        severity=Severity.HIGH,
        category="conntrack",
        title="conntrack table near its maximum",
        files=("sysctls/sysctl_all.txt", "networking/conntrack.txt"),
        check=limits.check_conntrack_near_full,
        description="nf_conntrack_count / nf_conntrack_max at 90% or more is HIGH, 75% or more MEDIUM.",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        id="network.conntrack.insert-failed",
        severity=Severity.MEDIUM,
        category="conntrack",
        title="conntrack insert failures or drops",
        files=("networking/conntrack.txt",),
        check=limits.check_conntrack_insert_failed,
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
        check=limits.check_ena_allowance,
        description="An ENA *_allowance_exceeded counter since boot: LOW up to one burst (pps 320, bw_in 180, others "
        "100), HIGH when sustained (a burst per hour over the uptime, or 100 bursts when uptime is unknown), "
        "MEDIUM between.",
        remedy=Remedy.CONFIGURATION,
        nma=_ENA,
    ),
    Rule(
        id="network.sysctl.ip-forward-disabled",
        severity=Severity.CRITICAL,
        category="network",
        title="IP forwarding disabled (net.ipv4.ip_forward or IPv6 forwarding = 0)",
        files=("sysctls/sysctl_all.txt",),
        check=limits.check_forwarding,
        description="Without IP forwarding the node cannot route pod traffic (IPv6 forwarding checked when "
        "ipamd assigned IPv6 pod addresses).",
        remedy=Remedy.CONFIGURATION,
        nma=("NetworkSysctl",),
    ),
    Rule(
        id="dns.resolv.no-nameserver",
        severity=Severity.HIGH,
        category="dns",
        title="resolv.conf has no nameserver",
        files=("networking/resolv.conf",),
        check=limits.check_resolv_nameserver,
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
        check=limits.check_cni_config,
        description="A CNI config file that is not valid JSON or has no main plugin makes sandbox creation fail.",
        remedy=Remedy.CONFIGURATION,
    ),
)
