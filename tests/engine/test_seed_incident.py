"""The seed incident must come out exactly right (issue 3)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from eksdiag.engine.indexer import BundleIndex, index_bundle
from eksdiag.engine.model import Severity


def by_rule(idx: BundleIndex) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in idx.findings:
        out.setdefault(f.rule, []).append(f)
    return out


def test_forward_chain_drop_rules_are_critical_with_their_counters(faulty: BundleIndex) -> None:
    [drop] = [f for f in faulty.findings if f.rule == "network.iptables.forward-drop"]
    assert drop.severity is Severity.CRITICAL
    assert drop.file == "networking/iptables-filter.txt"
    assert drop.count == 3
    assert {e.line for e in drop.evidence} == {9, 10, 11}
    assert all("DROP" in e.text for e in drop.evidence)
    pkts = {item["pkts"] for item in drop.detail["items"]}
    assert pkts == {4812, 1377, 911}


def test_blackhole_route_for_the_service_cidr_is_at_least_medium(faulty: BundleIndex) -> None:
    [route] = by_rule(faulty)["network.route.blackhole"]
    assert route.severity.rank >= Severity.MEDIUM.rank
    assert route.evidence[0].text == "blackhole 10.100.0.0/16"
    assert route.file == "networking/iproute.txt" and route.line == 4


def test_healthy_node_has_nothing_above_medium(healthy: BundleIndex) -> None:
    worst = max(f.severity.rank for f in healthy.findings)
    assert worst <= Severity.MEDIUM.rank, [f.to_dict() for f in healthy.findings if f.severity.rank > 2]


def test_benign_noise_never_ranks_above_low(faulty: BundleIndex, healthy: BundleIndex) -> None:
    for idx in (faulty, healthy):
        noise = [f for f in idx.findings if f.category == "noise"]
        assert {f.rule for f in noise} >= {
            "noise.kubelet.cadvisor-partial-failure",
            "noise.containerd.container-status-not-found",
            "noise.ipamd.introspection-request",
            "noise.containerd.stack-dump",
        }
        assert all(f.severity.rank <= Severity.LOW.rank for f in noise)
        # a line claimed by a noise rule counts for no other rule
        noise_lines = {(f.file, e.line) for f in noise for e in f.evidence}
        other_lines = {(f.file, e.line) for f in idx.findings if f.category != "noise" for e in f.evidence}
        assert not noise_lines & other_lines


def test_kubelet_api_timeouts_are_aggregated_with_time_range(faulty: BundleIndex) -> None:
    [timeouts] = by_rule(faulty)["kubelet.apiserver-timeout"]
    assert timeouts.count == 24
    assert timeouts.first_seen == "2025-03-06T18:10:31.511207Z"
    assert timeouts.last_seen == "2025-03-06T18:21:31.511207Z"
    assert len(timeouts.evidence) == 5  # three first, two last
    assert timeouts.evidence[-1].line > timeouts.evidence[0].line


def test_bundle_identity_comes_from_the_bundle(faulty: BundleIndex) -> None:
    b = faulty.bundle
    assert b["instance_id"] == "i-0f1a2b3c4d5e6f708"
    assert b["region"] == "us-west-2"
    assert b["availability_zone"] == "us-west-2b"
    assert b["collected_at"] == "2025-03-06T18:22:00Z"
    assert b["variant"] == "al2023"
    assert b["complete"] is True and b["problems"] == []


def test_ids_are_stable_across_reindexing(seed_bundles: tuple[Path, Path], faulty: BundleIndex) -> None:
    again = index_bundle(seed_bundles[0])
    assert [f.id for f in again.findings] == [f.id for f in faulty.findings]
    assert all(f.id.startswith("F-") and len(f.id) == 18 for f in again.findings)


def test_rule_ids_are_stable_across_nodes_and_finding_ids_are_bound_to_the_bundle(
    faulty: BundleIndex, healthy: BundleIndex
) -> None:
    common = {f.rule for f in faulty.findings} & {f.rule for f in healthy.findings}
    assert "vpc-cni.ipamd-error" in common
    ids_f = {f.rule: f.id for f in faulty.findings}
    ids_h = {f.rule: f.id for f in healthy.findings}
    assert all(ids_f[r] != ids_h[r] for r in common)


def test_directory_and_archive_give_the_same_findings(
    seed_bundles: tuple[Path, Path], tmp_path: Path, faulty: BundleIndex
) -> None:
    with tarfile.open(seed_bundles[0]) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    from_dir = index_bundle(tmp_path / "x", bundle_id=faulty.bundle["id"], collected_at=None)
    assert [(f.rule, f.file, f.line, f.count) for f in from_dir.findings] == [
        (f.rule, f.file, f.line, f.count) for f in faulty.findings
    ]


def test_one_wrapping_folder_is_accepted(seed_bundles: tuple[Path, Path], tmp_path: Path, faulty: BundleIndex) -> None:
    wrapped = tmp_path / "wrapped.tar.gz"
    with tarfile.open(seed_bundles[0]) as src, tarfile.open(wrapped, "w:gz") as dst:
        top = tarfile.TarInfo("eks_i-0f1a2b3c4d5e6f708_2025-03-06_1822-UTC_0.7.9")
        top.type = tarfile.DIRTYPE
        dst.addfile(top)
        for member in src.getmembers():
            if member.name == ".":
                continue
            data = src.extractfile(member) if member.isfile() else None
            member.name = top.name + "/" + member.name.removeprefix("./")
            dst.addfile(member, data)
    idx = index_bundle(wrapped, bundle_id=faulty.bundle["id"])
    assert {(f.rule, f.file) for f in idx.findings} == {(f.rule, f.file) for f in faulty.findings}


def test_index_round_trips_through_json(faulty: BundleIndex) -> None:
    again = BundleIndex.from_dict(json.loads(json.dumps(faulty.to_dict())))
    assert again.to_dict() == faulty.to_dict()


def test_missing_files_and_empty_folders_produce_no_findings(tmp_path: Path) -> None:
    for d in ("kernel", "networking", "storage", "ipamd", "var_log"):
        (tmp_path / d).mkdir()
    (tmp_path / "system").mkdir()
    (tmp_path / "system" / "instance-id.txt").write_text("i-0123456789abcdef0\n")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "docker.log").write_text("-- No entries --\n")
    idx = index_bundle(tmp_path)
    assert idx.findings == []
    assert idx.bundle["complete"] is True


def test_evidence_at_the_end_of_a_large_journal_is_indexed(tmp_path: Path) -> None:
    filler = (
        b"Mar 06 17:00:00 ip-10-0-0-1 kubelet[1]: I0306 17:00:00.000000 1 kubelet.go:1] "
        b'"SyncLoop (PLEG): event for pod" pod="default/web"\n'
    )
    lines = 200_000
    root = tmp_path / "bundle"
    (root / "kubelet").mkdir(parents=True)
    with (root / "kubelet" / "kubelet.log").open("wb") as fh:
        for _ in range(lines):
            fh.write(filler)
        fh.write(
            b'Mar 06 18:21:59 ip-10-0-0-1 kubelet[1]: E0306 18:21:59.1 1 kubelet.go:2] "Skipping pod '
            b'synchronization" err="PLEG is not healthy: pleg was last seen active 3m0s ago"\n'
        )
    idx = index_bundle(root)
    [pleg] = idx.findings
    assert (pleg.rule, pleg.line, pleg.count) == ("kubelet.pleg-unhealthy", lines + 1, 1)
    assert idx.files[0]["lines"] == lines + 1


def test_al2_bundle_with_journal_header_is_recognised(tmp_path: Path) -> None:
    (tmp_path / "kubelet").mkdir()
    (tmp_path / "var_log").mkdir()
    (tmp_path / "kubelet" / "kubelet-config.json").write_text('{"clusterDNS": ["172.20.0.10"]}\n')
    (tmp_path / "kubelet" / "kubelet.log").write_text(
        "-- Logs begin at Thu 2025-02-27 09:58:11 UTC, end at Thu 2025-03-06 18:22:05 UTC. --\n"
        'Mar 06 18:01:12 ip-10-0-0-1 kubelet[1]: E0306 18:01:12.1 1 kubelet.go:2] "Unable to register node with '
        'API server" err="Unauthorized"\n'
    )
    (tmp_path / "var_log" / "messages").write_text(
        "Mar  6 18:02:00 ip-10-0-0-1 kernel: Out of memory: Killed process 911 (java) total-vm:99kB\n"
    )
    idx = index_bundle(tmp_path, collected_at=None)
    assert idx.bundle["variant"] == "al2"
    rules = {f.rule: f for f in idx.findings}
    assert rules["kubelet.registration-failed"].line == 2
    assert rules["kernel.oom.global"].file == "var_log/messages"


def test_an_unknown_collection_time_is_reported_not_hidden(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.tar"
    with tarfile.open(bundle, "w") as tar:
        data = b"Mar 06 18:01:12 h kubelet[1]: E0306 18:01:12.1 1 k.go:1] PLEG is not healthy\n"
        info = tarfile.TarInfo("./kubelet/kubelet.log")
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
    idx = index_bundle(bundle)
    assert any("collection time unknown" in p for p in idx.bundle["problems"])
    assert idx.findings[0].first_seen is not None
