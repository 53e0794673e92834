"""Capture ids, S3 keys and argument checks shared by the capture tools.

Argument patterns come from :mod:`eksdiag.capture.parameters`, the module the SSM helper also writes
into ``packet-capture.yaml``'s ``allowedPattern`` fields: one source, so the tool refuses exactly what
the document would refuse, before anything reaches SSM (and SSM checks again).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from eksdiag.capture import parameters
from eksdiag.tools.base import ToolError

CAPTURE_ID_PATTERN = r"^cap-[0-9]{14}-[0-9a-f]{8}$"
_CAPTURE_ID = re.compile(CAPTURE_ID_PATTERN)
CAPTURE_RECORD = "capture"


def new_capture_id(now: datetime) -> str:
    return f"cap-{now.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"


def capture_id(value: Any) -> str:
    if not isinstance(value, str) or not _CAPTURE_ID.fullmatch(value):
        raise ToolError(
            "InvalidArgument",
            f"captureId must look like cap-20260101120000-1a2b3c4d, got {str(value)[:80]!r}",
        )
    return value


def capture_keys(instance_id: str, capture: str) -> tuple[str, str]:
    """``(pcap key, summary key)`` under ``captures/<instanceId>/<captureId>/`` (validated ids only)."""
    prefix = f"captures/{instance_id}/{capture}"
    return f"{prefix}/capture.pcap", f"{prefix}/summary.txt"


def check_document_value(name: str, pattern: str, value: str) -> str:
    """Refuse a value the packet-capture document's ``allowedPattern`` would refuse."""
    if not parameters.matches(pattern, value):
        raise ToolError("InvalidArgument", f"{name} {value[:80]!r} is not allowed (pattern {pattern})")
    return value


def check_filter(value: str) -> str:
    """A BPF expression from the document's token whitelist (see :data:`parameters.BPF_FILTER`)."""
    if len(value) > parameters.FILTER_MAX_CHARS:
        raise ToolError("InvalidArgument", f"filter is longer than {parameters.FILTER_MAX_CHARS} characters")
    if not parameters.matches(parameters.BPF_FILTER, value):
        raise ToolError(
            "InvalidArgument",
            f"filter {value[:80]!r} is not in the allowed BPF grammar: use protocol, host/net/port/portrange "
            "(with src/dst), and/or/not and parentheses, tokens separated by spaces, e.g. "
            "'tcp port 443 and host 10.0.1.5'; quotes, ;, $, `, |, &, <, > and line breaks are never allowed",
        )
    return value
