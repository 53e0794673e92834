"""Lambda entry point of the ``findings`` tool group: ``eksdiag.lambda_entry.findings.handler``."""

from __future__ import annotations

from eksdiag.lambda_entry._runtime import GroupHandler

handler = GroupHandler("findings")
