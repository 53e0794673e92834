# ruff: noqa: E501  (real-format iptables/conntrack lines are longer than the line limit)
"""Network artifact rules over parsed bundle files (real-format text, parsed by the real parsers)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from eksdiag.engine.checks.network import NETWORK_RULES
from eksdiag.engine.model import Hit, Severity
from eksdiag.engine.parsers import spec_for

HEADER = " pkts bytes target     prot opt in     out     source               destination"

NAT = f"""\
Chain PREROUTING (policy ACCEPT 2131 packets, 133K bytes)
{HEADER}
 9876  620K KUBE-SERVICES  all  --  *      *       0.0.0.0/0            0.0.0.0/0            /* kubernetes service portals */

Chain AWS-SNAT-CHAIN-0 (1 references)
{HEADER}
 6544  412K RETURN     all  --  *      *       0.0.0.0/0            192.168.0.0/16       /* AWS SNAT CHAIN */

Chain KUBE-SERVICES (2 references)
{HEADER}
  311 23121 KUBE-SVC-TCOU7JCQXEZGVUNU  udp  --  *      *       0.0.0.0/0            10.100.0.10          /* kube-system/kube-dns:dns cluster IP */ udp dpt:53
   97  5820 KUBE-SVC-NPX46M4PTMTKRN6Y  tcp  --  *      *       0.0.0.0/0            10.100.0.1           /* default/kubernetes:https cluster IP */ tcp dpt:443
=======
Total Number of Rules: 12
"""


def filter_listing(
    forward: str = "", input_: str = "", output: str = "", policy: str = "ACCEPT 0 packets, 0 bytes"
) -> str:
    return (
        f"Chain INPUT (policy ACCEPT 18233 packets, 9421K bytes)\n{HEADER}\n{input_}"
        "  21M   17G KUBE-FIREWALL  all  --  *      *       0.0.0.0/0            0.0.0.0/0\n\n"
        f"Chain FORWARD (policy {policy})\n{HEADER}\n{forward}"
        "  26M   21G KUBE-FORWARD  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
        "/* kubernetes forwarding rules */\n\n"
        f"Chain OUTPUT (policy ACCEPT 19876K packets, 4410M bytes)\n{HEADER}\n{output}\n"
        f"Chain KUBE-FIREWALL (2 references)\n{HEADER}\n"
        "    0     0 DROP       all  --  *      *      !127.0.0.0/8          127.0.0.0/8          "
        "/* block incoming localnet connections */ ! ctstate RELATED,ESTABLISHED,DNAT\n\n"
        f"Chain KUBE-FORWARD (1 references)\n{HEADER}\n"
        "   12   720 DROP       all  --  *      *       0.0.0.0/0            0.0.0.0/0            ctstate INVALID\n"
        "=======\nTotal Number of Rules: 9\n"
    )


def rule_line(pkts: str, target: str, prot: str, source: str, destination: str, rest: str = "") -> str:
    return f"{pkts:>5} {'0':>5} {target:<10} {prot:<4} --  *      *       {source:<20} {destination:<20} {rest}\n"


def artifacts(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    parsed: dict[str, dict[str, Any]] = {}
    for path, text in files.items():
        spec = spec_for(path)
        assert spec is not None, path
        parsed[path] = json.loads(json.dumps(spec.parse(enumerate(text.splitlines(), 1))))
    return parsed


RULES = {rule.id: rule for rule in NETWORK_RULES}


def run(rule_id: str, files: dict[str, str], extra: dict[str, Any] | None = None) -> list[Hit]:
    """The rule's hits over ``files`` (plus already-parsed ``extra`` artifacts)."""
    check = RULES[rule_id].check
    assert check is not None
    parsed = artifacts(files)
    parsed.update(extra or {})
    hits = check(parsed)
    for hit in hits:  # every piece of evidence is an exact line of the hit's file; every hit says why
        lines = files[hit.file].splitlines()
        assert hit.rule == rule_id and hit.reason, hit
        for evidence in hit.evidence:
            assert lines[evidence.line - 1] == evidence.text
    return hits


def only(hits: list[Hit]) -> Hit:
    assert len(hits) == 1, hits
    return hits[0]


# ------------------------------------------------------------------ catalogue


