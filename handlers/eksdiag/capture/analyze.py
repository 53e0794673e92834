"""Analyse the text of ``tcpdump -nn -tt -v -r capture.pcap`` (the capture ``summary.txt``).

Pure and bounded: one pass over the lines, state capped by :class:`Limits` (pending DNS queries,
tracked TCP flows, talker tables), so a summary of any length is analysed in constant memory.

What it reports:

- DNS queries without an answer: a query (``<id>+ A? name.``, destination port 53) is answered by a
  response from port 53 with the same id back to the same client address and port. Queries sent
  less than ``Limits.dns_grace_seconds`` before the end of the capture (the
  ``# capture_end_epoch:`` header the capture script writes, else the last packet) are
  ``pending_at_end``, not unanswered: the capture may have stopped before the answer came.
- TCP resets (``Flags [R]`` / ``[R.]``), per flow.
- TCP retransmissions: a data segment (``seq a:b``, length > 0) of a flow whose bytes the same flow
  already sent (``b <= highest end seen``, or overlapping it). Zero-length segments (plain ACKs,
  window updates, zero-length keepalives) never count; a one-byte keepalive probe (``seq n-1:n``
  with ``n`` the highest end) is counted as a keepalive, not a retransmission. A repeated SYN with
  the same initial sequence number is a SYN retransmission.
- SYNs never answered (no SYN-ACK or RST came back in the capture).
- Top talkers by IP bytes, per source address and per conversation.

Both ``-v`` (IP header line, then the transport on an indented line; IPv6 on one line) and plain
``tcpdump -nn`` output are understood; lines that are not packets (comments starting with ``#``,
decoder continuation lines) are skipped.
"""

from __future__ import annotations

import io
import re
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SCHEMA = "eksdiag.capture-analysis/1"


@dataclass(frozen=True)
class Limits:
    max_line_chars: int = 4096
    max_pending_dns: int = 20_000
    max_tcp_flows: int = 20_000
    max_pending_syns: int = 20_000
    max_table_keys: int = 5_000
    top: int = 10
    examples: int = 20
    dns_grace_seconds: float = 1.0


_TS = re.compile(r"^(?:(\d{9,11}\.\d{1,9})|(\d{2}):(\d{2}):(\d{2}\.\d{1,9})) (.*)$")
_IP4_V = re.compile(r"^IP \(.*?proto (\w+) \(\d+\), length (\d+)\)\s*(.*)$")
_IP6_V = re.compile(r"^IP6 \(.*?next-header (\S+) \(\d+\) payload length: (\d+)\) (.*)$")
_PLAIN = re.compile(r"^IP6? (.*)$")
_TRANSPORT = re.compile(r"^(\S+) > (\S+): ?(.*)$")
_FLAGS = re.compile(r"Flags \[([^\]]*)\]")
_SEQ = re.compile(r"\bseq (\d+)(?::(\d+))?")
_LENGTH = re.compile(r"\blength (\d+)")
_DNS_QUERY = re.compile(r"^(\d+)[+%*\-|$!]*\s(?:\[[^\]]*\]\s)*([A-Za-z0-9]+)\? (\S+)")
_DNS_RESPONSE = re.compile(
    r"^(\d+)[+%*\-|$!]*\s(?:\[[^\]]*\]\s)*(?:q: \S+ \S+ )?(?:([A-Z][A-Za-z]+) )?(?:q: \S+ \S+ )?(\d+)/(\d+)/(\d+)"
)


def _split_endpoint(text: str) -> tuple[str, int | None]:
    """``10.0.0.1.443`` -> (``10.0.0.1``, 443); ``fd00::1.53`` -> (``fd00::1``, 53); no port -> None."""
    text = text.rstrip(":,")
    if ":" in text:
        host, sep, port = text.rpartition(".")
        if sep and port.isdigit():
            return host, int(port)
        return text, None
    parts = text.split(".")
    if len(parts) == 5 and parts[4].isdigit():
        return ".".join(parts[:4]), int(parts[4])
    return text, None


