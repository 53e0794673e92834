"""BundleStore on S3 (Lambda): uploads, indexes and extracted files in one SSE-KMS bucket."""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO

from botocore.exceptions import ClientError

from eksdiag.adapters import (
    CorruptIndex,
    DiscardWriter,
    check_index,
    file_key,
    index_key,
    line_index_key,
    safe_member_path,
    upload_key,
)
from eksdiag.tools.base import MAX_PRESIGN_GET_SECONDS, ToolError

#: Member files up to this size stay in memory before the upload; bigger ones spill to /tmp.
SPOOL_BYTES = 8 << 20
#: Parallel uploads of extracted member files while indexing.
UPLOAD_WORKERS = 8
_MISSING = ("404", "NoSuchKey", "NotFound")


def _is_missing(err: ClientError) -> bool:
    return str(err.response.get("Error", {}).get("Code")) in _MISSING


class _S3Writer:
    """A writable binary file that is handed to its sink for upload when closed."""

    def __init__(self, sink: S3FileSink, key: str) -> None:
        self._sink = sink
        self._key = key
        self._buffer = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the sink closes it
        self.closed = False

    def write(self, data: bytes) -> int:
        return self._buffer.write(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._sink.submit(self._buffer, self._key)

    def __enter__(self) -> _S3Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class S3FileSink:
    """The indexer's sink: ``open(path)`` returns a writer for ``bundles/<bid>/files/<path>``.

    Closed files upload on a small thread pool while the indexer reads on; at most
    ``2 * workers`` files wait in memory (or spooled to /tmp when large), so memory stays flat.
    Call :meth:`wait` after indexing: it returns when every upload is done and raises the first error.
    """

    def __init__(self, store: S3BundleStore, bundle_id: str, workers: int = UPLOAD_WORKERS) -> None:
        self._store = store
        self._bundle_id = bundle_id
        self._workers = workers
        self._slots = threading.BoundedSemaphore(2 * workers)
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future[None]] = []

    def open(self, path: str) -> BinaryIO:
        return self._open_key(file_key, path)

    def open_line_index(self, path: str) -> BinaryIO:
        """A writer for ``bundles/<bid>/lines/<path>``, the line index of that file."""
        return self._open_key(line_index_key, path)

    def _open_key(self, key_of: Callable[[str, str], str], path: str) -> BinaryIO:
        try:
            key = key_of(self._bundle_id, path)
        except ToolError:
            return DiscardWriter()  # type: ignore[return-value]  # a name no key can hold: index it, keep no copy
        return _S3Writer(self, key)  # type: ignore[return-value]

    def submit(self, buffer: Any, key: str) -> None:
        self._slots.acquire()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="s3-sink")
        future = self._pool.submit(self._upload, buffer, key)
        future.add_done_callback(lambda _f: self._slots.release())
        self._futures.append(future)

    def _upload(self, buffer: Any, key: str) -> None:
        try:
            buffer.seek(0)
            self._store.client.upload_fileobj(buffer, self._store.bucket, key, ExtraArgs=self._store.sse())
        finally:
            buffer.close()

    def wait(self) -> None:
        futures, self._futures = self._futures, []
        try:
            for future in futures:
                future.result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None


