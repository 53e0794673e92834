"""Accelerators: NVIDIA GPU XID errors, NCCL crashes and driver failures; AWS Neuron hardware errors.

NVIDIA's driver reports GPU faults in the kernel log as ``NVRM: Xid (PCI:0000:10:1c): 79, pid=0,
name=, GPU has fallen off the bus.``. Which XIDs are fatal follows the EKS Node Monitoring Agent's
list (its ``WellKnownXidCodes``, from NVIDIA's XID catalogue: the GPU needs a reset or the node
replacing): 46 48 54 62 63 64 74 79 95 109 110 119 120 136 140 142 143 151 155 156 158. Every other
XID is a warning (13, 31, 43, 45: usually the application's own fault). GPU AMIs' bundles also hold
``gpu/nvidia-bug-report.log.gz``, which repeats the NVRM lines and the whole ``dmesg``; one event
there and in ``kernel/`` is one finding (``engine.copies``).

The Neuron driver reports uncorrectable hardware errors as ``NEURON_HW_ERR=<KIND>`` in the kernel log.
"""

from __future__ import annotations

from eksdiag.engine.catalogue.files import KERNEL_LOGS, C, H, L, M
from eksdiag.engine.model import Remedy, Rule, Scale

GPU_KERNEL_LOGS = (*KERNEL_LOGS, "gpu/nvidia-bug-report.log*")

FATAL_XIDS = (46, 48, 54, 62, 63, 64, 74, 79, 95, 109, 110, 119, 120, 136, 140, 142, 143, 151, 155, 156, 158)
"""XIDs the EKS Node Monitoring Agent turns into a node condition (NvidiaXIDError)."""


def xid(*codes: int) -> str:
    """RE2 for an NVRM XID line with one of ``codes``."""
    return r"NVRM: Xid \([^)\n]*\): (?:" + "|".join(str(c) for c in codes) + "),"


_HARDWARE = Scale(floor=H)
"""A fatal GPU or Neuron error leaves the device suspect until it is reset: never below HIGH."""
_NEURON = " Jobs on the device fail or compute wrong results; the node needs replacing. Never below HIGH."
_OTHER_FATAL = tuple(c for c in FATAL_XIDS if c not in (48, 63, 64, 74))

