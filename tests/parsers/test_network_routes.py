"""``ip route show table all`` and ``ip rule show`` parsers (bundle.md 4.3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eksdiag.engine.parsers import spec_for
from eksdiag.engine.parsers.routes import parse_ip_route, parse_ip_rule


def numbered(text: str) -> Iterator[tuple[int, str]]:
    return enumerate(text.splitlines(), 1)


IPROUTE = """\
default via 192.168.32.1 dev eth1 table 2
192.168.32.1 dev eth1 table 2 scope link
default via 192.168.32.1 dev eth0
169.254.169.254 dev eth0
192.168.32.0/19 dev eth0 proto kernel scope link src 192.168.45.12
192.168.40.17 dev eni3a52ce78095 scope link
local 192.168.45.12 dev eth0 table local proto kernel scope host src 192.168.45.12
broadcast 192.168.63.255 dev eth0 table local proto kernel scope link src 192.168.45.12
default via 192.168.32.1 dev ens5 proto dhcp src 192.168.45.12 metric 512
blackhole 10.100.0.0/16
unreachable 10.200.0.0/16 table 7
prohibit 172.20.0.0/16 proto static metric 20
blackhole 192.168.7.0/26 proto bird
"""


def test_route_fields_and_defaults() -> None:
    parsed = parse_ip_route(numbered(IPROUTE))
    routes = parsed["routes"]
    assert parsed["kind"] == "ip-route" and parsed["route_count"] == 13
    assert routes[0] == {
        "line": 1,
        "type": "unicast",
        "dst": "0.0.0.0/0",
        "via": "192.168.32.1",
        "dev": "eth1",
        "table": "2",
        "proto": None,
        "scope": None,
        "src": None,
        "metric": None,
        "flags": [],
        "text": "default via 192.168.32.1 dev eth1 table 2",
    }
    assert routes[2]["table"] == "main"
    assert (routes[4]["proto"], routes[4]["scope"], routes[4]["src"]) == ("kernel", "link", "192.168.45.12")
    assert (routes[8]["metric"], routes[8]["proto"]) == (512, "dhcp")


@pytest.mark.parametrize(
    ("index", "rtype", "dst", "table"),
    [
        (6, "local", "192.168.45.12", "local"),
        (7, "broadcast", "192.168.63.255", "local"),
        (9, "blackhole", "10.100.0.0/16", "main"),
        (10, "unreachable", "10.200.0.0/16", "7"),
        (11, "prohibit", "172.20.0.0/16", "main"),
        (12, "blackhole", "192.168.7.0/26", "main"),
    ],
)
def test_route_types(index: int, rtype: str, dst: str, table: str) -> None:
    route = parse_ip_route(numbered(IPROUTE))["routes"][index]
    assert (route["type"], route["dst"], route["table"]) == (rtype, dst, table)


def test_route_type_tally() -> None:
    assert parse_ip_route(numbered(IPROUTE))["by_type"] == {
        "unicast": 7,
        "local": 1,
        "broadcast": 1,
        "blackhole": 2,
        "unreachable": 1,
        "prohibit": 1,
    }


def test_ipv6_routes_default_and_via_inet6() -> None:
    text = (
        "default via fe80::1 dev eth0 proto ra metric 1024 expires 1798sec pref medium\n"
        "unreachable default dev lo table unspec proto kernel metric 4294967295 error -101 pref medium\n"
        "10.0.0.0/8 via inet6 fe80::1 dev eth0\n"
    )
    routes = parse_ip_route(numbered(text), family="ipv6")["routes"]
    assert (routes[0]["dst"], routes[0]["via"], routes[0]["metric"]) == ("::/0", "fe80::1", 1024)
    assert (routes[1]["type"], routes[1]["table"], routes[1]["proto"]) == ("unreachable", "unspec", "kernel")
    assert routes[2]["via"] == "fe80::1"


def test_multipath_nexthops_attach_to_route() -> None:
    text = (
        "default proto static metric 10\n"
        "\tnexthop via 192.168.32.1 dev eth0 weight 1\n"
        "\tnexthop via 192.168.64.1 dev eth1 weight 1\n"
    )
    parsed = parse_ip_route(numbered(text))
    assert parsed["route_count"] == 1
    assert [(n["via"], n["dev"]) for n in parsed["routes"][0]["nexthops"]] == [
        ("192.168.32.1", "eth0"),
        ("192.168.64.1", "eth1"),
    ]


def test_route_errors_are_kept_not_routes() -> None:
    parsed = parse_ip_route(numbered("Error: ipv4: FIB table does not exist.\n"))
    assert parsed["route_count"] == 0 and parsed["errors"][0]["line"] == 1


IPRULE = """\
0:	from all lookup local
512:	from all to 192.168.40.17 lookup main
1024:	from all fwmark 0x80/0x80 lookup main
1536:	from 192.168.52.201 lookup 2
32765:	not from all to 10.0.0.0/8 iif eth0 lookup 100
32766:	from all lookup main
32767:	from all lookup default
40000:	from 10.9.0.0/16 unreachable
"""


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (0, {"priority": 0, "from": "all", "to": None, "lookup": "local", "selector": "from all"}),
        (
            1,
            {
                "priority": 512,
                "to": "192.168.40.17",
                "lookup": "main",
                "selector": "from all to 192.168.40.17",
            },
        ),
        (2, {"priority": 1024, "fwmark": "0x80/0x80", "lookup": "main"}),
        (3, {"priority": 1536, "from": "192.168.52.201", "lookup": "2", "line": 4}),
        (4, {"not": True, "from": "all", "to": "10.0.0.0/8", "iif": "eth0", "lookup": "100"}),
        (7, {"priority": 40000, "action": "unreachable", "lookup": None, "selector": "from 10.9.0.0/16"}),
    ],
)
def test_ip_rule_fields(index: int, expected: dict[str, object]) -> None:
    rule = parse_ip_rule(numbered(IPRULE))["rules"][index]
    assert {k: rule[k] for k in expected} == expected


def test_ip_rule_count_and_text() -> None:
    parsed = parse_ip_rule(numbered(IPRULE))
    assert parsed["kind"] == "ip-rule" and parsed["rule_count"] == 8
    assert parsed["rules"][2]["text"] == "1024:\tfrom all fwmark 0x80/0x80 lookup main"


@pytest.mark.parametrize(
    ("path", "kind", "family"),
    [
        ("networking/iproute.txt", "ip-route", "ipv4"),
        ("networking/ip6route.txt", "ip-route", "ipv6"),
        ("networking/iprule.txt", "ip-rule", "ipv4"),
        ("networking/ip6rule.txt", "ip-rule", "ipv6"),
    ],
)
def test_route_paths(path: str, kind: str, family: str | None) -> None:
    spec = spec_for(path)
    assert spec is not None and spec.kind == kind
    parsed = spec.parse(numbered("default via 1.2.3.4 dev eth0\n"))
    if family:
        assert parsed["family"] == family
