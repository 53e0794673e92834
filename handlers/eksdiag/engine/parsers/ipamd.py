"""VPC CNI ipamd files (``ipamd/``): ENIs, Prometheus metrics, the IPAM checkpoint, env settings.

The collector fetches them with ``curl --silent``: when ipamd is down the file is empty or holds an
error page, which gives ``valid: false`` and an ``error`` text, never an exception. Also here: the
JSON reader the other JSON artifact parsers share (it keeps line numbers for evidence).
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eksdiag.engine.parsers.base import Line

MAX_JSON_CHARS = 32 << 20
"""Larger documents are not decoded (``error: "too large"``)."""


@dataclass
class JsonText:
    """The joined text of a file, where each line starts, and the decoded document (if any)."""

    text: str
    starts: list[int]
    numbers: list[int]
    data: Any
    error: str | None

    def line_at(self, offset: int) -> int:
        """The 1-based file line number holding character ``offset`` of ``text``."""
        if not self.numbers:
            return 1
        index = bisect.bisect_right(self.starts, offset) - 1
        return self.numbers[max(index, 0)]

    def line_text(self, number: int) -> str:
        """The text of file line ``number`` (empty if unknown)."""
        try:
            index = self.numbers.index(number)
        except ValueError:
            return ""
        end = self.starts[index + 1] - 1 if index + 1 < len(self.starts) else len(self.text)
        return self.text[self.starts[index] : end]

    def excerpt(self, offset: int, width: int = 160) -> str:
        """The line holding ``offset``: whole if short, else a window of about ``width`` characters.

        A window is cut at the line's bounds and marked with ``…`` where text was left out.
        """
        number = self.line_at(offset)
        whole = self.line_text(number)
        if len(whole) <= 2 * width:
            return whole
        index = self.numbers.index(number)
        local = offset - self.starts[index]
        start = max(local - width // 4, 0)
        end = min(start + width, len(whole))
        return ("…" if start > 0 else "") + whole[start:end] + ("…" if end < len(whole) else "")


def _finite_float(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


_DECODER = json.JSONDecoder(parse_float=_finite_float, parse_constant=lambda _: None)
"""Strict-JSON output: ``1e400``, ``NaN`` and ``Infinity`` decode to ``None``."""


def read_json(lines: Iterable[Line]) -> JsonText:
    """Join the lines and decode the first JSON value; trailing text (e.g. a second curl) is ignored."""
    parts: list[str] = []
    starts: list[int] = []
    numbers: list[int] = []
    size = 0
    too_large = False
    for number, text in lines:
        if too_large:
            continue
        starts.append(size)
        numbers.append(number)
        parts.append(text)
        size += len(text) + 1
        if size > MAX_JSON_CHARS:
            too_large = True
    joined = "\n".join(parts)
    if too_large:
        return JsonText(joined[:0], [], [], None, "too large")
    stripped = joined.lstrip()
    if not stripped:
        return JsonText(joined, starts, numbers, None, "empty")
    if stripped[0] not in "{[":
        return JsonText(joined, starts, numbers, None, "not JSON: " + stripped[:80].splitlines()[0])
    try:
        data, _ = _DECODER.raw_decode(stripped)
    except (ValueError, RecursionError) as exc:
        return JsonText(joined, starts, numbers, None, f"invalid JSON: {str(exc)[:120]}")
    return JsonText(joined, starts, numbers, data, None)


# --- enis.json -----------------------------------------------------------------------------------

MAX_ENIS = 64
_TOTAL_KEY = re.compile(r'"TotalIPs"\s*:')


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _assigned(entry: Any) -> bool:
    if not isinstance(entry, Mapping):
        return False
    if entry.get("Assigned") is True:
        return True
    key = entry.get("IPAMKey")
    return isinstance(key, Mapping) and any(isinstance(v, str) and v for v in key.values())


def _prefix_size(cidr: str) -> int:
    _, _, bits = cidr.partition("/")
    if bits.isdigit() and int(bits) <= 32:
        return 1 << (32 - int(bits))
    return 1


MAX_ASSIGNED = 2_000
"""Assigned pod addresses listed per ENI (a node has at most a few hundred pods)."""


def _pod_of(entry: Mapping[str, Any]) -> str | None:
    meta = entry.get("IPAMMetadata")
    if not isinstance(meta, Mapping):
        return None
    namespace, name = meta.get("k8sPodNamespace"), meta.get("k8sPodName")
    if isinstance(namespace, str) and isinstance(name, str) and name:
        return f"{namespace}/{name}"
    return None


def _assigned_entries(addresses: Any, listed: list[dict[str, Any]]) -> int:
    """Count the assigned entries of an ``IPAddresses`` map, listing each (address and pod)."""
    if not isinstance(addresses, Mapping):
        return 0
    count = 0
    for key, entry in addresses.items():
        if not _assigned(entry):
            continue
        count += 1
        address = entry.get("Address") if isinstance(entry.get("Address"), str) else str(key)
        if len(listed) < MAX_ASSIGNED:
            listed.append({"ip": address, "pod": _pod_of(entry)})
    return count


def _eni_summary(eni_id: str, eni: Mapping[str, Any]) -> dict[str, Any]:
    ip_count = 0
    assigned = 0
    prefixes = 0
    listed: list[dict[str, Any]] = []
    for family_key in ("AvailableIPv4Cidrs", "IPv6Cidrs"):
        cidrs = eni.get(family_key)
        if not isinstance(cidrs, Mapping):
            continue
        for cidr, block in cidrs.items():
            if not isinstance(block, Mapping):
                continue
            if family_key == "AvailableIPv4Cidrs":
                if block.get("IsPrefix") is True:
                    prefixes += 1
                    ip_count += _prefix_size(str(cidr))
                else:
                    ip_count += 1
            assigned += _assigned_entries(block.get("IPAddresses"), listed)
    addresses = eni.get("IPv4Addresses")
    if isinstance(addresses, Mapping):
        ip_count += len(addresses)
        assigned += _assigned_entries(addresses, listed)
    explicit = _int(eni.get("AssignedIPv4Addresses"))
    if explicit is not None:
        assigned = explicit
    subnet = eni.get("SubnetID")
    return {
        "id": str(eni.get("ID") or eni.get("Id") or eni_id),
        "is_primary": eni.get("IsPrimary") is True,
        "is_trunk": eni.get("IsTrunk") is True,
        "is_efa": eni.get("IsEFA") is True,
        "device_number": _int(eni.get("DeviceNumber")),
        "subnet_id": subnet if isinstance(subnet, str) else None,
        "route_table_id": _int(eni.get("RouteTableID")),
        "ip_count": ip_count,
        "assigned_count": assigned,
        "prefix_count": prefixes,
        "assigned": listed,
    }


def _card(name: str, info: Mapping[str, Any], enis: Mapping[str, Any]) -> dict[str, Any]:
    summaries = [_eni_summary(str(k), v) for k, v in enis.items() if isinstance(v, Mapping)]
    total = _int(info.get("TotalIPs"))
    assigned = _int(info.get("AssignedIPs"))
    if total is None:
        total = sum(s["ip_count"] for s in summaries)
    if assigned is None:
        assigned = sum(s["assigned_count"] for s in summaries)
    return {
        "network_card": name,
        "total_ips": total,
        "assigned_ips": assigned,
        "eni_count": len(summaries),
        "enis": summaries[:MAX_ENIS],
        "line": None,
        "evidence": None,
    }


def _looks_like_infos(value: Any) -> bool:
    return isinstance(value, Mapping) and ("TotalIPs" in value or "ENIs" in value)


def parse_enis(lines: Iterable[Line]) -> dict[str, Any]:
    """``ipamd/enis.json`` (``/v1/enis``) in any of its shapes.

    Shapes: a map keyed by network-card index (CNI ≥ 2025-07, multi-NIC), the ``ENIInfos`` object
    (``{"TotalIPs", "AssignedIPs", "ENIs"}``), and the CNI ≤ 1.5 object with ``ENIIPPools``.
    Returns ``{"kind": "ipamd-enis", "valid", "error", "format": "multi-nic" | "eniinfos" |
    "eniippools" | None, "total_ips": int | None, "assigned_ips": int | None, "eni_count",
    "network_cards": [{"network_card", "total_ips", "assigned_ips", "eni_count", "enis": [{"id",
    "is_primary", "is_trunk", "is_efa", "device_number", "subnet_id", "route_table_id", "ip_count",
    "assigned_count", "prefix_count", "assigned": [{"ip", "pod"}]}], "line", "evidence"}]}``.
    ``evidence`` is the text of the line holding the card's ``"TotalIPs"`` (a window around it,
    marked with ``…``, when the line is long).
    """
    doc = read_json(lines)
    data = doc.data
    error = doc.error
    fmt: str | None = None
    cards: list[dict[str, Any]] = []
    if isinstance(data, Mapping):
        if isinstance(data.get("ENIIPPools"), Mapping):
            fmt = "eniippools"
            cards.append(_card("0", data, data["ENIIPPools"]))
        elif _looks_like_infos(data):
            fmt = "eniinfos"
            enis = data.get("ENIs")
            cards.append(_card("0", data, enis if isinstance(enis, Mapping) else {}))
        elif data and all(_looks_like_infos(v) for v in data.values()):
            fmt = "multi-nic"
            for key, info in data.items():
                enis = info.get("ENIs")
                cards.append(_card(str(key), info, enis if isinstance(enis, Mapping) else {}))
        else:
            error = "unrecognised /v1/enis shape"
    elif error is None:
        error = "not a JSON object"
    offsets = [m.start() for m in _TOTAL_KEY.finditer(doc.text)] if fmt is not None else []
    for card, offset in zip(cards, offsets, strict=False):
        card["line"] = doc.line_at(offset)
        card["evidence"] = doc.excerpt(offset)
    for card in cards:
        if card["line"] is None and doc.numbers:
            card["line"] = doc.numbers[0]
            card["evidence"] = doc.excerpt(doc.starts[0])
    return {
        "kind": "ipamd-enis",
        "valid": fmt is not None,
        "error": error,
        "format": fmt,
        "total_ips": sum(c["total_ips"] for c in cards) if cards else None,
        "assigned_ips": sum(c["assigned_ips"] for c in cards) if cards else None,
        "eni_count": sum(c["eni_count"] for c in cards),
        "network_cards": cards,
    }


# --- metrics.json (Prometheus text) --------------------------------------------------------------

MAX_SERIES = 64
_SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?[ \t]*$")


_LEGACY_NAMES = {
    name: "awscni_" + name
    for name in ("assigned_ip_addresses", "total_ip_addresses", "eni_allocated", "eni_max", "ip_max")
}
"""CNI ≤ 1.5 exported these without the ``awscni_`` prefix; they are stored under the new names."""


def _number(text: str) -> float | int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


def parse_metrics(lines: Iterable[Line]) -> dict[str, Any]:
    """``ipamd/metrics.json``: ipamd's Prometheus text exposition (despite the name), ``awscni_*`` only.

    Returns ``{"kind": "ipamd-metrics", "valid", "error", "metrics": {name: value (summed over
    label sets)}, "series": {name: {"{labels}": value}} (labelled names only, bounded), "samples":
    {name: {"line", "text"}} (first sample line of each name), "other_samples": int}``. Histogram
    ``_bucket`` series are skipped (``_sum``/``_count`` are kept). NaN/Inf samples are ignored.
    """
    metrics: dict[str, float | int] = {}
    series: dict[str, dict[str, float | int]] = {}
    samples: dict[str, dict[str, Any]] = {}
    other = 0
    non_blank = 0
    first_text: str | None = None
    for number, text in lines:
        stripped = text.strip()
        if not stripped:
            continue
        non_blank += 1
        if first_text is None:
            first_text = stripped
        if stripped.startswith("#"):
            continue
        m = _SAMPLE.match(stripped)
        if m is None:
            continue
        name, labels, raw = m.groups()
        name = _LEGACY_NAMES.get(name, name)
        if not name.startswith("awscni_"):
            other += 1
            continue
        if name.endswith("_bucket"):
            continue
        value = _number(raw)
        if value is None:
            continue
        metrics[name] = metrics.get(name, 0) + value
        samples.setdefault(name, {"line": number, "text": text})
        if labels and labels != "{}":
            by_label = series.setdefault(name, {})
            if len(by_label) < MAX_SERIES:
                by_label[labels] = value
    error: str | None = None
    if not metrics and not other:
        error = "empty" if non_blank == 0 else "not Prometheus text: " + (first_text or "")[:80]
    return {
        "kind": "ipamd-metrics",
        "valid": error is None,
        "error": error,
        "metrics": metrics,
        "series": series,
        "samples": samples,
        "other_samples": other,
    }


# --- ipam.json checkpoint, env settings ------------------------------------------------------------


def parse_checkpoint(lines: Iterable[Line]) -> dict[str, Any]:
    """``ipamd/ipam.json`` (and ``ipam-nic-<n>.json``): the ipamd IPAM checkpoint.

    Returns ``{"kind": "ipamd-checkpoint", "valid", "error", "version": str | None,
    "allocation_count": int, "ipv4_count": int, "ipv6_count": int, "namespaces": {ns: count},
    "allocations": [{"ip", "pod" ("ns/name" or None), "container"}]}``.
    """
    doc = read_json(lines)
    data = doc.data if isinstance(doc.data, Mapping) else None
    allocations = data.get("allocations") if data is not None else None
    error = doc.error
    if data is not None and not isinstance(allocations, list):
        error = "no allocations list"
    elif data is None and error is None:
        error = "not a JSON object"
    entries = [a for a in allocations if isinstance(a, Mapping)] if isinstance(allocations, list) else []
    namespaces: dict[str, int] = {}
    listed: list[dict[str, Any]] = []
    for entry in entries:
        meta = entry.get("metadata")
        ns = meta.get("k8sPodNamespace") if isinstance(meta, Mapping) else None
        name = meta.get("k8sPodName") if isinstance(meta, Mapping) else None
        key = ns if isinstance(ns, str) and ns else "(unknown)"
        namespaces[key] = namespaces.get(key, 0) + 1
        for family in ("ipv4", "ipv6"):
            address = entry.get(family)
            if isinstance(address, str) and address and len(listed) < MAX_ASSIGNED:
                pod = f"{ns}/{name}" if isinstance(ns, str) and isinstance(name, str) and name else None
                container = entry.get("containerID")
                listed.append(
                    {"ip": address, "pod": pod, "container": container if isinstance(container, str) else None}
                )
    version = data.get("version") if data is not None else None
    return {
        "kind": "ipamd-checkpoint",
        "valid": error is None,
        "error": error,
        "version": version if isinstance(version, str) else None,
        "allocation_count": len(entries),
        "ipv4_count": sum(1 for e in entries if e.get("ipv4")),
        "ipv6_count": sum(1 for e in entries if e.get("ipv6")),
        "namespaces": dict(sorted(namespaces.items())[:MAX_SERIES]),
        "allocations": listed,
    }


MAX_SETTINGS = 512


def _env_settings(kind: str, lines: Iterable[Line]) -> dict[str, Any]:
    doc = read_json(lines)
    data = doc.data if isinstance(doc.data, Mapping) else None
    error = doc.error if data is not None or doc.error is not None else "not a JSON object"
    settings: dict[str, Any] = {}
    if data is not None:
        for key, value in list(data.items())[:MAX_SETTINGS]:
            if value is None or isinstance(value, str | int | float | bool):
                settings[str(key)] = value
            else:
                settings[str(key)] = json.dumps(value, sort_keys=True)[:512]
    return {
        "kind": kind,
        "valid": data is not None,
        "error": None if data is not None else error,
        "settings": settings,
    }


def parse_ipamd_env(lines: Iterable[Line]) -> dict[str, Any]:
    """``ipamd/ipamd-env-settings.json``: ``{"kind": "ipamd-env-settings", "valid", "error", "settings"}``.

    ``settings`` maps each variable to its JSON scalar value (lists/objects re-encoded as JSON text).
    """
    return _env_settings("ipamd-env-settings", lines)


def parse_networkutils_env(lines: Iterable[Line]) -> dict[str, Any]:
    """``ipamd/networkutils-env-settings.json``: same shape, ``kind`` ``networkutils-env-settings``."""
    return _env_settings("networkutils-env-settings", lines)