RULES: tuple[Rule, ...] = (
    Rule(
        "accelerator.nvidia.xid-dbe",
        C,
        "accelerator",
        "NVIDIA GPU double-bit ECC error (XID 48)",
        GPU_KERNEL_LOGS,
        pattern=xid(48),
        description=(
            "GPU memory returned an uncorrectable double-bit ECC error: the data in flight is lost and the "
            "GPU needs a reset (and a row remap, XID 63) before it can be trusted."
        ),
        scale=_HARDWARE,
        remedy=Remedy.NODE,
        nma=("NvidiaXIDError", "NvidiaDoubleBitError"),
    ),
    Rule(
        "accelerator.nvidia.xid-row-remap",
        C,
        "accelerator",
        "NVIDIA GPU memory row remapping or page retirement (XID 63/64)",
        GPU_KERNEL_LOGS,
        pattern=xid(63, 64),
        description=(
            "The GPU recorded a bad memory row for remapping or page retirement (63) or failed to (64). "
            "EC2 recommends replacing the instance: repeated remaps exhaust the spare rows."
        ),
        scale=_HARDWARE,
        remedy=Remedy.NODE,
        nma=("NvidiaXIDError", "NvidiaPageRetirement"),
    ),
    Rule(
        "accelerator.nvidia.xid-nvlink",
        C,
        "accelerator",
        "NVIDIA NVLink error (XID 74)",
        GPU_KERNEL_LOGS,
        pattern=xid(74),
        description="An NVLink between GPUs failed: multi-GPU collectives fail or fall back; reset or replace.",
        scale=_HARDWARE,
        remedy=Remedy.NODE,
        nma=("NvidiaXIDError", "NvidiaNVLinkError"),
    ),
    Rule(
        "accelerator.nvidia.xid-fatal",
        C,
        "accelerator",
        "NVIDIA GPU fatal XID error (GPU needs a reset or the node replacing)",
        GPU_KERNEL_LOGS,
        pattern=xid(*_OTHER_FATAL),
        description=(
            "A fatal GPU fault: fallen off the bus (79), stopped processing (46), micro-controller halt (62), "
            "uncontained memory error (95), GSP timeout or error (119, 120), and the others in the agent's "
            "list. The GPU cannot recover without a reset; on EKS that means replacing the node."
        ),
        scale=_HARDWARE,
        remedy=Remedy.NODE,
        nma=("NvidiaXIDError",),
    ),
    Rule(
        "accelerator.nvidia.xid",
        M,
        "accelerator",
        "NVIDIA GPU XID warning (non-fatal XID)",
        GPU_KERNEL_LOGS,
        pattern=r"NVRM: Xid \([^)\n]*\): \d+,",
        guards=(xid(*FATAL_XIDS),),
        description=(
            "A non-fatal XID: most often the application's own fault (13 graphics engine exception, 31 GPU "
            "memory page fault, 43 GPU stopped processing, 45 preemptive cleanup). One is LOW, repeated "
            "ones MEDIUM, a burst in the last hour HIGH."
        ),
        scale=Scale(ceiling=H, floor=L, lone_lowers=True, burst_per_hour=30),
        remedy=Remedy.WORKLOAD,
        nma=("NvidiaXIDWarning",),
    ),
    Rule(
        "accelerator.nvidia.nccl-segfault",
        M,
        "accelerator",
        "Process crashed inside NCCL (libnccl.so segfault)",
        GPU_KERNEL_LOGS,
        pattern=r"segfault at [^\n]* in libnccl\.so",
        description=(
            "A training or inference process died in the NVIDIA Collective Communications Library: a failed "
            "peer, NVLink or EFA path, or a library mismatch. MEDIUM; a burst in the last hour HIGH."
        ),
        scale=Scale(ceiling=H, floor=L, burst_per_hour=10),
        remedy=Remedy.WORKLOAD,
        nma=("NvidiaNCCLError", "AppCrash"),
    ),
    Rule(
        "accelerator.nvidia.gpu-init-failed",
        H,
        "accelerator",
        "NVIDIA driver failed to initialise a GPU",
        GPU_KERNEL_LOGS,
        pattern=r"NVRM: [^\n]*RmInitAdapter failed|NVRM: [^\n]*rm_init_adapter failed",
        description=(
            "The driver could not bring a GPU up: the node shows fewer GPUs than the instance type has, and "
            "pods requesting them stay Pending or fail. A hardware or driver fault; replace the node."
        ),
        scale=Scale(floor=M),
        remedy=Remedy.NODE,
        nma=("NvidiaDeviceCountMismatch",),
    ),
    Rule(
        "accelerator.nvidia.pcie-error",
        M,
        "accelerator",
        "PCIe bus errors on an NVIDIA GPU (AER)",
        GPU_KERNEL_LOGS,
        pattern=r"nvidia [0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]: PCIe Bus Error",
        description=(
            "The PCIe link to a GPU reported errors (corrected ones are link replays): a degrading link "
            "slows or, when uncorrected, loses the GPU. One report is LOW, a burst in the last hour HIGH."
        ),
        scale=Scale(ceiling=H, floor=L, lone_lowers=True, burst_per_hour=60),
        remedy=Remedy.NODE,
        nma=("NvidiaPCIeError",),
    ),
    Rule(
        "accelerator.nvidia.fabric-manager-failed",
        H,
        "accelerator",
        "NVIDIA Fabric Manager service failed",
        ("system/services.txt",),
        pattern=r"nvidia-fabricmanager\.service\s+\S+\s+failed\b",
        description=(
            "systemd lists nvidia-fabricmanager.service as failed. On NVSwitch instances (p4d, p5, p6) the "
            "GPUs cannot use NVLink without it: multi-GPU jobs fail or hang."
        ),
        remedy=Remedy.NODE,
        nma=("FabricManagerNotRunning",),
    ),
    Rule(
        "accelerator.neuron.sram-uncorrectable",
        C,
        "accelerator",
        "Neuron device on-chip SRAM uncorrectable error",
        KERNEL_LOGS,
        pattern=r"NEURON_HW_ERR=SRAM_UNCORRECTABLE_ERROR\b",
        description="On-chip SRAM on a Neuron device had a parity error and produced wrong results." + _NEURON,
        scale=_HARDWARE,
        remedy=Remedy.NODE,
        nma=("NeuronSRAMUncorrectableError",),
    ),
    Rule(
        "accelerator.neuron.nc-uncorrectable",
        C,
        "accelerator",
        "NeuronCore uncorrectable memory error",
        KERNEL_LOGS,
        pattern=r"NEURON_HW_ERR=NC_UNCORRECTABLE_ERROR\b",
        description="A NeuronCore hit an uncorrectable memory error." + _NEURON,
        scale=_HARDWARE,
        remedy=Remedy.NODE,
        nma=("NeuronNCUncorrectableError",),
    ),
    Rule(
        "accelerator.neuron.hbm-uncorrectable",
        C,
        "accelerator",
        "Neuron device HBM uncorrectable error",
        KERNEL_LOGS,
        pattern=r"NEURON_HW_ERR=HBM_UNCORRECTABLE_ERROR\b",
        description="High-bandwidth memory on a Neuron device had an uncorrectable error." + _NEURON,
        scale=_HARDWARE,
        remedy=Remedy.NODE,
        nma=("NeuronHBMUncorrectableError",),
    ),
    Rule(
        "accelerator.neuron.dma-error",
        C,
        "accelerator",
        "Neuron device DMA engine error",
        KERNEL_LOGS,
        pattern=r"NEURON_HW_ERR=DMA_ERROR\b",
        description="A DMA engine on a Neuron device hit an unrecoverable error." + _NEURON,
        scale=_HARDWARE,
        remedy=Remedy.NODE,
        nma=("NeuronDMAError",),
    ),
)
