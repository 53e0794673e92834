"""Real-format lines for the kernel, process, storage and accelerator line rules.

Formats: dmesg raw (``[ seconds.micro] msg``, with and without the printk caller id), ``dmesg --ctime``
(``[Thu Mar  6 18:21:40 2025] msg``), rsyslog on AL2 (``Mar  6 18:21:40 host kernel: msg``), journal
``short`` with klog or logrus payloads, systemctl list-units. Values are invented; the message texts
follow the kernel's, NVIDIA's and Go's format strings.
"""

from __future__ import annotations

HOST = "ip-192-168-45-12.us-west-2.compute.internal"
AL2 = "Mar  6 18:10:31 ip-10-0-12-7"
J = f"Mar 06 18:10:31 {HOST}"

KERNEL_POSITIVE: list[tuple[str, str, str]] = [
    # lockups, stalls, hung tasks
    (
        "kernel/dmesg.current",
        "[ 5120.337201] watchdog: BUG: soft lockup - CPU#7 stuck for 26s! [java:9921]",
        "kernel.soft-lockup",
    ),
    (
        "var_log/messages",
        f"{AL2} kernel: watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [kworker/1:2:344]",
        "kernel.soft-lockup",
    ),
    ("kernel/dmesg.current", "[ 3001.1] NMI watchdog: Watchdog detected hard LOCKUP on cpu 5", "kernel.soft-lockup"),
    ("kernel/dmesg.current", "[ 3002.2] rcu: INFO: rcu_preempt self-detected stall on CPU", "kernel.rcu-stall"),
    (
        "kernel/dmesg.human.current",
        "[Thu Mar  6 18:05:02 2025] INFO: rcu_sched detected stalls on CPUs/tasks:",
        "kernel.rcu-stall",
    ),
    (
        "kernel/dmesg.current",
        "[ 9120.4] INFO: task jbd2/nvme1n1-8:812 blocked for more than 122 seconds.",
        "kernel.hung-task",
    ),
    (
        "kernel/dmesg.human.current",
        "[Thu Mar  6 18:07:44 2025] INFO: task VM Periodic Tas:4410 blocked for more than 245 seconds.",
        "kernel.hung-task",
    ),
    ("kernel/dmesg.current", "[ 77.0] task fio:2231 blocked for more than 30s", "kernel.hung-task"),
    # BUGs and oopses
    (
        "kernel/dmesg.current",
        "[88213.551002] BUG: kernel NULL pointer dereference, address: 0000000000000010",
        "kernel.bug",
    ),
    (
        "kernel/dmesg.human.current",
        "[Thu Mar  6 17:12:09 2025] BUG: unable to handle page fault for address: ffffa0d0c2a8e000",
        "kernel.bug",
    ),
    ("kernel/dmesg.current", "[  412.3][ T2231] BUG: scheduling while atomic: swapper/3/0/0x00000002", "kernel.bug"),
    ("var_log/messages", f"{AL2} kernel: BUG: Bad page state in process containerd  pfn:1a2b3c", "kernel.bug"),
    ("kernel/dmesg.current", "[ 9912.2] kernel BUG at mm/slub.c:305!", "kernel.bug"),
    ("kernel/dmesg.current", "[ 9912.3] Oops: 0002 [#1] SMP NOPTI", "kernel.bug"),
    (
        "kernel/dmesg.human.current",
        "[Mon Jan 1 12:34:56 2024] BUG: Bad rss-counter state mm:00000000c1d2e3f4",
        "kernel.bug",
    ),
    (
        "var_log/messages",
        f"{AL2} kernel: [ 9912.5] BUG: unable to handle kernel paging request at ffffffffc0a1b2c3",
        "kernel.bug",
    ),
    (
        "kernel/dmesg.current",
        "[ 9912.4] general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] SMP PTI",
        "kernel.bug",
    ),
    (
        "kernel/dmesg.current",
        "[ 9913.0] BUG: workqueue lockup - pool cpus=3 node=0 flags=0x0 nice=0 stuck for 41s!",
        "kernel.bug",
    ),
    # crashes and fork failures
    (
        "kernel/dmesg.current",
        "[ 2201.871200] node[33121]: segfault at 18 ip 0000563f1b2a4e10 sp "
        "00007ffd4c1b2f70 error 4 in node[563f1a400000+4d0c000]",
        "kernel.app-crash",
    ),
    (
        "kernel/dmesg.current",
        "[   54.100112][  T731] sh[731]: segfault at 0 ip 0000000000000000 sp "
        "00007ffc1d2e3f40 error 14 in busybox[400000+c2000]",
        "kernel.app-crash",
    ),
    (
        "var_log/messages",
        f"{AL2} kernel: traps: python3[4410] general protection fault ip:7f5e2c1d3a10 "
        "sp:7ffd2e1c2b40 error:0 in libc-2.26.so[7f5e2c0b2000+1c3000]",
        "kernel.app-crash",
    ),
    (
        "kernel/dmesg.current",
        "[ 310.0] traps: envoy[8120] trap invalid opcode ip:55d1c2a3b4c5 sp:7ffe1a2b3c4d "
        "error:0 in envoy[55d1c0000000+3a00000]",
        "kernel.app-crash",
    ),
    (
        "kernel/dmesg.current",
        "[ 410.2] ruby[2210]: unhandled exception: DABT (lower EL), ESR "
        "0x0000000092000006, level 2 translation fault in "
        "libruby.so.3.2[ffff8a210000+3c0000]",
        "kernel.app-crash",
    ),
    (
        "kernel/dmesg.current",
        "[ 411.3] a.out[4213]: unhandled level 2 translation fault (11) at 0x00000000, esr 0x92000006",
        "kernel.app-crash",
    ),
    (
        "kubelet/kubelet.log",
        f'{J} kubelet[3456]: E0306 18:10:31.5 3456 prober.go:104] "Probe errored" err="fork/exec '
        '/usr/local/bin/healthcheck: resource temporarily unavailable" probeType="Liveness"',
        "kernel.fork-failed",
    ),
    (
        "kubelet/kubelet.log",
        f"{J} kubelet[3456]: runtime: failed to create new OS thread (have 2411 already; errno=11)",
        "kernel.fork-failed",
    ),
    (
        "containerd/containerd-log.txt",
        f'{J} containerd[2890]: time="2025-03-06T18:10:31.1Z" level=error msg="StartContainer failed" '
        'error="failed to create shim task: OCI runtime create failed: runc create failed: unable to start '
        'container process: runtime/cgo: pthread_create failed: Resource temporarily unavailable"',
        "kernel.fork-failed",
    ),
    ("var_log/messages", f"{AL2} bash[9921]: fork: retry: Resource temporarily unavailable", "kernel.fork-failed"),
    (
        "kernel/dmesg.current",
        "[ 7210.2] cgroup: fork rejected by pids controller in "
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3f1c.slice",
        "kernel.pids-cgroup-limit",
    ),
    # storage
    (
        "kernel/dmesg.current",
        "[8812331.053217] end_request: I/O error, dev xvdf, sector 8392704",
        "storage.block-io-error",
    ),
    (
        "kernel/dmesg.current",
        "[ 1612.2] blk_update_request: I/O error, dev nvme2n1, sector 4718592 op "
        "0x1:(WRITE) flags 0x800 phys_seg 1 prio class 0",
        "storage.block-io-error",
    ),
    (
        "kernel/dmesg.human.current",
        "[Thu Mar  6 18:12:40 2025] I/O error, dev nvme1n1, sector 209715200 op "
        "0x0:(READ) flags 0x80700 phys_seg 4 prio class 2",
        "storage.block-io-error",
    ),
    (
        "kernel/dmesg.current",
        "[ 1612.3] Buffer I/O error on dev nvme1n1, logical block 26214400, async page read",
        "storage.block-io-error",
    ),
    (
        "var_log/messages",
        f"{AL2} kernel: Buffer I/O error on device dm-1, logical block 3211",
        "storage.block-io-error",
    ),
    (
        "kernel/dmesg.current",
        "[ 1612.1] blk_update_request: critical medium error, dev sdb, sector 1024",
        "storage.block-io-error",
    ),
    ("kernel/dmesg.current", "[ 1501.9] nvme nvme1: I/O 412 QID 3 timeout, aborting", "storage.nvme-timeout"),
    ("kernel/dmesg.current", "[ 1531.9] nvme nvme1: I/O 7 QID 0 timeout, reset controller", "storage.nvme-timeout"),
    ("kernel/dmesg.current", "[ 1611.0] XFS (nvme1n1): log I/O error -5", "kernel.fs-error"),
    (
        "var_log/messages",
        f"{AL2} systemd-journald[512]: Failed to open system journal: No space left on device",
        "runtime.no-space",
    ),
    # NVIDIA
    (
        "kernel/dmesg.current",
        "[ 6610.2] NVRM: Xid (PCI:0000:10:1c): 48, pid='<unknown>', name=<unknown>, An "
        "uncorrectable double bit error (DBE) has been detected on GPU in the "
        "framebuffer at partition 0, subpartition 0.",
        "accelerator.nvidia.xid-dbe",
    ),
    (
        "kernel/dmesg.human.current",
        "[Thu Mar  6 18:02:11 2025] NVRM: Xid (PCI:0000:a0:1c): 63, pid=20111, "
        "name=python, Row Remapper: New row (0x0000000000a12b00) Marked for Remapping, "
        "reset gpu to activate.",
        "accelerator.nvidia.xid-row-remap",
    ),
    (
        "kernel/dmesg.current",
        "[ 6611.0] NVRM: Xid (PCI:0000:a0:1c): 64, pid=0, name=, Row Remapper Error: remapping failed",
        "accelerator.nvidia.xid-row-remap",
    ),
    (
        "kernel/dmesg.current",
        "[ 6700.1] NVRM: Xid (PCI:0000:53:00): 74, pid=4410, name=pt_main_thread, "
        "NVLink: fatal error detected on link 3",
        "accelerator.nvidia.xid-nvlink",
    ),
    (
        "kernel/dmesg.current",
        "[ 6801.9] NVRM: Xid (PCI:0000:00:1e): 79, pid=0, name=, GPU has fallen off the bus.",
        "accelerator.nvidia.xid-fatal",
    ),
    (
        "var_log/messages",
        f"{AL2} kernel: NVRM: Xid (PCI:0000:90:1d): 119, pid=2210, name=nvidia-smi, "
        "Timeout after 6s of waiting for RPC response from GPU1 GSP!",
        "accelerator.nvidia.xid-fatal",
    ),
    (
        "gpu/nvidia-bug-report.log.gz",
        f"{J} kernel: NVRM: Xid (PCI:0000:10:1c): 95, pid=4410, name=python3, Uncontained: FBHUB. RST: Yes, D-RST: No",
        "accelerator.nvidia.xid-fatal",
    ),
    (
        "kernel/dmesg.current",
        "[ 5521.0] NVRM: Xid (PCI:0000:10:1c): 31, pid=18821, name=python3, Ch 00000008, "
        "intr 00000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_0 faulted @ "
        "0x7f2a_00000000.",
        "accelerator.nvidia.xid",
    ),
    (
        "kernel/dmesg.current",
        "[ 5522.0] NVRM: Xid (PCI:0000:10:1c): 13, pid=18821, name=python3, Graphics SM "
        "Warp Exception on (GPC 0, TPC 1, SM 0): Out Of Range Address",
        "accelerator.nvidia.xid",
    ),
    (
        "kernel/dmesg.human.current",
        "[Thu Oct 10 03:06:53 2024] pt_main_thread[2536443]: segfault at 7f797fe00000 ip "
        "00007f7c7ac69996 sp 00007f7c12fd7c30 error 4 in "
        "libnccl.so.2[7f7c7ac00000+d3d3000]",
        "accelerator.nvidia.nccl-segfault",
    ),
    (
        "kernel/dmesg.current",
        "[   31.2] NVRM: GPU 0000:10:1c.0: RmInitAdapter failed! (0x26:0x56:1474)",
        "accelerator.nvidia.gpu-init-failed",
    ),
    (
        "kernel/dmesg.current",
        "[   31.3] NVRM: GPU 0000:10:1c.0: rm_init_adapter failed, device minor number 3",
        "accelerator.nvidia.gpu-init-failed",
    ),
    (
        "kernel/dmesg.current",
        "[ 4410.1] nvidia 0000:3b:00.0: PCIe Bus Error: severity=Corrected, type=Physical Layer, (Receiver ID)",
        "accelerator.nvidia.pcie-error",
    ),
    (
        "system/services.txt",
        "● nvidia-fabricmanager.service                 loaded failed failed    NVIDIA fabric manager service",
        "accelerator.nvidia.fabric-manager-failed",
    ),
    # Neuron
    (
        "kernel/dmesg.current",
        "[ 8000.1] neuron: NEURON_HW_ERR=SRAM_UNCORRECTABLE_ERROR instance-id=i-0abc nd=3",
        "accelerator.neuron.sram-uncorrectable",
    ),
    (
        "var_log/messages",
        f"{AL2} kernel: NEURON_HW_ERR=NC_UNCORRECTABLE_ERROR device 2 core 1",
        "accelerator.neuron.nc-uncorrectable",
    ),
    (
        "kernel/dmesg.human.current",
        "[Thu Mar  6 18:01:00 2025] NEURON_HW_ERR=HBM_UNCORRECTABLE_ERROR nd=0 hbm=1",
        "accelerator.neuron.hbm-uncorrectable",
    ),
    ("kernel/dmesg.current", "[ 8000.4] NEURON_HW_ERR=DMA_ERROR nd=1 queue=12", "accelerator.neuron.dma-error"),
]

