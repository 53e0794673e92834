"""The indexer Lambda: S3 ObjectCreated on ``uploads/<instanceId>/<bundleId>.tar.gz`` -> index.

For each record: URL-decode the key (``unquote_plus``), accept only the exact upload layout and the
deployment's bucket, stream the object into the engine with an S3 sink that writes
``bundles/<bundleId>/files/...``, save the index, update the job and the node's latest pointer.
A bad or hostile archive marks the job failed with the reason and returns normally, so S3 does not
retry it forever.

Ownership (``adapters.lifecycle``): the invocation claims the job until its own end (the remaining
time Lambda gives it); the indexing stops by itself before that, keeping what it read. A
re-delivered event for an upload already indexed (same ETag) is skipped; for a new upload under the
same key it re-indexes, with the same finding ids. An event that arrives while another invocation
owns the job raises, so Lambda retries it later (by then the owner has finished, or its deadline
has passed and the retry takes over). An invocation killed by a timeout or out of memory leaves a
claim that lapses at its deadline; after ``MAX_INDEX_ATTEMPTS`` such attempts the job fails for good.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from eksdiag.tools.base import ToolContext

UPLOAD_KEY = re.compile(r"^uploads/(i-[0-9a-f]{8}(?:[0-9a-f]{9})?)/(b-[0-9]{14}-[0-9a-f]{8})\.tar\.gz$")


class IndexerHandler:
    def __init__(self, context_factory: Any = None) -> None:
        self._context_factory = context_factory
        self._state: tuple[ToolContext, Any] | None = None
        self._lock = threading.Lock()

    def _runtime(self) -> tuple[ToolContext, Any]:
        with self._lock:
            if self._state is None:
                import os

                from aws_lambda_powertools import Logger

                from eksdiag.adapters.context import aws_context

                ctx = self._context_factory() if self._context_factory else aws_context()
                from eksdiag.lambda_entry._runtime import _CurrentStdout

                service = os.environ.get("POWERTOOLS_SERVICE_NAME") or "eksdiag-indexer"
                logger = Logger(service=service, stream=_CurrentStdout())  # type: ignore[arg-type]
                self._state = (ctx, logger)
            return self._state

    def reset(self) -> None:
        with self._lock:
            self._state = None

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        ctx, logger = self._runtime()
        records = event.get("Records") if isinstance(event, dict) else None
        results: list[dict[str, Any]] = []
        for record in records or []:
            results.append(self._one(ctx, logger, record, context))
        if not records:
            logger.warning(
                "event without S3 records", extra={"event_keys": sorted(event) if isinstance(event, dict) else []}
            )
        return {"results": results}

    @staticmethod
    def _claim_terms(ctx: ToolContext, context: Any) -> tuple[str, datetime | None]:
        """This invocation as a job owner, and its end (Lambda's remaining time) as the deadline."""
        request = str(getattr(context, "aws_request_id", "") or "")
        owner = f"lambda:{request}" if request else ctx.jobs.new_owner()
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if not callable(remaining):
            return owner, None
        return owner, ctx.now() + timedelta(milliseconds=int(remaining()))

    def _one(self, ctx: ToolContext, logger: Any, record: Any, context: Any = None) -> dict[str, Any]:
        from eksdiag.adapters.ingest import IndexingBusy, IndexingFailed, ingest

        logger.remove_keys(["bundle_id", "instance_id"])  # the last record's ids must not tag this one
        s3 = record.get("s3") if isinstance(record, dict) else None
        if not isinstance(s3, dict) or not str(record.get("eventName", "")).startswith("ObjectCreated"):
            return {"status": "skipped", "reason": "not an S3 ObjectCreated record"}
        bucket = str((s3.get("bucket") or {}).get("name", ""))
        key = unquote_plus(str((s3.get("object") or {}).get("key", "")))
        if bucket != ctx.settings.bucket:
            logger.warning("record for another bucket", extra={"bucket": bucket})
            return {"status": "skipped", "key": key, "reason": f"bucket {bucket!r} is not this deployment's"}
        match = UPLOAD_KEY.match(key)
        if match is None:
            logger.warning("key is not an upload", extra={"key": key[:300]})
            return {
                "status": "skipped",
                "key": key[:300],
                "reason": "key is not uploads/<instanceId>/<bundleId>.tar.gz",
            }
        instance_id, bundle_id = match.groups()
        logger.append_keys(bundle_id=bundle_id, instance_id=instance_id)
        store = ctx.store
        try:
            body, etag = store.open_upload_tagged(key)  # type: ignore[attr-defined]
        except ClientError as err:
            if str(err.response.get("Error", {}).get("Code")) not in ("NoSuchKey", "404", "NotFound"):
                raise
            # a late re-delivery after the upload was removed: nothing to index, and retrying cannot help
            logger.warning("upload no longer exists", extra={"key": key})
            return {"status": "skipped", "key": key, "bundleId": bundle_id, "reason": "the upload no longer exists"}
        owner, deadline = self._claim_terms(ctx, context)
        try:
            job = ingest(
                ctx,
                body,
                bundle_id=bundle_id,
                instance_id=instance_id,
                name=f"{bundle_id}.tar.gz",
                owner=owner,
                deadline=deadline,
                source_tag=etag or None,
            )
        except IndexingFailed as exc:
            logger.warning("bundle rejected", extra={"reason": str(exc)})
            return {"status": "failed", "key": key, "bundleId": bundle_id, "reason": str(exc)}
        except IndexingBusy as exc:
            holder = exc.job.get("owner")
            logger.warning("another invocation owns this bundle; Lambda retries later", extra={"owner": holder})
            raise
        finally:
            body.close()
        if job.get("duplicate"):
            logger.info("upload already indexed (re-delivered event)", extra={"state": job.get("state")})
            return {"status": "skipped", "key": key, "bundleId": bundle_id, "reason": "this upload is already indexed"}
        logger.info("bundle indexed", extra={"findings": job.get("index_findings"), "complete": job.get("complete")})
        return {"status": "indexed", "key": key, "bundleId": bundle_id, "findings": job.get("index_findings")}


handler = IndexerHandler()
