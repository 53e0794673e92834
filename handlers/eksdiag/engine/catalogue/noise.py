"""Known-benign noise: a line claimed by a noise rule counts for no other rule (they are matched first)."""

from __future__ import annotations

from eksdiag.engine.catalogue.files import CONTAINERD_LOGS, INFO, IPAMD_LOGS, KUBELET_LOGS, RUNTIME_LOGS, L
from eksdiag.engine.model import Remedy, Rule

RULES: tuple[Rule, ...] = (
    Rule(
        "noise.kubelet.cadvisor-partial-failure",
        L,
        "noise",
        "cadvisor partial failure (benign on healthy nodes)",
        KUBELET_LOGS,
        pattern=r"Partial failure issuing cadvisor\.ContainerInfoV2",
        remedy=Remedy.NONE,
    ),
    Rule(
        "noise.containerd.container-status-not-found",
        L,
        "noise",
        "ContainerStatus NotFound after container removal (benign)",
        RUNTIME_LOGS,
        pattern=r"ContainerStatus[^\n]*code = NotFound",
        remedy=Remedy.NONE,
    ),
    Rule(
        "noise.ipamd.introspection-request",
        INFO,
        "noise",
        "ipamd introspection request (caused by the log collector)",
        IPAMD_LOGS,
        pattern=r"Handling http request: GET, from: 127\.0\.0\.1",
        remedy=Remedy.NONE,
    ),
    Rule(
        "noise.containerd.stack-dump",
        INFO,
        "noise",
        "containerd goroutine stack dump (caused by the log collector)",
        CONTAINERD_LOGS,
        pattern=r"goroutine stack dump written to|=== BEGIN goroutine stack dump ===|"
        r"=== END goroutine stack dump ===",
        remedy=Remedy.NONE,
    ),
)
