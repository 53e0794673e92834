"""Argument validators: every id is checked before it reaches an AWS API or a storage key.

Each validator returns the normalised value or raises ``ToolError("InvalidArgument", ...)`` with a
message that says what a good value looks like. The patterns are exported so the schema files can
use the very same expressions (tests/tools/test_framework.py checks they agree).
"""

from __future__ import annotations

import re
from typing import Any

from eksdiag.tools.base import Settings, ToolError

INSTANCE_ID_PATTERN = r"^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$"
#: A node a bundle can come from: an EC2 instance, or a hybrid node (an SSM managed instance, ``mi-``).
NODE_ID_PATTERN = r"^(?:i-[0-9a-f]{8}(?:[0-9a-f]{9})?|mi-[0-9a-f]{17})$"
BUNDLE_ID_PATTERN = r"^b-[0-9]{14}-[0-9a-f]{8}$"
EXECUTION_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
REGION_PATTERN = r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$"
FINDING_ID_PATTERN = r"^F-[0-9a-f]{16}$"
CLUSTER_NAME_PATTERN = r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$"

_INSTANCE_ID = re.compile(INSTANCE_ID_PATTERN)
_NODE_ID = re.compile(NODE_ID_PATTERN)
_BUNDLE_ID = re.compile(BUNDLE_ID_PATTERN)
_EXECUTION_ID = re.compile(EXECUTION_ID_PATTERN)
_REGION = re.compile(REGION_PATTERN)
_FINDING_ID = re.compile(FINDING_ID_PATTERN)
_CLUSTER_NAME = re.compile(CLUSTER_NAME_PATTERN)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check(value: Any, pattern: re.Pattern[str], what: str, example: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ToolError("InvalidArgument", f"{what} must look like {example}, got {_show(value)}")
    return value


def instance_id(value: Any) -> str:
    """An EC2 instance id: ``i-`` and 8 or 17 lowercase hex digits."""
    return _check(value, _INSTANCE_ID, "instanceId", "i-0123456789abcdef0")


def node_id(value: Any) -> str:
    """The node of a bundle: an EC2 instance id, or the ``mi-`` managed instance id of a hybrid node."""
    return _check(value, _NODE_ID, "instanceId", "i-0123456789abcdef0 (or mi-0123456789abcdef0 for a hybrid node)")


def bundle_id(value: Any) -> str:
    """A bundle id as issued by ``collect``: ``b-<yyyymmddHHMMSS>-<8 hex>``."""
    return _check(value, _BUNDLE_ID, "bundleId", "b-20260101120000-1a2b3c4d")


def execution_id(value: Any) -> str:
    """An SSM Automation execution id (a lowercase UUID)."""
    return _check(value, _EXECUTION_ID, "executionId", "01234567-89ab-cdef-0123-456789abcdef")


def finding_id(value: Any) -> str:
    """A finding id from ``errors``: ``F-`` and 16 lowercase hex digits."""
    return _check(value, _FINDING_ID, "findingId", "F-0123456789abcdef")


def cluster_name(value: Any) -> str:
    """An EKS cluster name: 1-100 letters, digits, ``-`` or ``_``, starting with a letter or digit."""
    return _check(value, _CLUSTER_NAME, "clusterName", "my-cluster")


def region(value: Any, settings: Settings) -> str:
    """A region from the deployment's explicit allow-list; ``None``/empty means the default region."""
    if value is None or value == "":
        if not settings.default_region:
            raise ToolError("InvalidArgument", "region is required: no default region is configured")
        return settings.default_region
    _check(value, _REGION, "region", "us-west-2")
    if settings.allowed_regions and value not in settings.allowed_regions:
        raise ToolError(
            "InvalidArgument",
            f"region {value} is not allowed here; allowed regions: {', '.join(settings.allowed_regions)}",
            details={"allowedRegions": list(settings.allowed_regions)},
        )
    return str(value)


def bounded_int(value: Any, name: str, low: int, high: int, default: int | None = None) -> int:
    """An integer (not a bool, not a float, not a string) between ``low`` and ``high`` inclusive."""
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolError("InvalidArgument", f"{name} must be an integer between {low} and {high}, got {_show(value)}")
    if not low <= value <= high:
        raise ToolError("InvalidArgument", f"{name} must be between {low} and {high}, got {value}")
    return value
