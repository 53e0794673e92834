"""Lambda entry point of the ``runbooks`` tool group: ``eksdiag.lambda_entry.runbooks.handler``."""

from __future__ import annotations

from eksdiag.lambda_entry._runtime import GroupHandler

handler = GroupHandler("runbooks")