class S3BundleStore:
    """All keys are built here from validated ids; no tool ever passes a raw key from its arguments."""

    def __init__(self, bucket: str, kms_key_arn: str, client: Callable[[], Any]) -> None:
        """``client`` returns the S3 client to use (called per operation; the context caches it)."""
        if not bucket:
            raise ValueError("S3BundleStore needs a bucket name (BUCKET_NAME)")
        self.bucket = bucket
        self.kms_key_arn = kms_key_arn
        self._client = client

    @property
    def client(self) -> Any:
        return self._client()

    def sse(self) -> dict[str, str]:
        if self.kms_key_arn:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_arn}
        return {}

    # keys
    def upload_key(self, instance_id: str, bundle_id: str) -> str:
        return upload_key(instance_id, bundle_id)

    def file_key(self, bundle_id: str, path: str) -> str:
        return file_key(bundle_id, path)

    # presigning
    def presign_put(self, key: str, expires_seconds: int) -> str:
        """A PUT URL for exactly ``key``; the SSE-KMS headers are signed, so the uploader must send them:
        ``x-amz-server-side-encryption: aws:kms`` and ``x-amz-server-side-encryption-aws-kms-key-id``."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key, **self.sse()}
        return str(self.client.generate_presigned_url("put_object", Params=params, ExpiresIn=int(expires_seconds)))

    def presign_get(self, key: str, expires_seconds: int) -> str:
        seconds = max(1, min(int(expires_seconds), MAX_PRESIGN_GET_SECONDS))
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds
            )
        )

    # index
    def load_index(self, bundle_id: str) -> dict[str, Any] | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=index_key(bundle_id))["Body"]
        except ClientError as err:
            if _is_missing(err):
                return None
            raise
        try:
            raw = body.read()
        finally:
            body.close()
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise CorruptIndex(bundle_id, "not JSON: empty, cut short or overwritten") from None
        return check_index(data, bundle_id)

    def delete_bundle(self, bundle_id: str) -> None:
        """Remove the index and every extracted file of ``bundle_id`` (1,000 keys per request)."""
        prefix = index_key(bundle_id).rsplit("/", 1)[0] + "/"
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                keys = [{"Key": obj["Key"]} for obj in page.get("Contents") or []]
                if keys:
                    answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
                    refused = [e for e in answer.get("Errors") or [] if e.get("Code") == "AccessDenied"]
                    if refused:
                        raise PermissionError(f"S3 refused to delete {len(refused)} objects under {prefix}")
        except ClientError as err:
            if str(err.response.get("Error", {}).get("Code")) in ("AccessDenied", "AccessDeniedException"):
                raise PermissionError(f"S3 refused to delete under {prefix} (AccessDenied)") from None
            raise

    def save_index(self, bundle_id: str, index: dict[str, Any]) -> None:
        payload = json.dumps(index, separators=(",", ":"), sort_keys=True).encode("utf-8")
        self.client.put_object(
            Bucket=self.bucket,
            Key=index_key(bundle_id),
            Body=payload,
            ContentType="application/json",
            **self.sse(),
        )

    # files
    def file_size(self, bundle_id: str, path: str) -> int | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=file_key(bundle_id, path))
        except ClientError as err:
            if _is_missing(err):
                return None
            raise
        return int(head["ContentLength"])

    def read_range(self, bundle_id: str, path: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of a bundle file (end exclusive, clipped to the file)."""
        if end <= start:
            return b""
        try:
            obj = self.client.get_object(
                Bucket=self.bucket, Key=file_key(bundle_id, path), Range=f"bytes={start}-{end - 1}"
            )
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code"))
            if code == "InvalidRange":
                return b""
            if _is_missing(err):
                raise ToolError("NotFound", f"file {safe_member_path(path)} is not in bundle {bundle_id}") from None
            raise
        body = obj["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data

    def iter_chunks(self, bundle_id: str, path: str, chunk: int = 1 << 20) -> Iterator[bytes]:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=file_key(bundle_id, path))
        except ClientError as err:
            if _is_missing(err):
                raise ToolError("NotFound", f"file {safe_member_path(path)} is not in bundle {bundle_id}") from None
            raise
        body = obj["Body"]  # a StreamingBody (its context manager yields the raw stream, so no "with")
        try:
            yield from body.iter_chunks(chunk_size=chunk)
        finally:
            body.close()

    def file_sink(self, bundle_id: str) -> S3FileSink:
        return S3FileSink(self, bundle_id)

    def get_text(self, key: str, max_bytes: int) -> str:
        """The first ``max_bytes`` of an object as text (invalid UTF-8 replaced)."""
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{max(0, max_bytes - 1)}")
        except ClientError as err:
            if _is_missing(err):
                raise ToolError("NotFound", f"object {key} does not exist") from None
            if str(err.response.get("Error", {}).get("Code")) == "InvalidRange":
                return ""
            raise
        body = obj["Body"]
        try:
            data: bytes = body.read(max_bytes)
        finally:
            body.close()
        return data.decode("utf-8", errors="replace")

    # the indexer reads uploads as a stream
    def open_upload_tagged(self, key: str) -> tuple[Any, str]:
        """The streaming body of an uploaded archive and its ETag (what was uploaded, for dedup)."""
        response = self.client.get_object(Bucket=self.bucket, Key=key)
        return response["Body"], str(response.get("ETag") or "").strip('"')
