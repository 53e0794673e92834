# ruff: noqa: E501  (real-format log lines are longer than the line limit)
"""One event, one finding, wherever the collector copied the log (issue 11).

- AL2: kubelet's and containerd's journal lines are in ``kubelet/kubelet.log`` and
  ``containerd/containerd-log.txt`` and again in rsyslog's ``var_log/messages``, which also holds
  every other unit's lines and the kernel's.
- Container logs: in kubelet's layout ``var_log/<ns>_<pod>_<uid>/<container>/<N>.log`` (and its
  rotations) and as the flat ``var_log/<pod>_<ns>_<container>-<id>.log``.

Each event counts once, in the unit's own journal or the pod folder's file, the other copies listed
in ``detail["copies"]``; the timeline holds it once; compare counts it once; the finding id is the
same whatever the order of the archive.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest
from eksdiag.engine.compare import compare
from eksdiag.engine.copies import journal_message, kernel_message, pod_container
from eksdiag.engine.indexer import BundleIndex, finding_id, index_bundle
from eksdiag.engine.model import Finding, Severity
from hypothesis import given
from hypothesis import strategies as st

from tests.fixtures.al2 import (
    COLLECTED,
    cri,
    journal_219,
    journal_line,
    klog_line,
    logrus_line,
    messages,
    pod_flat,
    pod_folder,
    rsyslog,
)
from tests.fixtures.seed import HEALTHY_ID, HOST, bundle_name, node_files, write_bundle

ENDPOINT = "https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com"
KUBELET = "kubelet/kubelet.log"
CONTAINERD = "containerd/containerd-log.txt"
MESSAGES = "var_log/messages"
SAMPLED = 40
"""Lines of one rule in one file the timeline keeps (20 first, 20 last): below it counts are exact."""


def status_timeouts(count: int, every: timedelta = timedelta(minutes=1), first_minute: int = 10) -> list[str]:
    """kubelet failing to update the node status: one line matching two rules (status, API-server timeout)."""
    start = COLLECTED.replace(minute=first_minute, second=31, microsecond=4211)
    return [
        klog_line(
            start + every * i,
            "E",
            "kubelet_node_status.go:549",
            f'"Error updating node status, will retry" err="error getting node \\"{HOST}\\": Get '
            f'\\"{ENDPOINT}/api/v1/nodes/{HOST}?timeout=10s\\": dial tcp 192.168.101.7:443: i/o timeout"',
        )
        for i in range(count)
    ]


OTHER_UNITS = [
    "Mar  6 18:00:01 ip-192-168-45-12 systemd: Started Session 4 of user root.",
    "Mar  6 18:05:12 ip-192-168-45-12 dhclient[2837]: XMT: Solicit on eth0, interval 110400ms.",
    "Mar  6 18:09:58 ip-192-168-45-12 kernel: IPv6: ADDRCONF(NETDEV_CHANGE): eni8f1d0c2e7a4: link becomes ready",
]


def interleaved(*groups: list[str]) -> str:
    """``var_log/messages``: rsyslog's copy of journal lines and other lines, in time order."""
    lines = [line for group in groups for line in group]
    return messages(sorted(lines, key=lambda line: line[:15].replace("  ", " 0")))


def al2(
    kubelet: list[str], *, journal_keeps: int | None = None, others: tuple[str, ...] = ()
) -> dict[str, str | bytes]:
    """kubelet's journal (its last ``journal_keeps`` lines) and rsyslog's copy of all of them among other lines."""
    kept = kubelet if journal_keeps is None else kubelet[len(kubelet) - journal_keeps :]
    return {KUBELET: journal_219(kept), MESSAGES: interleaved([rsyslog(x) for x in kubelet], [*others, *OTHER_UNITS])}


def build(tmp_path: Path, changes: dict[str, str | bytes], name: str = "b.tar.gz") -> Path:
    files: dict[str, str] = dict(node_files(faulty=False))
    binary = {p: v for p, v in changes.items() if isinstance(v, bytes)}
    files.update({p: v for p, v in changes.items() if isinstance(v, str)})
    folder = tmp_path / "src"
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    for path, data in binary.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    if name == "folder":
        return folder
    archive = tmp_path / name
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()):
            tar.add(folder / path, arcname=f"./{path}")
    return archive


