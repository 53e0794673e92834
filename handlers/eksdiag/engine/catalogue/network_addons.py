"""The node's network add-ons as their own logs tell: kube-proxy, ipamd (aws-node) and the VPC CNI's
network policy agent.

Where their logs are (research/bundle.md 2.13): ipamd and the policy agent write zap JSON under
``var_log/aws-routed-eni/`` (``ipamd.log``, ``network-policy-agent.log``, ``ebpf-sdk.log`` and
lumberjack's ``.gz`` rotations); their containers' stdout and kube-proxy's klog output are CRI pod
logs, copied as ``var_log/kube-system_<pod>_<uid>/<container>/<N>.log`` (kubelet rotations
``N.log.<time>[.gz]`` too) and as flat ``var_log/<pod>_kube-system_<container>-<id>.log`` files.
"""

from __future__ import annotations

from eksdiag.engine.catalogue.files import INFO, IPAMD_LOGS, C, H, M
from eksdiag.engine.model import Remedy, Rule, Scale

KUBE_PROXY_LOGS = (
    "var_log/kube-system_kube-proxy-*",
    "var_log/kube-proxy-*_kube-system_kube-proxy-*",
    "var_log/kube-proxy.log*",
)
AWS_NODE_POD_LOGS = ("var_log/kube-system_aws-node-*", "var_log/aws-node-*_kube-system_*")
IPAMD_AND_AWS_NODE = (*IPAMD_LOGS, *AWS_NODE_POD_LOGS)
NPA_LOGS = (
    "var_log/aws-routed-eni/network-policy-agent*",
    "var_log/aws-routed-eni/ebpf-sdk*",
    "var_log/kube-system_aws-node-*/aws-eks-nodeagent/*",
    "var_log/aws-node-*_kube-system_aws-eks-nodeagent-*",
)

RULES: tuple[Rule, ...] = (
    Rule(
        "network.kube-proxy.sync-failed",
        H,
        "network",
        "kube-proxy cannot apply its iptables rules (iptables-restore fails)",
        KUBE_PROXY_LOGS,
        pattern=r"\"Failed to execute iptables-restore\"|Failed to execute iptables-restore:"
        r"|\"Failed to sync (?:iptables|ipvs|nftables) rules\"|\"Failed to ensure (?:that )?(?:filter|nat) chain",
        scale=Scale(ceiling=C, burst_per_hour=30, lone_lowers=True),
        remedy=Remedy.NODE,
        nma=("KubeProxyNotReady",),
        description="Service changes stop reaching the node's rules: new Services and endpoints are not "
        "programmed, removed pods keep receiving traffic. A burst in the last hour is CRITICAL.",
    ),
    Rule(
        "network.kube-proxy.watch-failed",
        H,
        "network",
        "kube-proxy cannot watch or list Services, EndpointSlices or Nodes",
        KUBE_PROXY_LOGS,
        pattern=r"Failed to watch [^\n]*: failed to list [^\n]*: the server could not find the requested resource"
        r"|[Ff]ailed to (?:watch|list) \*v1\.(?:Service|EndpointSlice|Node)[^\n]*"
        r"(?:i/o timeout|connection refused|no route to host|Unauthorized|forbidden)",
        scale=Scale(burst_per_hour=30, ceiling=C, lone_lowers=True),
        remedy=Remedy.NODE,
        nma=("KubeProxyNotReady",),
        description="kube-proxy does not see Service changes: a version skew (resource not found) or no path "
        "to the API server.",
    ),
    Rule(
        "network.kube-proxy.node-ip-unknown",
        M,
        "network",
        "kube-proxy could not determine the node's IP",
        KUBE_PROXY_LOGS,
        pattern=r"Can't determine this node's IP, assuming|Failed to retrieve node info",
        remedy=Remedy.NODE,
        nma=("KubeProxyNotReady",),
    ),
    Rule(
        "vpc-cni.ipamd-apiserver-unreachable",
        H,
        "vpc-cni",
        "ipamd cannot reach the API server",
        IPAMD_AND_AWS_NODE,
        pattern=r"Unable to reach API Server|Failed to check API server connectivity",
        scale=Scale(ceiling=C, burst_per_hour=60, lone_lowers=True),
        remedy=Remedy.NODE,
        nma=("IPAMDNotReady",),
        description="ipamd waits for the API server before it serves pod addresses (its service-account token, "
        "a DROP rule or routes to the API endpoint): pods stay in ContainerCreating.",
    ),
    Rule(
        "vpc-cni.ipamd-not-ready",
        H,
        "vpc-cni",
        "aws-node gave up waiting for ipamd, or ipamd stopped",
        AWS_NODE_POD_LOGS,
        pattern=r"Timed out waiting for IPAM daemon to start|Failed to wait for IPAM daemon to complete"
        r"|IPAMD stopped hence exiting",
        scale=Scale(ceiling=C, burst_per_hour=6),
        remedy=Remedy.NODE,
        nma=("IPAMDNotReady", "IPAMDNotRunning"),
    ),
    Rule(
        "vpc-cni.ipamd-restarted",
        M,
        "vpc-cni",
        "ipamd started, repeatedly from 5 starts in one log",
        IPAMD_LOGS,
        pattern=r"Starting L-IPAMD",
        scale=Scale(ceiling=H, burst_per_hour=5, min_count=5, floor=INFO),
        remedy=Remedy.NODE,
        nma=("IPAMDRepeatedlyRestart",),
        description="One start per boot is normal (INFO); five or more in one log is a crash loop (MEDIUM, HIGH "
        "in a burst).",
    ),
    Rule(
        "vpc-cni.npa-bpf-recovery-failed",
        M,
        "vpc-cni",
        "Network policy agent failed to recover its BPF state or maps",
        NPA_LOGS,
        pattern=r"Failed to recover the BPF state|BPF State Recovery failed|failed to recover global maps"
        r"|got err for (?:cluster policy )?(?:ingress|egress) in-mem map",
        scale=Scale(ceiling=H, burst_per_hour=20, min_count=2),
        # one error ranks LOW: the agent rebuilds its maps on its next reconcile
        remedy=Remedy.NODE,
        nma=("NPABPFRecoveryError",),
        description="After a restart the agent could not rebuild its eBPF maps: policies may not be enforced "
        "until its next reconcile (usually self-healing).",
    ),
    Rule(
        "vpc-cni.npa-failed-to-start",
        H,
        "vpc-cni",
        "Network policy agent failed to start",
        NPA_LOGS,
        pattern=r"unable to create controller manager|problem running manager|unable to build REST config"
        r"|Failed to set up gRPC Handler|unable to load policy endpoint controller config"
        r"|unable to set up (?:bpf-maps|bpf-fs|grpc-socket) readiness check",
        scale=Scale(lone_lowers=True),
        remedy=Remedy.NODE,
        nma=("NPANotRunning",),
    ),
    Rule(
        "vpc-cni.npa-restarted",
        M,
        "vpc-cni",
        "Network policy agent started, repeatedly from 5 starts in one log",
        NPA_LOGS,
        pattern=r"Starting network policy agent",
        scale=Scale(ceiling=H, burst_per_hour=5, min_count=5, floor=INFO),
        remedy=Remedy.NODE,
        nma=("NPARepeatedlyRestart",),
    ),
)
