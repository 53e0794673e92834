"""Artifact rules: catalogue rows whose ``check`` runs over the parsed artifacts of a bundle."""

from __future__ import annotations

from eksdiag.engine.checks.accelerators import ACCELERATOR_RULES
from eksdiag.engine.checks.kernel import KERNEL_RULES
from eksdiag.engine.checks.network import NETWORK_RULES
from eksdiag.engine.checks.process import PROCESS_RULES
from eksdiag.engine.checks.runtime import RUNTIME_RULES
from eksdiag.engine.checks.storage import STORAGE_RULES
from eksdiag.engine.checks.system import SYSTEM_RULES
from eksdiag.engine.model import Rule

ARTIFACT_RULES: tuple[Rule, ...] = (
    NETWORK_RULES + SYSTEM_RULES + RUNTIME_RULES + KERNEL_RULES + PROCESS_RULES + STORAGE_RULES + ACCELERATOR_RULES
)