def test_catalogue_has_exactly_the_network_rule_ids_and_categories() -> None:
    assert {r.id: r.category for r in NETWORK_RULES} == {
        "network.iptables.forward-drop": "network",
        "network.iptables.input-drop": "network",
        "network.iptables.output-drop": "network",
        "network.iptables.forward-policy": "network",
        "network.iptables.reachable-drop": "network",
        "network.iptables.port-conflict": "network",
        "network.iptables.legacy-tables-unread": "network",
        "network.kube-proxy.chains-missing": "network",
        "network.kube-proxy.restarting": "network",
        "network.route.blackhole": "network",
        "vpc-cni.pod-ip-rule-missing": "vpc-cni",
        "vpc-cni.pod-route-missing": "vpc-cni",
        "vpc-cni.eni-default-route-missing": "vpc-cni",
        "vpc-cni.ipamd-not-running": "vpc-cni",
        "vpc-cni.ipamd-state-inconsistent": "vpc-cni",
        "vpc-cni.aws-node-restarting": "vpc-cni",
        "vpc-cni.network-policy-agent-restarting": "vpc-cni",
        "network.interface.loopback-missing": "network",
        "network.interface.not-up": "network",
        "network.interface.not-running": "network",
        "network.systemd.mac-address-policy": "network",
        "network.conntrack.table-near-full": "conntrack",
        "network.conntrack.insert-failed": "conntrack",
        "network.ena.allowance-exceeded": "network",
        "network.sysctl.ip-forward-disabled": "network",
        "dns.resolv.no-nameserver": "dns",
        "cni.config.invalid": "cni",
    }
    assert all(r.check is not None and r.pattern is None for r in NETWORK_RULES)


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_empty_bundle_gives_no_finding(rule_id: str) -> None:
    assert run(rule_id, {}) == []


# ------------------------------------------------------------------ DROP/REJECT in built-in chains


@pytest.mark.parametrize(
    ("line", "severity"),
    [
        pytest.param(
            rule_line("4812", "DROP", "all", "192.168.0.0/16", "192.168.0.0/16"),
            Severity.CRITICAL,
            id="pod-to-pod",
        ),
        pytest.param(
            rule_line("911", "DROP", "all", "0.0.0.0/0", "10.100.0.0/16"),
            Severity.CRITICAL,
            id="service-cidr",
        ),
        pytest.param(
            rule_line("1377", "REJECT", "udp", "0.0.0.0/0", "8.8.8.8", "udp dpt:53"),
            Severity.CRITICAL,
            id="dns-port",
        ),
        pytest.param(
            rule_line("3", "DROP", "tcp", "0.0.0.0/0", "10.100.0.10", "tcp dpt:9153"),
            Severity.CRITICAL,
            id="dns-ip",
        ),
        pytest.param(rule_line("5", "DROP", "all", "0.0.0.0/0", "0.0.0.0/0"), Severity.CRITICAL, id="everything"),
        pytest.param(rule_line("77", "DROP", "all", "203.0.113.5", "0.0.0.0/0"), Severity.HIGH, id="unrelated-source"),
        pytest.param(
            rule_line("77", "DROP", "tcp", "0.0.0.0/0", "0.0.0.0/0", "tcp dpt:22"),
            Severity.HIGH,
            id="port-22-only",
        ),
        pytest.param(
            rule_line("0", "DROP", "all", "192.168.0.0/16", "192.168.0.0/16"),
            Severity.HIGH,
            id="zero-counter-covering-pods",
        ),
        pytest.param(rule_line("0", "DROP", "all", "203.0.113.5", "0.0.0.0/0"), Severity.MEDIUM, id="latent-unrelated"),
        pytest.param(
            rule_line("2K", "DROP", "all", "!10.0.0.0/8", "0.0.0.0/0"),
            Severity.CRITICAL,
            id="negated-covers-pods",
        ),
    ],
)
def test_forward_drop_severity(line: str, severity: Severity) -> None:
    hit = only(
        run(
            "network.iptables.forward-drop",
            {
                "networking/iptables-filter.txt": filter_listing(forward=line),
                "networking/iptables-nat.txt": NAT,
            },
        )
    )
    assert (hit.file, hit.severity, hit.count) == ("networking/iptables-filter.txt", severity, 1)
    assert hit.evidence[0].text == line.rstrip("\n")


