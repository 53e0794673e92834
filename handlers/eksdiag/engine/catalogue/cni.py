"""Pod networking: the CNI plugin and the VPC CNI's ipamd."""

from __future__ import annotations

from eksdiag.engine.catalogue.files import CNI_LOGS, IPAMD_LOGS, H, M
from eksdiag.engine.model import Remedy, Rule

RULES: tuple[Rule, ...] = (
    Rule(
        "cni.plugin-failed",
        H,
        "cni",
        "CNI plugin failed to set up pod networking",
        CNI_LOGS,
        pattern=r"failed to setup network for sandbox|failed to set up sandbox container [^\n]* network"
        r"|networkPlugin cni failed|plugin type=\\?\"aws-cni\\?\"[^\n]* failed",
        remedy=Remedy.NODE,
    ),
    Rule(
        "vpc-cni.address-exhaustion",
        H,
        "vpc-cni",
        "VPC CNI has no free IP addresses for pods",
        CNI_LOGS,
        pattern=r"DataStore has no available IP/Prefix addresses|failed to assign an IP address to container"
        r"|InsufficientFreeAddressesInSubnet|InsufficientCidrBlocks",
        remedy=Remedy.CONFIGURATION,
        nma=("IPAMDNoIPs",),
    ),
    Rule(
        "vpc-cni.eni-attach-failed",
        H,
        "vpc-cni",
        "VPC CNI failed to attach or allocate an ENI",
        IPAMD_LOGS,
        pattern=r"[Ff]ailed to attach ENI|AttachmentLimitExceeded|[Ff]ailed to allocate (?:an? )?ENI"
        r"|[Ff]ailed to increase pool|UnauthorizedOperation",
        remedy=Remedy.CONFIGURATION,
    ),
    Rule(
        "vpc-cni.ipamd-reconcile-error",
        M,
        "vpc-cni",
        "ipamd reconcile errors",
        IPAMD_LOGS,
        pattern=r"\"level\":\"error\"[^\n]*[Rr]econcil",
        remedy=Remedy.NODE,
    ),
    Rule(
        "vpc-cni.ipamd-error",
        M,
        "vpc-cni",
        "ipamd error-level log lines",
        IPAMD_LOGS,
        pattern=r"\"level\":\"error\"",
        remedy=Remedy.NODE,
    ),
)
