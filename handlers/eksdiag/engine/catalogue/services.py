"""systemd units: kubelet and containerd failing, any unit failing to start or restarting in a loop.

systemd writes these lines about a unit into that unit's journal, so ``journalctl -u kubelet``
(``kubelet/kubelet.log``) holds kubelet's failures, and AL2's ``var_log/messages`` every unit's.
Formats differ by systemd version: 219 (AL2) writes ``main process exited``, ``Unit X entered failed
state`` and ``X holdoff time over, scheduling restart``; 252 (AL2023) writes ``Main process exited``,
``X: Failed with result 'exit-code'`` and ``X: Scheduled restart job, restart counter is at N``.
"""

from __future__ import annotations

from eksdiag.engine.catalogue.files import CONTAINERD_LOGS, KUBELET_LOGS, SYSTEMD_JOURNALS, C, H, M
from eksdiag.engine.model import Remedy, Rule, Scale


def _unit_failed(unit: str, description: str) -> str:
    """A unit exiting with an error, ending in the failed state, or failing to start."""
    u = unit.replace(".", r"\.")
    return (
        rf"{u}: [Mm]ain process exited, code=(?:exited, status=[1-9]|killed, status=(?:6|9|11)/|dumped)"
        rf"|{u}: Failed with result|Unit {u} entered failed state|{u} failed\."
        rf"|Failed to start (?:{u}|{description})"
    )


KUBELET_FAILED = _unit_failed("kubelet.service", "Kubernetes Kubelet")
CONTAINERD_FAILED = _unit_failed("containerd.service", "containerd container runtime")

RULES: tuple[Rule, ...] = (
    Rule(
        "systemd.kubelet.failed",
        H,
        "kubelet",
        "kubelet exited with an error or failed under systemd",
        KUBELET_LOGS,
        pattern=KUBELET_FAILED,
        scale=Scale(ceiling=C, burst_per_hour=12, lone_lowers=True),
        remedy=Remedy.NODE,
        nma=("KubeletFailed",),
    ),
    Rule(
        "systemd.containerd.failed",
        H,
        "runtime",
        "containerd exited with an error or failed under systemd",
        CONTAINERD_LOGS,
        pattern=CONTAINERD_FAILED,
        scale=Scale(ceiling=C, burst_per_hour=12, lone_lowers=True),
        remedy=Remedy.NODE,
    ),
    Rule(
        "systemd.unit.failed",
        M,
        "node-lifecycle",
        "A systemd unit failed to start or ended in the failed state",
        SYSTEMD_JOURNALS,
        # rsyslog on AL2 writes systemd's lines as `systemd:` without a pid
        pattern=r"systemd(?:\[[0-9]+\])?: (?:Failed to start \S|\S+\.service: Failed with result"
        r"|Unit \S+ entered failed state)",
        guards=(KUBELET_FAILED, CONTAINERD_FAILED),
        scale=Scale(ceiling=H, burst_per_hour=12),
        remedy=Remedy.NODE,
        nma=("ServiceFailedToStart",),
    ),
    Rule(
        "systemd.unit.restarting",
        M,
        "node-lifecycle",
        "A systemd unit restarts in a loop",
        SYSTEMD_JOURNALS,
        pattern=r"\.service: Scheduled restart job, restart counter is at [0-9]"
        r"|\.service holdoff time over, scheduling restart",
        scale=Scale(ceiling=H, burst_per_hour=4, lone_lowers=True),
        remedy=Remedy.NODE,
        nma=("RepeatedRestart",),
    ),
)
