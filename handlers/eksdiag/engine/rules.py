"""The rule catalogue: one table used by every entry point (CLI, Lambda tools, local server).

Line rules (``eksdiag.engine.catalogue``, one module per domain) are matched against the raw bytes
of every line of the files their globs select; artifact rules (``eksdiag.engine.checks``) run over
parsed artifacts. Patterns are RE2 syntax: linear-time, so a hostile log line cannot make the
indexer slow. Adding a rule is adding a row to its domain's module, and its tests.
"""

from __future__ import annotations

from functools import cache

from eksdiag.engine.catalogue import LINE_RULES
from eksdiag.engine.checks import ARTIFACT_RULES
from eksdiag.engine.model import Rule

CATALOGUE: tuple[Rule, ...] = LINE_RULES + ARTIFACT_RULES

__all__ = ["CATALOGUE", "LINE_RULES", "rule_by_id", "rule_ids"]


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