def index(tmp_path: Path, changes: dict[str, str | bytes]) -> BundleIndex:
    return index_bundle(build(tmp_path, changes), name=bundle_name(HEALTHY_ID))


def of(idx: BundleIndex, rule: str) -> list[Finding]:
    return [f for f in idx.findings if f.rule == rule]


def events_of(idx: BundleIndex, rule: str) -> list[dict[str, object]]:
    return [e for e in idx.events if e["rule"] == rule]


def assert_counted_once(idx: BundleIndex, rule: str, events: int) -> None:
    """The rule's events count once in the findings and once on the timeline."""
    assert idx.rule_counts[rule] == events
    assert len(events_of(idx, rule)) == events


def copies(finding: Finding) -> list[tuple[str, int]]:
    return [(c["file"], c["count"]) for c in finding.detail.get("copies", [])]


# --- AL2: a unit's journal and rsyslog's var_log/messages ----------------------------------------


@pytest.mark.parametrize("rule", ["kubelet.node-status-update-failed", "kubelet.apiserver-timeout"])
def test_a_kubelet_event_in_its_journal_and_in_messages_is_one_finding(tmp_path: Path, rule: str) -> None:
    kubelet = status_timeouts(12)
    idx = index(tmp_path, al2(kubelet))
    [finding] = of(idx, rule)
    assert (finding.file, finding.count) == (KUBELET, 12)
    assert finding.id == finding_id(idx.bundle["id"], rule, KUBELET)
    assert copies(finding) == [(KUBELET, 12), (MESSAGES, 12)]
    assert "counted once across 2 copies of kubelet's journal" in finding.severity_reason
    assert_counted_once(idx, rule, 12)
    assert {e["file"] for e in events_of(idx, rule)} == {KUBELET}


def test_kubelet_and_containerd_copies_in_messages_count_in_each_units_journal(tmp_path: Path) -> None:
    """runtime.* rules read both journals and messages: each unit keeps its own events."""
    when = COLLECTED - timedelta(minutes=3)
    image = "123456789012.dkr.ecr.us-west-2.amazonaws.com/app:v2"
    kubelet = [
        klog_line(
            when + timedelta(seconds=i),
            "E",
            "log.go:32",
            f'"PullImage from image service failed" err="rpc error: code = Unknown desc = failed to pull and unpack image \\"{image}\\": 403 Forbidden" image="{image}"',
        )
        for i in range(3)
    ]
    containerd = [
        logrus_line(when + timedelta(seconds=i), "error", f'PullImage \\"{image}\\" failed', ' error="403 Forbidden"')
        for i in range(2)
    ]
    idx = index(
        tmp_path,
        {
            KUBELET: journal_219(kubelet),
            CONTAINERD: journal_219(containerd),
            MESSAGES: interleaved([rsyslog(x) for x in kubelet + containerd], OTHER_UNITS),
        },
    )
    found = {f.file: f for f in of(idx, "runtime.image-pull-failed")}
    assert sorted(found) == [CONTAINERD, KUBELET]
    assert copies(found[KUBELET]) == [(KUBELET, 3), (MESSAGES, 3)]
    assert copies(found[CONTAINERD]) == [(CONTAINERD, 2), (MESSAGES, 2)]
    assert_counted_once(idx, "runtime.image-pull-failed", 5)


def test_lines_of_other_units_in_messages_stay_a_finding_of_their_own(tmp_path: Path) -> None:
    when = COLLECTED - timedelta(minutes=8)
    kubelet = [
        klog_line(
            when + timedelta(minutes=i),
            "E",
            "container_log_manager.go:296",
            '"Failed to rotate log for container" err="failed to compress log \\"/var/log/pods/default_web-5d8c7_3f1c/app/0.log.20250306-181003\\": write /var/log/pods/default_web-5d8c7_3f1c/app/0.log.20250306-181003.tmp: no space left on device"',
        )
        for i in range(3)
    ]
    agent = "Mar  6 18:16:40 ip-192-168-45-12 amazon-ssm-agent: 2025-03-06 18:16:40 ERROR [ssm-agent-worker] failed to write log file: no space left on device"
    idx = index(tmp_path, al2(kubelet, others=(agent,)))
    found = {f.file: f for f in of(idx, "runtime.no-space")}
    assert sorted(found) == [KUBELET, MESSAGES]
    assert (found[KUBELET].count, copies(found[KUBELET])) == (3, [(KUBELET, 3), (MESSAGES, 3)])
    mine = found[MESSAGES]
    assert mine.count == 1 and [e.text for e in mine.evidence] == [agent]
    assert mine.line == messages_line(idx, agent)
    assert mine.detail["counted_in"] == [KUBELET]
    assert mine.severity_reason.startswith("1 occurrence")
    assert_counted_once(idx, "runtime.no-space", 4)


def messages_line(idx: BundleIndex, text: str) -> int:
    matching = [e["line"] for e in idx.events if e["file"] == MESSAGES and e["text"] == text]
    assert len(matching) == 1
    return int(str(matching[0]))


def test_a_kubelet_event_only_rsyslog_kept_counts_once_in_the_journal_finding(tmp_path: Path) -> None:
    """The journal no longer holds the first timeout (vacuumed, or before --since): it is kubelet's all the same."""
    kubelet = status_timeouts(3)
    idx = index(tmp_path, al2(kubelet, journal_keeps=2))
    [finding] = of(idx, "kubelet.apiserver-timeout")
    assert (finding.file, finding.count) == (KUBELET, 3)
    assert finding.first_seen == "2025-03-06T18:10:31.004211Z"
    assert copies(finding) == [(KUBELET, 2), (MESSAGES, 3)]
    assert len(events_of(idx, "kubelet.apiserver-timeout")) == 3


def test_a_unit_restarting_under_systemd_is_one_finding(tmp_path: Path) -> None:
    """systemd's lines about the unit are in ``journalctl -u kubelet`` (``systemd[1]:``) and in messages (``systemd:``)."""
    when = COLLECTED - timedelta(minutes=20)
    kubelet = []
    for i in range(6):
        at = when + timedelta(minutes=2 * i)
        kubelet += [
            journal_line(at, "systemd[1]", "kubelet.service: main process exited, code=exited, status=255/n/a"),
            journal_line(at, "systemd[1]", "Unit kubelet.service entered failed state."),
            journal_line(
                at + timedelta(seconds=5), "systemd[1]", "kubelet.service holdoff time over, scheduling restart."
            ),
        ]
    idx = index(tmp_path, al2(kubelet))
    for rule, count in (("systemd.kubelet.failed", 12), ("systemd.unit.restarting", 6)):
        assert [(f.file, f.count) for f in of(idx, rule)] == [(KUBELET, count)], rule
        assert len(events_of(idx, rule)) == count


def test_more_lines_than_sampled_merge_at_the_largest_count(tmp_path: Path) -> None:
    """Beyond the samples the count cannot be exact: the copy that shows the most lines (here messages,
    which still holds ten timeouts the journal lost) is the least number of distinct events."""
    kubelet = status_timeouts(SAMPLED + 20, every=timedelta(seconds=10))
    idx = index(tmp_path, al2(kubelet, journal_keeps=50))
    [finding] = of(idx, "kubelet.apiserver-timeout")
    assert (finding.file, finding.count) == (KUBELET, 60)
    assert copies(finding) == [(KUBELET, 50), (MESSAGES, 60)]
    assert "not every line was sampled, so the count is the largest any copy shows" in finding.severity_reason
    assert finding.first_seen == "2025-03-06T18:10:31.004211Z"
    assert len(events_of(idx, "kubelet.apiserver-timeout")) <= SAMPLED + 10


def test_systemds_lines_about_the_unit_are_the_units_beyond_the_samples(tmp_path: Path) -> None:
    """A crash loop longer than the samples: rsyslog tags systemd's lines ``systemd:``; they name the unit."""
    when = COLLECTED - timedelta(hours=3)
    kubelet = []
    for i in range(30):
        at = when + timedelta(minutes=5 * i)
        kubelet += [
            journal_line(at, "systemd[1]", "kubelet.service: main process exited, code=exited, status=255/n/a"),
            journal_line(at, "systemd[1]", "Unit kubelet.service entered failed state."),
        ]
    idx = index(tmp_path, al2(kubelet, journal_keeps=56))
    [finding] = of(idx, "systemd.kubelet.failed")
    assert (finding.file, finding.count) == (KUBELET, 60)
    assert copies(finding) == [(KUBELET, 56), (MESSAGES, 60)]


