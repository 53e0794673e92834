"""Building a :class:`~eksdiag.tools.base.ToolContext` for AWS (Lambda) or for a local folder."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from eksdiag.tools.base import ClientFactory, Settings, ToolContext, _utcnow


def aws_context(
    env: Mapping[str, str] | None = None,
    client_factory: ClientFactory | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> ToolContext:
    """Settings from ``env`` (default ``os.environ``), S3 store and DynamoDB job store. No client is
    created until a tool first needs it; ``client_factory`` lets tests hand in moto-backed clients."""
    from eksdiag.adapters.dynamodb_jobs import DynamoJobStore
    from eksdiag.adapters.s3_store import S3BundleStore

    settings = Settings.from_env(os.environ if env is None else env)
    holder: list[ToolContext] = []
    store = S3BundleStore(settings.bucket, settings.kms_key_arn, lambda: holder[0].aws("s3"))
    jobs = DynamoJobStore(settings.table, lambda: holder[0].aws("dynamodb"), lambda: holder[0].now())
    ctx = ToolContext(settings=settings, store=store, jobs=jobs, client_factory=client_factory, clock=clock)
    holder.append(ctx)
    return ctx


def local_context(
    root: str | os.PathLike[str],
    clock: Callable[[], datetime] = _utcnow,
    settings: Settings | None = None,
    *,
    redact: bool = True,
) -> ToolContext:
    """Bundles, indexes and jobs under ``<root>/.eksdiag``; tools needing AWS answer ``Upstream``.

    ``redact=False`` (``eksdiag serve --no-redact``) imports bundles without redaction: local use only.
    """
    from eksdiag.adapters.local_jobs import LocalJobStore
    from eksdiag.adapters.local_store import LocalBundleStore
    from eksdiag.adapters.local_tools import repair_index

    folder = os.fspath(root)
    hidden = sorted({folder, str(Path(folder).absolute()), str(Path(folder).resolve())}, key=len, reverse=True)
    return ToolContext(
        # "local" passes the region validator's default, so AWS-backed tools reach ctx.aws() and get
        # a clear "not available when serving local bundles" answer
        settings=settings or Settings(default_region="local"),
        store=LocalBundleStore(root, redact=redact),
        jobs=LocalJobStore(root),
        clock=clock,
        local=True,
        private_paths=tuple((path, "<bundles>") for path in hidden if len(path) > 1),
        repair_index=repair_index,
    )
