# ruff: noqa: E501  (real-format iptables/conntrack lines are longer than the line limit)
"""iptables listings, iptables-save, nft ruleset, ipvsadm and ipset parsers (bundle.md 2.5, 3, 4.1, 4.2)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from eksdiag.engine.parsers import spec_for
from eksdiag.engine.parsers.iptables import (
    MAX_STORED_CHAINS,
    MAX_STORED_RULES,
    parse_counter,
    parse_ipset,
    parse_iptables_list,
    parse_iptables_save,
    parse_ipvsadm,
    parse_nft_ruleset,
)


def numbered(text: str) -> Iterator[tuple[int, str]]:
    return enumerate(text.splitlines(), 1)


NAT_LISTING = """\
Chain PREROUTING (policy ACCEPT 2131 packets, 133K bytes)
 pkts bytes target     prot opt in     out     source               destination
 9876  620K KUBE-SERVICES  all  --  *      *       0.0.0.0/0            0.0.0.0/0            /* kubernetes service portals */

Chain POSTROUTING (policy ACCEPT 1532 packets, 96K bytes)
 pkts bytes target     prot opt in     out     source               destination
 7421  468K KUBE-POSTROUTING  all  --  *      *       0.0.0.0/0            0.0.0.0/0            /* kubernetes postrouting rules */
 7421  468K AWS-SNAT-CHAIN-0  all  --  *      *       0.0.0.0/0            0.0.0.0/0            /* AWS SNAT CHAIN */

Chain AWS-SNAT-CHAIN-0 (1 references)
 pkts bytes target     prot opt in     out     source               destination
 6544  412K RETURN     all  --  *      *       0.0.0.0/0            192.168.0.0/16       /* AWS SNAT CHAIN */
  877 52620 SNAT       all  --  *      !vlan+  0.0.0.0/0            0.0.0.0/0            /* AWS, SNAT */ ADDRTYPE match dst-type !LOCAL to:192.168.45.12 random-fully

Chain KUBE-SERVICES (2 references)
 pkts bytes target     prot opt in     out     source               destination
  311 23121 KUBE-SVC-TCOU7JCQXEZGVUNU  udp  --  *      *       0.0.0.0/0            10.100.0.10          /* kube-system/kube-dns:dns cluster IP */ udp dpt:53
   97  5820 KUBE-SVC-NPX46M4PTMTKRN6Y  tcp  --  *      *       0.0.0.0/0            10.100.0.1           /* default/kubernetes:https cluster IP */ tcp dpt:443
=======
Total Number of Rules: 412
"""

FILTER_AL2023 = """\
Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
  21M   17G KUBE-FIREWALL  0    --  *      *       0.0.0.0/0            0.0.0.0/0

Chain FORWARD (policy DROP 1234 packets, 5M bytes)
 pkts bytes target     prot opt in     out     source               destination
 4812  289K DROP       0    --  *      *       192.168.0.0/16       192.168.0.0/16       /* block pod-to-pod */
 1377 98144 REJECT     17   --  eni+   *       0.0.0.0/0            10.100.0.0/16        udp dpt:53 reject-with icmp-port-unreachable

Chain OUTPUT (policy ACCEPT 19876K packets, 4410M bytes)
 pkts bytes target     prot opt in     out     source               destination