def test_a_flat_copy_beyond_the_samples_merges_when_the_folder_file_spans_it(tmp_path: Path) -> None:
    """kube-proxy keeps failing while the collector copies: the folder file (copied second) has two more lines."""
    lines = [_restore_failed(timedelta(minutes=30, seconds=-20 * i)) + "\n" for i in range(SAMPLED + 22)]
    folder = pod_folder("kube-system", "kube-proxy-5x9vq", KUBE_PROXY_UID, "kube-proxy")
    flat = pod_flat("kube-system", "kube-proxy-5x9vq", "kube-proxy", "4be2" * 16)
    idx = index(tmp_path, {folder: "".join(lines), flat: "".join(lines[:-2])})
    [finding] = of(idx, "network.kube-proxy.sync-failed")
    assert (finding.file, finding.count) == (folder, SAMPLED + 22)
    assert copies(finding) == [(folder, SAMPLED + 22), (flat, SAMPLED + 20)]


def test_more_lines_than_sampled_with_other_units_are_not_merged(tmp_path: Path) -> None:
    """Beyond the samples, a messages finding that shows another unit's line could hold anything: it stays."""
    when = COLLECTED - timedelta(minutes=50)
    kubelet = [
        klog_line(
            when + timedelta(seconds=30 * i),
            "E",
            "kubelet.go:1566",
            '"Image garbage collection failed" err="write /var/lib/kubelet/x: no space left on device"',
        )
        for i in range(SAMPLED + 10)
    ]
    agent = "Mar  6 17:30:40 ip-192-168-45-12 amazon-ssm-agent: ERROR failed to write log file: no space left on device"
    idx = index(tmp_path, al2(kubelet, others=(agent,)))
    found = {f.file: f.count for f in of(idx, "runtime.no-space")}
    assert found == {KUBELET: SAMPLED + 10, MESSAGES: SAMPLED + 11}


# --- container logs: kubelet's layout and the flat /var/log/containers copy ----------------------

KUBE_PROXY_UID = "7d1c2a3b-0c4d-4e5f-8a9b-0c1d2e3f4a5b"
AWS_NODE_UID = "8c1e0d2f-3a4b-4c5d-9e6f-7a8b9c0d1e2f"
EBS_UID = "5d1c8e2a-1b3c-4d5e-8f9a-0b1c2d3e4f5a"


def _restore_failed(at: timedelta) -> str:
    when = COLLECTED - at
    return cri(
        when,
        f'E{when:%m%d %H:%M:%S}.{when.microsecond:06d}       1 proxier.go:1564] "Failed to execute iptables-restore" err="exit status 1"',
    )


def _ipamd_not_started(at: timedelta) -> str:
    when = COLLECTED - at
    return cri(
        when, f'time="{when:%Y-%m-%dT%H:%M:%SZ}" level=error msg="Timed out waiting for IPAM daemon to start"', "stdout"
    )


def _csi_internal(at: timedelta) -> str:
    when = COLLECTED - at
    return cri(
        when,
        f"E{when:%m%d %H:%M:%S}.{when.microsecond:06d}       1 driver.go:108] GRPC error: rpc error: code = Internal desc = "
        'could not format "/dev/nvme2n1" and mount it at "/var/lib/kubelet/plugins/kubernetes.io/csi/ebs.csi.aws.com/4f1e/globalmount"',
    )


POD_CASES = [
    (
        "network.kube-proxy.sync-failed",
        pod_folder("kube-system", "kube-proxy-5x9vq", KUBE_PROXY_UID, "kube-proxy"),
        pod_flat("kube-system", "kube-proxy-5x9vq", "kube-proxy", "4be2" * 16),
        _restore_failed,
    ),
    (
        "vpc-cni.ipamd-not-ready",
        pod_folder("kube-system", "aws-node-7xk2p", AWS_NODE_UID, "aws-node", "2.log"),
        pod_flat("kube-system", "aws-node-7xk2p", "aws-node", "0c5e" * 16),
        _ipamd_not_started,
    ),
    (
        "storage.csi.driver-error",
        pod_folder("kube-system", "ebs-csi-node-x7k2p", EBS_UID, "ebs-plugin"),
        pod_flat("kube-system", "ebs-csi-node-x7k2p", "ebs-plugin", "9b2e" * 16),
        _csi_internal,
    ),
]


