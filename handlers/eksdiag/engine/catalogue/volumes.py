"""Persistent volumes: kubelet failing to attach or mount them, and the CSI node plugins' own errors.

The collector copies the CSI node plugins' pod logs into ``var_log/`` (EBS, EFS, FSx, S3 mountpoint;
CRI format ``<RFC 3339> stdout|stderr F <klog line>``), and kubelet's journal repeats every CSI
failure with the plugin's gRPC status (``MountVolume.MountDevice failed for volume ... rpc error:
code = Internal desc = ...``).
"""

from __future__ import annotations

from eksdiag.engine.catalogue.files import KUBELET_LOGS, H, M
from eksdiag.engine.model import Remedy, Rule, Scale

CSI_LOGS = ("var_log/*csi*", "var_log/*mount-s3*", "var_log/*mount_s3*")
"""CSI node plugin pod logs, both copies the collector makes (the pod folder and the flat symlink target)."""

RULES: tuple[Rule, ...] = (
    Rule(
        "storage.volume.mount-failed",
        M,
        "storage",
        "kubelet cannot attach, mount or unmount a pod's volume",
        KUBELET_LOGS,
        pattern=r"MountVolume\.(?:MountDevice|SetUp|WaitForAttach|NewMounter initialization) failed for volume"
        r"|Unable to attach or mount volumes: unmounted volumes=|UnmountVolume\.TearDown failed for volume"
        r"|UnmountDevice failed for volume|not found in the list of registered CSI drivers",
        scale=Scale(ceiling=H, burst_per_hour=30, lone_lowers=True),
        remedy=Remedy.NODE,
    ),
    Rule(
        "storage.csi.driver-error",
        M,
        "storage",
        "A CSI node plugin answered kubelet with an error",
        CSI_LOGS,
        pattern=r" E[0-9]{4} [0-9:.]+ +[0-9]+ [^\n]*rpc error: code = (?:Internal|Aborted|DeadlineExceeded|Unavailable"
        r"|ResourceExhausted|FailedPrecondition)|[Mm]ount failed: exit status [1-9]|Mount failed with error",
        scale=Scale(ceiling=H, burst_per_hour=30, lone_lowers=True),
        remedy=Remedy.NODE,
    ),
)