def test_custom_comment_mentioning_kubernetes_is_still_a_finding() -> None:
    line = rule_line("8", "DROP", "all", "0.0.0.0/0", "10.100.0.0/16", "/* block the kubernetes services */")
    files = {"networking/iptables-filter.txt": filter_listing(forward=line), "networking/iptables-nat.txt": NAT}
    assert only(run("network.iptables.forward-drop", files)).severity is Severity.CRITICAL


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(rule_line("12", "DROP", "all", "0.0.0.0/0", "0.0.0.0/0", "ctstate INVALID"), id="ctstate-invalid"),
        pytest.param(
            rule_line("9", "DROP", "all", "0.0.0.0/0", "0.0.0.0/0", "mark match 0x8000/0x8000"),
            id="kube-mark-drop",
        ),
        pytest.param(rule_line("1", "DROP", "all", "!127.0.0.0/8", "127.0.0.0/8"), id="localnet"),
        pytest.param(
            rule_line(
                "1",
                "DROP",
                "all",
                "0.0.0.0/0",
                "0.0.0.0/0",
                "/* kubernetes firewall for dropping marked packets */",
            ),
            id="kubernetes-comment",
        ),
        pytest.param(rule_line("9", "ACCEPT", "all", "192.168.0.0/16", "0.0.0.0/0"), id="accept"),
        pytest.param("", id="healthy"),
    ],
)
def test_forward_benign_rules_are_not_findings(line: str) -> None:
    files = {
        "networking/iptables-filter.txt": filter_listing(forward=line),
        "networking/iptables-nat.txt": NAT,
    }
    assert run("network.iptables.forward-drop", files) == []


def test_drops_in_kube_chains_are_not_findings() -> None:
    listing = (
        filter_listing()
        + f"\nChain CUSTOM (0 references)\n{HEADER}\n"
        + rule_line("99", "DROP", "all", "0.0.0.0/0", "0.0.0.0/0")
    )
    for rule_id in (
        "network.iptables.forward-drop",
        "network.iptables.input-drop",
        "network.iptables.output-drop",
    ):
        assert run(rule_id, {"networking/iptables-filter.txt": listing}) == []


def test_forward_drops_aggregate_into_one_hit_worst_first() -> None:
    lines = [rule_line("0", "DROP", "all", "192.168.1.0/24", "0.0.0.0/0")] * 3 + [
        rule_line("77", "DROP", "all", "203.0.113.5", "0.0.0.0/0"),
        rule_line("4812", "DROP", "all", "192.168.0.0/16", "192.168.0.0/16"),
        rule_line("0", "REJECT", "all", "192.168.2.0/24", "0.0.0.0/0"),
        rule_line("0", "DROP", "all", "192.168.3.0/24", "0.0.0.0/0"),
    ]
    files = {
        "networking/iptables-filter.txt": filter_listing(forward="".join(lines)),
        "networking/iptables-nat.txt": NAT,
    }
    hit = only(run("network.iptables.forward-drop", files))
    assert (hit.severity, hit.count, len(hit.evidence)) == (Severity.CRITICAL, 7, 5)
    # the drop that counted pod packets first, then the rules covering pods (HIGH whatever their
    # counters) and the unrelated one that dropped 77 packets (HIGH), in line order
    assert [e.text for e in hit.evidence[:2]] == [lines[4].rstrip("\n"), lines[0].rstrip("\n")]
    assert lines[3].rstrip("\n") in [e.text for e in hit.evidence]
    assert hit.line == hit.evidence[0].line
    assert hit.detail["ranges"]["services"] == ["10.100.0.0/16"]
    assert "192.168.0.0/16" in hit.detail["ranges"]["vpc"]


@pytest.mark.parametrize(
    ("rule_id", "chain"),
    [("network.iptables.input-drop", "input_"), ("network.iptables.output-drop", "output")],
)
def test_input_and_output_drops_use_their_own_rule(rule_id: str, chain: str) -> None:
    line = rule_line("40", "REJECT", "udp", "0.0.0.0/0", "0.0.0.0/0", "udp dpt:53 reject-with icmp-port-unreachable")
    files = {"networking/iptables-filter.txt": filter_listing(**{chain: line})}
    hit = only(run(rule_id, files))
    assert hit.severity is Severity.CRITICAL
    assert run("network.iptables.forward-drop", files) == []


def test_filter_listing_preferred_over_default_listing_and_save() -> None:
    line = rule_line("5", "DROP", "all", "0.0.0.0/0", "10.100.0.0/16")
    files = {
        "networking/iptables-filter.txt": filter_listing(forward=line),
        "networking/iptables.txt": filter_listing(forward=line),
        "networking/iptables-save.txt": "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -d 10.100.0.0/16 -j DROP\nCOMMIT\n",
    }
    assert only(run("network.iptables.forward-drop", files)).file == "networking/iptables-filter.txt"


def test_falls_back_to_default_listing() -> None:
    files = {
        "networking/iptables.txt": filter_listing(forward=rule_line("5", "DROP", "all", "0.0.0.0/0", "10.100.0.0/16"))
    }
    hit = only(run("network.iptables.forward-drop", files))
    assert (hit.file, hit.severity) == ("networking/iptables.txt", Severity.CRITICAL)
    assert hit.detail["ranges"]["services_assumed"] is True


