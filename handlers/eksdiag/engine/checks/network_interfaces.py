"""Interfaces and their link policy: the loopback, ENIs and pod veths that are not up or have no
carrier, and a systemd MACAddressPolicy that rewrites the VPC CNI's veth addresses.

Sources: ``networking/ip-addr.txt`` (the project's collector: every interface, its flags and state)
or ``networking/ifconfig.txt`` (eks-log-collector.sh: ``ifconfig`` without ``-a`` lists UP
interfaces only, so an interface that is down is simply absent; ``networking/ethtool.txt``, written
for every interface ``ip -o a`` lists, names the ones that exist). Like the EKS node monitoring
agent, interfaces without BROADCAST and MULTICAST (dummy devices, kube-ipvs0, nodelocaldns) and
docker bridges are not judged.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from eksdiag.engine.checks._hits import artifacts_of_kind
from eksdiag.engine.checks.network_common import Item, aggregate, get, single
from eksdiag.engine.checks.network_ipamd import vpc_cni_installed
from eksdiag.engine.checks.network_ranges import veth_prefix
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Severity

IGNORED_PREFIXES = ("docker",)
VIRTUAL_PREFIXES = ("lo", "kube-ipvs", "nodelocaldns", "dummy", "cilium", "vxlan", "flannel", "tunl", "cali", "vlan")
"""Devices that are down or without carrier by design (dummy, tunnel, bridge devices), judged only
where their flags are known (``ip addr``), never from their absence in ``ifconfig``."""
PRIMARY_NAMES = ("eth0", "ens5", "enp0s5", "enX0")
VETH_SAMPLE_NAMES = ("eni1a2b3c4d5e6", "veth1a2b3c4d")
"""Names a VPC CNI (or generic) pod veth has, for testing a ``.link`` unit's OriginalName globs."""


def _interface_source(artifacts: ArtifactMap) -> tuple[str, Mapping[str, Any]] | None:
    """``ip addr`` when collected (every interface), else ``ifconfig``."""
    for path in ("networking/ip-addr.txt", "networking/ip-s-link.txt", "networking/ifconfig.txt"):
        parsed = get(artifacts, path, "interfaces")
        if parsed is not None and parsed.get("interfaces"):
            return path, parsed
    return None


def _primary_interfaces(artifacts: ArtifactMap) -> set[str]:
    names: set[str] = set()
    for _path, table in artifacts_of_kind(artifacts, "ip-route"):
        for route in table.get("routes") or ():
            if route.get("table") == "main" and route.get("dst") in ("0.0.0.0/0", "::/0") and route.get("dev"):
                names.add(str(route["dev"]))
    return names or set(PRIMARY_NAMES)


def _eni_interfaces(artifacts: ArtifactMap) -> set[str]:
    ethtool = get(artifacts, "networking/ethtool.txt", "ethtool")
    return {
        str(i["name"])
        for i in (ethtool or {}).get("interfaces") or ()
        if any(str(k).endswith("_allowance_exceeded") for k in i.get("counters") or {})
    }


def _role(name: str, artifacts: ArtifactMap, loopback: bool = False) -> tuple[Severity, str]:
    if loopback:
        return Severity.CRITICAL, "the loopback interface (everything that talks to 127.0.0.1 fails)"
    if name in _primary_interfaces(artifacts):
        return Severity.CRITICAL, "the primary interface (the node's default route)"
    if name in _eni_interfaces(artifacts) or name.startswith(("eth", "ens", "enp")):
        return Severity.HIGH, "an ENI carrying pod traffic"
    if name.startswith(veth_prefix(artifacts)):
        return Severity.MEDIUM, "a pod's host-side veth (that pod has no network)"
    return Severity.MEDIUM, "an interface"


def check_loopback(artifacts: ArtifactMap) -> list[Hit]:
    """MissingLoopbackInterface: no interface with the LOOPBACK flag (one that is down is
    ``network.interface.not-up``; plain ifconfig cannot tell the two apart)."""
    source = _interface_source(artifacts)
    if source is None:
        return []
    path, parsed = source
    if any(i.get("loopback") for i in parsed["interfaces"]):
        return []
    state = (
        "is missing"
        if parsed.get("lists_down")
        else "is not listed (missing, or down: ifconfig lists UP interfaces only)"
    )
    reason = f"The loopback interface {state}: kubelet, containerd and every service that talks to 127.0.0.1 fail."
    item = Item(Severity.CRITICAL, Evidence(1, ""), {"state": state}, reason)
    return single("network.interface.loopback-missing", path, item)


