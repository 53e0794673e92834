"""Each EKS Node Monitoring Agent issue of the Kernel, AcceleratedHardware and Storage categories that a
bundle can show: its evidence placed in the healthy seed bundle where eks-log-collector.sh puts it, in the
format the node writes, gives the rule tagged with the issue at a sensible severity.

The seed node booted at 17:58:12 UTC and was collected at 18:22 (tests/fixtures/node_state.py): raw dmesg
stamps around 1000-1400 s are minutes before the collection.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eksdiag.engine.indexer import BundleIndex, index_bundle
from eksdiag.engine.model import Severity
from eksdiag.engine.rules import rule_by_id

from tests.fixtures import node_state
from tests.fixtures.seed import HEALTHY_ID, HOST, bundle_name, node_files, sysctls, write_bundle

C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW
AL2 = "Mar  6 18:15:02 ip-10-0-12-7"
JOURNAL = f"Mar 06 18:16:40 {HOST}"


@dataclass
class Case:
    issue: str
    rule: str
    lowest: Severity
    highest: Severity
    append: dict[str, str] = field(default_factory=dict)
    replace: dict[str, str] = field(default_factory=dict)


def _sysctls_with(**values: str) -> str:
    text = sysctls(faulty=False)
    for key, value in values.items():
        lines = [line for line in text.splitlines() if not line.startswith(key.replace("_", ".", 1) + " ")]
        text = "\n".join(sorted([*lines, f"{key.replace('_', '.', 1)} = {value}"])) + "\n"
    return text


def _ps_with_zombies(count: int) -> str:
    rows = [
        f"1000     {7000 + n:>7}  0.0  0.0      0     0 ?        Z    18:05   0:00      \\_ [worker] <defunct>"
        for n in range(count)
    ]
    parent = (
        "1000        6990  0.3  0.4 812400 31200 ?        Ssl  18:04   0:01  \\_ /usr/local/bin/job-runner --workers 8"
    )
    return node_state.ps_txt() + parent + "\n" + "\n".join(rows) + "\n"


def _cron() -> str:
    lines = [
        f"Mar  6 {h:02d}:{m:02d}:01 ip-10-0-12-7 CROND[{20000 + i}]: (root) CMD (/usr/local/bin/sync-metrics.sh)"
        for i, (h, m) in enumerate((17, m) for m in range(40, 60))
    ]
    lines.append("Mar  6 18:01:01 ip-10-0-12-7 CROND[20100]: (root) CMD (run-parts /etc/cron.hourly)")
    lines.append("Mar  6 18:01:01 ip-10-0-12-7 run-parts(/etc/cron.hourly)[20101]: starting 0anacron")
    return "\n".join(lines) + "\n"


def _zram_top() -> str:
    top = node_state.top_txt()
    return top.replace(
        "MiB Swap:      0.0 total,      0.0 free,      0.0 used.   6584.9 avail Mem",
        "MiB Swap:   3900.0 total,   2700.0 free,   1200.0 used.   4211.0 avail Mem",
    )


def _io_delay_stat() -> str:
    proc = node_state.Proc(6120, 4312, "root", "fio", "fio --name=write", started_after_boot_s=600, blkio_ticks=52000)
    return node_state.allprocstat_txt() + proc.stat_line() + "\n"


CASES = [
    Case(
        "KernelBug",
        "kernel.bug",
        H,
        H,
        append={
            "kernel/dmesg.human.current": "[Thu Mar  6 18:12:01 2025] BUG: kernel NULL pointer dereference, "
            "address: 0000000000000008\n"
        },
    ),
    Case(
        "SoftLockup",
        "kernel.soft-lockup",
        M,
        H,
        append={
            "kernel/dmesg.current": "[ 1290.402112] watchdog: BUG: soft lockup - CPU#1 stuck for 27s! [java:9120]\n"
        },
    ),
    Case(
        "AppBlocked",
        "kernel.hung-task",
        M,
        H,
        append={
            "kernel/dmesg.current": "[ 1301.551001] INFO: task containerd:2890 blocked for more than 122 seconds.\n"
        },
    ),
    Case(
        "AppCrash",
        "kernel.app-crash",
        L,
        M,
        append={
            "kernel/dmesg.current": "[ 1302.1][ T6121] node[6121]: segfault at 0 ip 0000558e1c2a3b44 sp "
            "00007ffd9a1b2c30 error 4 in node[558e1b000000+4c00000]\n"
        },
    ),
    Case(
        "ForkFailedOutOfPIDs",
        "kernel.fork-failed",
        H,
        C,
        append={
            "kubelet/kubelet.log": f"{JOURNAL} kubelet[3456]: E0306 18:16:40.112233    3456 pod_workers.go:1301] "
            '"Error syncing pod, skipping" err="failed to \\"StartContainer\\" with RunContainerError: \\"fork/exec '
            '/usr/bin/runc: resource temporarily unavailable\\"" pod="default/web-5d8c7"\n'
        },
    ),
    Case(
        "ForkFailedOutOfPIDs",
        "kernel.fork-failed",
        H,
        C,
        append={
            "containerd/containerd-log.txt": f"{JOURNAL} containerd[2890]: runtime: failed to create new OS thread "
            "(have 31 already; errno=11)\n"
        },
    ),
    Case(
        "ConntrackExceededKernel",
        "network.conntrack.table-full",
        M,
        C,
        append={"kernel/dmesg.current": "[ 1310.2] nf_conntrack: nf_conntrack: table full, dropping packet\n"},
    ),
    Case(
        "ApproachingKernelPidMax",
        "process.pid-limit-near",
        M,
        M,
        replace={"sysctls/sysctl_all.txt": _sysctls_with(kernel_pid_max="90")},
    ),
    Case(
        "ApproachingMaxOpenFiles",
        "process.file-limit-near",
        M,
        M,
        replace={"sysctls/sysctl_all.txt": _sysctls_with(**{"fs_file-nr": "8000\t0\t10000", "fs_file-max": "10000"})},
    ),
    Case("ExcessiveZombieProcesses", "process.zombies", M, M, replace={"system/ps.txt": _ps_with_zombies(25)}),
    Case(
        "LargeEnvironment",
        "process.environment-large",
        L,
        L,
        replace={"system/large_environments.txt": "PID\tCount\n4431\t1204\n"},
    ),
    Case("RapidCron", "process.cron-rapid", L, L, replace={"var_log/cron": _cron()}),
    Case(
        "ZramHighUsage",
        "kernel.zram-usage-high",
        L,
        L,
        replace={
            "storage/lsblk.txt": node_state.LSBLK + "zram0         252:0    0  3.8G  0 disk [SWAP]\n",
            "system/top.txt": _zram_top(),
        },
    ),
    Case(
        "IODelays",
        "storage.io-delay",
        H,
        H,
        replace={
            "system/io_throttling.txt": node_state.io_throttling_txt().replace(
                "(centisconds)\n", "(centisconds)\n6120 (fio) 52000\n"
            ),
            "system/allprocstat.txt": _io_delay_stat(),
        },
    ),
    Case(
        "XFSSmallAverageClusterSize",
        "storage.xfs-free-space-fragmented",
        M,
        M,
        replace={"storage/xfs.txt": node_state.xfs_txt(fragmented=True)},
    ),
    Case(
        "BlockDeviceIOError",
        "storage.block-io-error",
        H,
        C,
        append={
            "kernel/dmesg.human.current": "[Thu Mar  6 18:14:40 2025] I/O error, dev nvme1n1, sector 20971520 op "
            "0x1:(WRITE) flags 0x8800 phys_seg 1 prio class 2\n"
        },
    ),
    Case(
        "NvidiaXIDError",
        "accelerator.nvidia.xid-fatal",
        C,
        C,
        append={
            "kernel/dmesg.human.current": "[Thu Mar  6 18:11:09 2025] NVRM: Xid (PCI:0000:00:1e): 79, pid=0, name=, "
            "GPU has fallen off the bus.\n"
        },
    ),
    Case(
        "NvidiaXIDWarning",
        "accelerator.nvidia.xid",
        L,
        M,
        append={
            "kernel/dmesg.current": "[ 1288.1] NVRM: Xid (PCI:0000:00:1e): 31, pid=6120, name=python3, Ch 00000008, "
            "intr 00000000. MMU Fault: ENGINE GRAPHICS faulted @ 0x7f2a_00000000.\n"
        },
    ),
    Case(
        "NvidiaDoubleBitError",
        "accelerator.nvidia.xid-dbe",
        C,
        C,
        append={
            "kernel/dmesg.current": "[ 1281.2] NVRM: Xid (PCI:0000:00:1e): 48, pid='<unknown>', name=<unknown>, An "
            "uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at partition 1.\n"
        },
    ),
    Case(
        "NvidiaNVLinkError",
        "accelerator.nvidia.xid-nvlink",
        C,
        C,
        append={"var_log/messages": f"{AL2} kernel: NVRM: Xid (PCI:0000:53:00): 74, pid=4410, name=pt_main, NVLink\n"},
    ),
    Case(
        "NvidiaPageRetirement",
        "accelerator.nvidia.xid-row-remap",
        C,
        C,
        append={
            "kernel/dmesg.current": "[ 1200.0] NVRM: Xid (PCI:0000:00:1e): 63, pid=0, name=, Row Remapper: New row "
            "marked for remapping, reset gpu to activate.\n"
        },
    ),
    Case(
        "NvidiaNCCLError",
        "accelerator.nvidia.nccl-segfault",
        M,
        M,
        append={
            "kernel/dmesg.human.current": "[Thu Mar  6 18:13:53 2025] pt_main_thread[6140]: segfault at 7f2b00000000 "
            "ip 00007f7c7ac69996 sp 00007f7c12fd7c30 error 4 in libnccl.so.2.21.5[7f7c7ac00000+d3d3000]\n"
        },
    ),
    Case(
        "NvidiaPCIeError",
        "accelerator.nvidia.pcie-error",
        L,
        M,
        append={
            "kernel/dmesg.current": "[ 1250.9] nvidia 0000:00:1e.0: PCIe Bus Error: severity=Corrected, "
            "type=Data Link Layer, (Transmitter ID)\n"
        },
    ),
    Case(
        "NvidiaDeviceCountMismatch",
        "accelerator.nvidia.gpu-init-failed",
        M,
        H,
        append={"kernel/dmesg.current": "[   21.7] NVRM: GPU 0000:00:1e.0: RmInitAdapter failed! (0x25:0x65:1457)\n"},
    ),
    Case(
        "FabricManagerNotRunning",
        "accelerator.nvidia.fabric-manager-failed",
        H,
        H,
        replace={
            "system/services.txt": "  UNIT                        LOAD   ACTIVE SUB     DESCRIPTION\n"
            "  kubelet.service             loaded active running Kubernetes Kubelet\n"
            "● nvidia-fabricmanager.service loaded failed failed  NVIDIA fabric manager service\n"
        },
    ),
    Case(
        "NvidiaThermalError",
        "accelerator.nvidia.thermal-slowdown",
        H,
        H,
        replace={"gpu/nvidia-bug-report.log": node_state.nvidia_bug_report(hw_thermal="Active")},
    ),
    Case(
        "NvidiaPowerError",
        "accelerator.nvidia.power-brake",
        H,
        H,
        replace={"gpu/nvidia-bug-report.log": node_state.nvidia_bug_report(power_brake="Active")},
    ),
    Case(
        "NvidiaFabricError",
        "accelerator.nvidia.fabric-unhealthy",
        C,
        C,
        replace={"gpu/nvidia-bug-report.log": node_state.nvidia_bug_report(fabric_status="Failure")},
    ),
    Case(
        "NvidiaDoubleBitError",
        "accelerator.nvidia.ecc-uncorrectable",
        C,
        C,
        replace={"gpu/nvidia-bug-report.log": node_state.nvidia_bug_report(dbe=4)},
    ),
    Case(
        "NvidiaPageRetirement",
        "accelerator.nvidia.memory-remap",
        H,
        H,
        replace={"gpu/nvidia-bug-report.log": node_state.nvidia_bug_report(remap_pending="Yes")},
    ),
    Case(
        "NvidiaPCIeError",
        "accelerator.nvidia.pcie-replays",
        M,
        M,
        replace={"gpu/nvidia-bug-report.log": node_state.nvidia_bug_report(replays=412)},
    ),
    Case(
        "NeuronSRAMUncorrectableError",
        "accelerator.neuron.sram-uncorrectable",
        H,
        C,
        append={"kernel/dmesg.current": "[ 1260.0] neuron: NEURON_HW_ERR=SRAM_UNCORRECTABLE_ERROR nd=0\n"},
    ),
    Case(
        "NeuronNCUncorrectableError",
        "accelerator.neuron.nc-uncorrectable",
        H,
        C,
        append={"var_log/messages": f"{AL2} kernel: NEURON_HW_ERR=NC_UNCORRECTABLE_ERROR nd=1 nc=0\n"},
    ),
    Case(
        "NeuronHBMUncorrectableError",
        "accelerator.neuron.hbm-uncorrectable",
        H,
        C,
        append={
            "kernel/dmesg.human.current": "[Thu Mar  6 18:17:00 2025] NEURON_HW_ERR=HBM_UNCORRECTABLE_ERROR nd=2\n"
        },
    ),
    Case(
        "NeuronDMAError",
        "accelerator.neuron.dma-error",
        H,
        C,
        append={"kernel/dmesg.current": "[ 1262.0] NEURON_HW_ERR=DMA_ERROR nd=3 eng=4\n"},
    ),
]


def _build(tmp_path: Path, case: Case) -> BundleIndex:
    files = node_files(faulty=False)
    for path, text in case.append.items():
        files[path] = files.get(path, "") + text
    files.update(case.replace)
    return index_bundle(write_bundle(files, tmp_path / bundle_name(HEALTHY_ID)))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.issue}:{c.rule}" for c in CASES])
def test_the_issue_yields_its_rule_at_a_sensible_severity(tmp_path: Path, case: Case) -> None:
    assert case.issue in rule_by_id(case.rule).nma
    idx = _build(tmp_path, case)
    found = [f for f in idx.findings if f.rule == case.rule]
    assert len(found) == 1, [(f.rule, f.file) for f in idx.findings]
    [finding] = found
    assert case.lowest.rank <= finding.severity.rank <= case.highest.rank, (finding.severity, finding.severity_reason)
    assert finding.severity_reason and finding.evidence


@pytest.mark.parametrize("case", CASES, ids=[f"{c.issue}:{c.rule}" for c in CASES])
def test_the_issue_adds_no_other_finding_above_medium(tmp_path: Path, case: Case) -> None:
    idx = _build(tmp_path, case)
    others = [f for f in idx.findings if f.rule != case.rule and f.severity.rank > Severity.MEDIUM.rank]
    assert others == [], [(f.rule, f.severity) for f in others]


def test_a_nccl_crash_is_one_finding_not_also_an_app_crash(tmp_path: Path) -> None:
    [case] = [c for c in CASES if c.issue == "NvidiaNCCLError"]
    rules = {f.rule for f in _build(tmp_path, case).findings}
    assert "accelerator.nvidia.nccl-segfault" in rules
    assert "kernel.app-crash" not in rules


def test_the_zombies_finding_names_the_parent_that_does_not_reap(tmp_path: Path) -> None:
    [case] = [c for c in CASES if c.issue == "ExcessiveZombieProcesses"]
    [finding] = [f for f in _build(tmp_path, case).findings if f.rule == "process.zombies"]
    assert finding.count == 25
    assert finding.detail["parents"][0] == {
        "pid": "6990",
        "command": "/usr/local/bin/job-runner --workers 8",
        "zombies": 25,
    }
    assert "job-runner" in finding.severity_reason


def test_xids_in_the_gpu_bug_report_and_dmesg_are_one_finding(tmp_path: Path) -> None:
    xid = "NVRM: Xid (PCI:0000:00:1e): 79, pid=0, name=, GPU has fallen off the bus."
    report = (
        "____________________________________________\n\nScanning kernel log files for NVIDIA kernel messages:\n\n"
        f"  journalctl -b -0:\nMar 06 18:17:09 {HOST} kernel: {xid}\n"
        "____________________________________________\n\ndmesg:\n\n"
        f"[    0.000000] Linux version 6.1.128-136.201.amzn2023.x86_64\n[ 1137.2] {xid}\n"
    )
    files = node_files(faulty=False)
    files["kernel/dmesg.current"] += f"[ 1137.2] {xid}\n"
    files["kernel/dmesg.human.current"] += f"[Thu Mar  6 18:17:09 2025] {xid}\n"
    bundle = tmp_path / "b"
    for path, text in files.items():
        (bundle / path).parent.mkdir(parents=True, exist_ok=True)
        (bundle / path).write_text(text)
    (bundle / "gpu").mkdir(exist_ok=True)
    (bundle / "gpu" / "nvidia-bug-report.log.gz").write_bytes(gzip.compress(report.encode()))
    idx = index_bundle(bundle, name=bundle_name(HEALTHY_ID))
    xids = [f for f in idx.findings if f.rule == "accelerator.nvidia.xid-fatal"]
    assert [(f.file, f.count) for f in xids] == [("kernel/dmesg.human.current", 1)]
    copies = {c["file"] for c in xids[0].detail["copies"]}
    assert copies == {"kernel/dmesg.human.current", "kernel/dmesg.current", "gpu/nvidia-bug-report.log.gz"}
    assert len([e for e in idx.events if e["rule"] == "accelerator.nvidia.xid-fatal"]) == 1
