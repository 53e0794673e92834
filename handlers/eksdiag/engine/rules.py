"""The rule catalogue: one table used by every entry point (CLI, Lambda tools, local server).

Line rules are matched against the raw bytes of every line of the files their globs select;
artifact rules (``eksdiag.engine.checks``) run over parsed artifacts. Patterns are RE2 syntax:
linear-time, so a hostile log line cannot make the indexer slow. Adding a rule is adding a row here
and a test in tests/engine/test_rules.py.
"""

from __future__ import annotations

from functools import cache

from eksdiag.engine.checks import ARTIFACT_RULES
from eksdiag.engine.model import Rule, Severity

KERNEL_LOGS = ("kernel/dmesg*", "var_log/messages*", "var_log/syslog*")
KUBELET_LOGS = ("kubelet/kubelet.log*", "var_log/messages*", "var_log/syslog*")
CONTAINERD_LOGS = ("containerd/containerd-log.txt*", "var_log/messages*", "var_log/syslog*")
RUNTIME_LOGS = KUBELET_LOGS + CONTAINERD_LOGS[:1]
IPAMD_LOGS = ("var_log/aws-routed-eni/ipamd*",)
CNI_LOGS = (*IPAMD_LOGS, "var_log/aws-routed-eni/plugin*", *RUNTIME_LOGS, "var_log/*aws-node*")
ALL_LOGS = (*KERNEL_LOGS, *RUNTIME_LOGS, *CNI_LOGS, "var_log/**", "nodeadm/*.log", "sandbox-image/*")

C, H, M, L, INFO = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO

