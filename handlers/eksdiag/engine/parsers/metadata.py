"""``system/instance-id.txt``, ``system/region.txt``, ``system/availability-zone.txt`` (IMDS values)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from eksdiag.engine.parsers.base import Line

_INSTANCE_ID = re.compile(r"i-(?:[0-9a-f]{8}|[0-9a-f]{17})")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
_AZ = re.compile(r"(?P<region>[a-z]{2}(?:-[a-z]+)+-\d{1,2})(?:[a-z]|(?:-[a-z0-9]+)+)")
_RAW_LIMIT = 200


def _first_value(lines: Iterable[Line]) -> tuple[str | None, int | None, int]:
    """The first non-blank line (stripped), its number, and how many non-blank lines there were."""
    value: str | None = None
    line: int | None = None
    non_blank = 0
    for number, text in lines:
        stripped = text.strip()
        if not stripped:
            continue
        non_blank += 1
        if value is None:
            value, line = stripped, number
    return value, line, non_blank


def _parse_value(kind: str, pattern: re.Pattern[str], lines: Iterable[Line]) -> dict[str, Any]:
    value, line, non_blank = _first_value(lines)
    match = pattern.fullmatch(value) if value is not None and non_blank == 1 else None
    out: dict[str, Any] = {
        "kind": kind,
        "value": value if match is not None else None,
        "valid": match is not None,
        "raw": value[:_RAW_LIMIT] if value is not None else None,
        "line": line,
    }
    if kind == "availability-zone":
        out["region"] = match.group("region") if match is not None else None
    return out


def parse_instance_id(lines: Iterable[Line]) -> dict[str, Any]:
    """``{"kind": "instance-id", "value": "i-…" | None, "valid", "raw", "line"}``.

    ``value`` is set only when the file holds exactly one value shaped ``i-`` + 8 or 17 hex digits
    (an IMDS error page or cloud-init's ``iid-datasource-none`` give ``valid: false``).
    """
    return _parse_value("instance-id", _INSTANCE_ID, lines)


def parse_region(lines: Iterable[Line]) -> dict[str, Any]:
    """``{"kind": "region", "value": "us-west-2" | None, "valid", "raw", "line"}``."""
    return _parse_value("region", _REGION, lines)


def parse_availability_zone(lines: Iterable[Line]) -> dict[str, Any]:
    """``{"kind": "availability-zone", "value", "valid", "raw", "line", "region"}``.

    Accepts ``us-west-2b`` and Local/Wavelength Zone names (``us-west-2-lax-1a``); ``region`` is the
    region part.
    """
    return _parse_value("availability-zone", _AZ, lines)