"""


def test_listing_reads_nat_table_chains_policies_and_counters() -> None:
    parsed = parse_iptables_list(numbered(NAT_LISTING), table="nat")
    assert parsed["kind"] == "iptables-list" and parsed["table"] == "nat"
    prerouting = parsed["chains"]["PREROUTING"]
    assert (prerouting["builtin"], prerouting["policy"]) == (True, "ACCEPT")
    assert (prerouting["policy_packets"], prerouting["policy_bytes"]) == (2131, 133_000)
    assert parsed["chains"]["KUBE-SERVICES"]["references"] == 2
    assert parsed["chains"]["KUBE-SERVICES"]["policy"] is None
    assert parsed["rule_count"] == 7
    assert (parsed["footer_total_rules"], parsed["footer_line"]) == (412, 20)


def test_listing_rule_columns_comment_and_exact_text() -> None:
    parsed = parse_iptables_list(numbered(NAT_LISTING), table="nat")
    snat = parsed["chains"]["AWS-SNAT-CHAIN-0"]["rules"][1]
    assert snat["line"] == 13
    assert (snat["pkts"], snat["bytes"], snat["target"], snat["prot"], snat["opt"]) == (
        877,
        52620,
        "SNAT",
        "all",
        "--",
    )
    assert (snat["in"], snat["out"], snat["source"], snat["destination"]) == (
        "*",
        "!vlan+",
        "0.0.0.0/0",
        "0.0.0.0/0",
    )
    assert snat["comment"] == "AWS, SNAT"
    assert snat["match"].endswith("to:192.168.45.12 random-fully")
    assert snat["text"] == NAT_LISTING.splitlines()[12]


def test_listing_summarises_kube_proxy_and_vpc_cni_state() -> None:
    kube = parse_iptables_list(numbered(NAT_LISTING), table="nat")["kube"]
    assert kube["services_chain"] is True
    assert kube["svc_jumps"] == 2
    assert kube["cluster_ips"] == ["10.100.0.10", "10.100.0.1"]
    assert kube["dns_ips"] == ["10.100.0.10"]
    assert kube["snat_return_cidrs"] == ["192.168.0.0/16"]
    assert kube["ipvs"] is False


def test_listing_al2023_numeric_protocol_and_drop_policy() -> None:
    parsed = parse_iptables_list(numbered(FILTER_AL2023))
    forward = parsed["chains"]["FORWARD"]
    assert (forward["policy"], forward["policy_packets"], forward["policy_bytes"]) == (
        "DROP",
        1234,
        5_000_000,
    )
    drop, reject = forward["rules"]
    assert (drop["prot"], drop["target"], drop["comment"]) == ("0", "DROP", "block pod-to-pod")
    assert (reject["prot"], reject["in"], reject["dport"]) == ("17", "eni+", "53")
    assert parsed["chains"]["OUTPUT"]["policy_packets"] == 19_876_000
    assert parsed["chains"]["OUTPUT"]["policy_bytes"] == 4_410_000_000


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(
            "    0     0            all  --  *      *       0.0.0.0/0            0.0.0.0/0",
            {"target": "", "prot": "all", "source": "0.0.0.0/0"},
            id="counting-rule-without-target",
        ),
        pytest.param(
            "    5   300 ACCEPT     all      lo     *       ::/0                 ::/0",
            {"target": "ACCEPT", "opt": "", "in": "lo", "source": "::/0"},
            id="ip6tables-blank-opt",
        ),
        pytest.param(
            "12345678 987654321 DROP       tcp  --  *      *       10.0.0.0/8           0.0.0.0/0            tcp dpts:1000:2000",
            {"pkts": 12_345_678, "bytes": 987_654_321, "dport": "1000:2000"},
            id="exact-counters-x",
        ),
        pytest.param(
            "  12G  900T ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0",
            {"pkts": 12 * 10**9, "bytes": 900 * 10**12},
            id="giga-tera-suffixes",
        ),
        pytest.param(
            "    0     0 DROP       all  --  *      *      !127.0.0.0/8          127.0.0.0/8          "
            "/* block incoming localnet connections */ ! ctstate RELATED,ESTABLISHED,DNAT",
            {"source": "!127.0.0.0/8", "comment": "block incoming localnet connections"},
            id="negated-source",
        ),
        pytest.param(
            "    3   180 REJECT     udp  --  *      *       0.0.0.0/0            10.100.0.10          "
            "multiport dports 53,853",
            {"dport": "53,853", "destination": "10.100.0.10"},
            id="multiport",
        ),
    ],
)
def test_listing_rule_variants(line: str, expected: dict[str, object]) -> None:
    text = (
        "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n"
        " pkts bytes target     prot opt in     out     source               destination\n"
        f"{line}\n"
    )
    rules = parse_iptables_list(numbered(text))["chains"]["INPUT"]["rules"]
    assert len(rules) == 1
    assert {k: rules[0][k] for k in expected} == expected
    assert rules[0]["text"] == line


def test_listing_with_line_numbers_column() -> None:
    text = (
        "Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)\n"
        "num   pkts bytes target     prot opt in     out     source               destination\n"
        "1        7   420 DROP       all  --  *      *       0.0.0.0/0            10.100.0.0/16\n"
    )
    rule = parse_iptables_list(numbered(text))["chains"]["FORWARD"]["rules"][0]
    assert (rule["num"], rule["pkts"], rule["target"], rule["line"]) == (1, 7, "DROP", 3)


def test_listing_keeps_warnings_and_counts_unparsed_lines() -> None:
    text = (
        "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n"
        " pkts bytes target     prot opt in     out     source               destination\n"
        "garbage that is not a rule\n"
        "# Warning: iptables-legacy tables present, use iptables-legacy to see them\n"
    )
    parsed = parse_iptables_list(numbered(text))
    assert parsed["unparsed"] == 1 and parsed["unparsed_sample"][0]["line"] == 3
    assert parsed["warnings"][0]["line"] == 4


def test_listing_stores_builtin_rules_but_caps_user_chain_rules() -> None:
    sep = "    1    60 KUBE-SEP-X  all  --  *      *       0.0.0.0/0            0.0.0.0/0\n"
    text = (
        "Chain KUBE-SVC-A (1 references)\n"
        " pkts bytes target     prot opt in     out     source               destination\n"
        + sep
        * (MAX_STORED_RULES + 10)
        + "Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)\n"
        " pkts bytes target     prot opt in     out     source               destination\n"
        "    9   540 DROP       all  --  *      *       0.0.0.0/0            0.0.0.0/0\n"
    )
    parsed = parse_iptables_list(numbered(text))
    assert parsed["rules_truncated"] is True
    assert parsed["rule_count"] == MAX_STORED_RULES + 11
    assert parsed["chains"]["KUBE-SVC-A"]["rule_count"] == MAX_STORED_RULES + 10
    assert len(parsed["chains"]["KUBE-SVC-A"]["rules"]) == MAX_STORED_RULES
    assert parsed["chains"]["FORWARD"]["rules"][0]["pkts"] == 9


SAVE_LEGACY = """\
# Generated by iptables-save v1.8.4 on Thu Mar  6 18:22:31 2025
*mangle
:PREROUTING ACCEPT [48213377:39117040291]
:KUBE-IPTABLES-HINT - [0:0]
-A PREROUTING -i eth0 -m comment --comment "AWS, primary ENI" -m addrtype --dst-type LOCAL --limit-iface-in -j CONNMARK --set-xmark 0x80/0x80
COMMIT
# Completed on Thu Mar  6 18:22:31 2025
*nat
:PREROUTING ACCEPT [0:0]
:AWS-SNAT-CHAIN-0 - [0:0]
:KUBE-SERVICES - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A AWS-SNAT-CHAIN-0 -d 192.168.0.0/16 -m comment --comment "AWS SNAT CHAIN" -j RETURN
-A AWS-SNAT-CHAIN-0 ! -o vlan+ -m comment --comment "AWS, SNAT" -m addrtype ! --dst-type LOCAL -j SNAT --to-source 192.168.45.12 --random-fully
-A KUBE-SERVICES -d 10.100.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU
COMMIT
# Completed on Thu Mar  6 18:22:31 2025
"""


def test_save_legacy_tables_chains_and_rules() -> None:
    parsed = parse_iptables_save(numbered(SAVE_LEGACY))
    assert (parsed["kind"], parsed["variant"], parsed["version"], parsed["counters"]) == (
        "iptables-save",
        "legacy",
        "1.8.4",
        False,
    )
    assert sorted(parsed["tables"]) == ["mangle", "nat"]
    mangle = parsed["tables"]["mangle"]
    assert mangle["chains"]["PREROUTING"]["policy_packets"] == 48213377
    assert mangle["chains"]["KUBE-IPTABLES-HINT"]["policy"] is None
    nat = parsed["tables"]["nat"]
    snat = nat["chains"]["AWS-SNAT-CHAIN-0"]["rules"][1]
    assert (snat["out"], snat["target"], snat["comment"], snat["line"]) == ("!vlan+", "SNAT", "AWS, SNAT", 14)
    assert snat["spec"].startswith("! -o vlan+")
    assert snat["source"] == "0.0.0.0/0" and snat["pkts"] is None
    svc = nat["chains"]["KUBE-SERVICES"]["rules"][0]
    assert (svc["destination"], svc["prot"], svc["dport"]) == ("10.100.0.10/32", "udp", "53")
    assert nat["kube"]["cluster_ips"] == ["10.100.0.10"]
    assert nat["kube"]["snat_return_cidrs"] == ["192.168.0.0/16"]
    assert nat["kube"]["svc_jumps"] == 1


def test_save_nf_tables_header_and_warning() -> None:
    text = (
        "# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n"
        "# Generated by iptables-save v1.8.8 (nf_tables) on Thu Mar  6 18:22:31 2025\n"
        "*filter\n:INPUT ACCEPT [18233:9647104]\n:FORWARD DROP [12:720]\nCOMMIT\n"
    )
    parsed = parse_iptables_save(numbered(text))
    assert (parsed["variant"], parsed["version"], parsed["header_line"]) == ("nf_tables", "1.8.8", 2)
    assert parsed["warnings"] == [{"line": 1, "text": text.splitlines()[0]}]
    forward = parsed["tables"]["filter"]["chains"]["FORWARD"]
    assert (forward["policy"], forward["policy_packets"], forward["policy_bytes"]) == ("DROP", 12, 720)


def test_save_with_counters_prefix() -> None:
    text = (
        "# Generated by iptables-save v1.8.4 on Thu Mar  6 18:22:31 2025\n"
        "*filter\n:FORWARD ACCEPT [0:0]\n"
        '[4812:289000] -A FORWARD -s 192.168.0.0/16 -d 192.168.0.0/16 -m comment --comment "say \\"hi\\"" -j DROP\n'
        "[0:0] -A FORWARD ! -s 10.0.0.0/8 -p tcp -m multiport --dports 53,853 -j REJECT\n"
        "COMMIT\n"
    )
    parsed = parse_iptables_save(numbered(text))
    assert parsed["counters"] is True
    first, second = parsed["tables"]["filter"]["chains"]["FORWARD"]["rules"]
    assert (first["pkts"], first["bytes"], first["target"], first["comment"]) == (
        4812,
        289000,
        "DROP",
        'say "hi"',
    )
    assert (second["source"], second["prot"], second["dport"], second["pkts"]) == (
        "!10.0.0.0/8",
        "tcp",
        "53,853",
        0,
    )


def test_save_handles_unbalanced_quotes_without_raising() -> None:
    text = '*filter\n-A INPUT -m comment --comment "unterminated -j DROP\nCOMMIT\n'
    rules = parse_iptables_save(numbered(text))["tables"]["filter"]["chains"]["INPUT"]["rules"]
    assert len(rules) == 1 and rules[0]["line"] == 2


NFT_RULESET = """\
table ip kube-proxy {
	comment "rules for kube-proxy"
	chain services {
		ip daddr . meta l4proto . th dport vmap @service-ips
	}
}
table ip nat {
	chain KUBE-SERVICES {
	}
}
"""


def test_nft_ruleset_detects_kube_proxy_tables() -> None:
    parsed = parse_nft_ruleset(numbered(NFT_RULESET))
    assert parsed["kube_proxy"] is True
    assert parsed["kube_proxy_tables"] == ["ip kube-proxy"]
    assert parsed["tables"][0] == {"family": "ip", "name": "kube-proxy", "line": 1, "chains": ["services"]}
    assert parsed["kube_chains_in_iptables_nft"] is True


def test_nft_ruleset_without_kube_proxy() -> None:
    parsed = parse_nft_ruleset(numbered("table inet filter {\n\tchain input {\n\t}\n}\n"))
    assert parsed["kube_proxy"] is False and parsed["tables"][0]["chains"] == ["input"]


IPVSADM = """\
-A -t 10.100.0.1:443 -s rr
-a -t 10.100.0.1:443 -r 192.168.71.9:443 -m -w 1
-A -u 10.100.0.10:53 -s rr
-a -u 10.100.0.10:53 -r 192.168.40.17:53 -m -w 1

IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS
  -> RemoteAddress:Port
TCP  10.100.0.1:443                      0        0        0        0        0
  -> 192.168.71.9:443                    0        0        0        0        0
UDP  10.100.0.10:53                      0        0        0        0        0
"""


@pytest.mark.parametrize(
    ("text", "installed", "services"),
    [
        pytest.param("ipvsadm not installed\n", False, 0, id="not-installed"),
        pytest.param(IPVSADM, True, 2, id="ipvs-mode-services-deduplicated"),
        pytest.param("IP Virtual Server version 1.2.1 (size=4096)\n", True, 0, id="installed-empty"),
    ],
)
def test_ipvsadm(text: str, installed: bool, services: int) -> None:
    parsed = parse_ipvsadm(numbered(text))
    assert (parsed["kind"], parsed["installed"], parsed["virtual_services"]) == (
        "ipvsadm",
        installed,
        services,
    )


def test_ipvsadm_counts_real_servers_and_first_service_line() -> None:
    parsed = parse_ipvsadm(numbered(IPVSADM))
    assert parsed["real_servers"] == 2
    assert parsed["first_service"] == {"line": 1, "text": "-A -t 10.100.0.1:443 -s rr"}


@pytest.mark.parametrize(
    ("text", "markers"),
    [
        pytest.param("Name: KUBE-CLUSTER-IP\nType: hash:ip,port\n", True, id="list-form"),
        pytest.param("create KUBE-LOOP-BACK hash:ip,port,ip family inet\n", True, id="save-form"),
        pytest.param("ipset not installed\n", False, id="not-installed"),
        pytest.param("Name: my-allowlist\n", False, id="unrelated-set"),
    ],
)
def test_ipset_kube_markers(text: str, markers: bool) -> None:
    assert parse_ipset(numbered(text))["kube_ipvs_markers"] is markers


@pytest.mark.parametrize(
    ("path", "kind", "attrs"),
    [
        ("networking/iptables-filter.txt", "iptables-list", {"table": "filter", "family": "ipv4"}),
        ("networking/iptables.txt", "iptables-list", {"table": "filter", "family": "ipv4"}),
        ("networking/iptables-nat.txt", "iptables-list", {"table": "nat", "family": "ipv4"}),
        ("networking/iptables-mangle.txt", "iptables-list", {"table": "mangle", "family": "ipv4"}),
        ("networking/ip6tables-nat.txt", "iptables-list", {"table": "nat", "family": "ipv6"}),
        ("networking/ip6tables.txt", "iptables-list", {"table": "filter", "family": "ipv6"}),
        ("networking/iptables-save.txt", "iptables-save", {"family": "ipv4"}),
        ("networking/iptables-save-counters.txt", "iptables-save", {"family": "ipv4"}),
        ("networking/ip6tables-save.txt", "iptables-save", {"family": "ipv6"}),
        ("networking/nft-ruleset.txt", "nft-ruleset", {}),
        ("networking/ipvsadm.txt", "ipvsadm", {}),
        ("networking/ipset.txt", "ipset", {}),
    ],
)
def test_paths_route_to_parsers_with_table_from_path(path: str, kind: str, attrs: dict[str, str]) -> None:
    spec = spec_for(path)
    assert spec is not None and spec.kind == kind
    parsed = spec.parse(numbered(""))
    assert parsed["kind"] == kind
    assert {k: parsed[k] for k in attrs} == attrs
    json.dumps(parsed)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("99999", 99999),
        ("133K", 133_000),
        ("5M", 5_000_000),
        ("21G", 21 * 10**9),
        ("3T", 3 * 10**12),
    ],
)
def test_counter_suffixes(text: str, value: int) -> None:
    assert parse_counter(text) == value


@pytest.mark.parametrize("text", ["", "K", "1.5K", "-1", "12X", "abc"])
def test_counter_rejects_non_counters(text: str) -> None:
    assert parse_counter(text) is None


def test_listing_caps_stored_user_chains_but_counts_them() -> None:
    header = " pkts bytes target     prot opt in     out     source               destination"
    seps = "".join(
        f"Chain KUBE-SEP-{i:06d} (1 references)\n{header}\n"
        "    0     0 DNAT       tcp  --  *      *       0.0.0.0/0            0.0.0.0/0            tcp to:192.168.1.5:80\n"
        for i in range(MAX_STORED_CHAINS + 5)
    )
    text = seps + f"Chain FORWARD (policy DROP 3 packets, 180 bytes)\n{header}\n"
    parsed = parse_iptables_list(numbered(text))
    assert parsed["chains_truncated"] is True
    assert parsed["chain_count"] == MAX_STORED_CHAINS + 6
    assert len(parsed["chains"]) == MAX_STORED_CHAINS + 1
    assert parsed["chains"]["FORWARD"]["policy_packets"] == 3
    assert parsed["kube"]["proxy_chains"] == MAX_STORED_CHAINS + 5
    assert parsed["rule_count"] == MAX_STORED_CHAINS + 5


def test_save_caps_stored_user_chains_but_counts_them() -> None:
    declared = "".join(f":KUBE-SEP-{i:06d} - [0:0]\n" for i in range(MAX_STORED_CHAINS + 5))
    rules = "".join(
        f"-A KUBE-SEP-{i:06d} -p tcp -j DNAT --to-destination 192.168.1.5:80\n" for i in range(MAX_STORED_CHAINS + 5)
    )
    text = f"*nat\n:PREROUTING ACCEPT [0:0]\n{declared}{rules}-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n"
    nat = parse_iptables_save(numbered(text))["tables"]["nat"]
    assert (nat["chains_truncated"], nat["chain_count"]) == (True, MAX_STORED_CHAINS + 6)
    assert nat["rule_count"] == MAX_STORED_CHAINS + 6 and nat["rules_truncated"] is True
    assert nat["chains"]["PREROUTING"]["rules"][0]["target"] == "KUBE-SERVICES"
    assert nat["kube"]["proxy_chains"] == MAX_STORED_CHAINS + 5
