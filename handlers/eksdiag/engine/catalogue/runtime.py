"""Container runtime (containerd): sandboxes, image pulls, snapshots."""

from __future__ import annotations

from eksdiag.engine.catalogue.files import RUNTIME_LOGS, H
from eksdiag.engine.model import Remedy, Rule

RULES: tuple[Rule, ...] = (
    Rule(
        "runtime.sandbox-create-failed",
        H,
        "runtime",
        "Pod sandbox creation failed",
        RUNTIME_LOGS,
        pattern=r"Failed to create pod sandbox|RunPodSandbox for [^\n]* failed|CreatePodSandbox for pod",
        remedy=Remedy.NODE,
    ),
    Rule(
        "runtime.image-pull-failed",
        H,
        "runtime",
        "Image pull failed",
        RUNTIME_LOGS,
        pattern=r"PullImage [^\n]* failed|Failed to pull image|failed to pull and unpack image",
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
)
