"""Artifact checks for processes, kernel limits, storage state and zram: severity as the fraction of a
limit or a magnitude against the EKS Node Monitoring Agent's bar, each with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eksdiag.engine.checks.kernel import check_zram_usage
from eksdiag.engine.checks.process import (
    check_file_limit,
    check_large_environments,
    check_pid_limit,
    check_rapid_cron,
    check_zombies,
)
from eksdiag.engine.checks.storage import check_io_delays, check_xfs_free_space
from eksdiag.engine.model import Severity
from eksdiag.engine.parsers import spec_for

from tests.fixtures import node_state

C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW


def artifacts(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Parse ``files`` the way the indexer does (by path)."""
    out: dict[str, dict[str, Any]] = {}
    for path, text in files.items():
        spec = spec_for(path)
        if spec is not None:
            out[path] = spec.parse(iter(enumerate(text.splitlines(), 1)))
    return out


def healthy(changes: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The seed node's parsed state files, with ``changes`` (path -> content) applied."""
    files = {
        **node_state.system_files(),
        "sysctls/sysctl_all.txt": "".join(f"{k} = {v}\n" for k, v in sorted(node_state.SYSCTL_LIMITS.items()))
        + "kernel.pid_max = 4194304\n",
    }
    files.update(changes or {})
    return artifacts(files)


def sysctl(**values: str) -> str:
    return "".join(f"{k.replace('_', '.', 1)} = {v}\n" for k, v in sorted(values.items()))


ALL_CHECKS = (
    check_pid_limit,
    check_file_limit,
    check_zombies,
    check_large_environments,
    check_rapid_cron,
    check_io_delays,
    check_xfs_free_space,
    check_zram_usage,
)


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_a_healthy_node_gives_no_hit(check: Any) -> None:
    assert check(healthy()) == []


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_missing_artifacts_give_no_hit(check: Any) -> None:
    assert check({}) == []


# --- PIDs and files ------------------------------------------------------------------------------

THREADS = sum(p.threads for p in node_state.PROCESSES)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(THREADS * 2, None), (int(THREADS / 0.71), M), (int(THREADS / 0.86), H), (THREADS, C), (THREADS - 5, C)],
)
def test_threads_against_the_tighter_task_limit(limit: int, expected: Severity | None) -> None:
    arts = healthy({"sysctls/sysctl_all.txt": sysctl(kernel_pid_max="4194304", **{"kernel_threads-max": str(limit)})})
    hits = check_pid_limit(arts)
    if expected is None:
        assert hits == []
        return
    [hit] = hits
    assert hit.severity == expected
    assert hit.file == "system/ps-threads.txt"
    assert hit.detail["limit_key"] == "kernel.threads-max" and hit.detail["used"] == THREADS
    assert "kernel.threads-max" in hit.reason and "/usr/bin/kubelet" in hit.reason
    assert hit.evidence[0].text.split()[1] == "3456"


def test_without_a_thread_listing_processes_are_a_lower_bound() -> None:
    arts = healthy({"sysctls/sysctl_all.txt": sysctl(kernel_pid_max="18")})
    del arts["system/ps-threads.txt"]
    del arts["system/allprocstat.txt"]
    [hit] = check_pid_limit(arts)
    assert hit.detail["measure"] == "processes" and hit.detail["used"] == len(node_state.PROCESSES)
    assert "lower bound" in hit.reason and hit.severity == M
    assert hit.file == "sysctls/sysctl_all.txt" and hit.evidence[0].text == "kernel.pid_max = 18"


@pytest.mark.parametrize(
    ("file_nr", "expected"),
    [("2080\t0\t9223372036854775807", None), ("6999\t0\t10000", None), ("7000\t0\t10000", M), ("9600\t0\t10000", C)],
)
def test_open_files_against_fs_file_max(file_nr: str, expected: Severity | None) -> None:
    hits = check_file_limit(healthy({"sysctls/sysctl_all.txt": sysctl(**{"fs_file-nr": file_nr})}))
    assert [h.severity for h in hits] == ([expected] if expected else [])
    if hits:
        assert hits[0].evidence[0].text.startswith("fs.file-nr = ") and "fs.file-max" in hits[0].reason


# --- zombies, environments, cron -----------------------------------------------------------------


def _zombies(count: int) -> str:
    parent = "1000        6990  0.3  0.4 812400 31200 ?        Ssl  18:04   0:01  \\_ /usr/local/bin/job-runner\n"
    rows = "".join(
        f"1000     {7000 + n:>7}  0.0  0.0      0     0 ?        Z    18:05   0:00      \\_ [w] <defunct>\n"
        for n in range(count)
    )
    return node_state.ps_txt() + parent + rows


@pytest.mark.parametrize(("count", "expected"), [(19, None), (20, M), (499, M), (500, H)])
def test_zombies_against_the_agents_bar(count: int, expected: Severity | None) -> None:
    hits = check_zombies(healthy({"system/ps.txt": _zombies(count)}))
    assert [h.severity for h in hits] == ([expected] if expected else [])
    if hits:
        assert hits[0].count == count and hits[0].detail["parents"][0]["pid"] == "6990"


