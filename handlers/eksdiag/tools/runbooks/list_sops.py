"""list_sops: the runbooks (SOPs), optionally only those for a rule id or a category."""

from __future__ import annotations

from typing import Any

from eksdiag.tools.base import ToolContext
from eksdiag.tools.runbooks._summary import runbook_summary

NAME = "list_sops"
GROUP = "runbooks"


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    from eksdiag.runbooks.library import list_runbooks

    items = list_runbooks(rule=args.get("rule"), category=args.get("category"))
    runbooks = [runbook_summary(rb) for rb in items]
    return {
        "runbooks": runbooks,
        "count": len(runbooks),
        "filters": {"rule": args.get("rule"), "category": args.get("category")},
    }
