"""Storage and job-state adapters at the edges: S3 + DynamoDB for Lambda, a local folder for ``eksdiag``.

Layouts (the CONTEXT contract):

* uploads/<instanceId>/<bundleId>.tar.gz            what the node uploads (presigned PUT)
* bundles/<bundleId>/index.json                     the engine's index (``BundleIndex.to_dict()``)
* bundles/<bundleId>/files/<bundle-relative path>   member files extracted by the indexer
"""

from __future__ import annotations

import posixpath
import re

from eksdiag.tools.base import ToolError

#: States of a collection job, in order. ``failed`` is terminal like ``indexed``.
JOB_STATES = ("collecting", "uploaded", "indexing", "indexed", "failed")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_member_path(path: str) -> str:
    """A bundle-relative path that cannot escape its bundle: no absolute paths, ``..``, or odd bytes.

    Raises ``ToolError("InvalidArgument")``; returns the normalised path.
    """
    if not isinstance(path, str) or not path or len(path) > 1024:
        raise ToolError("InvalidArgument", "path must be a bundle-relative file path (1-1024 characters)")
    if path.startswith("/") or "\\" in path or "\x00" in path:
        raise ToolError("InvalidArgument", f"path must be relative to the bundle, got {path[:80]!r}")
    norm = posixpath.normpath(path)
    parts = norm.split("/")
    if norm in (".", "") or any(p in ("..", ".", "") for p in parts):
        raise ToolError("InvalidArgument", f"path must stay inside the bundle, got {path[:80]!r}")
    if _CONTROL.search(norm):
        raise ToolError("InvalidArgument", f"path has control characters: {path[:80]!r}")
    return norm


def upload_key(instance_id: str, bundle_id: str) -> str:
    return f"uploads/{instance_id}/{bundle_id}.tar.gz"


def index_key(bundle_id: str) -> str:
    return f"bundles/{bundle_id}/index.json"


def file_key(bundle_id: str, path: str) -> str:
    return f"bundles/{bundle_id}/files/{safe_member_path(path)}"


class DiscardWriter:
    """Where a sink sends a member whose name cannot become a storage key (its content is not kept)."""

    closed = False

    def write(self, data: bytes) -> int:
        return len(data)

    def close(self) -> None:
        self.closed = True
