"""One parser per bundle artifact, and the table that routes bundle paths to them.

A parser is a pure function ``parse(lines) -> dict``: it consumes an iterator of
``(line_number, text)`` pairs (1-based numbers, text decoded as UTF-8 with replacement, no
trailing newline) exactly once, keeps memory bounded (count, don't store, what can be large:
``conntrack -L`` entries), and returns a JSON-serialisable dict whose ``"kind"`` key names the
artifact kind. Line numbers of the interesting lines are kept so findings can cite them.
"""

from __future__ import annotations

import fnmatch

from eksdiag.engine.parsers.base import ArtifactSpec, Line, Parser
from eksdiag.engine.parsers.kernel import KERNEL_SPECS
from eksdiag.engine.parsers.network import NETWORK_SPECS
from eksdiag.engine.parsers.runtime import RUNTIME_SPECS
from eksdiag.engine.parsers.system import SYSTEM_SPECS

__all__ = ["ARTIFACT_SPECS", "ArtifactSpec", "Line", "Parser", "spec_for"]

ARTIFACT_SPECS: tuple[ArtifactSpec, ...] = NETWORK_SPECS + SYSTEM_SPECS + RUNTIME_SPECS + KERNEL_SPECS


def spec_for(path: str) -> ArtifactSpec | None:
    """The artifact spec whose globs match ``path``, if any (first match wins)."""
    for spec in ARTIFACT_SPECS:
        if any(fnmatch.fnmatchcase(path, pattern) for pattern in spec.paths):
            return spec
    return None
