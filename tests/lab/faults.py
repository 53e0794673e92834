"""Real network faults on the namespace node of ``tests/ssm/netns_lab.py``, and what the engine must
report for each.

The node gets a secondary ENI (``eth1``, a veth with an address) so an interface can go down. Faults:
- ``legacy-dns-drop``: ``iptables-legacy -I FORWARD -p udp --dport 53 -j DROP``. The node's default
  ``iptables`` is nf_tables: the rule lives in the legacy tables, which the kernel applies too, and
  which only ``iptables-legacy-save`` shows. Pods' DNS lookups stop.
- ``custom-chain-drop``: a DROP in a custom chain ``FORWARD`` jumps to (client pod, HTTPS).
- ``kubelet-dnat``: a hostPort-style DNAT of the node's port 10250 to a pod.
- ``blackhole``: ``blackhole 10.100.0.0/16``, the Service CIDR.
- ``interface-down``: ``eth1`` administratively down.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.ssm.netns_lab import COREDNS_IP, SERVICE_CIDR, Node, run

SECONDARY_ENI_IP = "10.0.2.10/24"
FAULTS = ("legacy-dns-drop", "custom-chain-drop", "kubelet-dnat", "blackhole", "interface-down")


@dataclass(frozen=True)
class Expected:
    rule: str
    evidence: str
    """A piece of text one evidence line of the finding holds."""
    min_severity: str


EXPECTED = {
    "legacy-dns-drop": Expected("network.iptables.forward-drop", "--dport 53 -j DROP", "CRITICAL"),
    "custom-chain-drop": Expected("network.iptables.reachable-drop", "10.0.1.20", "HIGH"),
    "kubelet-dnat": Expected("network.iptables.port-conflict", "10250", "HIGH"),
    "blackhole": Expected("network.route.blackhole", f"blackhole {SERVICE_CIDR}", "HIGH"),
    "interface-down": Expected("network.interface.not-up", "eth1", "HIGH"),
}
"""With the project's collector. The rule ids here are what the clean run must not show."""


def add_secondary_eni(node: Node) -> None:
    run("ip", "-n", node.node, "link", "add", "eth1", "type", "veth", "peer", "name", "vpc1")
    run("ip", "-n", node.node, "addr", "add", SECONDARY_ENI_IP, "dev", "eth1")
    run("ip", "-n", node.node, "link", "set", "vpc1", "up")
    run("ip", "-n", node.node, "link", "set", "eth1", "up")


def build_with_faults(node: Node, faults: tuple[str, ...]) -> dict:
    """Build the node with its secondary ENI, inject ``faults``, and send 3 DNS queries from the
    client pod (the answer counts)."""
    node.build()
    add_secondary_eni(node)
    for fault in faults:
        inject(node, fault)
    return node.dns_queries(3)


def inject(node: Node, fault: str) -> None:
    if fault == "legacy-dns-drop":
        node.node_exec("iptables-legacy", "-w", "5", "-I", "FORWARD", "-p", "udp", "--dport", "53", "-j", "DROP")
    elif fault == "custom-chain-drop":
        node.node_exec("iptables", "-w", "5", "-N", "CUSTOM-FW")
        node.node_exec(
            "iptables", "-w", "5", "-A", "CUSTOM-FW", "-s", "10.0.1.20/32", "-p", "tcp", "--dport", "443", "-j", "DROP"
        )
        node.node_exec("iptables", "-w", "5", "-I", "FORWARD", "-j", "CUSTOM-FW")
    elif fault == "kubelet-dnat":
        nat = ("iptables", "-w", "5", "-t", "nat")
        node.node_exec(*nat, "-N", "CNI-HOSTPORT-DNAT")
        node.node_exec(*nat, "-A", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT")
        node.node_exec(
            *nat, "-A", "CNI-HOSTPORT-DNAT", "-p", "tcp", "--dport", "10250",
            "-j", "DNAT", "--to-destination", f"{COREDNS_IP}:10250",
        )  # fmt: skip
    elif fault == "blackhole":
        run("ip", "-n", node.node, "route", "add", "blackhole", SERVICE_CIDR)
    elif fault == "interface-down":
        run("ip", "-n", node.node, "link", "set", "eth1", "down")
    else:
        raise ValueError(f"unknown fault {fault!r}")
