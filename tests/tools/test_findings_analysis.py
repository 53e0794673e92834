"""correlate, summarize, compare_nodes, network_diagnostics and storage_diagnostics on the seed incident."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from tests.tools.conftest import Indexed


def _finding_ids(run: Any, indexed: Indexed, bundle: str | None = None) -> list[str]:
    result = run(indexed.ctx, "findings___errors", {"bundleId": bundle or indexed.faulty, "pageSize": 200})
    return [f["id"] for f in result["findings"]]


def test_correlate_ranks_the_forward_drop_rules_as_root_cause(indexed: Indexed, run: Any) -> None:
    result = run(indexed.ctx, "findings___correlate", {"bundleId": indexed.faulty})
    top = result["rootCauseCandidates"][0]
    assert top["rule"] == "network.iptables.forward-drop" and top["confidence"] == "high"
    explained = {e for c in result["rootCauseCandidates"] for e in c["explainsRules"]}
    assert "kubelet.apiserver-timeout" in explained
    assert top["evidence"] and top["evidence"][0]["file"] == "networking/iptables-filter.txt"


def test_correlate_window_defaults_to_the_hour_before_collection(indexed: Indexed, run: Any) -> None:
    result = run(indexed.ctx, "findings___correlate", {"bundleId": indexed.faulty})
    assert result["window"] == {
        "start": "2025-03-06T17:22:00Z",
        "end": "2025-03-06T18:22:00Z",
        "reason": "60 minutes before collection",
    }
    times = [e["time"] for e in result["events"]]
    assert times == sorted(times) and result["eventsInWindow"] > 0
    assert all(e["category"] != "noise" for e in result["events"])


def test_correlate_clusters_bursts_by_the_gap(local_indexed: Indexed, run: Any) -> None:
    ctx, bid = local_indexed.ctx, local_indexed.faulty
    fine = run(ctx, "findings___correlate", {"bundleId": bid, "clusterGapSeconds": 1})["clusters"]
    coarse = run(ctx, "findings___correlate", {"bundleId": bid, "clusterGapSeconds": 3600})["clusters"]
    assert len(coarse) == 1 and len(fine) > len(coarse)
    assert sum(c["eventCount"] for c in fine) == coarse[0]["eventCount"]
    for earlier, later in itertools.pairwise(fine):
        assert earlier["end"] <= later["start"]


def test_correlate_pivots_on_a_timed_finding(local_indexed: Indexed, run: Any) -> None:
    ctx, bid = local_indexed.ctx, local_indexed.faulty
    findings = run(ctx, "findings___errors", {"bundleId": bid, "pageSize": 200})["findings"]
    timed = next(f for f in findings if f["rule"] == "kubelet.cni-not-ready")
    untimed = next(f for f in findings if f["firstSeen"] is None)
    result = run(ctx, "findings___correlate", {"bundleId": bid, "pivotFindingId": timed["id"], "windowMinutes": 2})
    assert result["pivot"]["id"] == timed["id"]
    assert result["window"]["start"] <= timed["firstSeen"] <= result["window"]["end"]
    refused = run(ctx, "findings___correlate", {"bundleId": bid, "pivotFindingId": untimed["id"]})
    assert refused["error"]["code"] == "InvalidArgument" and "timestamp" in refused["error"]["message"]


def test_summarize_is_grounded_quotes_evidence_and_attaches_runbooks(indexed: Indexed, run: Any) -> None:
    ids = _finding_ids(run, indexed)
    result = run(indexed.ctx, "findings___summarize", {"bundleId": indexed.faulty, "findingIds": ids})
    assert result["grounded"] and {f["id"] for f in result["findings"]} == set(ids)
    assert result["rootCause"]["rule"] == "network.iptables.forward-drop"
    assert "iptables" in result["headline"] and result["rootCause"]["findingId"] in ids
    assert "SOP-NET-001" in result["runbooks"]
    index = indexed.ctx.store.load_index(indexed.faulty)
    real_lines = {(f["file"], e["line"], e["text"]) for f in index["findings"] for e in f["evidence"]}
    quoted = {(f["file"], e["line"], e["text"]) for f in result["findings"] for e in f["evidence"]}
    assert quoted and quoted <= real_lines


def test_summarize_rejects_and_lists_unknown_finding_ids(local_indexed: Indexed, run: Any) -> None:
    ctx = local_indexed.ctx
    good = _finding_ids(run, local_indexed)[:2]
    from_other_bundle = _finding_ids(run, local_indexed, local_indexed.healthy)[:1]
    made_up = "F-0000000000000000"
    result = run(
        ctx,
        "findings___summarize",
        {"bundleId": local_indexed.faulty, "findingIds": [*good, *from_other_bundle, made_up]},
    )
    assert result["error"]["code"] == "InvalidArgument"
    assert result["error"]["details"]["unknownFindingIds"] == [*from_other_bundle, made_up]
    assert result["error"]["details"]["knownCount"] == 2


def test_compare_nodes_finds_the_differences_and_picks_the_healthy_baseline(indexed: Indexed, run: Any) -> None:
    result = run(
        indexed.ctx, "findings___compare_nodes", {"instanceIds": [indexed.faulty_instance, indexed.healthy_instance]}
    )
    assert result["baselineBundleId"] == indexed.healthy
    (comparison,) = result["comparisons"]
    dims = {d["name"]: d for d in comparison["dimensions"]}
    assert dims["iptables.blocking_rules"]["bundle"] == 3 and dims["iptables.blocking_rules"]["baseline"] == 0
    assert dims["routes.unroutable"]["onlyInBundle"]
    assert all(d["differs"] for d in comparison["dimensions"])
    unique = {u["bundleId"]: set(u["rules"]) for u in result["uniqueRules"]}
    assert "network.iptables.forward-drop" in unique[indexed.faulty] and unique[indexed.healthy] == set()
    assert "network.iptables.forward-drop" not in result["commonRules"]


def test_compare_nodes_counts_each_bundle_once_per_rule(local_indexed: Indexed, run: Any) -> None:
    """A rule found in two files of one node is not 'common to all nodes' (reference bug B8)."""
    ctx = local_indexed.ctx
    index = ctx.store.load_index(local_indexed.faulty)
    twin = copy.deepcopy(next(f for f in index["findings"] if f["rule"] == "network.iptables.forward-drop"))
    twin["id"], twin["file"] = "F-00000000000000aa", "networking/iptables.txt"
    index["findings"].append(twin)
    ctx.store.save_index(local_indexed.faulty, index)
    ctx.cache.clear()
    result = run(ctx, "findings___compare_nodes", {"bundleIds": [local_indexed.faulty, local_indexed.healthy]})
    assert "network.iptables.forward-drop" not in result["commonRules"]
    row = next(r for r in result["matrix"] if r["rule"] == "network.iptables.forward-drop")
    assert [b["bundleId"] for b in row["bundles"]] == [local_indexed.faulty] and len(
        row["bundles"][0]["findingIds"]
    ) == 2


def test_compare_nodes_with_an_explicit_baseline_and_all_dimensions(local_indexed: Indexed, run: Any) -> None:
    result = run(
        local_indexed.ctx,
        "findings___compare_nodes",
        {
            "bundleIds": [local_indexed.faulty, local_indexed.healthy],
            "baselineBundleId": local_indexed.faulty,
            "allDimensions": True,
        },
    )
    assert result["baselineBundleId"] == local_indexed.faulty and result["baselineReason"] == "chosen by the caller"
    (comparison,) = result["comparisons"]
    assert comparison["bundleId"] == local_indexed.healthy
    assert len(comparison["dimensions"]) > comparison["differingDimensions"] or all(
        d["differs"] for d in comparison["dimensions"]
    )


@pytest.mark.parametrize(
    "args",
    [
        {"bundleIds": ["b-20250306182200-0000000f"]},
        {"bundleIds": [f"b-20250306182200-000000{n:02x}" for n in range(11)]},
        {"bundleIds": ["b-20250306182200-0000000f", "b-20250306182200-0000000f"]},
        {},
        {
            "bundleIds": ["b-20250306182200-0000000f", "b-20250306182200-0000000a"],
            "instanceIds": ["i-0f1a2b3c4d5e6f708", "i-0a9b8c7d6e5f40312"],
        },
        {
            "bundleIds": ["b-20250306182200-0000000f", "b-20250306182200-0000000a"],
            "baselineBundleId": "b-20250306182200-00000001",
        },
    ],
    ids=["one", "eleven", "duplicate", "none", "both-kinds", "baseline-not-compared"],
)
def test_compare_nodes_needs_two_to_ten_distinct_bundles(
    local_indexed: Indexed, run: Any, args: dict[str, Any]
) -> None:
    assert run(local_indexed.ctx, "findings___compare_nodes", args)["error"]["code"] == "InvalidArgument"


def test_network_diagnostics_sections_on_the_faulty_node(indexed: Indexed, run: Any) -> None:
    result = run(indexed.ctx, "findings___network_diagnostics", {"bundleId": indexed.faulty})
    sections = result["sections"]
    assert result["kubeProxyMode"] == "iptables" and result["overall"]["severity"] == "CRITICAL"
    assert sections["iptables"]["severity"] == "CRITICAL"
    assert sections["iptables"]["facts"]["blockingRulesInBuiltinChains"] == 3
    assert sections["routes"]["severity"] == "HIGH" and sections["routes"]["facts"]["unroutable"]
    assert sections["conntrack"]["status"] == "issues" and sections["conntrack"]["facts"]["insertFailed"] == 819
    assert sections["dns"]["status"] == "ok" and sections["dns"]["facts"]["nameservers"] == ["192.168.0.2"]
    assert sections["ena"]["status"] == "ok"


def test_network_diagnostics_is_quiet_on_the_healthy_node(indexed: Indexed, run: Any) -> None:
    result = run(indexed.ctx, "findings___network_diagnostics", {"bundleId": indexed.healthy})
    assert result["sections"]["iptables"]["status"] == "ok"
    assert result["sections"]["routes"]["status"] == "ok"
    assert result["overall"]["severity"] not in ("CRITICAL", "HIGH")


def test_network_diagnostics_only_the_sections_asked_for(local_indexed: Indexed, run: Any) -> None:
    result = run(
        local_indexed.ctx,
        "findings___network_diagnostics",
        {"bundleId": local_indexed.faulty, "sections": ["dns", "ena"]},
    )
    assert set(result["sections"]) == {"dns", "ena"}


def _edit_index(indexed: Indexed, edit: Any) -> None:
    ctx = indexed.ctx
    index = ctx.store.load_index(indexed.faulty)
    edit(index)
    ctx.store.save_index(indexed.faulty, index)
    ctx.cache.clear()


def test_a_missing_file_is_not_collected_never_an_issue(local_indexed: Indexed, run: Any) -> None:
    def drop_resolv(index: dict[str, Any]) -> None:
        index["files"] = [f for f in index["files"] if f["path"] != "networking/resolv.conf"]
        index["artifacts"].pop("networking/resolv.conf", None)

    _edit_index(local_indexed, drop_resolv)
    result = run(local_indexed.ctx, "findings___network_diagnostics", {"bundleId": local_indexed.faulty})
    dns = result["sections"]["dns"]
    assert dns["status"] == "not-collected" and dns["issues"] == [] and dns["severity"] is None
    assert "dns" in result["overall"]["sectionsNotCollected"]


@pytest.mark.parametrize("mode", ["ipvs", "nftables"])
def test_no_false_critical_for_ipvs_or_nftables_kube_proxy(local_indexed: Indexed, run: Any, mode: str) -> None:
    def as_mode(index: dict[str, Any]) -> None:
        art = index["artifacts"]
        # no kube-proxy chain anywhere in iptables: Services live in IPVS or in kube-proxy's nftables table
        kube = {"services_chain": False, "svc_jumps": 0, "proxy_chains": 0, "ipvs": mode == "ipvs"}
        for listing in (a for a in art.values() if a.get("kind") == "iptables-list"):
            listing["kube"] = dict(kube)
        for table in art["networking/iptables-save.txt"]["tables"].values():
            table["kube"] = dict(kube)
        art["networking/ipvsadm.txt"]["virtual_services"] = 12 if mode == "ipvs" else 0
        art["networking/iptables-save.txt"]["variant"] = "nf_tables"  # the iptables backend, not kube-proxy's mode
        if mode == "nftables":  # kube-proxy's own table, as `nft list ruleset` shows it
            art["networking/nft-ruleset.txt"] = {
                "kind": "nft-ruleset",
                "tables": [{"family": "ip", "name": "kube-proxy", "line": 1, "chains": ["services"]}],
                "kube_proxy": True,
                "kube_proxy_tables": ["ip kube-proxy"],
                "kube_chains_in_iptables_nft": False,
            }
        # an artifact rule written without the mode guard would report this; the tool must not make it critical
        index["findings"].append(
            {
                "id": "F-00000000000000bb",
                "rule": "network.kube-proxy.chains-missing",
                "severity": "HIGH",
                "category": "network",
                "title": "kube-proxy chains missing",
                "file": "networking/iptables-nat.txt",
                "line": 1,
                "count": 1,
                "first_seen": None,
                "last_seen": None,
                "evidence": [{"line": 1, "text": "Chain PREROUTING (policy ACCEPT)"}],
            }
        )

    _edit_index(local_indexed, as_mode)
    result = run(
        local_indexed.ctx,
        "findings___network_diagnostics",
        {"bundleId": local_indexed.faulty, "sections": ["iptables"]},
    )
    assert result["kubeProxyMode"] == mode
    issue = next(
        i for i in result["sections"]["iptables"]["issues"] if i["rule"] == "network.kube-proxy.chains-missing"
    )
    assert issue["severity"] == "INFO" and mode in issue["note"]


def test_storage_diagnostics_sections(indexed: Indexed, run: Any) -> None:
    result = run(indexed.ctx, "findings___storage_diagnostics", {"bundleId": indexed.faulty})
    sections = result["sections"]
    assert sections["disks"]["status"] == "issues" and sections["disks"]["severity"] == "MEDIUM"
    root = next(fs for fs in sections["disks"]["facts"]["filesystems"] if fs["mountedOn"] == "/")
    assert root["usePct"] == 89
    assert sections["inodes"]["status"] == "ok"
    # no CSI driver ran on the seed nodes: not collected, never critical (reference bug B18)
    assert sections["csi"]["status"] == "not-collected" and sections["csi"]["severity"] is None
    assert result["overall"]["severity"] == "MEDIUM"


def test_storage_diagnostics_reports_findings_in_csi_logs(local_indexed: Indexed, run: Any) -> None:
    def add_csi(index: dict[str, Any]) -> None:
        path = "var_log/ebs-csi-node.log"
        index["files"].append({"path": path, "size": 10, "lines": 1, "binary": False})
        index["findings"].append(
            {
                "id": "F-00000000000000cc",
                "rule": "kubelet.crashloop",
                "severity": "MEDIUM",
                "category": "kubelet",
                "title": "CrashLoopBackOff",
                "file": path,
                "line": 1,
                "count": 1,
                "first_seen": None,
                "last_seen": None,
                "evidence": [{"line": 1, "text": "back-off restarting failed container ebs-plugin"}],
            }
        )

    _edit_index(local_indexed, add_csi)
    result = run(
        local_indexed.ctx, "findings___storage_diagnostics", {"bundleId": local_indexed.faulty, "sections": ["csi"]}
    )
    csi = result["sections"]["csi"]
    assert csi["status"] == "issues" and csi["facts"]["drivers"] == ["ebs-csi"]
    assert [i["findingId"] for i in csi["issues"]] == ["F-00000000000000cc"]