SAVE_FILTER = (
    "# Generated by iptables-save v1.8.8 (nf_tables) on Thu Mar  6 18:22:31 2025\n"
    "*filter\n:INPUT ACCEPT [18233:9647104]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [1:2]\n"
    '-A FORWARD -s 192.168.0.0/16 -d 192.168.0.0/16 -m comment --comment "block pod-to-pod" -j DROP\n'
    "-A FORWARD -p tcp -m tcp --dport 22 -j DROP\n"
    "-A FORWARD -m conntrack --ctstate INVALID -j DROP\n"
    "COMMIT\n"
)


def test_save_without_counters_rates_covering_drops_high() -> None:
    hit = only(
        run(
            "network.iptables.forward-drop",
            {"networking/iptables-save.txt": SAVE_FILTER, "networking/iptables-nat.txt": NAT},
        )
    )
    assert (hit.file, hit.severity, hit.count) == ("networking/iptables-save.txt", Severity.HIGH, 2)
    assert hit.evidence[0].line == 6
    assert "unavailable" in hit.detail["counters"]


def test_save_counters_file_preferred_and_counters_used() -> None:
    counters = SAVE_FILTER.replace("-A FORWARD -s", "[4812:289000] -A FORWARD -s").replace(
        "-A FORWARD -p tcp", "[0:0] -A FORWARD -p tcp"
    )
    files = {
        "networking/iptables-save.txt": SAVE_FILTER,
        "networking/iptables-save-counters.txt": counters,
        "networking/iptables-nat.txt": NAT,
    }
    hit = only(run("network.iptables.forward-drop", files))
    assert (hit.file, hit.severity, hit.count) == (
        "networking/iptables-save-counters.txt",
        Severity.CRITICAL,
        2,
    )
    assert [i["severity"] for i in hit.detail["items"]] == ["CRITICAL", "MEDIUM"]


def test_ipv6_filter_reported_in_its_own_file() -> None:
    listing = (
        f"Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)\n{HEADER}\n"
        "   50  4000 DROP       all      *      *       ::/0                 fd00:10:100::/108\n"
    )
    hit = only(run("network.iptables.forward-drop", {"networking/ip6tables-filter.txt": listing}))
    assert hit.file == "networking/ip6tables-filter.txt" and hit.detail["family"] == "ipv6"


# ------------------------------------------------------------------ FORWARD policy


@pytest.mark.parametrize(
    ("files", "severity", "file"),
    [
        pytest.param(
            {"networking/iptables-filter.txt": filter_listing(policy="DROP 1234 packets, 5M bytes")},
            Severity.HIGH,
            "networking/iptables-filter.txt",
            id="drop-with-packets",
        ),
        pytest.param(
            {"networking/iptables-filter.txt": filter_listing(policy="DROP 0 packets, 0 bytes")},
            Severity.MEDIUM,
            "networking/iptables-filter.txt",
            id="drop-latent",
        ),
        pytest.param(
            {"networking/iptables-save.txt": SAVE_FILTER.replace(":FORWARD ACCEPT [0:0]", ":FORWARD DROP [12:720]")},
            Severity.HIGH,
            "networking/iptables-save.txt",
            id="save-fallback",
        ),
    ],
)
def test_forward_policy(files: dict[str, str], severity: Severity, file: str) -> None:
    hit = only(run("network.iptables.forward-policy", files))
    assert (hit.severity, hit.file, hit.count) == (severity, file, 1)
    assert "FORWARD" in hit.evidence[0].text


def test_forward_policy_accept_is_not_a_finding() -> None:
    assert run("network.iptables.forward-policy", {"networking/iptables-filter.txt": filter_listing()}) == []


# ------------------------------------------------------------------ kube-proxy chains

NAT_WITHOUT_KUBE = f"""\
Chain PREROUTING (policy ACCEPT 2131 packets, 133K bytes)
{HEADER}

Chain AWS-SNAT-CHAIN-0 (1 references)
{HEADER}
 6544  412K RETURN     all  --  *      *       0.0.0.0/0            192.168.0.0/16       /* AWS SNAT CHAIN */
"""
NAT_EMPTY_SERVICES = NAT_WITHOUT_KUBE + f"\nChain KUBE-SERVICES (2 references)\n{HEADER}\n"
NAT_IPVS = NAT_WITHOUT_KUBE + (
    f"\nChain KUBE-SERVICES (2 references)\n{HEADER}\n"
    "    0     0 ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
    "match-set KUBE-CLUSTER-IP dst,dst\n"
)


