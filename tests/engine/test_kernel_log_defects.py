"""Issue 11 defects on the kernel log, through the public indexer only.

- ``kernel/dmesg.current`` and ``kernel/dmesg.human.current`` hold the same events in two formats (and AL2
  adds ``kernel/dmesg.boot`` and ``var_log/messages``): one event must give one finding, not one per copy.
- Raw dmesg stamps are seconds since boot: with the boot time the bundle shows, they are wall-clock
  times, so a finding read only from ``dmesg.current`` still knows when it happened.
- One container OOM kill long before the collection is history, not a HIGH finding.
"""

from __future__ import annotations

from pathlib import Path

from eksdiag.engine.indexer import BundleIndex, index_bundle

from tests.fixtures.seed import HEALTHY_ID, bundle_name, node_files, write_bundle

BOOT = "Thu Mar  6 09:00:00 2025"
"""The node booted at 09:00:00 UTC; the seed is collected at 18:22 the same day (33,720 s later)."""


def _index(tmp_path: Path, changes: dict[str, str]) -> BundleIndex:
    files = node_files(faulty=False)
    files.update(changes)
    return index_bundle(write_bundle(files, tmp_path / bundle_name(HEALTHY_ID)))


def _dmesg(events: list[tuple[int, str]]) -> dict[str, str]:
    """The same ring buffer twice, as ``dmesg`` and ``dmesg --ctime`` print it (boot at 09:00:00)."""
    raw = ["[    0.000000] Linux version 6.1.128-136.201.amzn2023.x86_64 (mockbuild@ip-10-0-43-91)"]
    human = ["[Thu Mar  6 09:00:00 2025] Linux version 6.1.128-136.201.amzn2023.x86_64 (mockbuild@ip-10-0-43-91)"]
    for seconds, message in events:
        hh, rest = divmod(9 * 3600 + seconds, 3600)
        mm, ss = divmod(rest, 60)
        raw.append(f"[{seconds:5d}.{417233 + seconds % 1000:06d}] {message}")
        human.append(f"[Thu Mar  6 {hh:02d}:{mm:02d}:{ss:02d} 2025] {message}")
    return {
        "kernel/dmesg.current": "\n".join(raw) + "\n",
        "kernel/dmesg.human.current": "\n".join(human) + "\n",
    }


OOM = (
    "Memory cgroup out of memory: Killed process 48211 (python3) total-vm:1934112kB, anon-rss:520144kB, "
    "file-rss:10240kB, shmem-rss:0kB, UID:1000 pgtables:1356kB oom_score_adj:996"
)
XID79 = "NVRM: Xid (PCI:0000:00:1e): 79, pid=0, name=, GPU has fallen off the bus."


def test_one_event_in_both_dmesg_files_is_one_finding(tmp_path: Path) -> None:
    idx = _index(tmp_path, _dmesg([(33000, OOM)]))
    ooms = [f for f in idx.findings if f.rule == "kernel.oom.cgroup"]
    assert len(ooms) == 1, [(f.file, f.count) for f in ooms]
    [oom] = ooms
    assert oom.file == "kernel/dmesg.human.current"
    assert oom.count == 1
    assert idx.rule_counts["kernel.oom.cgroup"] == 1


def test_al2_copies_of_the_kernel_log_count_once(tmp_path: Path) -> None:
    messages = (
        "Mar  6 18:10:00 ip-10-0-12-7 kernel: " + XID79 + "\n"
        "Mar  6 18:10:01 ip-10-0-12-7 systemd[1]: Started Session 4 of user root.\n"
    )
    changes = _dmesg([(33000, XID79)])
    changes["kernel/dmesg.boot"] = changes["kernel/dmesg.current"]
    changes["var_log/messages"] = messages
    idx = _index(tmp_path, changes)
    xids = [f for f in idx.findings if f.rule == "accelerator.nvidia.xid-fatal"]
    assert [(f.file, f.count) for f in xids] == [("kernel/dmesg.human.current", 1)]
    events = [e for e in idx.events if e["rule"] == "accelerator.nvidia.xid-fatal"]
    assert len(events) == 1, events


def test_raw_dmesg_stamps_become_wall_clock_times(tmp_path: Path) -> None:
    changes = _dmesg([(33000, OOM)])
    del changes["kernel/dmesg.human.current"]
    changes["system/procstat.txt"] = "cpu  1 2 3 4\nbtime 1741251600\nprocesses 812\n"  # 2025-03-06T09:00:00Z
    idx = _index(tmp_path, changes)
    [oom] = [f for f in idx.findings if f.rule == "kernel.oom.cgroup"]
    assert oom.file == "kernel/dmesg.current"
    assert oom.first_seen == "2025-03-06T18:10:00.417233Z"


def test_the_human_file_maps_raw_stamps_when_it_lacks_the_event(tmp_path: Path) -> None:
    """The ring buffer moved on between the two dmesg runs: the event is only in the raw file."""
    changes = _dmesg([(600, "IPv6: ADDRCONF(NETDEV_CHANGE): eni8f1d0c2e7a4: link becomes ready")])
    changes["kernel/dmesg.current"] += f"[33300.120000] {OOM}\n"
    idx = _index(tmp_path, changes)
    [oom] = [f for f in idx.findings if f.rule == "kernel.oom.cgroup"]
    assert oom.last_seen is not None and oom.last_seen.startswith("2025-03-06T18:15:00")


def test_a_single_container_oom_kill_long_before_collection_is_not_high(tmp_path: Path) -> None:
    idx = _index(tmp_path, _dmesg([(1200, OOM)]))  # 09:20, 9 hours before the collection
    [oom] = [f for f in idx.findings if f.rule == "kernel.oom.cgroup"]
    assert oom.severity.rank < 3, (oom.severity, oom.severity_reason)
    assert "single event" in oom.severity_reason
