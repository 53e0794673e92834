# ruff: noqa: E501, W291  (real-format lines: long, and conntrack -S writes trailing spaces)
"""``networking/conntrack.txt`` parser (bundle.md 4.4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eksdiag.engine.parsers import spec_for
from eksdiag.engine.parsers.conntrack import parse_conntrack


def numbered(text: str) -> Iterator[tuple[int, str]]:
    return enumerate(text.splitlines(), 1)


CONNTRACK = """\
*** Output of conntrack -S *** 
cpu=0   \tfound=12 invalid=1832 insert=0 insert_failed=417 drop=417 early_drop=0 error=3 search_restart=9012 clash_resolve=1201 chaintoolong=0 
cpu=1   \tfound=9 invalid=1799 insert=0 insert_failed=402 drop=402 early_drop=0 error=1 search_restart=8877 clash_resolve=1184 chaintoolong=0 
*** Output of conntrack -L ***
tcp      6 86397 ESTABLISHED src=192.168.40.17 dst=10.100.0.1 sport=51544 dport=443 src=192.168.71.9 dst=192.168.40.17 sport=443 dport=51544 [ASSURED] mark=0 use=1
udp      17 28 src=192.168.52.201 dst=10.100.0.10 sport=41234 dport=53 src=192.168.40.17 dst=192.168.52.201 sport=53 dport=41234 mark=0 use=1
tcp      6 119 TIME_WAIT src=192.168.45.12 dst=52.94.133.131 sport=38210 dport=443 src=52.94.133.131 dst=192.168.45.12 sport=443 dport=38210 [ASSURED] mark=128 use=1
udp      17 29 src=192.168.52.201 dst=10.100.0.10 sport=41235 dport=53 [UNREPLIED] src=10.100.0.10 dst=192.168.52.201 sport=53 dport=41235 mark=0 use=1
"""  # the collector writes a trailing space after the -S marker and after each cpu line


def test_stats_per_cpu_and_totals() -> None:
    parsed = parse_conntrack(numbered(CONNTRACK))
    stats = parsed["stats"]
    assert stats["cpu_count"] == 2
    assert stats["totals"]["insert_failed"] == 819
    assert stats["totals"]["drop"] == 819
    assert stats["totals"]["clash_resolve"] == 2385
    cpu1 = stats["cpus"][1]
    assert (cpu1["cpu"], cpu1["line"], cpu1["fields"]["search_restart"]) == (1, 3, 8877)
    assert cpu1["text"] == CONNTRACK.splitlines()[2]


def test_list_entries_counted_and_tallied_not_stored() -> None:
    parsed = parse_conntrack(numbered(CONNTRACK))
    assert parsed["entries"] == 4
    assert parsed["list_marker"] == {"line": 4, "text": "*** Output of conntrack -L ***"}
    assert parsed["by_protocol"] == {"tcp": 2, "udp": 2}
    assert parsed["tcp_states"] == {"ESTABLISHED": 1, "TIME_WAIT": 1}
    assert (parsed["unreplied"], parsed["assured"]) == (1, 2)
    assert "src=192.168.40.17" not in repr(parsed)


def test_unknown_stat_fields_are_kept() -> None:
    parsed = parse_conntrack(numbered("cpu=0   \tfound=1 future_counter=7 drop=0 \n"))
    assert parsed["stats"]["totals"] == {"found": 1, "future_counter": 7, "drop": 0}
    assert parsed["entries"] is None


def test_old_conntrack_tools_fields() -> None:
    line = (
        "cpu=0   \tsearched=1240 found=37 new=220 invalid=0 ignore=48 delete=218 delete_list=218 insert=220 "
        "insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 "
    )
    parsed = parse_conntrack(numbered(line))
    assert parsed["stats"]["totals"]["searched"] == 1240 and parsed["stats"]["totals"]["insert_failed"] == 0


@pytest.mark.parametrize(
    ("text", "count", "entries"),
    [
        pytest.param("18233\n", 18233, None, id="conntrack-C"),
        pytest.param("*** Output of conntrack -L ***\n", None, 0, id="empty-table"),
        pytest.param(
            "tcp      6 5 CLOSE src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1 use=1\n",
            None,
            1,
            id="list-without-marker",
        ),
        pytest.param(
            "*** Output of conntrack -L ***\n"
            "ipv4     2 tcp      6 5 CLOSE src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 use=1\n"
            "conntrack v1.4.4 (conntrack-tools): 1 flow entries have been shown.\n",
            None,
            1,
            id="extended-output-and-trailer",
        ),
    ],
)
def test_count_forms(text: str, count: int | None, entries: int | None) -> None:
    parsed = parse_conntrack(numbered(text))
    assert (parsed["count"], parsed["entries"]) == (count, entries)


def test_extended_output_protocol_and_reported_count() -> None:
    text = (
        "*** Output of conntrack -L ***\n"
        "ipv4     2 tcp      6 5 CLOSE src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 use=1\n"
        "conntrack v1.4.4 (conntrack-tools): 1 flow entries have been shown.\n"
    )
    parsed = parse_conntrack(numbered(text))
    assert parsed["by_protocol"] == {"tcp": 1} and parsed["tcp_states"] == {"CLOSE": 1}
    assert parsed["reported_entries"] == 1


@pytest.mark.parametrize("path", ["networking/conntrack.txt", "networking/conntrack6.txt"])
def test_conntrack_paths(path: str) -> None:
    spec = spec_for(path)
    assert spec is not None and spec.kind == "conntrack"
