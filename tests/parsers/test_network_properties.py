"""Property tests: the counter parser inverts iptables' number formatting, and no network parser
raises on arbitrary text or returns something that is not JSON."""

from __future__ import annotations

import json

import pytest
from eksdiag.engine.parsers.iptables import parse_counter
from eksdiag.engine.parsers.network import NETWORK_SPECS
from hypothesis import given, settings
from hypothesis import strategies as st


def xtables_print_num(number: int) -> str:
    """iptables' ``xtables_print_num`` without ``-x``: above 99999, divide by 1000 with rounding
    and step through K, M, G, T."""
    if number <= 99999:
        return str(number)
    for suffix in "KMG":
        number = (number + 500) // 1000
        if number <= 9999:
            return f"{number}{suffix}"
    number = (number + 500) // 1000
    return f"{number}T"


@given(st.integers(min_value=0, max_value=10**18))
def test_counter_round_trips_within_rounding(number: int) -> None:
    parsed = parse_counter(xtables_print_num(number))
    assert parsed is not None
    if number <= 99999:
        assert parsed == number
    else:
        text = xtables_print_num(number)
        unit = 1000 ** ("KMGT".index(text[-1]) + 1)
        assert abs(parsed - number) < unit  # less than one unit of the displayed scale
        assert abs(parsed - number) / number <= 0.05  # the scaled value is at least 10


@given(st.integers(min_value=0, max_value=2**64))
def test_exact_counters_round_trip(number: int) -> None:
    assert parse_counter(str(number)) == number


_SPEC_IDS = [f"{spec.kind}:{spec.paths[0]}" for spec in NETWORK_SPECS]

_line_text = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "Chain INPUT (policy DROP 1 packets, 2 bytes)",
            "Chain X (1 references)",
            " pkts bytes target     prot opt in     out     source               destination",
            "    1     2 DROP       all  --  *      *       0.0.0.0/0            0.0.0.0/0",
            "*filter",
            ":FORWARD DROP [1:2]",
            '-A FORWARD -m comment --comment "x -j DROP',
            "[1:2] -A FORWARD -j",
            "COMMIT",
            "*** Output of conntrack -L ***",
            "cpu=0 \tdrop=1",
            "blackhole default",
            "nexthop via",
            "512:\tfrom",
            "Interface",
            "     x_allowance_exceeded: 5",
            "nameserver",
            "{",
            "table ip kube-proxy {",
            "-A -t 1.2.3.4:1",
            "Total Number of Rules: 3",
        ]
    ),
)


@pytest.mark.parametrize("spec", NETWORK_SPECS, ids=_SPEC_IDS)
@settings(max_examples=60, deadline=None)
@given(lines=st.lists(_line_text, max_size=30))
def test_parsers_never_raise_and_return_json(spec, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    parsed = spec.parse(enumerate(lines, 1))
    assert parsed["kind"] == spec.kind
    json.dumps(parsed)


@pytest.mark.parametrize("spec", NETWORK_SPECS, ids=_SPEC_IDS)
@pytest.mark.parametrize(
    "line", ["¹", "num ¹", "1¹ 2 DROP all -- * * 0.0.0.0/0 0.0.0.0/0", "10.0.0.0/8 dev x metric ²"]
)
def test_parsers_survive_unicode_digits(spec, line: str) -> None:  # type: ignore[no-untyped-def]
    json.dumps(spec.parse(enumerate([line], 1)))