KERNEL_NEGATIVE: list[tuple[str, str]] = [
    # look alike, mean nothing wrong
    ("var_log/messages", f"{AL2} myapp[2231]: [scheduler] BUG: retry budget exhausted"),
    ("var_log/messages", f"{AL2} kubelet[3456]: I0306 18:10:31.5 3456 kubelet.go:1] BUG: none"),
    ("kernel/dmesg.current", "[    0.214003] rcu: Hierarchical RCU implementation."),
    ("kernel/dmesg.current", "[    0.612004] watchdog: Disabling watchdog on nohz_full cores by default"),
    ("kernel/dmesg.current", "[    1.100000] NMI watchdog: Enabled. Permanently consumes one hw-PMU counter."),
    ("kernel/dmesg.current", "[    3.771820] nvme nvme0: 2/0/0 default/read/poll queues"),
    ("kernel/dmesg.current", "[    4.019922] XFS (nvme0n1p1): Mounting V5 Filesystem"),
    (
        "kernel/dmesg.current",
        "[   10.3] NVRM: loading NVIDIA UNIX x86_64 Kernel Module  550.127.05  Tue Oct  8 03:22:07 UTC 2024",
    ),
    ("kernel/dmesg.current", "[   12.9] nvidia-fabricmanager: loading"),
    ("kernel/dmesg.current", "[   14.2] neuron: loading driver version 2.19.64.0"),
    ("kernel/dmesg.current", "[   15.0] hung_task: hung_task_timeout_secs set to 120"),
    (
        "system/services.txt",
        "  nvidia-fabricmanager.service                 loaded active running NVIDIA fabric manager service",
    ),
    (
        "kubelet/kubelet.log",
        f'{J} kubelet[3456]: I0306 18:10:31.5 3456 prober.go:107] "Probe succeeded" probeType="Liveness"',
    ),
]

SOFT_LOCKUP_RAW = "[  812.1] BUG: soft lockup - CPU#2 stuck for 22s! [stress-ng:5512]"
"""The old soft lockup format has "] BUG:" but is the lockup rule's, not a KernelBug."""
