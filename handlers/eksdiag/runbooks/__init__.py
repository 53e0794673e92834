"""Runbooks (SOPs) for EKS node findings: Markdown files shipped with the package, matched by rule id."""

from eksdiag.runbooks.library import (
    CATEGORIES,
    SECTIONS,
    SEVERITIES,
    Runbook,
    RunbookError,
    all_runbooks,
    get_runbook,
    list_runbooks,
    parse_runbook,
    runbooks_for_rules,
)

__all__ = [
    "CATEGORIES",
    "SECTIONS",
    "SEVERITIES",
    "Runbook",
    "RunbookError",
    "all_runbooks",
    "get_runbook",
    "list_runbooks",
    "parse_runbook",
    "runbooks_for_rules",
]
