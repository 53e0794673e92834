"""Lambda entry point of the ``nodelog`` tool group: ``eksdiag.lambda_entry.nodelog.handler``."""

from __future__ import annotations

from eksdiag.lambda_entry._runtime import GroupHandler

handler = GroupHandler("nodelog")