@pytest.mark.parametrize(("rule", "folder", "flat", "line"), POD_CASES, ids=[c[0] for c in POD_CASES])
def test_a_pod_log_and_its_flat_copy_are_one_finding(
    tmp_path: Path, rule: str, folder: str, flat: str, line: object
) -> None:
    log = "".join(line(timedelta(minutes=12 - i, microseconds=1000 * i)) + "\n" for i in range(4))  # type: ignore[operator]
    idx = index(tmp_path, {folder: log, flat: log})
    [finding] = of(idx, rule)
    assert (finding.file, finding.count) == (folder, 4)
    assert finding.id == finding_id(idx.bundle["id"], rule, folder)
    assert copies(finding) == [(folder, 4), (flat, 4)]
    assert "counted once across 2 copies of the container's log" in finding.severity_reason
    assert_counted_once(idx, rule, 4)


def test_a_flat_copy_taken_before_a_rotation_counts_in_both_folder_files(tmp_path: Path) -> None:
    """The collector copies /var/log/containers before /var/log/pods: kubelet may rotate in between."""
    lines = [_restore_failed(timedelta(minutes=20 - i)) + "\n" for i in range(5)]
    folder = pod_folder("kube-system", "kube-proxy-5x9vq", KUBE_PROXY_UID, "kube-proxy")
    rotated = folder + ".20250306-181500.gz"
    flat = pod_flat("kube-system", "kube-proxy-5x9vq", "kube-proxy", "4be2" * 16)
    idx = index(
        tmp_path,
        {rotated: gzip.compress("".join(lines[:3]).encode()), folder: "".join(lines[3:]), flat: "".join(lines)},
    )
    found = {f.file: f for f in of(idx, "network.kube-proxy.sync-failed")}
    assert sorted(found) == [folder, rotated]
    assert copies(found[rotated]) == [(rotated, 3), (flat, 3)]
    assert copies(found[folder]) == [(folder, 2), (flat, 2)]
    assert_counted_once(idx, "network.kube-proxy.sync-failed", 5)


def test_containers_of_one_pod_and_restarts_are_not_copies_of_each_other(tmp_path: Path) -> None:
    """Each container is its own log; each restart (N.log) holds other events; only the flat copy merges."""
    when = COLLECTED - timedelta(minutes=6)
    x509 = 'E0306 18:16:00.000000       1 reflector.go:147] failed to list *v1.Pod: Get "https://10.100.0.1:443/api": tls: failed to verify certificate: x509: certificate has expired'
    node = cri(when, x509)
    agent = cri(when + timedelta(microseconds=1), x509)
    base = ("kube-system", "aws-node-7xk2p", AWS_NODE_UID)
    previous = cri(when - timedelta(hours=1), x509)
    idx = index(
        tmp_path,
        {
            pod_folder(*base, "aws-node", "0.log"): previous + "\n",
            pod_folder(*base, "aws-node", "1.log"): node + "\n",
            pod_folder(*base, "aws-eks-nodeagent", "0.log"): agent + "\n",
            pod_flat("kube-system", "aws-node-7xk2p", "aws-node", "0c5e" * 16): node + "\n",
            pod_flat("kube-system", "aws-node-7xk2p", "aws-eks-nodeagent", "1f2a" * 16): agent + "\n",
        },
    )
    found = sorted((f.file, f.count) for f in of(idx, "kubelet.certificate-error"))
    assert found == [
        (pod_folder(*base, "aws-eks-nodeagent", "0.log"), 1),
        (pod_folder(*base, "aws-node", "0.log"), 1),
        (pod_folder(*base, "aws-node", "1.log"), 1),
    ]


# --- ids, timeline, compare ----------------------------------------------------------------------


def _al2_faulty(kubelet_lines: list[str]) -> dict[str, str | bytes]:
    restore_failed = _restore_failed(timedelta(minutes=2)) + "\n"
    return {
        **al2(kubelet_lines),
        pod_folder("kube-system", "kube-proxy-5x9vq", KUBE_PROXY_UID, "kube-proxy"): restore_failed,
        pod_flat("kube-system", "kube-proxy-5x9vq", "kube-proxy", "4be2" * 16): restore_failed,
    }


