"""Network events the kernel logs (conntrack). Artifact checks over iptables, routes, interfaces and
conntrack state live in ``eksdiag.engine.checks``."""

from __future__ import annotations

from eksdiag.engine.catalogue.files import KERNEL_LOGS, C, M
from eksdiag.engine.model import Remedy, Rule, Scale

RULES: tuple[Rule, ...] = (
    Rule(
        "network.conntrack.table-full",
        C,
        "conntrack",
        "Conntrack table full: the kernel drops packets",
        KERNEL_LOGS,
        pattern=r"nf_conntrack: (?:nf_conntrack: )?table full, dropping packet",
        scale=Scale(floor=M),
        remedy=Remedy.CONFIGURATION,
        nma=("ConntrackExceededKernel",),
    ),
)