def _judged(interface: Mapping[str, Any]) -> bool:
    name = str(interface.get("name", ""))
    if interface.get("loopback"):
        return True
    if name.startswith(IGNORED_PREFIXES):
        return False
    return bool(interface.get("broadcast") and interface.get("multicast"))


def check_interfaces(artifacts: ArtifactMap) -> list[Hit]:
    """InterfaceNotUp / InterfaceNotRunning."""
    source = _interface_source(artifacts)
    if source is None:
        return []
    path, parsed = source
    not_up: list[Item] = []
    not_running: list[Item] = []
    for interface in parsed["interfaces"]:
        if not _judged(interface):
            continue
        name = str(interface["name"])
        severity, role = _role(name, artifacts, bool(interface.get("loopback")))
        evidence = Evidence(interface["line"], interface["text"])
        detail = {"interface": name, "flags": interface.get("flags"), "state": interface.get("state"), "role": role}
        if not interface.get("up"):
            not_up.append(Item(severity, evidence, detail, f"Interface {name}, {role}, is administratively down."))
        elif not interface.get("running"):
            reason = f"Interface {name}, {role}, is up but has no carrier (not RUNNING): nothing passes through it."
            not_running.append(Item(severity, evidence, detail, reason))
    hits = aggregate("network.interface.not-running", path, not_running)
    if parsed.get("lists_down"):
        return aggregate("network.interface.not-up", path, not_up) + hits
    listed = {str(i["name"]) for i in parsed["interfaces"]}
    ethtool = get(artifacts, "networking/ethtool.txt", "ethtool")
    for interface in (ethtool or {}).get("interfaces") or ():
        name = str(interface["name"])
        if name in listed or name.startswith(IGNORED_PREFIXES + VIRTUAL_PREFIXES) or _no_stats(interface):
            continue
        severity, role = _role(name, artifacts)
        reason = (
            f"Interface {name}, {role}, has an address (ethtool.txt lists it) but ifconfig, which shows UP "
            "interfaces only, does not: it is down."
        )
        not_up.append(
            Item(severity, Evidence(interface["line"], f"Interface {name}"), {"interface": name, "role": role}, reason)
        )
    return aggregate("network.interface.not-up", "networking/ethtool.txt", not_up) + hits


def _no_stats(interface: Mapping[str, Any]) -> bool:
    """``ethtool -S`` said the device has no statistics: a dummy or virtual device, not a NIC."""
    return any("no stats available" in str(m.get("text", "")) for m in interface.get("messages") or ())


# ---------------------------------------------------------------- systemd MACAddressPolicy


def _matches_veth(match: Mapping[str, list[str]]) -> bool:
    """Whether a ``.link`` unit's [Match] section can match a pod veth."""
    if any(match.get(key) for key in ("MACAddress", "PermanentMACAddress", "Path", "Property")):
        return False
    tests = {
        "OriginalName": VETH_SAMPLE_NAMES,
        "Driver": ("veth",),
        "Kind": ("veth",),
        "Type": ("ether",),
    }
    for key, samples in tests.items():
        patterns = match.get(key) or []
        if not patterns:
            continue
        negated = [p[1:] for p in patterns if p.startswith("!")]
        positive = [p for p in patterns if not p.startswith("!")]
        for sample in samples:
            if any(fnmatch.fnmatchcase(sample, p) for p in negated):
                return False
        if positive and not any(fnmatch.fnmatchcase(s, p) for s in samples for p in positive):
            return False
    return True


def check_mac_address_policy(artifacts: ArtifactMap) -> list[Hit]:
    """MACAddressPolicyMisconfigured: a link policy other than ``none`` that applies to pod veths."""
    hits: list[Hit] = []
    for path, unit in artifacts_of_kind(artifacts, "systemd-network-unit"):
        if not path.endswith(".link"):
            continue
        policy = (unit.get("link") or {}).get("MACAddressPolicy")
        if policy is None or policy["value"] in ("none", "") or not _matches_veth(unit.get("match") or {}):
            continue
        cni = vpc_cni_installed(artifacts)
        severity = Severity.HIGH if cni else Severity.MEDIUM
        reason = (
            f"{unit.get('unit') or path} sets MACAddressPolicy={policy['value']} for interfaces that include pod "
            "veths: udev rewrites a veth's MAC after the CNI created it"
            + (", breaking the VPC CNI's static ARP entry for the pod's gateway." if cni else ".")
        )
        detail = {
            "unit": unit.get("unit"),
            "parts": unit.get("parts"),
            "policy": policy["value"],
            "match": unit.get("match"),
        }
        hits.extend(
            single(
                "network.systemd.mac-address-policy",
                path,
                Item(severity, Evidence(policy["line"], policy["text"]), detail, reason),
            )
        )
    return hits
