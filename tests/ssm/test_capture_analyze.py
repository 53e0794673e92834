"""analyze_summary over real tcpdump output (tests/ssm/data/*.txt were captured in network namespaces).

- tcpdump-dns-v.txt: answered A/AAAA queries, an NXDOMAIN and a SERVFAIL, all with id 4096 from
  different source ports (so matching must use the client port, not only the id).
- tcpdump-dns-unanswered-v.txt: queries to a service IP whose traffic the node drops.
- tcpdump-tcp-v.txt / tcpdump-tcp-plain.txt (`-v` and plain): a clean exchange, an IPv6 exchange, a
  connection refused (RST), a connection with zero-length keepalives, a connection whose replies
  were dropped for a while (both sides retransmit), and a SYN into the void.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from eksdiag.capture import Limits, analyze_lines, analyze_summary
from hypothesis import given, settings
from hypothesis import strategies as st

DATA = Path(__file__).resolve().parent / "data"


def _text(name: str) -> str:
    return (DATA / name).read_text()


def _rules(result: dict) -> dict[str, str]:
    return {f["rule"]: f["severity"] for f in result["findings"]}


# --------------------------------------------------------------------------- DNS


def test_answered_queries_are_matched_by_id_and_client_port() -> None:
    dns = analyze_summary(_text("tcpdump-dns-v.txt"))["dns"]
    assert (dns["queries"], dns["responses"], dns["answered"], dns["unanswered"]) == (4, 4, 4, 0)
    assert dns["rcodes"] == {"NXDomain": 1, "NoError": 2, "ServFail": 1}
    assert dns["failed_by_rcode"]["NXDomain"] == [{"name": "nxdomain.example.com.", "count": 1}]
    assert dns["failed_by_rcode"]["ServFail"] == [{"name": "servfail.example.com.", "count": 1}]


def test_servfail_is_reported_and_answered_capture_has_no_unanswered_finding() -> None:
    rules = _rules(analyze_summary(_text("tcpdump-dns-v.txt")))
    assert rules == {"capture.dns.server-failure": "MEDIUM"}


def test_unanswered_queries_are_reported_per_server_with_examples() -> None:
    result = analyze_summary("# capture_end_epoch: 1795522940\n" + _text("tcpdump-dns-unanswered-v.txt"))
    dns = result["dns"]
    assert (dns["queries"], dns["answered"], dns["unanswered"], dns["pending_at_end"]) == (5, 0, 5, 0)
    assert dns["unanswered_by_server"] == [
        {"server": "10.96.0.10", "count": 3},
        {"server": "10.96.0.11", "count": 2},
    ]
    assert dns["unanswered_by_name"][0] == {"query": "A? kubernetes.default.svc.cluster.local.", "count": 3}
    assert dns["unanswered_examples"][0] == {
        "ts": 1795522931.955683,
        "id": 4096,
        "client": "10.244.1.2.49966",
        "server": "10.96.0.10",
        "qtype": "A",
        "name": "kubernetes.default.svc.cluster.local.",
    }
    assert _rules(result)["capture.dns.unanswered"] == "HIGH"


def test_queries_just_before_the_capture_ended_are_pending_not_unanswered() -> None:
    dns = analyze_summary(_text("tcpdump-dns-unanswered-v.txt"))["dns"]
    # Without the capture_end header the last packet (934.05) ends the capture: the queries sent at
    # 933.55 and 934.05 may still have been answered after it.
    assert (dns["unanswered"], dns["pending_at_end"]) == (3, 2)
    assert analyze_summary(_text("tcpdump-dns-unanswered-v.txt"), Limits(dns_grace_seconds=0))["dns"]["unanswered"] == 5


def test_a_response_without_its_query_is_not_an_answer() -> None:
    lines = [line for line in _text("tcpdump-dns-v.txt").splitlines(keepends=True)]
    responses_only = []
    for header, body in itertools.pairwise(lines):
        if body.lstrip().startswith("10.1.0.2.53 >"):
            responses_only += [header, body]
    dns = analyze_lines(responses_only)["dns"]
    assert (dns["queries"], dns["responses"], dns["answered"], dns["unmatched_responses"]) == (0, 4, 0, 4)


def test_pending_queries_are_bounded() -> None:
    text = _text("tcpdump-dns-unanswered-v.txt")
    result = analyze_summary(text, Limits(max_pending_dns=2, dns_grace_seconds=0))
    assert result["dns"]["unanswered"] == 5  # evicted queries are counted, not lost


# --------------------------------------------------------------------------- TCP


@pytest.mark.parametrize("name", ["tcpdump-tcp-v.txt", "tcpdump-tcp-plain.txt"])
def test_retransmissions_resets_and_unanswered_syns(name: str) -> None:
    tcp = analyze_summary(_text(name))["tcp"]
    assert tcp["resets"] == 1
    assert tcp["reset_flows"] == [{"flow": "10.1.0.2.9999 > 10.1.0.1.48232", "count": 1}]
    assert tcp["retransmissions"] == 8
    assert {f["flow"] for f in tcp["retransmitted_flows"]} == {
        "10.1.0.1.42892 > 10.1.0.2.8080",
        "10.1.0.2.8080 > 10.1.0.1.42892",
    }
    assert tcp["syn_unanswered"] == 1


def test_plain_acks_and_keepalives_are_not_retransmissions() -> None:
    """The 34006 connection idles with zero-length keepalive probes and their ACKs: no retransmission."""
    lines = _text("tcpdump-tcp-v.txt").splitlines(keepends=True)
    records = [
        part
        for header, body in itertools.pairwise(lines)
        if not header[0].isspace() and body[0].isspace() and ".34006" in body
        for part in (header, body)
    ]
    tcp = analyze_lines(records)["tcp"]
    assert tcp["segments"] == 18
    assert tcp["retransmissions"] == 0
    assert tcp["syn_unanswered"] == 0


def test_one_byte_keepalive_probe_is_a_keepalive() -> None:
    probe_lines = [
        "1795522968.431189 IP 10.1.0.1.33996 > 10.1.0.2.8080: Flags [P.], seq 1:101, ack 1, win 63, length 100\n",
        "1795522978.431189 IP 10.1.0.1.33996 > 10.1.0.2.8080: Flags [.], seq 100:101, ack 1, win 63, length 1\n",
    ]
    tcp = analyze_lines(probe_lines)["tcp"]
    assert (tcp["keepalives"], tcp["retransmissions"]) == (1, 0)


def test_ipv6_one_line_format_is_understood() -> None:
    result = analyze_summary(_text("tcpdump-tcp-v.txt"))
    sources = {s["address"]: s for s in result["top_talkers"]["by_source"]}
    assert sources["fd00::1"]["packets"] == 8
    # IPv6 payload length + 40: NS 72, SYN 80, ACK 72, data 102, ACK 72, FIN 72, ACK 72, NA 64
    assert sources["fd00::1"]["bytes"] == 606


def test_top_talkers_use_ip_lengths() -> None:
    talkers = analyze_summary(_text("tcpdump-tcp-v.txt"))["top_talkers"]
    assert talkers["by_source"][0]["address"] == "10.1.0.1"
    assert talkers["by_conversation"][0]["conversation"] == "10.1.0.1 > 10.1.0.2:8080 tcp"


def test_talker_tables_are_bounded() -> None:
    result = analyze_summary(_text("tcpdump-tcp-v.txt"), Limits(max_table_keys=2, top=5))
    assert len(result["top_talkers"]["by_source"]) == 2


def test_protocol_counts() -> None:
    protocols = analyze_summary(_text("tcpdump-tcp-v.txt"))["protocols"]
    assert protocols["tcp"] == 68 and protocols["arp"] == 2


# --------------------------------------------------------------------------- robustness


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=50))
def test_arbitrary_text_never_raises(lines: list[str]) -> None:
    result = analyze_lines(line + "\n" for line in lines)
    assert result["dns"]["answered"] <= result["dns"]["queries"]


def test_overlong_lines_are_cut() -> None:
    line = "1795522968.431189 IP 10.1.0.1.1 > 10.1.0.2.53: 1+ A? " + "a" * 100_000 + ". (20)\n"
    result = analyze_lines([line], Limits(max_line_chars=200))
    assert result["packets"] == 1
