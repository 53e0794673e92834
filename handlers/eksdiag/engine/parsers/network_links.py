"""Parsers for the node's network interfaces and their link configuration.

- ``networking/ifconfig.txt``: ``ifconfig`` as eks-log-collector.sh runs it (no ``-a``, so an
  interface that is not UP is not listed at all); both the net-tools 2.x layout
  (``eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 9001``) and the 1.60 one
  (``eth0      Link encap:Ethernet`` then ``UP BROADCAST RUNNING MULTICAST  MTU:9001``).
- ``networking/ip-addr.txt`` / ``ip-s-link.txt`` (the project's collector): ``ip addr show`` /
  ``ip -s link``, every interface with its flags (``<BROADCAST,MULTICAST,UP,LOWER_UP>``) and state.
- ``networking/systemd-network/*.link``: ``systemd-analyze cat-config <unit>`` output, the unit and
  its drop-ins each after a ``# /path`` comment; the last ``MACAddressPolicy=`` in ``[Link]`` wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from eksdiag.engine.parsers.base import Line

MAX_INTERFACES = 4_000
MAX_ADDRESSES = 16

_IFCONFIG_NEW = re.compile(r"^(\S+?):\s+flags=\d+<([^>]*)>")
_IFCONFIG_OLD = re.compile(r"^(\S+)\s+Link encap:")
_IFCONFIG_OLD_FLAGS = re.compile(r"^\s+((?:[A-Z][A-Z-]*\s+)*[A-Z][A-Z-]*)\s+MTU:\d+")
_INET = re.compile(r"^\s+inet6?\s+(?:addr:\s*)?([0-9A-Fa-f:.]+)(?:/\d+)?")
_IP_LINK = re.compile(r"^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>(.*)$")
_STATE = re.compile(r"\bstate\s+(\S+)")


def _interface(name: str, number: int, text: str, flags: list[str]) -> dict[str, Any]:
    flag_set = set(flags)
    return {
        "name": name,
        "line": number,
        "text": text,
        "flags": flags,
        "up": "UP" in flag_set,
        "running": "RUNNING" in flag_set or "LOWER_UP" in flag_set,
        "loopback": "LOOPBACK" in flag_set,
        "broadcast": "BROADCAST" in flag_set,
        "multicast": "MULTICAST" in flag_set,
        "state": None,
        "addresses": [],
    }


def parse_ifconfig(lines: Iterable[Line]) -> dict[str, Any]:
    """``ifconfig``: ``{"kind": "interfaces", "source": "ifconfig", "lists_down": bool, "interfaces":
    [{"name", "line", "text", "flags", "up", "running", "loopback", "broadcast", "multicast",
    "state": None, "addresses"}]}``. ``lists_down`` is True only when some listed interface is not UP
    (``ifconfig -a``); plain ``ifconfig`` lists UP interfaces only."""
    interfaces: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for number, text in lines:
        new = _IFCONFIG_NEW.match(text)
        old = None if new else _IFCONFIG_OLD.match(text)
        if new or old:
            name = (new or old).group(1)  # type: ignore[union-attr]
            flags = [f for f in new.group(2).split(",") if f] if new else []
            current = _interface(name, number, text, flags)
            if len(interfaces) < MAX_INTERFACES:
                interfaces.append(current)
            continue
        if current is None:
            continue
        if old is None and not current["flags"]:
            legacy = _IFCONFIG_OLD_FLAGS.match(text)
            if legacy:
                addresses = current["addresses"]
                current.update(_interface(current["name"], current["line"], current["text"], legacy.group(1).split()))
                current["addresses"] = addresses
                continue
        address = _INET.match(text)
        if address and len(current["addresses"]) < MAX_ADDRESSES:
            current["addresses"].append(address.group(1))
    return {
        "kind": "interfaces",
        "source": "ifconfig",
        "lists_down": any(not i["up"] for i in interfaces),
        "interfaces": interfaces,
    }


def parse_ip_link(lines: Iterable[Line]) -> dict[str, Any]:
    """``ip addr show`` or ``ip -s link``: same shape as :func:`parse_ifconfig`, ``source`` ``ip``,
    ``lists_down`` True (ip lists every interface), ``state`` from ``state UP|DOWN|UNKNOWN``."""
    interfaces: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for number, text in lines:
        header = _IP_LINK.match(text)
        if header:
            current = _interface(header.group(1), number, text, [f for f in header.group(2).split(",") if f])
            state = _STATE.search(header.group(3))
            current["state"] = state.group(1) if state else None
            if len(interfaces) < MAX_INTERFACES:
                interfaces.append(current)
            continue
        address = _INET.match(text)
        if current is not None and address and len(current["addresses"]) < MAX_ADDRESSES:
            current["addresses"].append(address.group(1))
    return {"kind": "interfaces", "source": "ip", "lists_down": True, "interfaces": interfaces}


_SECTION = re.compile(r"^\[([A-Za-z]+)\]\s*$")
_ASSIGNMENT = re.compile(r"^([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*?)\s*$")
MAX_VALUES = 64


def parse_systemd_link(lines: Iterable[Line]) -> dict[str, Any]:
    """``systemd-analyze cat-config`` of one networkd unit (``.link``, ``.network``, ``.netdev``).

    Returns ``{"kind": "systemd-network-unit", "unit": path from the first ``# /path`` header or
    None, "parts": [paths of the unit and its drop-ins], "match": {key: [values]}, "link": {key:
    {"value", "line", "text"}}}``: the last assignment of each ``[Link]`` key (what systemd applies).
    """
    parts: list[str] = []
    match: dict[str, list[str]] = {}
    link: dict[str, dict[str, Any]] = {}
    section: str | None = None
    for number, text in lines:
        stripped = text.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            path = stripped[1:].strip()
            if path.startswith("/") and " " not in path and len(parts) < MAX_VALUES:
                parts.append(path)
                section = None
            continue
        if stripped.startswith(";"):
            continue
        header = _SECTION.match(stripped)
        if header:
            section = header.group(1)
            continue
        assignment = _ASSIGNMENT.match(stripped)
        if assignment is None:
            continue
        key, value = assignment.groups()
        if section == "Match":
            values = match.setdefault(key, [])
            if value == "":
                values.clear()  # an empty assignment resets the list
            elif len(values) < MAX_VALUES:
                values.extend(value.split())
        elif section in ("Link", None):  # a fragment without a section header: taken as [Link]
            link[key] = {"value": value, "line": number, "text": text}
    return {
        "kind": "systemd-network-unit",
        "unit": parts[0] if parts else None,
        "parts": parts,
        "match": match,
        "link": link,
    }