@pytest.mark.parametrize(
    ("files", "evidence"),
    [
        pytest.param({"networking/iptables-nat.txt": NAT_WITHOUT_KUBE}, "Chain PREROUTING", id="no-kube-services"),
        pytest.param({"networking/iptables-nat.txt": NAT_EMPTY_SERVICES}, "Chain KUBE-SERVICES", id="no-svc-jumps"),
        pytest.param(
            {
                "networking/iptables-nat.txt": NAT_WITHOUT_KUBE,
                "networking/ipvsadm.txt": "ipvsadm not installed\n",
            },
            "Chain PREROUTING",
            id="ipvsadm-not-installed",
        ),
        pytest.param(
            {
                "networking/iptables-save.txt": "# Generated by iptables-save v1.8.4 on Thu Mar  6 18:22:31 2025\n"
                "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\nCOMMIT\n"
            },
            ":KUBE-SERVICES - [0:0]",
            id="legacy-save-only",
        ),
    ],
)
def test_kube_proxy_chains_missing(files: dict[str, str], evidence: str) -> None:
    hit = only(run("network.kube-proxy.chains-missing", files))
    assert hit.severity is Severity.HIGH
    assert hit.evidence[0].text.startswith(evidence)


@pytest.mark.parametrize(
    "files",
    [
        pytest.param({"networking/iptables-nat.txt": NAT}, id="healthy"),
        pytest.param({"networking/iptables-filter.txt": filter_listing()}, id="nat-file-absent"),
        pytest.param(
            {
                "networking/iptables-nat.txt": NAT_EMPTY_SERVICES,
                "networking/ipvsadm.txt": "-A -t 10.100.0.1:443 -s rr\n",
            },
            id="ipvs-virtual-services",
        ),
        pytest.param({"networking/iptables-nat.txt": NAT_IPVS}, id="ipvs-match-set"),
        pytest.param(
            {
                "networking/iptables-nat.txt": NAT_EMPTY_SERVICES,
                "networking/ipset.txt": "Name: KUBE-CLUSTER-IP\n",
            },
            id="ipset-markers",
        ),
        pytest.param(
            {
                "networking/iptables-nat.txt": NAT_WITHOUT_KUBE,
                "networking/nft-ruleset.txt": "table ip kube-proxy {\n\tchain services {\n\t}\n}\n",
            },
            id="nftables-ruleset",
        ),
        pytest.param(
            {
                "networking/iptables-nat.txt": NAT_WITHOUT_KUBE,
                "cni/05-cilium.conflist": json.dumps({"name": "cilium", "plugins": [{"type": "cilium-cni"}]}),
            },
            id="cilium-replaces-kube-proxy",
        ),
        pytest.param(
            {
                "networking/iptables-nat.txt": NAT_EMPTY_SERVICES,
                "networking/ip6tables-nat.txt": NAT.replace("10.100.0.10 ", "fd00::a      ").replace(
                    "10.100.0.1  ", "fd00::1     "
                ),
            },
            id="ipv6-cluster",
        ),
    ],
)
def test_kube_proxy_chains_not_missing(files: dict[str, str]) -> None:
    assert run("network.kube-proxy.chains-missing", files) == []


NF_TABLES_NAT_SAVE = (
    "# Generated by iptables-save v1.8.8 (nf_tables) on Thu Mar  6 18:22:31 2025\n"
    "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
    ":AWS-SNAT-CHAIN-0 - [0:0]\n"
    '-A POSTROUTING -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-0\n'
    '-A AWS-SNAT-CHAIN-0 -d 192.168.0.0/16 -m comment --comment "AWS SNAT CHAIN" -j RETURN\n'
    "COMMIT\n"
)
KUBE_PROXY_LOG = "var_log/kube-system_kube-proxy-5x9vq_7d1c2a3b-0c4d-4e5f-8a9b-0c1d2e3f4a5b/kube-proxy/0.log"
KUBE_PROXY_START = '2025-03-06T18:01:20.301942113Z stderr F I0306 18:01:20.301888       1 server_linux.go:169] "Using {mode} Proxier"\n'


def test_nf_tables_backend_is_not_a_kube_proxy_mode() -> None:
    """AL2023 installs iptables-nft: its iptables-save header says (nf_tables) whatever kube-proxy does.
    Missing Service chains there are a finding (they were read as "nftables mode" and ignored)."""
    hit = only(
        run(
            "network.kube-proxy.chains-missing",
            {"networking/iptables-nat.txt": NAT_WITHOUT_KUBE, "networking/iptables-save.txt": NF_TABLES_NAT_SAVE},
        )
    )
    assert hit.severity is Severity.HIGH
    assert "nothing shows kube-proxy in IPVS or nftables mode" in (hit.reason or "")


