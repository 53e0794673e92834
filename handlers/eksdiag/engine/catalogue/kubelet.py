"""Kubelet and node lifecycle: PLEG, node status, API-server reachability, registration, certificates,
evictions, crash loops."""

from __future__ import annotations

from eksdiag.engine.catalogue.files import KUBELET_LOGS, C, H, M
from eksdiag.engine.model import Remedy, Rule

RULES: tuple[Rule, ...] = (
    Rule(
        "kubelet.pleg-unhealthy",
        H,
        "kubelet",
        "Kubelet PLEG is not healthy",
        KUBELET_LOGS,
        pattern=r"PLEG is not healthy",
        remedy=Remedy.NODE,
    ),
    Rule(
        "kubelet.node-status-update-failed",
        H,
        "node-lifecycle",
        "Kubelet cannot update the node status",
        KUBELET_LOGS,
        pattern=r"Error updating node status|Unable to update node status|update node status exceeds retry count",
        remedy=Remedy.NODE,
    ),
    Rule(
        "kubelet.apiserver-timeout",
        H,
        "kubelet",
        "Kubelet cannot reach the API server (timeouts)",
        KUBELET_LOGS,
        pattern=r"dial tcp [0-9a-fA-F.:\[\]]+:443: (?:i/o timeout|connect: (?:connection refused|no route to host"
        r"|network is unreachable))|net/http: TLS handshake timeout"
        r"|Client\.Timeout exceeded while awaiting headers|http2: client connection lost",
        # the same network errors while pulling an image are a registry problem, not the API server
        guards=(r"[Pp]ull(?:Image| image|ing image)|failed to pull|\.dkr\.ecr\.|/v2/",),
        remedy=Remedy.EXTERNAL,
    ),
    Rule(
        "kubelet.registration-failed",
        C,
        "node-lifecycle",
        "Node registration with the API server failed",
        KUBELET_LOGS,
        pattern=r"Unable to register node|Error registering node|[Ff]ailed to register node",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        "kubelet.certificate-error",
        H,
        "certificates",
        "Certificate expired or not trusted (x509)",
        ("**",),
        pattern=r"x509: certificate has expired|x509: certificate signed by unknown authority"
        r"|x509: certificate is not valid|certificate has expired or is not yet valid"
        r"|tls: failed to verify certificate|Failed while requesting a signed certificate",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        "kubelet.eviction.memory",
        H,
        "memory",
        "Kubelet evicting pods under memory pressure",
        KUBELET_LOGS,
        pattern=r"attempting to reclaim\\?\" resourceName=\\?\"memory|low on resource: memory",
        remedy=Remedy.WORKLOAD,
    ),
    Rule(
        "kubelet.eviction.disk",
        H,
        "storage",
        "Kubelet evicting pods under disk pressure",
        KUBELET_LOGS,
        pattern=r"attempting to reclaim\\?\" resourceName=\\?\"(?:ephemeral-storage|nodefs|imagefs)"
        r"|low on resource: ephemeral-storage",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        "kubelet.eviction.pid",
        H,
        "memory",
        "Kubelet evicting pods under PID pressure",
        KUBELET_LOGS,
        pattern=r"attempting to reclaim\\?\" resourceName=\\?\"pids|low on resource: pids",
        remedy=Remedy.WORKLOAD,
    ),
    Rule(
        "kubelet.crashloop",
        M,
        "kubelet",
        "Containers in CrashLoopBackOff",
        KUBELET_LOGS,
        pattern=r"CrashLoopBackOff",
        remedy=Remedy.WORKLOAD,
    ),
    Rule(
        "kubelet.cni-not-ready",
        M,
        "cni",
        "Container runtime network not ready (CNI not initialised)",
        KUBELET_LOGS,
        pattern=r"Container runtime network not ready|cni plugin not initialized",
        remedy=Remedy.NODE,
    ),
)
