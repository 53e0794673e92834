"""Parsers for process, kernel and storage state: real-format files, their quirks, and hostile input.

Formats: ``ps fauxwww --headers`` (procps forest: four characters per level, `` \\_ `` last),
``ps -eTF --headers``, ``top -b -n 1`` (procps-ng 3.3.10 on AL2 prints KiB, 3.3.17 on AL2023 MiB),
``/proc/stat``, ``/proc/<pid>/stat`` (comm in parentheses, may hold spaces), the collector's
``large_environments.txt`` and ``io_throttling.txt`` (``cut -d" " -f 1,2,42``), ``xfs_info`` +
``xfs_db freesp -s``, ``lsblk``, cronie's log, dmesg raw and ``--ctime``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from eksdiag.engine.parsers import spec_for
from eksdiag.engine.parsers.blockio import parse_io_throttling, parse_lsblk, parse_xfs
from eksdiag.engine.parsers.cron import parse_cron_log
from eksdiag.engine.parsers.dmesg import KEPT_STAMPS, parse_dmesg_log
from eksdiag.engine.parsers.kernel import KERNEL_SPECS
from eksdiag.engine.parsers.limits import kernel_limits
from eksdiag.engine.parsers.netconf import parse_sysctl
from eksdiag.engine.parsers.process import (
    forest_depth,
    parse_allprocstat,
    parse_large_environments,
    parse_procstat,
    parse_ps,
    parse_ps_threads,
    parse_top,
    split_proc_stat,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fixtures import node_state


def lines(text: str) -> Iterator[tuple[int, str]]:
    return enumerate(text.splitlines(), 1)


# --- ps --------------------------------------------------------------------------------------------


def test_ps_counts_processes_and_reads_the_forest() -> None:
    parsed = parse_ps(lines(node_state.ps_txt()))
    assert parsed["processes"] == len(node_state.PROCESSES)
    assert parsed["zombies"] == 0 and parsed["unparsed"] == 0
    assert parsed["header_line"] == 1
    assert parsed["commands"]["4431"] == "/app/aws-k8s-agent"


@pytest.mark.parametrize(
    ("command", "depth", "rest"),
    [
        ("/usr/bin/containerd", 0, "/usr/bin/containerd"),
        (" \\_ /pause", 1, "/pause"),
        ("     \\_ /app/aws-vpc-cni", 2, "/app/aws-vpc-cni"),
        (" |   \\_ [worker] <defunct>", 2, "[worker] <defunct>"),
        ("python3 -c 'print(\" \\_ \")'", 0, "python3 -c 'print(\" \\_ \")'"),
    ],
)
def test_forest_depth(command: str, depth: int, rest: str) -> None:
    assert forest_depth(command) == (depth, rest)


def test_each_zombie_is_tied_to_the_parent_above_it_in_the_forest() -> None:
    text = (
        "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n"
        "root        4312  0.0  0.1 1238016 12044 ?       Sl   18:01   0:00 /usr/bin/containerd-shim-runc-v2 -id 4be2\n"
        "1000        6990  0.3  0.4 812400 31200 ?        Ssl  18:04   0:01  \\_ /usr/local/bin/job-runner\n"
        "1000        7001  0.0  0.0      0     0 ?        Z    18:05   0:00  |   \\_ [worker] <defunct>\n"
        "1000        7002  0.0  0.0      0     0 ?        Z    18:05   0:00  |   \\_ [worker] <defunct>\n"
        "1000        6995  0.0  0.0   4400  1200 ?        S    18:04   0:00  \\_ sleep 3600\n"
        "root          77  0.0  0.0      0     0 ?        Z    17:58   0:00 [kworker/u4:1] <defunct>\n"
    )
    parsed = parse_ps(lines(text))
    assert parsed["zombies"] == 3
    parents = [(z["pid"], z["parent_pid"]) for z in parsed["zombie_rows"]]
    assert parents == [("7001", "6990"), ("7002", "6990"), ("77", None)]
    assert parsed["zombie_rows"][0]["parent"] == "/usr/local/bin/job-runner"


def test_ps_repeats_its_header_on_every_page() -> None:
    """``--headers`` prints the header again every screenful; the forest and the thread runs go on under it."""
    ps = node_state.ps_txt().splitlines()
    ps.insert(11, ps[0])
    parsed = parse_ps(lines("\n".join(ps)))
    assert parsed["processes"] == len(node_state.PROCESSES) and parsed["unparsed"] == 0
    threads = node_state.ps_threads_txt().splitlines()
    threads.insert(20, threads[0])
    parsed_threads = parse_ps_threads(lines("\n".join(threads)))
    assert parsed_threads["unparsed"] == 0 and parsed_threads["top"][0]["threads"] == 17


def test_ps_threads_counts_threads_and_ranks_their_owners() -> None:
    parsed = parse_ps_threads(lines(node_state.ps_threads_txt()))
    assert parsed["threads"] == sum(p.threads for p in node_state.PROCESSES)
    assert parsed["processes"] == len(node_state.PROCESSES)
    top = parsed["top"]
    assert [(t["pid"], t["threads"]) for t in top[:3]] == [("3456", 17), ("2890", 14), ("4431", 12)]
    assert top[0]["command"].startswith("/usr/bin/kubelet")


# --- top, /proc ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "uptime"),
    [
        ("top - 18:22:05 up 23 min,  0 users,  load average: 0.31, 0.42, 0.38", 23 * 60),
        ("top - 18:22:05 up  2:11,  0 users,  load average: 0.31, 0.42, 0.38", 2 * 3600 + 11 * 60),
        ("top - 18:22:05 up 3 days,  4:05,  1 user,  load average: 1.00, 0.90, 0.80", 3 * 86400 + 4 * 3600 + 5 * 60),
        ("top - 18:22:05 up 1 day, 12 min,  0 users,  load average: 0.00, 0.01, 0.05", 86400 + 12 * 60),
    ],
)
def test_top_uptime(head: str, uptime: int) -> None:
    assert parse_top(lines(head + "\n"))["uptime_seconds"] == uptime


def test_top_reads_tasks_and_swap_in_either_unit() -> None:
    al2 = (
        "top - 18:22:05 up 23 min,  0 users,  load average: 0.31, 0.42, 0.38\n"
        "Tasks: 182 total,   1 running, 181 sleeping,   0 stopped,   3 zombie\n"
        "%Cpu(s):  3.1 us,  3.1 sy,  0.0 ni, 93.8 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n"
        "KiB Mem :  7990880 total,  5222604 free,   973116 used,  1795160 buff/cache\n"
        "KiB Swap:  2097148 total,  1048574 free,  1048574 used.  6742856 avail Mem\n"
    )
    parsed = parse_top(lines(al2))
    assert parsed["tasks"] == {"total": 182, "running": 1, "sleeping": 181, "stopped": 0, "zombie": 3, "line": 2}
    assert parsed["swap"]["total"] == 2097148 * 1024 and parsed["swap"]["used"] == 1048574 * 1024
    al2023 = parse_top(lines(node_state.top_txt()))
    assert al2023["memory"]["total"] == round(7802.1 * 2**20)
    assert al2023["swap"]["total"] == 0


def test_procstat_boot_time() -> None:
    parsed = parse_procstat(lines(node_state.procstat_txt()))
    assert parsed["btime"] == node_state.BOOT_EPOCH
    assert parsed["lines"]["btime"] == 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 (systemd) S 0 1", ("1", "systemd", ["S", "0", "1"])),
        ("4410 (VM Thread) S 1 2", ("4410", "VM Thread", ["S", "1", "2"])),
        ("77 (a) b) (c) R 1", ("77", "a) b) (c", ["R", "1"])),
        ("x (a) S", None),
        ("12 systemd S 0", None),
    ],
)
def test_proc_stat_comm_is_between_the_first_and_last_parenthesis(text: str, expected: object) -> None:
    assert split_proc_stat(text) == expected


def test_allprocstat_reads_threads_start_and_io_delay() -> None:
    parsed = parse_allprocstat(lines(node_state.allprocstat_txt()))
    assert parsed["processes"] == len(node_state.PROCESSES) and parsed["unparsed"] == 0
    containerd = parsed["by_pid"]["2890"]
    assert (containerd["comm"], containerd["threads"], containerd["start_ticks"], containerd["blkio_ticks"]) == (
        "containerd",
        14,
        16100,
        388,
    )


def test_large_environments() -> None:
    parsed = parse_large_environments(lines("PID\tCount\n4431\t1204\n812\t5310\nbogus\n"))
    assert parsed["processes"] == 2 and parsed["unparsed"] == 1 and parsed["header_line"] == 1
    assert parsed["largest"]["pid"] == "812" and parsed["largest"]["count"] == 5310


# --- io_throttling, xfs, lsblk -----------------------------------------------------------------


def test_io_throttling_marks_rows_shifted_by_a_comm_with_a_space() -> None:
    text = "PID Name Block IO Delay (centisconds)\n6120 (fio) 52000\n4410 (VM 1\n25 25 2100\n512 (systemd-journal) 96\n"
    parsed = parse_io_throttling(lines(text))
    rows = {r["pid"]: r for r in parsed["rows"]}
    assert rows["6120"]["name"] == "fio" and rows["6120"]["delay_ticks"] == 52000 and rows["6120"]["reliable"]
    assert rows["25"]["name"] == "25" and rows["25"]["reliable"]
    assert "4410" not in rows or not rows["4410"]["reliable"]
    assert [r["pid"] for r in parsed["rows"] if r["reliable"]] == ["6120", "25", "512"]


def test_xfs_reads_geometry_and_free_space_per_filesystem() -> None:
    text = node_state.xfs_txt() + node_state.xfs_txt(fragmented=True).replace("nvme0n1p1", "nvme1n1")
    parsed = parse_xfs(lines(text))
    healthy, fragmented = parsed["filesystems"]
    assert (healthy["device"], healthy["isize"], healthy["bsize"], healthy["sparse_inodes"]) == (
        "/dev/nvme0n1p1",
        512,
        4096,
        True,
    )
    assert healthy["data_blocks"] == 20969472 and healthy["free_extents"] == 1019
    assert healthy["average_extent"] == pytest.approx(12280.2)
    assert fragmented["device"] == "/dev/nvme1n1" and fragmented["average_extent"] == pytest.approx(1.52343)
    assert [r["from"] for r in fragmented["histogram"]] == [1, 2, 4, 8]
    assert parsed["unparsed"] == 0


def test_xfs_summary_without_xfs_info_and_nan_average() -> None:
    parsed = parse_xfs(
        lines(
            "average free extent size 7.5\ntotal free extents 0\ntotal free blocks 0\naverage free extent size -nan\n"
        )
    )
    first, second = parsed["filesystems"]
    assert first["device"] is None and first["average_extent"] == 7.5
    assert second["average_extent"] is None and second["free_extents"] == 0


def test_lsblk_joins_a_second_mountpoint_and_reads_an_unset_zram() -> None:
    text = (
        "NAME  MAJ:MIN RM  SIZE RO TYPE MOUNTPOINTS\n"
        "zram0 253:0    0    0B  0 disk \n"
        "vda   254:0    0  256G  0 disk /run/netns\n"
        "                               /\n"
    )
    parsed = parse_lsblk(lines(text))
    assert parsed["unparsed"] == 0
    assert [(d["name"], d["size"], d["mountpoint"]) for d in parsed["devices"]] == [
        ("zram0", 0, ""),
        ("vda", 256 * 2**30, "/run/netns /"),
    ]


def test_lsblk_strips_the_tree_and_reads_sizes() -> None:
    parsed = parse_lsblk(lines(node_state.LSBLK + "zram0         252:0    0  3.8G  0 disk [SWAP]\n"))
    names = [(d["name"], d["type"], d["mountpoint"]) for d in parsed["devices"]]
    assert names[:2] == [("nvme0n1", "disk", ""), ("nvme0n1p1", "part", "/")]
    assert names[-1] == ("zram0", "disk", "[SWAP]")
    assert parsed["devices"][-1]["size"] == round(3.8 * 2**30)


# --- cron, dmesg, sysctl limits ------------------------------------------------------------------


def test_cron_finds_jobs_that_run_again_within_five_minutes() -> None:
    text = (
        "Mar  6 17:59:01 ip-10-0-12-7 CROND[100]: (root) CMD (/usr/local/bin/sync.sh)\n"
        "Mar  6 18:00:01 ip-10-0-12-7 CROND[101]: (root) CMD (/usr/local/bin/sync.sh)\n"
        "Mar  6 18:00:01 ip-10-0-12-7 CROND[102]: (root) CMD (run-parts /etc/cron.hourly)\n"
        "Mar  6 18:00:01 ip-10-0-12-7 CROND[103]: (ec2-user) CMD (/usr/local/bin/sync.sh)\n"
        "Mar  6 18:05:01 ip-10-0-12-7 CROND[104]: (root) CMD (/usr/local/bin/sync.sh)\n"
        "Mar  6 19:00:01 ip-10-0-12-7 CROND[105]: (root) CMD (run-parts /etc/cron.hourly)\n"
        "Mar  6 19:00:01 ip-10-0-12-7 CROND[105]: (root) CMDOUT (done)\n"
    )
    parsed = parse_cron_log(lines(text))
    assert parsed["runs"] == 6 and parsed["jobs"] == 3
    [job] = parsed["rapid"]
    assert (job["user"], job["command"], job["rapid_runs"], job["min_gap_seconds"]) == (
        "root",
        "/usr/local/bin/sync.sh",
        1,
        60,
    )
    assert job["first_line"] == 2


def test_cron_gaps_cross_the_new_year() -> None:
    text = "Dec 31 23:59:01 h CROND[1]: (root) CMD (job)\nJan  1 00:00:01 h CROND[2]: (root) CMD (job)\n"
    [job] = parse_cron_log(lines(text))["rapid"]
    assert job["min_gap_seconds"] == 60


def test_dmesg_keeps_the_first_stamps_of_each_format_and_stops() -> None:
    raw = "".join(f"[{n:5d}.000100] message {n}\n" for n in range(KEPT_STAMPS + 50))
    parsed = parse_dmesg_log(lines(raw))
    assert len(parsed["raw"]) == KEPT_STAMPS and parsed["raw"][1] == [1.0001, "message 1"]
    human = parse_dmesg_log(lines("[Thu Mar  6 17:58:13 2025] Linux version 6.1\n"))
    assert human["ctime"] == [[1741283893.0, "Linux version 6.1"]]


def test_kernel_limits_from_sysctl() -> None:
    text = "fs.file-max = 9223372036854775807\nfs.file-nr = 2080\t0\t9223372036854775807\nkernel.pid_max = 4194304\n"
    limits = kernel_limits(parse_sysctl(lines(text)))
    assert limits.file_nr == (2080, 0, 9223372036854775807)
    assert limits.pid_max is not None and (limits.pid_max.value, limits.pid_max.line) == (4194304, 3)
    assert limits.threads_max is None
    assert kernel_limits(parse_sysctl(lines("kernel.pid_max = lots\nfs.file-nr = 1 2\n"))).pid_max is None


def test_every_spec_routes_its_path() -> None:
    for spec in KERNEL_SPECS:
        for path in spec.paths:
            concrete = path.replace("*", "20250302").replace("[0-9]", "1")
            routed = spec_for(concrete)
            assert routed is not None and routed.kind == spec.kind, path


# --- hostile input -------------------------------------------------------------------------------

_hostile_line = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND",
            "root 1 0.0 0.0 0 0 ? Z 17:58 0:00  \\_ [x] <defunct>",
            "root 1 1 0 0 1 1 0 17:58 ? 00:00:00 cmd",
            "Tasks: 9 total,   1 running, 8 sleeping,   0 stopped,   0 zombie",
            "MiB Swap: 99999999999999999999999.0 total, 1.0 free, 1e308 used.",
            "top - 00:00:00 up 99999999999 days, 99:99,",
            "btime 99999999999999999999999999",
            "1 (a) S " + " ".join(["x"] * 50),
            "1 (a) S " + " ".join(["99999999999999999999"] * 50),
            "PID Name Block IO Delay (centisconds)",
            "1 (a 5",
            "meta-data=/dev/x isize=0 agcount=0, agsize=1 blks",
            "data     = bsize=0 blocks=99999999999999999999999",
            "average free extent size inf",
            "      1       1 99999999999999999999 1 100.00",
            "Feb 29 23:59:59 h CROND[1]: (root) CMD (x)",
            "Feb 30 23:59:59 h CROND[1]: (root) CMD (x)",
            "[99999999999999.999999999] x",
            "[Thu Feb 30 25:61:61 2025] x",
            "zram0 252:0 0 9999999999999999999999999E 0 disk [SWAP]",
        ]
    ),
)


@pytest.mark.parametrize("spec", KERNEL_SPECS, ids=[s.kind for s in KERNEL_SPECS])
@settings(max_examples=150, deadline=None)
@given(text_lines=st.lists(_hostile_line, max_size=40))
def test_parsers_never_raise_and_return_json(spec: object, text_lines: list[str]) -> None:
    parsed = spec.parse(enumerate(text_lines, 1))  # type: ignore[attr-defined]
    assert parsed["kind"] == spec.kind  # type: ignore[attr-defined]
    json.dumps(parsed)


@settings(max_examples=150, deadline=None)
@given(text_lines=st.lists(_hostile_line, max_size=40))
def test_kernel_limits_never_raise(text_lines: list[str]) -> None:
    kernel_limits(parse_sysctl(enumerate(text_lines, 1)))
