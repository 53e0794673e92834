"""Line rules, one module per domain (kernel, storage, network, kubelet, runtime, cni, ...).

A line rule is a catalogue row with an RE2 ``pattern`` matched against every line of the files its
globs select (``files.py``). Artifact rules, which read parsed artifacts, live beside their checks
in ``eksdiag.engine.checks``. ``eksdiag.engine.rules`` assembles both into the one catalogue.
Adding a rule is adding a row to the module of its domain, and its tests.
"""

from __future__ import annotations

from eksdiag.engine.catalogue import (
    accelerators,
    cni,
    kernel,
    kubelet,
    network,
    network_addons,
    noise,
    process,
    runtime,
    services,
    storage,
    volumes,
)
from eksdiag.engine.model import Rule

LINE_RULES: tuple[Rule, ...] = (
    # Known-benign noise first: a line claimed by a noise rule counts for no other rule.
    *noise.RULES,
    *kernel.RULES,
    *process.RULES,
    *accelerators.RULES,
    *storage.RULES,
    *network.RULES,
    *network_addons.RULES,
    *kubelet.RULES,
    *runtime.RULES,
    *services.RULES,
    *volumes.RULES,
    *cni.RULES,
)
