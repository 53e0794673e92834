"""Where line rules look (bundle-relative globs) and the severity shorthands the catalogue rows use.

Paths follow eks-log-collector.sh (research/bundle.md §2): kernel messages in ``kernel/dmesg*`` and,
on AL2, the rsyslog copy ``var_log/messages``; kubelet and containerd journals under ``kubelet/``
and ``containerd/``; the VPC CNI's own logs under ``var_log/aws-routed-eni/``.
"""

from __future__ import annotations

from eksdiag.engine.model import Severity

KERNEL_LOGS = ("kernel/dmesg*", "var_log/messages*", "var_log/syslog*")
KUBELET_LOGS = ("kubelet/kubelet.log*", "var_log/messages*", "var_log/syslog*")
CONTAINERD_LOGS = ("containerd/containerd-log.txt*", "var_log/messages*", "var_log/syslog*")
RUNTIME_LOGS = KUBELET_LOGS + CONTAINERD_LOGS[:1]
IPAMD_LOGS = ("var_log/aws-routed-eni/ipamd*",)
CNI_LOGS = (*IPAMD_LOGS, "var_log/aws-routed-eni/plugin*", *RUNTIME_LOGS, "var_log/*aws-node*")
SYSTEMD_JOURNALS = (
    "kubelet/kubelet.log*",
    "containerd/containerd-log.txt*",
    "containerd/soci-snapshotter/soci-snapshotter-log.txt*",
    "var_log/messages*",
    "var_log/syslog*",
    "nodeadm/*.log",
    "sandbox-image/sandbox-image-log.txt",
    "docker/docker.log",
    "networking/configure-multicard-interfaces.txt",
)
"""journalctl output (``-u <unit>`` includes systemd's own lines about the unit) and, on AL2, rsyslog."""
ALL_LOGS = (*KERNEL_LOGS, *RUNTIME_LOGS, *CNI_LOGS, "var_log/**", "nodeadm/*.log", "sandbox-image/*")

C, H, M, L, INFO = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO
