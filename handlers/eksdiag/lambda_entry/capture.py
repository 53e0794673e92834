"""Lambda entry point of the ``capture`` tool group: ``eksdiag.lambda_entry.capture.handler``."""

from __future__ import annotations

from eksdiag.lambda_entry._runtime import GroupHandler

handler = GroupHandler("capture")
