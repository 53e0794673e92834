"""Parsers for node network configuration: ``sysctl --all``, ``ethtool -S`` per interface,
``resolv.conf`` and CNI network configuration files (research/bundle.md 4.9, 4.11, 4.12, 4.15)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from eksdiag.engine.parsers.base import Line

MAX_SYSCTL_KEYS = 20_000
MAX_INTERFACES = 2_000
MAX_CONFIG_BYTES = 1 << 20
_SYSCTL_RE = re.compile(r"^([A-Za-z0-9_.\-/*:]+)\s*=\s?(.*)$")


def sysctl_line_text(artifact: dict[str, Any], key: str) -> str:
    """The exact text of the line that set ``key`` (sysctl prints ``key = value``)."""
    raw = artifact.get("raw", {}).get(key)
    if raw is not None:
        return str(raw)
    return f"{key} = {artifact['values'][key]}"


def parse_sysctl(lines: Iterable[Line]) -> dict[str, Any]:
    """``sysctl --all``: ``values`` {key: value text}, ``lines`` {key: line number}, and ``raw``
    {key: line text} only for lines not in the canonical ``key = value`` form."""
    values: dict[str, str] = {}
    numbers: dict[str, int] = {}
    raw: dict[str, str] = {}
    unparsed = 0
    for number, text in lines:
        if not text.strip():
            continue
        match = _SYSCTL_RE.match(text)
        if not match or len(values) >= MAX_SYSCTL_KEYS:
            unparsed += 1
            continue
        key, value = match.group(1), match.group(2)
        values[key] = value
        numbers[key] = number
        if text != f"{key} = {value}":
            raw[key] = text
    return {"kind": "sysctl", "values": values, "lines": numbers, "raw": raw, "unparsed": unparsed}


_ETHTOOL_COUNTER_RE = re.compile(r"^\s+([^:]+?):\s+(-?\d+)\s*$")
ALLOWANCE_SUFFIX = "_allowance_exceeded"


def parse_ethtool(lines: Iterable[Line]) -> dict[str, Any]:
    """``Interface <if>`` + ``ethtool -S <if>`` blocks. ENA ``*_allowance_exceeded`` counters are
    repeated in ``allowance_exceeded`` with their exact lines."""
    interfaces: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    allowance: list[dict[str, Any]] = []
    for number, text in lines:
        stripped = text.strip()
        if not stripped:
            continue
        if text.startswith("Interface "):
            current = {
                "name": stripped.split(None, 1)[1] if " " in stripped else "",
                "line": number,
                "counters": {},
                "counter_lines": {},
                "messages": [],
            }
            if len(interfaces) < MAX_INTERFACES:
                interfaces.append(current)
            continue
        if current is None:
            continue
        counter = _ETHTOOL_COUNTER_RE.match(text)
        if counter:
            name, value = counter.group(1).strip(), int(counter.group(2))
            current["counters"][name] = value
            current["counter_lines"][name] = number
            if name.endswith(ALLOWANCE_SUFFIX):
                allowance.append(
                    {
                        "interface": current["name"],
                        "counter": name,
                        "value": value,
                        "line": number,
                        "text": text,
                    }
                )
            continue
        if stripped != "NIC statistics:" and len(current["messages"]) < 5:
            current["messages"].append({"line": number, "text": text})
    return {
        "kind": "ethtool",
        "interfaces": interfaces,
        "allowance_exceeded": allowance,
        "ena": any(any(name.endswith(ALLOWANCE_SUFFIX) for name in iface["counters"]) for iface in interfaces),
    }


def parse_resolv_conf(lines: Iterable[Line]) -> dict[str, Any]:
    """``/etc/resolv.conf``: nameservers, search domains, options, with line numbers."""
    nameservers: list[dict[str, Any]] = []
    search: list[str] = []
    search_line: int | None = None
    options: list[str] = []
    options_lines: list[int] = []
    content: list[dict[str, Any]] = []
    line_count = 0
    for number, text in lines:
        line_count += 1
        stripped = text.strip()
        if not stripped:
            continue
        if len(content) < 50:
            content.append({"line": number, "text": text})
        if stripped.startswith(("#", ";")):
            continue
        parts = stripped.split()
        keyword, args = parts[0], parts[1:]
        if keyword == "nameserver" and args:
            nameservers.append({"address": args[0], "line": number, "text": text})
        elif keyword in ("search", "domain"):
            search, search_line = args, number
        elif keyword == "options":
            options.extend(args)
            options_lines.append(number)
    return {
        "kind": "resolv-conf",
        "nameservers": nameservers,
        "search": search,
        "search_line": search_line,
        "options": options,
        "options_lines": options_lines,
        "line_count": line_count,
        "content": content,
    }


CHAINED_PLUGIN_TYPES = frozenset(
    {
        "portmap",
        "bandwidth",
        "tuning",
        "egress-cni",
        "egress-v4-cni",
        "egress-v6-cni",
        "sbr",
        "firewall",
        "vrf",
    }
)


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def parse_cni_config(lines: Iterable[Line]) -> dict[str, Any]:
    """A CNI ``.conflist``/``.conf``: validity, name, cniVersion, plugin types, the aws-cni plugin's
    settings, whether the egress plugin is enabled."""
    numbers: list[int] = []
    texts: list[str] = []
    size = 0
    too_large = False
    for number, text in lines:
        size += len(text) + 1
        if size > MAX_CONFIG_BYTES:
            too_large = True
            break
        numbers.append(number)
        texts.append(text)
    first = next(({"line": n, "text": t} for n, t in zip(numbers, texts, strict=True) if t.strip()), None)
    plugins_line = next(({"line": n, "text": t} for n, t in zip(numbers, texts, strict=True) if '"plugins"' in t), None)
    result: dict[str, Any] = {
        "kind": "cni-config",
        "valid": False,
        "error": None,
        "error_line": None,
        "error_text": None,
        "name": None,
        "cniVersion": None,
        "is_list": False,
        "plugins": [],
        "plugin_types": [],
        "main_plugin": None,
        "aws_cni": None,
        "egress_enabled": False,
        "first_line": first,
        "plugins_line": plugins_line,
    }
    if too_large:
        result["error"] = f"file larger than {MAX_CONFIG_BYTES} bytes"
        return result
    try:
        document = json.loads("\n".join(texts))
    except json.JSONDecodeError as exc:
        result["error"] = f"{exc.msg} (line {exc.lineno} column {exc.colno})"
        index = exc.lineno - 1
        if 0 <= index < len(numbers):
            result["error_line"] = numbers[index]
            result["error_text"] = texts[index]
        return result
    if not isinstance(document, dict):
        result["error"] = f"top level is a JSON {type(document).__name__}, not an object"
        return result
    result["valid"] = True
    result["name"] = document.get("name") if isinstance(document.get("name"), str) else None
    result["cniVersion"] = document.get("cniVersion") if isinstance(document.get("cniVersion"), str) else None
    if isinstance(document.get("plugins"), list):
        result["is_list"] = True
        raw_plugins = [p for p in document["plugins"] if isinstance(p, dict)]
    elif "type" in document:
        raw_plugins = [document]
    else:
        raw_plugins = []
    plugins = [
        {"type": str(p.get("type", "")), "name": p.get("name") if isinstance(p.get("name"), str) else None}
        for p in raw_plugins
    ]
    result["plugins"] = plugins
    result["plugin_types"] = [p["type"] for p in plugins]
    result["main_plugin"] = next(
        (p["type"] for p in plugins if p["type"] and p["type"] not in CHAINED_PLUGIN_TYPES), None
    )
    for plugin in raw_plugins:
        ptype = plugin.get("type")
        if ptype == "aws-cni" and result["aws_cni"] is None:
            result["aws_cni"] = {
                key: plugin.get(key)
                for key in ("mtu", "vethPrefix", "podSGEnforcingMode", "pluginLogFile", "pluginLogLevel")
            }
        if isinstance(ptype, str) and ptype.startswith("egress") and _truthy(plugin.get("enabled")):
            result["egress_enabled"] = True
    return result
