"""get_sop: one runbook (SOP) by id: its front matter and whole markdown."""

from __future__ import annotations

from typing import Any

from eksdiag.tools.base import ToolContext, ToolError
from eksdiag.tools.runbooks._summary import runbook_summary

NAME = "get_sop"
GROUP = "runbooks"


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    from eksdiag.runbooks.library import get_runbook, list_runbooks

    runbook = get_runbook(args["id"])
    if runbook is None:
        known = sorted(str(rb["id"]) for rb in list_runbooks())
        raise ToolError(
            "NotFound",
            f"no runbook {args['id']!r}; list them with runbooks___list_sops",
            details={"knownIds": known[:100]},
        )
    return {
        "runbook": {
            **runbook_summary(runbook),
            "fallback": bool(runbook.get("fallback", False)),
            "markdown": str(runbook.get("body", "")),
        }
    }