def test_kube_proxy_that_announced_iptables_mode_without_chains_is_critical() -> None:
    files = {
        "networking/iptables-save.txt": NF_TABLES_NAT_SAVE,
        KUBE_PROXY_LOG: KUBE_PROXY_START.format(mode="iptables"),
    }
    hit = only(run("network.kube-proxy.chains-missing", files))
    assert (hit.file, hit.severity) == ("networking/iptables-save.txt", Severity.CRITICAL)
    assert "kube-proxy announced iptables mode" in (hit.reason or "")


@pytest.mark.parametrize("mode", ["ipvs", "nftables"])
def test_kube_proxy_announcing_another_mode_needs_no_iptables_chains(mode: str) -> None:
    files = {"networking/iptables-save.txt": NF_TABLES_NAT_SAVE, KUBE_PROXY_LOG: KUBE_PROXY_START.format(mode=mode)}
    assert run("network.kube-proxy.chains-missing", files) == []
    from eksdiag.engine.checks.network import kube_proxy_mode

    assert kube_proxy_mode(artifacts(files)) == mode


# ------------------------------------------------------------------ routes

ROUTES = """\
default via 192.168.32.1 dev ens5 proto dhcp src 192.168.45.12 metric 512
192.168.32.0/19 dev ens5 proto kernel scope link src 192.168.45.12 metric 512
192.168.40.17 dev eni3a52ce78095 scope link
"""


@pytest.mark.parametrize(
    ("route", "with_nat", "severity"),
    [
        pytest.param("blackhole 10.100.0.0/16", True, Severity.HIGH, id="service-cidr"),
        pytest.param("blackhole 10.100.0.0/16", False, Severity.MEDIUM, id="assumed-service-cidr"),
        pytest.param("unreachable 192.168.40.0/24 table 5", False, Severity.HIGH, id="pod-addresses"),
        pytest.param("prohibit 192.168.0.0/16", True, Severity.HIGH, id="vpc"),
        pytest.param("blackhole 203.0.113.0/24", True, Severity.LOW, id="unrelated"),
    ],
)
def test_blackhole_routes(route: str, with_nat: bool, severity: Severity) -> None:
    files = {"networking/iproute.txt": ROUTES + route + "\n"}
    if with_nat:
        files["networking/iptables-nat.txt"] = NAT
    hit = only(run("network.route.blackhole", files))
    assert (hit.severity, hit.evidence[0].text, hit.line) == (severity, route, 4)


@pytest.mark.parametrize(
    ("path", "route"),
    [
        pytest.param("networking/iproute.txt", "blackhole 192.168.7.0/26 proto bird", id="calico-ipam-block"),
        pytest.param(
            "networking/ip6route.txt",
            "unreachable default dev lo table unspec proto kernel metric 4294967295 error -101 pref medium",
            id="kernel-v6-default",
        ),
        pytest.param("networking/ip6route.txt", "unreachable ::/96 dev lo metric 1024 error -113", id="v6-sit-prefix"),
        pytest.param("networking/iproute.txt", "", id="healthy"),
    ],
)
def test_benign_routes_are_not_findings(path: str, route: str) -> None:
    assert run("network.route.blackhole", {path: ROUTES + route + "\n"}) == []


# ------------------------------------------------------------------ conntrack


def sysctl(count: int | None, maximum: int = 262144, forward: str = "1") -> str:
    lines = [f"net.ipv4.ip_forward = {forward}"]
    if count is not None:
        lines.append(f"net.netfilter.nf_conntrack_count = {count}")
    lines.append(f"net.netfilter.nf_conntrack_max = {maximum}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("count", "severity"),
    [
        (250000, Severity.HIGH),
        (235930, Severity.HIGH),
        (200000, Severity.MEDIUM),
        (150000, None),
        (18233, None),
    ],
)
def test_conntrack_near_full_from_sysctl(count: int, severity: Severity | None) -> None:
    hits = run("network.conntrack.table-near-full", {"sysctls/sysctl_all.txt": sysctl(count)})
    if severity is None:
        assert hits == []
    else:
        hit = only(hits)
        assert (hit.severity, hit.file, len(hit.evidence)) == (severity, "sysctls/sysctl_all.txt", 2)
        assert hit.detail["count"] == count and hit.detail["max"] == 262144


