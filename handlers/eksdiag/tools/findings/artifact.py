"""artifact: a short-lived presigned GET URL for exactly one file of a bundle (at most 15 minutes).

Only files listed in the bundle's index are signed; the URL is a bearer link, so it is never logged.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from eksdiag.tools.base import MAX_PRESIGN_GET_SECONDS, ToolContext, iso
from eksdiag.tools.findings._common import resolve_bundle
from eksdiag.tools.findings.read import _check_path

NAME = "artifact"
GROUP = "findings"


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    bundle = resolve_bundle(args, ctx)
    entry = _check_path(bundle, args["path"])
    path = entry["path"]
    seconds = min(
        int(args.get("expiresSeconds") or ctx.settings.presign_get_seconds),
        ctx.settings.presign_get_seconds,
        MAX_PRESIGN_GET_SECONDS,
    )
    url = ctx.store.presign_get(ctx.store.file_key(bundle.bundle_id, path), seconds)
    return {
        **bundle.header(),
        "path": path,
        "size": entry.get("size"),
        "binary": bool(entry.get("binary")),
        "url": url,
        "expiresSeconds": seconds,
        "expiresAt": iso(ctx.now() + timedelta(seconds=seconds)),
    }
