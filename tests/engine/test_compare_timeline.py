"""compare() and timeline() on the seed incident (issue 3)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from eksdiag.engine.compare import DIMENSIONS, compare
from eksdiag.engine.indexer import BundleIndex, index_bundle
from eksdiag.engine.timeline import timeline


def dims(result: dict) -> dict[str, dict]:
    return {d["name"]: d for d in result["dimensions"]}


def test_compare_has_every_dimension_with_both_values_ratio_and_files(
    faulty: BundleIndex, healthy: BundleIndex
) -> None:
    result = compare(faulty, healthy)
    assert [d["name"] for d in result["dimensions"]] == [d.name for d in DIMENSIONS]
    for d in result["dimensions"]:
        assert set(d) >= {"name", "bundle", "baseline", "ratio", "differs", "files"}


def test_compare_shows_the_seed_incident(faulty: BundleIndex, healthy: BundleIndex) -> None:
    d = dims(compare(faulty, healthy))
    assert d["routes.unroutable"]["only_in_bundle"] == ["blackhole 10.100.0.0/16 table main"]
    assert d["routes.unroutable"]["baseline"] == []
    assert len(d["iptables.blocking_rules"]["only_in_bundle"]) == 3
    assert d["iptables.blocking_rules"]["only_in_baseline"] == []
    assert (
        d["iptables.forward_drop_packets"] | {"bundle": 4812 + 1377 + 911, "baseline": 0}
        == d["iptables.forward_drop_packets"]
    )
    assert d["kubelet.apiserver_errors"]["bundle"] > 0 and d["kubelet.apiserver_errors"]["baseline"] == 0
    assert d["conntrack.entries"]["ratio"] == round(18233 / 6077, 3)
    assert d["ipamd.errors"]["ratio"] == 11.0
    assert d["memory.oom_kills"]["differs"] is False
    assert d["routes.unroutable"]["files"] == ["networking/iproute.txt"]


def test_compare_rules_only_on_one_node(faulty: BundleIndex, healthy: BundleIndex) -> None:
    rules = compare(faulty, healthy)["rules"]
    assert "network.iptables.forward-drop" in rules["only_in_bundle"]
    assert "vpc-cni.ipamd-error" in rules["common"]
    assert rules["only_in_baseline"] == []


def test_compare_of_a_bundle_without_the_files_gives_nulls_not_errors(tmp_path: Path, healthy: BundleIndex) -> None:
    (tmp_path / "kernel").mkdir()
    empty = index_bundle(tmp_path)
    d = dims(compare(empty, healthy))
    assert d["routes.unroutable"]["bundle"] is None
    assert d["conntrack.entries"]["bundle"] is None and d["conntrack.entries"]["ratio"] is None


def test_timeline_orders_events_and_clusters_by_proximity(faulty: BundleIndex) -> None:
    result = timeline(faulty)
    times = [e["time"] for e in result["events"]]
    assert times == sorted(times)
    assert result["collected_at"] == "2025-03-06T18:22:00Z"
    incident = result["clusters"][-1]
    assert incident["severity"] == "HIGH"
    assert "kubelet.apiserver-timeout" in incident["rules"]
    assert len(result["clusters"]) >= 2


def test_timeline_window_is_relative_to_collection_time_not_now(faulty: BundleIndex) -> None:
    assert datetime.now(UTC).year > 2025  # the bundle is old: a wall-clock window would be empty
    result = timeline(faulty, window_minutes=10)
    assert result["events"], "events of the last 10 minutes before collection are kept"
    assert all(e["time"] >= "2025-03-06T18:12:00" for e in result["events"])
    assert result["excluded_events"] > 0
