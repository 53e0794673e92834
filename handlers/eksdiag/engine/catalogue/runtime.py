"""Container runtime (containerd and runc): sandboxes, image pulls, snapshots, OCI runtime failures."""

from __future__ import annotations

from eksdiag.engine.catalogue.files import CONTAINERD_LOGS, RUNTIME_LOGS, H, L, M
from eksdiag.engine.model import Remedy, Rule, Scale

EXEC_FAILED = r"executable file not found in \$PATH|exec format error"
"""runc could not exec the container's entrypoint: the image or the pod spec is wrong, not the node."""

RULES: tuple[Rule, ...] = (
    Rule(
        "runtime.sandbox-create-failed",
        H,
        "runtime",
        "Pod sandbox creation failed",
        RUNTIME_LOGS,
        pattern=r"Failed to create pod sandbox|RunPodSandbox for [^\n]* failed|CreatePodSandbox for pod",
        scale=Scale(lone_lowers=True),
        remedy=Remedy.NODE,
    ),
    Rule(
        "runtime.image-pull-failed",
        H,
        "runtime",
        "Image pull failed",
        RUNTIME_LOGS,
        pattern=r"PullImage [^\n]* failed|Failed to pull image|failed to pull and unpack image",
        scale=Scale(lone_lowers=True),
        remedy=Remedy.EXTERNAL,
    ),
    Rule(
        "runtime.image-pull-throttled",
        H,
        "runtime",
        "Image pulls throttled by the registry",
        RUNTIME_LOGS,
        pattern=r"429 Too Many Requests|toomanyrequests|TooManyRequestsException|pull QPS exceeded",
        remedy=Remedy.EXTERNAL,
    ),
    Rule(
        "runtime.snapshot-error",
        H,
        "runtime",
        "containerd snapshotter error",
        RUNTIME_LOGS,
        pattern=r"failed to prepare extraction snapshot|failed to create snapshot|failed to commit snapshot"
        r"|failed to mount rootfs component|snapshot [^\n]* already exists",
        remedy=Remedy.NODE,
    ),
    Rule(
        "runtime.oci.create-failed",
        M,
        "runtime",
        "The OCI runtime (runc) failed to create or start a container",
        RUNTIME_LOGS,
        pattern=r"OCI runtime (?:create|start|exec) failed",
        guards=(EXEC_FAILED,),
        scale=Scale(ceiling=H, burst_per_hour=20, lone_lowers=True),
        remedy=Remedy.NODE,
        nma=("ContainerRuntimeFailed",),
    ),
    Rule(
        "runtime.container.exec-failed",
        M,
        "workload",
        "A container's entrypoint cannot be executed (missing binary or wrong architecture)",
        RUNTIME_LOGS,
        pattern=r"OCI runtime (?:create|start|exec) failed[^\n]*(?:" + EXEC_FAILED + ")",
        scale=Scale(lone_lowers=True),
        remedy=Remedy.WORKLOAD,
    ),
    Rule(
        "runtime.etc-hosts-mount-failed",
        M,
        "storage",
        "The pod's kubelet-managed /etc/hosts could not be mounted into the container",
        RUNTIME_LOGS,
        pattern=r"error mounting [^\n]*etc-hosts[^\n]* to rootfs at [^\n]*/etc/hosts",
        scale=Scale(ceiling=H, burst_per_hour=6),
        remedy=Remedy.NODE,
        nma=("EtcHostsMountFailed",),
    ),
    Rule(
        "runtime.containerd.deprecation-logged",
        L,
        "runtime",
        "containerd warned at start that its configuration uses deprecated settings",
        CONTAINERD_LOGS,
        pattern=r'level=warn(?:ing)? msg="[^"\n]*(?:is deprecated, please use|deprecated since containerd)',
        remedy=Remedy.CONFIGURATION,
        nma=("DeprecatedContainerdConfiguration",),
    ),
)