class _BoundedCounter:
    """A Counter with at most ``cap`` keys; later keys are folded into ``other``."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.counts: Counter[str] = Counter()
        self.other = 0

    def add(self, key: str, amount: int = 1) -> None:
        if key in self.counts or len(self.counts) < self.cap:
            self.counts[key] += amount
        else:
            self.other += amount

    def top(self, n: int) -> list[tuple[str, int]]:
        return self.counts.most_common(n)


@dataclass
class _Packet:
    ts: float | None
    family: str
    proto: str
    ip_bytes: int | None
    src: str = ""
    sport: int | None = None
    dst: str = ""
    dport: int | None = None
    body: str = ""


@dataclass
class _Flow:
    max_end: int | None = None
    syn_seq: int | None = None
    synack_seq: int | None = None


class _Analyzer:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.lines = 0
        self.packets = 0
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.capture_end: float | None = None
        self.protocols: Counter[str] = Counter()
        # DNS
        self.dns_queries = 0
        self.dns_responses = 0
        self.dns_answered = 0
        self.dns_unmatched_responses = 0
        self.dns_rcodes: Counter[str] = Counter()
        self.dns_pending: OrderedDict[tuple[str, int, str, int], tuple[float | None, str, str]] = OrderedDict()
        self.dns_unanswered = 0
        self.dns_unanswered_names = _BoundedCounter(limits.max_table_keys)
        self.dns_unanswered_servers = _BoundedCounter(limits.max_table_keys)
        self.dns_examples: list[dict[str, Any]] = []
        self.dns_pending_at_end = 0
        self.dns_failure_names: dict[str, _BoundedCounter] = {}
        # TCP
        self.tcp_segments = 0
        self.tcp_data_segments = 0
        self.tcp_resets = 0
        self.tcp_reset_flows = _BoundedCounter(limits.max_table_keys)
        self.tcp_retransmissions = 0
        self.tcp_retransmitted_flows = _BoundedCounter(limits.max_table_keys)
        self.tcp_keepalives = 0
        self.tcp_syn_retransmissions = 0
        self.flows: OrderedDict[tuple[str, int, str, int], _Flow] = OrderedDict()
        self.pending_syns: OrderedDict[tuple[str, int, str, int], float | None] = OrderedDict()
        self.syn_unanswered_evicted = 0
        # Talkers
        self.bytes_by_source = _BoundedCounter(limits.max_table_keys)
        self.packets_by_source = _BoundedCounter(limits.max_table_keys)
        self.bytes_by_conversation = _BoundedCounter(limits.max_table_keys)

    # -- assembly ---------------------------------------------------------------------------
    def feed(self, lines: Iterable[str]) -> None:
        current: _Packet | None = None
        for raw in lines:
            self.lines += 1
            line = raw.rstrip("\r\n")[: self.limits.max_line_chars]
            if not line:
                continue
            if line.startswith("#"):
                self._header(line)
                continue
            if line[0] in " \t":
                if current is not None and not current.src:
                    self._attach_transport(current, line.strip())
                continue
            if current is not None:
                self._finish(current)
            current = self._start(line)
        if current is not None:
            self._finish(current)

    def _header(self, line: str) -> None:
        key, _, value = line.lstrip("# ").partition(": ")
        if key == "capture_end_epoch":
            try:
                self.capture_end = float(value)
            except ValueError:
                return

    def _start(self, line: str) -> _Packet | None:
        match = _TS.match(line)
        if match is None:
            return None
        epoch, hh, mm, ss, rest = match.groups()
        ts = float(epoch) if epoch else int(hh) * 3600 + int(mm) * 60 + float(ss)
        if rest.startswith("IP "):
            v4 = _IP4_V.match(rest)
            if v4:
                packet = _Packet(ts, "ip", v4.group(1).lower(), int(v4.group(2)))
                if v4.group(3):
                    self._attach_transport(packet, v4.group(3))
                return packet
        elif rest.startswith("IP6 "):
            v6 = _IP6_V.match(rest)
            if v6:
                packet = _Packet(ts, "ip6", v6.group(1).lower(), int(v6.group(2)) + 40)
                self._attach_transport(packet, v6.group(3))
                return packet
        elif rest.startswith("ARP"):
            return _Packet(ts, "arp", "arp", None)
        plain = _PLAIN.match(rest)
        if plain:
            packet = _Packet(ts, "ip6" if rest.startswith("IP6") else "ip", "", None)
            self._attach_transport(packet, plain.group(1))
            return packet
        return _Packet(ts, "other", "other", None)

    @staticmethod
    def _attach_transport(packet: _Packet, text: str) -> None:
        match = _TRANSPORT.match(text)
        if match is None:
            return
        packet.src, packet.sport = _split_endpoint(match.group(1))
        packet.dst, packet.dport = _split_endpoint(match.group(2))
        packet.body = match.group(3)
        if not packet.proto:
            body = packet.body
            if body.startswith("Flags ["):
                packet.proto = "tcp"
            elif body.startswith("ICMP6"):
                packet.proto = "icmp6"
            elif body.startswith("ICMP"):
                packet.proto = "icmp"
            elif packet.sport is not None:
                packet.proto = "udp"
            else:
                packet.proto = "other"

    # -- per packet -------------------------------------------------------------------------
    def _finish(self, packet: _Packet | None) -> None:
        if packet is None:
            return
        self.packets += 1
        if packet.ts is not None:
            if self.first_ts is None or packet.ts < self.first_ts:
                self.first_ts = packet.ts
            if self.last_ts is None or packet.ts > self.last_ts:
                self.last_ts = packet.ts
        proto = packet.proto if packet.proto in {"tcp", "udp", "icmp", "icmp6", "arp"} else "other"
        if proto == "other" and packet.proto.startswith("icmp"):
            proto = "icmp6" if "6" in packet.proto else "icmp"
        self.protocols[proto] += 1
        if not packet.src:
            return
        size = packet.ip_bytes
        if size is None:
            length = _LENGTH.findall(packet.body)
            size = int(length[-1]) if length else 0
        self.bytes_by_source.add(packet.src, size)
        self.packets_by_source.add(packet.src)
        port = f":{packet.dport}" if packet.dport is not None else ""
        self.bytes_by_conversation.add(f"{packet.src} > {packet.dst}{port} {proto}", size)
        if packet.sport is not None and packet.dport is not None:
            if 53 in (packet.sport, packet.dport):
                self._dns(packet)
            if proto == "tcp":
                self._tcp(packet)

    def _dns(self, packet: _Packet) -> None:
        assert packet.sport is not None and packet.dport is not None
        body = packet.body
        if packet.dport == 53:
            query = _DNS_QUERY.match(body)
            if query is None:
                return
            self.dns_queries += 1
            key = (packet.src, packet.sport, packet.dst, int(query.group(1)))
            self.dns_pending[key] = (packet.ts, query.group(2), query.group(3))
            self.dns_pending.move_to_end(key)
            while len(self.dns_pending) > self.limits.max_pending_dns:
                old_key, old = self.dns_pending.popitem(last=False)
                self._unanswered(old_key, old)
            return
        if packet.sport != 53:
            return
        response = _DNS_RESPONSE.match(body)
        if response is None:
            return
        self.dns_responses += 1
        rcode = response.group(2) or "NoError"
        self.dns_rcodes[rcode] += 1
        key = (packet.dst, packet.dport, packet.src, int(response.group(1)))
        pending = self.dns_pending.pop(key, None)
        if pending is None:
            self.dns_unmatched_responses += 1
            return
        self.dns_answered += 1
        if rcode != "NoError":
            names = self.dns_failure_names.setdefault(rcode, _BoundedCounter(self.limits.max_table_keys))
            names.add(pending[2])

    def _unanswered(
        self, key: tuple[str, int, str, int], value: tuple[float | None, str, str], at_end: bool = False
    ) -> None:
        ts, qtype, name = value
        end = max(t for t in (self.last_ts, self.capture_end, ts) if t is not None) if ts is not None else None
        if at_end and ts is not None and end is not None and end - ts < self.limits.dns_grace_seconds:
            self.dns_pending_at_end += 1
            return
        self.dns_unanswered += 1
        client, client_port, server, qid = key
        self.dns_unanswered_names.add(f"{qtype}? {name}")
        self.dns_unanswered_servers.add(server)
        if len(self.dns_examples) < self.limits.examples:
            self.dns_examples.append(
                {
                    "ts": ts,
                    "id": qid,
                    "client": f"{client}.{client_port}",
                    "server": server,
                    "qtype": qtype,
                    "name": name,
                }
            )

    def _tcp(self, packet: _Packet) -> None:
        assert packet.sport is not None and packet.dport is not None
        self.tcp_segments += 1
        flags_match = _FLAGS.search(packet.body)
        flags = flags_match.group(1) if flags_match else ""
        key = (packet.src, packet.sport, packet.dst, packet.dport)
        reverse = (packet.dst, packet.dport, packet.src, packet.sport)
        self.pending_syns.pop(reverse, None)
        if "R" in flags:
            self.tcp_resets += 1
            self.tcp_reset_flows.add(f"{packet.src}.{packet.sport} > {packet.dst}.{packet.dport}")
        seq_match = _SEQ.search(packet.body)
        lengths = _LENGTH.findall(packet.body)
        payload = int(lengths[-1]) if lengths else 0
        flow = self.flows.get(key)
        if flow is None:
            flow = _Flow()
            self.flows[key] = flow
            while len(self.flows) > self.limits.max_tcp_flows:
                self.flows.popitem(last=False)
        else:
            self.flows.move_to_end(key)
        if "S" in flags and seq_match:
            seq = int(seq_match.group(1))
            if "." in flags:
                if flow.synack_seq == seq:
                    self.tcp_syn_retransmissions += 1
                flow.synack_seq = seq
            else:
                if flow.syn_seq == seq:
                    self.tcp_syn_retransmissions += 1
                else:
                    self.pending_syns[key] = packet.ts
                    while len(self.pending_syns) > self.limits.max_pending_syns:
                        self.pending_syns.popitem(last=False)
                        self.syn_unanswered_evicted += 1
                flow.syn_seq = seq
            return
        if payload <= 0 or seq_match is None or seq_match.group(2) is None:
            return
        start, end = int(seq_match.group(1)), int(seq_match.group(2))
        if end <= start:
            return
        self.tcp_data_segments += 1
        if flow.max_end is not None and start < flow.max_end:
            if payload == 1 and start == flow.max_end - 1 and end == flow.max_end:
                self.tcp_keepalives += 1
            else:
                self.tcp_retransmissions += 1
                self.tcp_retransmitted_flows.add(f"{packet.src}.{packet.sport} > {packet.dst}.{packet.dport}")
        if flow.max_end is None or end > flow.max_end:
            flow.max_end = end

    # -- result -----------------------------------------------------------------------------
    def result(self) -> dict[str, Any]:
        for key, value in list(self.dns_pending.items()):
            self._unanswered(key, value, at_end=True)
        self.dns_pending.clear()
        syn_unanswered = len(self.pending_syns) + self.syn_unanswered_evicted
        top = self.limits.top
        duration = (
            round(self.last_ts - self.first_ts, 6) if self.first_ts is not None and self.last_ts is not None else None
        )
        dns = {
            "queries": self.dns_queries,
            "responses": self.dns_responses,
            "answered": self.dns_answered,
            "unanswered": self.dns_unanswered,
            "pending_at_end": self.dns_pending_at_end,
            "unmatched_responses": self.dns_unmatched_responses,
            "rcodes": dict(sorted(self.dns_rcodes.items())),
            "unanswered_by_name": [{"query": k, "count": v} for k, v in self.dns_unanswered_names.top(top)],
            "unanswered_by_server": [{"server": k, "count": v} for k, v in self.dns_unanswered_servers.top(top)],
            "unanswered_examples": self.dns_examples,
            "failed_by_rcode": {
                rcode: [{"name": k, "count": v} for k, v in names.top(top)]
                for rcode, names in sorted(self.dns_failure_names.items())
            },
        }
        tcp = {
            "segments": self.tcp_segments,
            "data_segments": self.tcp_data_segments,
            "resets": self.tcp_resets,
            "reset_flows": [{"flow": k, "count": v} for k, v in self.tcp_reset_flows.top(top)],
            "retransmissions": self.tcp_retransmissions,
            "retransmission_ratio": (
                round(self.tcp_retransmissions / self.tcp_data_segments, 4) if self.tcp_data_segments else 0.0
            ),
            "retransmitted_flows": [{"flow": k, "count": v} for k, v in self.tcp_retransmitted_flows.top(top)],
            "keepalives": self.tcp_keepalives,
            "syn_retransmissions": self.tcp_syn_retransmissions,
            "syn_unanswered": syn_unanswered,
        }
        talkers = {
            "by_source": [
                {"address": k, "bytes": v, "packets": self.packets_by_source.counts.get(k, 0)}
                for k, v in self.bytes_by_source.top(top)
            ],
            "by_conversation": [{"conversation": k, "bytes": v} for k, v in self.bytes_by_conversation.top(top)],
        }
        return {
            "schema": SCHEMA,
            "lines": self.lines,
            "packets": self.packets,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "duration_seconds": duration,
            "protocols": dict(sorted(self.protocols.items())),
            "dns": dns,
            "tcp": tcp,
            "top_talkers": talkers,
            "findings": _findings(dns, tcp),
        }


def _findings(dns: dict[str, Any], tcp: dict[str, Any]) -> list[dict[str, Any]]:
    """Severity-ranked observations, in the engine's severity vocabulary."""
    out: list[dict[str, Any]] = []
    if dns["unanswered"]:
        ratio = dns["unanswered"] / max(dns["queries"], 1)
        servers = ", ".join(s["server"] for s in dns["unanswered_by_server"][:3])
        out.append(
            {
                "rule": "capture.dns.unanswered",
                "severity": "HIGH" if ratio >= 0.1 else "MEDIUM",
                "title": f"{dns['unanswered']} of {dns['queries']} DNS queries got no answer (servers: {servers})",
                "count": dns["unanswered"],
            }
        )
    servfail = dns["rcodes"].get("ServFail", 0) + dns["rcodes"].get("Refused", 0)
    if servfail:
        out.append(
            {
                "rule": "capture.dns.server-failure",
                "severity": "MEDIUM",
                "title": f"{servfail} DNS responses were SERVFAIL or REFUSED",
                "count": servfail,
            }
        )
    if tcp["syn_unanswered"]:
        out.append(
            {
                "rule": "capture.tcp.syn-unanswered",
                "severity": "HIGH",
                "title": f"{tcp['syn_unanswered']} TCP connection attempts got neither SYN-ACK nor RST",
                "count": tcp["syn_unanswered"],
            }
        )
    if tcp["retransmissions"] >= 3 and tcp["retransmission_ratio"] >= 0.02:
        out.append(
            {
                "rule": "capture.tcp.retransmissions",
                "severity": "HIGH" if tcp["retransmission_ratio"] >= 0.1 else "MEDIUM",
                "title": (
                    f"{tcp['retransmissions']} TCP data segments retransmitted "
                    f"({tcp['retransmission_ratio']:.1%} of data segments)"
                ),
                "count": tcp["retransmissions"],
            }
        )
    if tcp["resets"]:
        out.append(
            {
                "rule": "capture.tcp.resets",
                "severity": "LOW",
                "title": f"{tcp['resets']} TCP resets",
                "count": tcp["resets"],
            }
        )
    return out


def analyze_lines(lines: Iterable[str], limits: Limits | None = None) -> dict[str, Any]:
    """Analyse tcpdump text given as an iterable of lines (consumed once)."""
    analyzer = _Analyzer(limits or Limits())
    analyzer.feed(lines)
    return analyzer.result()


def analyze_summary(text: str, limits: Limits | None = None) -> dict[str, Any]:
    """Analyse the whole text of a capture ``summary.txt``."""
    return analyze_lines(io.StringIO(text), limits)