def test_conntrack_near_full_falls_back_to_list_entry_count() -> None:
    entries = "".join(
        f"tcp      6 86397 ESTABLISHED src=192.168.40.17 dst=10.100.0.1 sport={i} dport=443 use=1\n" for i in range(95)
    )
    files = {
        "sysctls/sysctl_all.txt": sysctl(None, maximum=100),
        "networking/conntrack.txt": "*** Output of conntrack -L ***\n" + entries,
    }
    hit = only(run("network.conntrack.table-near-full", files))
    assert (hit.file, hit.severity, hit.detail["count"]) == ("networking/conntrack.txt", Severity.HIGH, 95)


def test_conntrack_near_full_needs_the_maximum() -> None:
    assert run("network.conntrack.table-near-full", {"networking/conntrack.txt": "99999\n"}) == []


def conntrack_stats(*failed: int) -> str:
    return "*** Output of conntrack -S *** \n" + "".join(
        f"cpu={cpu:<4d}\tfound=12 invalid=18 insert=0 insert_failed={f} drop={f} early_drop=0 error=0 "
        "search_restart=90 \n"
        for cpu, f in enumerate(failed)
    )


@pytest.mark.parametrize(
    ("failed", "severity", "count"),
    [((417, 402), Severity.MEDIUM, 2), ((900, 0, 300), Severity.HIGH, 2), ((0, 0), None, 0)],
)
def test_conntrack_insert_failed(failed: tuple[int, ...], severity: Severity | None, count: int) -> None:
    hits = run("network.conntrack.insert-failed", {"networking/conntrack.txt": conntrack_stats(*failed)})
    if severity is None:
        assert hits == []
        return
    hit = only(hits)
    assert (hit.severity, hit.count, hit.detail["insert_failed"]) == (severity, count, sum(failed))
    assert hit.evidence[0].text.startswith("cpu=0")


# ------------------------------------------------------------------ ENA

ETHTOOL = """\
Interface eth0
NIC statistics:
     tx_timeout: 0
     bw_in_allowance_exceeded: {bw_in}
     bw_out_allowance_exceeded: 0
     pps_allowance_exceeded: {pps}
     conntrack_allowance_exceeded: 0
     linklocal_allowance_exceeded: {linklocal}
"""


@pytest.mark.parametrize(
    ("bw_in", "pps", "linklocal", "severity", "count"),
    [
        (12, 0, 0, Severity.LOW, 1),
        (0, 3, 1843, Severity.MEDIUM, 2),
        (0, 0, 1843, Severity.MEDIUM, 1),
        (0, 2, 0, Severity.LOW, 1),
        (0, 40_000, 0, Severity.HIGH, 1),
        (2_000_000, 0, 0, Severity.HIGH, 1),
        (0, 0, 0, None, 0),
    ],
)
def test_ena_allowance_exceeded(bw_in: int, pps: int, linklocal: int, severity: Severity | None, count: int) -> None:
    text = ETHTOOL.format(bw_in=bw_in, pps=pps, linklocal=linklocal)
    hits = run("network.ena.allowance-exceeded", {"networking/ethtool.txt": text})
    if severity is None:
        assert hits == []
        return
    hit = only(hits)
    assert (hit.severity, hit.count) == (severity, count)


# ------------------------------------------------------------------ sysctl, DNS, CNI


@pytest.mark.parametrize(("value", "expected"), [("0", Severity.CRITICAL), ("1", None)])
def test_ip_forward(value: str, expected: Severity | None) -> None:
    hits = run("network.sysctl.ip-forward-disabled", {"sysctls/sysctl_all.txt": sysctl(10, forward=value)})
    if expected is None:
        assert hits == []
    else:
        hit = only(hits)
        assert (hit.severity, hit.evidence[0].text, hit.line) == (expected, "net.ipv4.ip_forward = 0", 1)


def test_ip_forward_missing_key_is_not_a_finding() -> None:
    assert run("network.sysctl.ip-forward-disabled", {"sysctls/sysctl_all.txt": "vm.swappiness = 0\n"}) == []


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        pytest.param("nameserver 192.168.0.2\nsearch us-west-2.compute.internal\n", False, id="healthy"),
        pytest.param("search us-west-2.compute.internal\noptions ndots:5\n", True, id="no-nameserver"),
        pytest.param("# nameserver 192.168.0.2\n", True, id="commented-out"),
        pytest.param("", True, id="empty-file"),
    ],
)
def test_resolv_no_nameserver(text: str, finding: bool) -> None:
    hits = run("dns.resolv.no-nameserver", {"networking/resolv.conf": text})
    assert [h.severity for h in hits] == ([Severity.HIGH] if finding else [])


