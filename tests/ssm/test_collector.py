"""collect-node-diagnostics.sh on this machine: layout, missing tools, the upstream collector, limits.

These run the collector in the current namespace with IMDS disabled: it only reads local state.
The real-kernel incident proof is in test_netns_proof.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ssm.tar_members import member_names, member_text

SCRIPT = Path(__file__).resolve().parents[2] / "ssm" / "scripts" / "collect-node-diagnostics.sh"
ESSENTIALS = (
    "sh", "mkdir", "mktemp", "rm", "cp", "cat", "tail", "head", "date", "df", "awk", "du", "tar", "gzip",
    "id", "dirname", "basename", "find", "grep", "sleep", "wc", "tr", "cut",
)  # fmt: skip


def _collect(outdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "EKSDIAG_SKIP_IMDS": "1",
        "EKSDIAG_SKIP_ELC": "1",
        "EKSDIAG_MIN_FREE_MB": "10",
        "EKSDIAG_CMD_TIMEOUT": "20",
    }
    return subprocess.run(
        ["sh", str(SCRIPT), str(outdir)], env=base | env, capture_output=True, text=True, timeout=300, check=False
    )


def test_prints_the_archive_path_last_and_leaves_only_the_archive(tmp_path: Path) -> None:
    proc = _collect(tmp_path, EKSDIAG_INSTANCE_ID="i-0123456789abcdef0")
    assert proc.returncode == 0, proc.stderr
    archive = Path(proc.stdout.strip().splitlines()[-1])
    assert archive.parent == tmp_path
    assert archive.name.startswith("eks_i-0123456789abcdef0_") and archive.name.endswith("_eksdiag-0.1.0.tar.gz")
    assert sorted(p.name for p in tmp_path.iterdir()) == [archive.name]
    names = member_names(archive)
    assert names[0] in (".", "./") and all(n.startswith("./") for n in names[1:])
    for directory in ("kernel", "networking", "system", "sysctls", "storage", "var_log", "ipamd", "cni"):
        assert f"./{directory}" in names
    assert member_text(archive, "./system/instance-id.txt") == "i-0123456789abcdef0\n"


def test_unknown_instance_id_gives_the_upstream_name_shape(tmp_path: Path) -> None:
    proc = _collect(tmp_path)
    assert Path(proc.stdout.strip().splitlines()[-1]).name.startswith("eks__")


def test_every_missing_tool_is_tolerated_and_noted(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ESSENTIALS:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    out = tmp_path / "out"
    out.mkdir()
    proc = _collect(out, EKSDIAG_PATH=str(bin_dir), PATH=str(bin_dir))
    assert proc.returncode == 0, proc.stderr
    archive = Path(proc.stdout.strip().splitlines()[-1])
    notes = member_text(archive, "./system/eksdiag-collector.txt")
    for tool in ("iptables", "iptables-save", "ip", "conntrack", "ss", "sysctl", "dmesg"):
        assert f"missing: {tool} " in notes, tool
    assert "./networking/resolv.conf" in member_names(archive) or not Path("/etc/resolv.conf").exists()


def test_refuses_to_start_without_enough_free_disk(tmp_path: Path) -> None:
    proc = _collect(tmp_path, EKSDIAG_MIN_FREE_MB="999999999")
    assert proc.returncode == 1
    assert "MB free" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_usage_error_without_outdir() -> None:
    proc = subprocess.run(["sh", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and "usage" in proc.stderr


def test_file_size_cap_is_applied(tmp_path: Path) -> None:
    proc = _collect(tmp_path, EKSDIAG_MAX_FILE_MB="0")
    archive = Path(proc.stdout.strip().splitlines()[-1])
    assert member_text(archive, "./sysctls/sysctl_all.txt") == ""


FAKE_ELC = """#!/bin/bash
# Stand-in for eks-log-collector.sh: same packing, a few of its files, and its stray cwd file.
set -e
COLLECT_DIR=$(mktemp -d)
mkdir -p "$COLLECT_DIR/var_log" "$COLLECT_DIR/networking" "$COLLECT_DIR/system"
echo "Mar  6 18:00:01 ip-10-0-0-10 kernel: hello" > "$COLLECT_DIR/var_log/messages"
printf 'Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)\\n pkts bytes target\\n 12K 1M DROP\\n' \\
  > "$COLLECT_DIR/networking/iptables-filter.txt"
echo "ignore_introspection: false" > "$COLLECT_DIR/system/script-params.txt"
echo "IPtables not installed" > iptables.txt
tar --create --gzip --file "@LOGDIR@/eks_i-0123456789abcdef0_2026-01-01_0000-UTC_0.7.9.tar.gz" \\
  --directory="$COLLECT_DIR" .
rm -rf "$COLLECT_DIR"
echo "Done... your bundled logs are located in @LOGDIR@/eks_i-0123456789abcdef0_2026-01-01_0000-UTC_0.7.9.tar.gz"
"""


def test_upstream_collector_bundle_is_merged_and_its_archive_removed(tmp_path: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("bash not installed")
    logdir = tmp_path / "var-log"
    logdir.mkdir()
    elc = tmp_path / "eks-log-collector.sh"
    elc.write_text(FAKE_ELC.replace("@LOGDIR@", str(logdir)))
    out = tmp_path / "out"
    out.mkdir()
    cwd_before = set(Path.cwd().iterdir())
    proc = _collect(out, EKSDIAG_SKIP_ELC="", EKSDIAG_ELC=str(elc), EKSDIAG_ELC_LOGDIR=str(logdir))
    assert proc.returncode == 0, proc.stderr
    archive = Path(proc.stdout.strip().splitlines()[-1])
    names = member_names(archive)
    assert "./var_log/messages" in names and "./system/script-params.txt" in names
    notes = member_text(archive, "./system/eksdiag-collector.txt")
    assert "eks-log-collector: merged eks_i-0123456789abcdef0_2026-01-01_0000-UTC_0.7.9.tar.gz (exit 0)" in notes
    assert list(logdir.iterdir()) == []
    assert set(Path.cwd().iterdir()) == cwd_before
    if shutil.which("iptables"):
        assert "12K" not in member_text(archive, "./networking/iptables-filter.txt"), "exact counters replace K/M"


def test_spent_time_budget_skips_commands_but_still_packs_the_bundle(tmp_path: Path) -> None:
    proc = _collect(tmp_path, EKSDIAG_TOTAL_SECONDS="0")
    assert proc.returncode == 0, proc.stderr
    archive = Path(proc.stdout.strip().splitlines()[-1])
    notes = member_text(archive, "./system/eksdiag-collector.txt")
    assert "time-budget-seconds: 0" in notes
    if shutil.which("iptables-save"):
        assert "time budget spent: skipped iptables-save -c" in notes
    assert member_text(archive, "./networking/iptables-save-counters.txt") == "" or not shutil.which("iptables-save")
