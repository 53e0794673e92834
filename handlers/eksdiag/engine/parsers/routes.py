"""Parsers for ``ip route show table all`` and ``ip rule show`` (research/bundle.md 4.3)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from eksdiag.engine.parsers.base import Line

MAX_ROUTES = 20_000
MAX_RULES = 5_000

ROUTE_TYPES = frozenset(
    {
        "unicast",
        "blackhole",
        "unreachable",
        "prohibit",
        "local",
        "broadcast",
        "anycast",
        "multicast",
        "throw",
        "nat",
    }
)
_VALUE_KEYS = frozenset(
    {
        "via",
        "dev",
        "table",
        "proto",
        "scope",
        "src",
        "metric",
        "pref",
        "mtu",
        "advmss",
        "error",
        "expires",
        "weight",
        "realm",
        "realms",
        "tos",
        "dsfield",
        "hoplimit",
        "initcwnd",
        "initrwnd",
        "rtt",
        "rttvar",
        "congctl",
        "nhid",
        "encap",
        "from",
        "features",
        "quickack",
        "window",
        "ssthresh",
        "cwnd",
        "reordering",
        "fastopen_no_cookie",
    }
)
_KEPT = ("via", "dev", "table", "proto", "scope", "src", "metric")


def _key_values(tokens: list[str]) -> tuple[dict[str, str], list[str]]:
    values: dict[str, str] = {}
    flags: list[str] = []
    i = 0
    while i < len(tokens):
        word = tokens[i]
        if word in _VALUE_KEYS and i + 1 < len(tokens):
            value = tokens[i + 1]
            step = 2
            if word == "via" and value in ("inet", "inet6") and i + 2 < len(tokens):
                value, step = tokens[i + 2], 3
            values.setdefault(word, value)
            i += step
            continue
        flags.append(word)
        i += 1
    return values, flags


def parse_ip_route(lines: Iterable[Line], family: str = "ipv4") -> dict[str, Any]:
    """Every route with its type (``unicast`` when unprefixed), dst (``default`` normalised to
    ``0.0.0.0/0`` / ``::/0``), via, dev, table (``main`` when absent), proto, scope, src, metric."""
    default = "::/0" if family == "ipv6" else "0.0.0.0/0"
    routes: list[dict[str, Any]] = []
    total = 0
    by_type: dict[str, int] = {}
    errors: list[dict[str, Any]] = []
    for number, text in lines:
        stripped = text.strip()
        if not stripped:
            continue
        tokens = stripped.split()
        if tokens[0] == "nexthop" and routes and text[:1].isspace():
            values, _ = _key_values(tokens[1:])
            routes[-1].setdefault("nexthops", []).append(
                {"line": number, "via": values.get("via"), "dev": values.get("dev")}
            )
            continue
        if tokens[0] in ("Error:", "RTNETLINK") or stripped.lower().startswith(("error", "cannot")):
            if len(errors) < 5:
                errors.append({"line": number, "text": text})
            continue
        route_type = "unicast"
        if tokens[0] in ROUTE_TYPES:
            route_type = tokens.pop(0)
        if not tokens:
            continue
        dst = tokens.pop(0)
        if dst == "default" or dst in ("0/0", "all"):
            dst = default
        values, flags = _key_values(tokens)
        route: dict[str, Any] = {"line": number, "type": route_type, "dst": dst}
        for key in _KEPT:
            route[key] = values.get(key)
        route["table"] = route["table"] or "main"
        route["metric"] = (
            int(route["metric"])
            if route["metric"] and route["metric"].isascii() and route["metric"].isdigit()
            else None
        )
        route["flags"] = flags
        route["text"] = text
        total += 1
        by_type[route_type] = by_type.get(route_type, 0) + 1
        if len(routes) < MAX_ROUTES:
            routes.append(route)
    return {
        "kind": "ip-route",
        "family": family,
        "routes": routes,
        "route_count": total,
        "by_type": by_type,
        "truncated": total > len(routes),
        "errors": errors,
    }


_RULE_RE = re.compile(r"^(\d+):\s+(.*)$")
_RULE_ACTIONS = frozenset({"blackhole", "unreachable", "prohibit", "nop", "goto"})
_RULE_KEYS = frozenset(
    {
        "from",
        "to",
        "fwmark",
        "iif",
        "oif",
        "lookup",
        "table",
        "goto",
        "tos",
        "dsfield",
        "uidrange",
        "ipproto",
        "sport",
        "dport",
        "realms",
        "suppress_prefixlength",
        "suppress_ifgroup",
        "protocol",
        "l3mdev",
    }
)


def parse_ip_rule(lines: Iterable[Line], family: str = "ipv4") -> dict[str, Any]:
    """``ip rule show``: priority, selector text, from, to, fwmark, iif, oif, lookup table."""
    rules: list[dict[str, Any]] = []
    total = 0
    for number, text in lines:
        match = _RULE_RE.match(text.strip())
        if not match:
            continue
        body = match.group(2).strip()
        tokens = body.split()
        values: dict[str, str] = {}
        action: str | None = None
        negate = False
        selector_end = len(body)
        i = 0
        while i < len(tokens):
            word = tokens[i]
            if word == "not":
                negate = True
                i += 1
                continue
            if word in ("lookup", "table") and i + 1 < len(tokens):
                values["lookup"] = tokens[i + 1]
                action = action or "lookup"
                selector_end = min(selector_end, body.find(f"{word} {tokens[i + 1]}"))
                i += 2
                continue
            if word in _RULE_ACTIONS:
                action = word
                selector_end = min(selector_end, body.find(word))
                if word == "goto" and i + 1 < len(tokens):
                    values["goto"] = tokens[i + 1]
                    i += 1
                i += 1
                continue
            if word in _RULE_KEYS and i + 1 < len(tokens):
                values.setdefault(word, tokens[i + 1])
                i += 2
                continue
            i += 1
        total += 1
        if len(rules) < MAX_RULES:
            rules.append(
                {
                    "line": number,
                    "priority": int(match.group(1)),
                    "selector": body[:selector_end].strip(),
                    "not": negate,
                    "from": values.get("from"),
                    "to": values.get("to"),
                    "fwmark": values.get("fwmark"),
                    "iif": values.get("iif"),
                    "oif": values.get("oif"),
                    "lookup": values.get("lookup"),
                    "action": action,
                    "text": text,
                }
            )
    return {"kind": "ip-rule", "family": family, "rules": rules, "rule_count": total, "truncated": total > len(rules)}
