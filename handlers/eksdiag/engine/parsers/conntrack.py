"""Parser for ``networking/conntrack.txt`` (research/bundle.md 4.4).

The file holds ``conntrack -S`` (one ``cpu=N<TAB>name=value ...`` line per CPU) and the full
``conntrack -L`` table after a marker line. Entries are counted and tallied, never stored. Plain
``conntrack -C`` output (a single number) and files with one section only are accepted too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from eksdiag.engine.parsers.base import Line

MAX_CPUS = 1024
_CPU_RE = re.compile(r"^cpu=(\d+)\s+(.*)$")
_FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(\d+)")
_SHOWN_RE = re.compile(r"(\d+) flow entries have been shown")
_FAMILY_PREFIXES = ("ipv4", "ipv6")


def parse_conntrack(lines: Iterable[Line]) -> dict[str, Any]:
    section: str | None = None
    sections: list[dict[str, Any]] = []
    cpus: list[dict[str, Any]] = []
    totals: dict[str, int] = {}
    entries = 0
    list_marker: dict[str, Any] | None = None
    count: int | None = None
    count_line: int | None = None
    reported: int | None = None
    by_protocol: dict[str, int] = {}
    tcp_states: dict[str, int] = {}
    unreplied = 0
    assured = 0
    messages: list[dict[str, Any]] = []
    for number, text in lines:
        if section == "list" and "src=" in text and not text.startswith("*"):
            # fast path for the (possibly 100k+ lines) -L table
            entries += 1
            tokens = text.split(None, 5)
            if tokens[0] in _FAMILY_PREFIXES:
                tokens = text.split(None, 7)[2:]
            protocol = tokens[0]
            by_protocol[protocol] = by_protocol.get(protocol, 0) + 1
            if protocol == "tcp" and len(tokens) > 3 and "=" not in tokens[3]:
                tcp_states[tokens[3]] = tcp_states.get(tokens[3], 0) + 1
            if "[UNREPLIED]" in text:
                unreplied += 1
            if "[ASSURED]" in text:
                assured += 1
            continue
        stripped = text.strip()
        if not stripped:
            continue
        if stripped.startswith("***") and "conntrack" in stripped:
            section = "list" if " -L" in stripped else "stats" if " -S" in stripped else "other"
            sections.append({"name": section, "line": number, "text": text})
            if section == "list" and list_marker is None:
                list_marker = {"line": number, "text": text}
            continue
        shown = _SHOWN_RE.search(stripped)
        if shown:
            reported = (reported or 0) + int(shown.group(1))
            continue
        cpu = _CPU_RE.match(stripped)
        if cpu and section != "list":
            fields = {k: int(v) for k, v in _FIELD_RE.findall(cpu.group(2))}
            for key, value in fields.items():
                totals[key] = totals.get(key, 0) + value
            if len(cpus) < MAX_CPUS:
                cpus.append({"cpu": int(cpu.group(1)), "line": number, "text": text, "fields": fields})
            continue
        if stripped.isascii() and stripped.isdigit() and section != "list" and count is None:
            count, count_line = int(stripped), number
            continue
        if stripped.startswith("conntrack v") or "conntrack-tools" in stripped:
            if len(messages) < 5:
                messages.append({"line": number, "text": text})
            continue
        if section == "list" or " src=" in f" {stripped}":
            entries += 1
            tokens = stripped.split()
            if tokens[0] in _FAMILY_PREFIXES and len(tokens) > 2:
                tokens = tokens[2:]
            if " src=" in f" {stripped}" and tokens:
                protocol = tokens[0]
                by_protocol[protocol] = by_protocol.get(protocol, 0) + 1
                if protocol == "tcp" and len(tokens) > 3 and "=" not in tokens[3]:
                    tcp_states[tokens[3]] = tcp_states.get(tokens[3], 0) + 1
                if "[UNREPLIED]" in stripped:
                    unreplied += 1
                if "[ASSURED]" in stripped:
                    assured += 1
    has_list = list_marker is not None or entries > 0
    return {
        "kind": "conntrack",
        "sections": sections,
        "stats": {"cpus": cpus, "totals": totals, "cpu_count": len(cpus)},
        "list_marker": list_marker,
        "entries": entries if has_list else None,
        "reported_entries": reported,
        "count": count,
        "count_line": count_line,
        "by_protocol": by_protocol,
        "tcp_states": tcp_states,
        "unreplied": unreplied,
        "assured": assured,
        "messages": messages,
    }