@pytest.mark.parametrize(("count", "expected"), [(1000, None), (1001, L), (5000, M)])
def test_large_environments(count: int, expected: Severity | None) -> None:
    hits = check_large_environments(healthy({"system/large_environments.txt": f"PID\tCount\n2890\t{count}\n"}))
    assert [h.severity for h in hits] == ([expected] if expected else [])
    if hits:
        assert "/usr/bin/containerd" in hits[0].reason


def _cron(gaps: list[int], user: str = "root") -> str:
    minute = 0
    out = []
    for n, gap in enumerate([0, *gaps]):
        minute += gap
        out.append(
            f"Mar  6 {10 + minute // 3600:02d}:{minute // 60 % 60:02d}:{minute % 60:02d} "
            f"h CROND[{n}]: ({user}) CMD (job)"
        )
    return "\n".join(out) + "\n"


@pytest.mark.parametrize(
    ("gaps", "expected"),
    [([300, 300, 600], None), ([240, 300], L), ([60] * 30, L), ([0], M), ([30], M)],
)
def test_rapid_cron(gaps: list[int], expected: Severity | None) -> None:
    hits = check_rapid_cron(artifacts({"var_log/cron": _cron(gaps)}))
    assert [h.severity for h in hits] == ([expected] if expected else [])


# --- storage -------------------------------------------------------------------------------------


def _io(pid: int, comm: str, ticks: int, started_after_boot_s: int) -> dict[str, str]:
    proc = node_state.Proc(pid, 1, "root", comm, comm, started_after_boot_s=started_after_boot_s, blkio_ticks=ticks)
    return {
        "system/io_throttling.txt": node_state.io_throttling_txt().replace(
            "(centisconds)\n", f"(centisconds)\n{pid} ({comm}) {ticks}\n"
        ),
        "system/allprocstat.txt": node_state.allprocstat_txt() + proc.stat_line() + "\n",
    }


@pytest.mark.parametrize(
    ("ticks", "started", "expected"),
    [
        (999, 60, None),  # under the agent's 10 s bar
        (1000, 60, L),  # 10 s in 22 min: under 5 %
        (7000, 180, M),  # 70 s in 20 min: about 6 %
        (52000, 600, H),  # 520 s in 13 min
    ],
)
def test_io_delay_as_a_share_of_the_process_life(ticks: int, started: int, expected: Severity | None) -> None:
    hits = check_io_delays(healthy(_io(6120, "fio", ticks, started)))
    assert [h.severity for h in hits] == ([expected] if expected else [])
    if hits:
        assert "fio (PID 6120)" in hits[0].reason
        assert hits[0].evidence[0].text == f"6120 (fio) {ticks}"


def test_io_delay_without_a_lifetime_is_low_and_says_so() -> None:
    arts = healthy(_io(25, "25", 2100, 60))
    del arts["system/top.txt"]
    [hit] = check_io_delays(arts)
    assert hit.severity == L and "does not show" in hit.reason


def test_io_delay_of_a_shifted_row_is_not_trusted() -> None:
    text = "PID Name Block IO Delay (centisconds)\n4410 (VM 90000\n"
    assert check_io_delays(artifacts({"system/io_throttling.txt": text})) == []


def test_fragmented_xfs_is_medium_with_sparse_inodes_and_high_without() -> None:
    sparse = node_state.xfs_txt(fragmented=True)
    [hit] = check_xfs_free_space(artifacts({"storage/xfs.txt": sparse}))
    assert hit.severity == M and "/dev/nvme0n1p1" in hit.reason and "1.52343" in hit.reason
    assert hit.evidence[0].text == "average free extent size 1.52343"
    dense = sparse.replace("sparse=1", "sparse=0")
    [hit] = check_xfs_free_space(artifacts({"storage/xfs.txt": dense}))
    assert hit.severity == H and "1% of the free blocks" in hit.reason


def test_a_bare_small_average_fires_at_the_agents_bar() -> None:
    assert check_xfs_free_space(artifacts({"storage/xfs.txt": "average free extent size 16\n"})) == []
    [hit] = check_xfs_free_space(artifacts({"storage/xfs.txt": "average free extent size 0\n"}))
    assert hit.severity == H


@pytest.mark.parametrize(("used", "expected"), [("300.0", None), ("400.0", L), ("2000.0", M), ("3600.0", H)])
def test_zram_usage(used: str, expected: Severity | None) -> None:
    top = node_state.top_txt().replace(
        "MiB Swap:      0.0 total,      0.0 free,      0.0 used.",
        f"MiB Swap:   3891.2 total,      0.0 free,   {used} used.",
    )
    arts = healthy(
        {
            "storage/lsblk.txt": node_state.LSBLK + "zram0         252:0    0  3.8G  0 disk [SWAP]\n",
            "system/top.txt": top,
        }
    )
    assert [h.severity for h in check_zram_usage(arts)] == ([expected] if expected else [])


def test_zram_is_not_judged_when_other_swap_shares_the_total() -> None:
    top = node_state.top_txt().replace(
        "MiB Swap:      0.0 total,      0.0 free,      0.0 used.",
        "MiB Swap:   8000.0 total,      0.0 free,   7000.0 used.",
    )
    arts = healthy(
        {
            "storage/lsblk.txt": node_state.LSBLK + "zram0         252:0    0  3.8G  0 disk [SWAP]\n",
            "system/top.txt": top,
        }
    )
    assert check_zram_usage(arts) == []


def _lines(text: str) -> Iterator[tuple[int, str]]:
    return enumerate(text.splitlines(), 1)