def _reversed_archive(folder: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted((p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()), reverse=True):
            data = (folder / path).read_bytes()
            info = tarfile.TarInfo(f"./{path}")
            info.size, info.mtime = len(data), 1741285320
            tar.addfile(info, io.BytesIO(data))
    return archive


def test_the_kept_file_and_the_ids_do_not_depend_on_the_archive_order(tmp_path: Path) -> None:
    changes = _al2_faulty(status_timeouts(12) + status_timeouts(30, timedelta(seconds=1), first_minute=21))
    name = bundle_name(HEALTHY_ID)
    folder = build(tmp_path, changes, "folder")
    views = [
        index_bundle(build(tmp_path, changes), name=name),
        index_bundle(_reversed_archive(folder, tmp_path / "reversed.tar.gz"), name=name),
        index_bundle(folder, name=name),
    ]
    seen = [sorted((f.id, f.rule, f.file, f.count, f.severity.value) for f in v.findings) for v in views]
    assert seen[0] == seen[1] == seen[2]
    assert [len(v.events) for v in views] == [len(views[0].events)] * 3
    files = {f.file for f in views[0].findings if f.rule.startswith(("kubelet.", "network.kube-proxy."))}
    assert MESSAGES not in files and not any(f.startswith("var_log/kube-proxy-5x9vq_") for f in files)


def test_the_timeline_holds_each_event_once(tmp_path: Path) -> None:
    idx = index(tmp_path, _al2_faulty(status_timeouts(12)))
    copied = ("kubelet.apiserver-timeout", "kubelet.node-status-update-failed", "network.kube-proxy.sync-failed")
    keys = [(e["rule"], e["time"]) for e in idx.events if e["rule"] in copied]
    assert len(keys) == 12 + 12 + 1 == len(set(keys))
    assert not [e for e in idx.events if e["file"] == MESSAGES and e["rule"].startswith("kubelet.")]


def test_compare_counts_each_event_once(tmp_path: Path) -> None:
    idx = index(tmp_path / "al2", _al2_faulty(status_timeouts(12)))
    baseline = index_bundle(write_bundle(node_files(faulty=False), tmp_path / "healthy" / bundle_name(HEALTHY_ID)))
    dims = {d["name"]: d for d in compare(idx, baseline)["dimensions"]}
    assert dims["kubelet.apiserver_errors"]["bundle"] == 24  # 12 lines, each a timeout and a failed status update
    assert dims["kubelet.apiserver_errors"]["files"] == [KUBELET]


def test_a_recent_storm_is_ranked_on_its_distinct_events(tmp_path: Path) -> None:
    """Severity is assessed once over the merged evidence: copies do not make a burst."""
    kubelet = status_timeouts(1, first_minute=20)
    idx = index(tmp_path, al2(kubelet))
    [finding] = of(idx, "kubelet.apiserver-timeout")
    assert finding.count == 1 and "single event" in finding.severity_reason
    assert finding.severity == Severity.MEDIUM


# --- the pieces, on any input ---------------------------------------------------------------------

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?", fullmatch=True)
POD = st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,40}[a-z0-9])?", fullmatch=True)
MESSAGE = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1).filter(str.strip)


@given(LABEL, POD, LABEL, st.uuids(), st.binary(min_size=32, max_size=32), st.integers(0, 99), st.booleans())
def test_both_layouts_of_a_container_log_name_the_same_container(
    namespace: str, pod: str, container: str, uid: object, container_id: bytes, restarts: int, rotated: bool
) -> None:
    name = f"{restarts}.log" + (".20250306-181500.gz" if rotated else "")
    folder = pod_folder(namespace, pod, str(uid), container, name)
    flat = pod_flat(namespace, pod, container, container_id.hex())
    assert pod_container(folder) == pod_container(flat) == f"{namespace}/{pod}/{container}"


@given(st.text(st.characters(blacklist_characters="\n"), max_size=80))
def test_other_paths_are_no_container_log(path: str) -> None:
    assert pod_container("var_log/aws-routed-eni/" + path) is None


@given(MESSAGE, st.datetimes(min_value=COLLECTED.replace(tzinfo=None) - timedelta(days=300)))
def test_rsyslogs_copy_of_a_journal_line_carries_the_same_message(message: str, when: object) -> None:
    line = journal_line(when, "kubelet[3456]", message)  # type: ignore[arg-type]
    assert journal_message(rsyslog(line)) == journal_message(line) == message.strip()
    kernel = journal_line(when, "kernel", message)  # type: ignore[arg-type]
    assert kernel_message(rsyslog(kernel)) == kernel_message(kernel)