LINE_RULES: tuple[Rule, ...] = (
    # Known-benign noise first: a line claimed by a noise rule counts for no other rule.
    Rule(
        "noise.kubelet.cadvisor-partial-failure",
        L,
        "noise",
        "cadvisor partial failure (benign on healthy nodes)",
        KUBELET_LOGS,
        pattern=r"Partial failure issuing cadvisor\.ContainerInfoV2",
    ),
    Rule(
        "noise.containerd.container-status-not-found",
        L,
        "noise",
        "ContainerStatus NotFound after container removal (benign)",
        RUNTIME_LOGS,
        pattern=r"ContainerStatus[^\n]*code = NotFound",
    ),
    Rule(
        "noise.ipamd.introspection-request",
        INFO,
        "noise",
        "ipamd introspection request (caused by the log collector)",
        IPAMD_LOGS,
        pattern=r"Handling http request: GET, from: 127\.0\.0\.1",
    ),
    Rule(
        "noise.containerd.stack-dump",
        INFO,
        "noise",
        "containerd goroutine stack dump (caused by the log collector)",
        CONTAINERD_LOGS,
        pattern=r"goroutine stack dump written to|=== BEGIN goroutine stack dump ===|"
        r"=== END goroutine stack dump ===",
    ),
    # Kernel
    Rule(
        "kernel.oom.cgroup",
        H,
        "memory",
        "Container killed by the cgroup OOM killer",
        KERNEL_LOGS,
        pattern=r"Memory cgroup out of memory: Kill(?:ed)? process",
    ),
    Rule(
        "kernel.oom.global",
        C,
        "memory",
        "Node-wide out of memory: kernel killed a process",
        KERNEL_LOGS,
        pattern=r"\] Out of memory: Kill(?:ed)? process|kernel: Out of memory: Kill(?:ed)? process",
    ),
    Rule(
        "kernel.soft-lockup",
        H,
        "kernel",
        "Kernel soft lockup",
        KERNEL_LOGS,
        pattern=r"BUG: soft lockup - CPU#|watchdog: BUG: soft lockup",
    ),
    Rule(
        "kernel.hung-task",
        H,
        "kernel",
        "Kernel hung task (blocked for more than N seconds)",
        KERNEL_LOGS,
        pattern=r"INFO: task \S+ blocked for more than \d+ seconds",
    ),
    Rule(
        "kernel.panic",
        C,
        "kernel",
        "Kernel panic, BUG or oops",
        KERNEL_LOGS,
        pattern=r"Kernel panic - not syncing|kernel BUG at |Oops: [0-9a-f]{4} \[",
    ),
    Rule(
        "kernel.fs-error",
        H,
        "storage",
        "Filesystem or block I/O error",
        KERNEL_LOGS,
        pattern=r"EXT4-fs error|XFS \([^)]+\): (?:Corruption|metadata I/O error|Filesystem has been shut down)"
        r"|blk_update_request: I/O error|I/O error, dev \S+, sector|Buffer I/O error on dev",
    ),
    Rule(
        "network.conntrack.table-full",
        C,
        "conntrack",
        "Conntrack table full: the kernel drops packets",
        KERNEL_LOGS,
        pattern=r"nf_conntrack: (?:nf_conntrack: )?table full, dropping packet",
    ),
    # Kubelet and node lifecycle
    Rule(
        "kubelet.pleg-unhealthy",
        H,
        "kubelet",
        "Kubelet PLEG is not healthy",
        KUBELET_LOGS,
        pattern=r"PLEG is not healthy",
    ),
    Rule(
        "kubelet.node-status-update-failed",
        H,
        "node-lifecycle",
        "Kubelet cannot update the node status",
        KUBELET_LOGS,
        pattern=r"Error updating node status|Unable to update node status|update node status exceeds retry count",
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
    ),
    Rule(
        "kubelet.registration-failed",
        C,
        "node-lifecycle",
        "Node registration with the API server failed",
        KUBELET_LOGS,
        pattern=r"Unable to register node|Error registering node|[Ff]ailed to register node",
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
    ),
    Rule(
        "kubelet.eviction.memory",
        H,
        "memory",
        "Kubelet evicting pods under memory pressure",
        KUBELET_LOGS,
        pattern=r"attempting to reclaim\\?\" resourceName=\\?\"memory|low on resource: memory",
    ),
    Rule(
        "kubelet.eviction.disk",
        H,
        "storage",
        "Kubelet evicting pods under disk pressure",
        KUBELET_LOGS,
        pattern=r"attempting to reclaim\\?\" resourceName=\\?\"(?:ephemeral-storage|nodefs|imagefs)"
        r"|low on resource: ephemeral-storage",
    ),
    Rule(
        "kubelet.eviction.pid",
        H,
        "memory",
        "Kubelet evicting pods under PID pressure",
        KUBELET_LOGS,
        pattern=r"attempting to reclaim\\?\" resourceName=\\?\"pids|low on resource: pids",
    ),
    Rule(
        "kubelet.crashloop", M, "kubelet", "Containers in CrashLoopBackOff", KUBELET_LOGS, pattern=r"CrashLoopBackOff"
    ),
    Rule(
        "kubelet.cni-not-ready",
        M,
        "cni",
        "Container runtime network not ready (CNI not initialised)",
        KUBELET_LOGS,
        pattern=r"Container runtime network not ready|cni plugin not initialized",
    ),
    # Container runtime
    Rule(
        "runtime.sandbox-create-failed",
        H,
        "runtime",
        "Pod sandbox creation failed",
        RUNTIME_LOGS,
        pattern=r"Failed to create pod sandbox|RunPodSandbox for [^\n]* failed|CreatePodSandbox for pod",
    ),
    Rule(
        "runtime.image-pull-failed",
        H,
        "runtime",
        "Image pull failed",
        RUNTIME_LOGS,
        pattern=r"PullImage [^\n]* failed|Failed to pull image|failed to pull and unpack image",
    ),
    Rule(
        "runtime.image-pull-throttled",
        H,
        "runtime",
        "Image pulls throttled by the registry",
        RUNTIME_LOGS,
        pattern=r"429 Too Many Requests|toomanyrequests|TooManyRequestsException|pull QPS exceeded",
    ),
    Rule(
        "runtime.snapshot-error",
        H,
        "runtime",
        "containerd snapshotter error",
        RUNTIME_LOGS,
        pattern=r"failed to prepare extraction snapshot|failed to create snapshot|failed to commit snapshot"
        r"|failed to mount rootfs component|snapshot [^\n]* already exists",
    ),
    Rule("runtime.no-space", C, "storage", "No space left on device", ALL_LOGS, pattern=r"no space left on device"),
    # CNI and VPC CNI
    Rule(
        "cni.plugin-failed",
        H,
        "cni",
        "CNI plugin failed to set up pod networking",
        CNI_LOGS,
        pattern=r"failed to setup network for sandbox|failed to set up sandbox container [^\n]* network"
        r"|networkPlugin cni failed|plugin type=\\?\"aws-cni\\?\"[^\n]* failed",
    ),
    Rule(
        "vpc-cni.address-exhaustion",
        H,
        "vpc-cni",
        "VPC CNI has no free IP addresses for pods",
        CNI_LOGS,
        pattern=r"DataStore has no available IP/Prefix addresses|failed to assign an IP address to container"
        r"|InsufficientFreeAddressesInSubnet|InsufficientCidrBlocks",
    ),
    Rule(
        "vpc-cni.eni-attach-failed",
        H,
        "vpc-cni",
        "VPC CNI failed to attach or allocate an ENI",
        IPAMD_LOGS,
        pattern=r"[Ff]ailed to attach ENI|AttachmentLimitExceeded|[Ff]ailed to allocate (?:an? )?ENI"
        r"|[Ff]ailed to increase pool|UnauthorizedOperation",
    ),
    Rule(
        "vpc-cni.ipamd-reconcile-error",
        M,
        "vpc-cni",
        "ipamd reconcile errors",
        IPAMD_LOGS,
        pattern=r"\"level\":\"error\"[^\n]*[Rr]econcil",
    ),
    Rule(
        "vpc-cni.ipamd-error", M, "vpc-cni", "ipamd error-level log lines", IPAMD_LOGS, pattern=r"\"level\":\"error\""
    ),
)

CATALOGUE: tuple[Rule, ...] = LINE_RULES + ARTIFACT_RULES


@cache
def _by_id() -> dict[str, Rule]:
    rules = {rule.id: rule for rule in CATALOGUE}
    if len(rules) != len(CATALOGUE):
        raise ValueError("duplicate rule id in the catalogue")
    return rules


def rule_by_id(rule_id: str) -> Rule:
    """The catalogue row for ``rule_id``; KeyError if there is none."""
    return _by_id()[rule_id]


def rule_ids() -> frozenset[str]:
    return frozenset(_by_id())