CONFLIST = json.dumps(
    {
        "cniVersion": "0.4.0",
        "name": "aws-cni",
        "plugins": [
            {"name": "aws-cni", "type": "aws-cni", "vethPrefix": "eni", "mtu": "9001"},
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
        ],
    },
    indent=2,
)


@pytest.mark.parametrize(
    ("text", "problem", "evidence"),
    [
        pytest.param(CONFLIST, None, None, id="valid"),
        pytest.param(
            CONFLIST.replace('"name": "aws-cni",\n  "plugins"', '"name": "aws-cni"\n  "plugins"'),
            "invalid JSON",
            '  "plugins": [',
            id="missing-comma",
        ),
        pytest.param(CONFLIST[: len(CONFLIST) // 2], "invalid JSON", None, id="truncated"),
        pytest.param(
            json.dumps({"cniVersion": "0.4.0", "name": "x", "plugins": [{"type": "portmap"}]}, indent=2),
            "no main CNI plugin",
            None,
            id="only-chained-plugins",
        ),
    ],
)
def test_cni_config(text: str, problem: str | None, evidence: str | None) -> None:
    hits = run("cni.config.invalid", {"cni/10-aws.conflist": text})
    if problem is None:
        assert hits == []
        return
    hit = only(hits)
    assert (hit.severity, hit.detail["problem"]) == (Severity.HIGH, problem)
    assert hit.evidence
    if evidence is not None:
        assert hit.evidence[0].text == evidence


# ------------------------------------------------------------------ the seed incident


def _seed() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "fixtures" / "seed.py"
    spec = importlib.util.spec_from_file_location("seed_fixture_for_network_checks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _network_files(faulty: bool) -> dict[str, str]:
    files: dict[str, str] = _seed().node_files(faulty=faulty)
    return {p: t for p, t in files.items() if spec_for(p) is not None}


def _all_hits(files: dict[str, str]) -> list[Hit]:
    return [hit for rule in NETWORK_RULES for hit in run(rule.id, files)]


def test_seed_faulty_node_forward_drops_critical_and_blackhole_at_least_medium() -> None:
    hits = {(h.rule, h.file): h for h in _all_hits(_network_files(faulty=True))}
    forward = hits[("network.iptables.forward-drop", "networking/iptables-filter.txt")]
    assert (forward.severity, forward.count) == (Severity.CRITICAL, 3)
    blackhole = hits[("network.route.blackhole", "networking/iproute.txt")]
    assert blackhole.severity.rank >= Severity.MEDIUM.rank
    assert blackhole.evidence[0].text == "blackhole 10.100.0.0/16"
    assert hits[("network.conntrack.insert-failed", "networking/conntrack.txt")].severity is Severity.MEDIUM


def test_seed_healthy_node_has_nothing_above_medium() -> None:
    hits = _all_hits(_network_files(faulty=False))
    assert all(h.severity is not None and h.severity.rank <= Severity.MEDIUM.rank for h in hits), hits


def test_service_range_from_kubelet_cluster_dns_and_veth_prefix_from_ipamd() -> None:
    from eksdiag.engine.checks.network import infer_ranges

    arts = artifacts({"networking/iproute.txt": "10.1.2.3 dev cali12345 scope link\n10.1.2.4 dev eni1 scope link\n"})
    arts["kubelet/config.json"] = {"kind": "kubelet-config", "cluster_dns": ["172.20.0.10"]}
    arts["ipamd/networkutils-env-settings.json"] = {
        "kind": "networkutils-env-settings",
        "settings": {"AWS_VPC_K8S_CNI_VETHPREFIX": "cali"},
    }
    ranges = infer_ranges(arts)
    assert [str(n) for n in ranges.services] == ["172.20.0.0/16"] and not ranges.services_assumed
    assert [str(n) for n in ranges.dns_ips] == ["172.20.0.10/32"]
    assert [str(n) for n in ranges.pods] == ["10.1.2.3/32"]


def test_docker_bridge_is_not_taken_for_a_vpc_range() -> None:
    from eksdiag.engine.checks.network import infer_ranges

    routes = (
        "172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown\n"
        "192.168.32.0/19 dev ens5 proto kernel scope link src 192.168.45.12 metric 512\n"
    )
    ranges = infer_ranges(artifacts({"networking/iproute.txt": routes}))
    assert [str(n) for n in ranges.vpc] == ["192.168.32.0/19"]
