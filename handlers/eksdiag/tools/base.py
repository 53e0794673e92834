"""The tools framework: errors the model can act on, settings, and the per-call context.

Every tool module (``eksdiag/tools/<group>/<tool>.py``) defines ``NAME``, ``GROUP`` and
``run(args, ctx) -> dict``. ``args`` is already validated against the tool's schema file and has its
defaults applied; ``ctx`` is a :class:`ToolContext` giving the tool its settings, lazily built AWS
clients, the bundle store, the job store and the clock. Nothing here touches AWS or the environment
at import time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO, Protocol

ERROR_CODES = (
    "InvalidArgument",
    "NotFound",
    "NotReady",
    "Conflict",
    "Forbidden",
    "Throttled",
    "Upstream",
    "Corrupt",
)
#: An error message is cut to this many characters, its details to this many bytes of JSON.
MAX_ERROR_MESSAGE = 600
MAX_ERROR_DETAILS = 4000
#: What an error message may quote of an input value.
ECHO_CHARS = 60

#: Hard ceiling of a presigned GET (the issue: "at most 15 minutes").
MAX_PRESIGN_GET_SECONDS = 900
#: Gateway payload limit is 6 MB; keep every result well under it.
MAX_RESULT_BYTES = 5_000_000


class ToolError(Exception):
    """An error the caller (usually a model) can act on; returned as ``{"error": {...}}``, not raised.

    ``code`` is one of :data:`ERROR_CODES`; ``retryable`` tells the caller whether the same call may
    succeed later (e.g. ``NotReady`` while a bundle is being indexed).
    """

    def __init__(self, code: str, message: str, retryable: bool = False, details: dict[str, Any] | None = None) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown tool error code {code!r}; use one of {', '.join(ERROR_CODES)}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.details = details

    def to_result(self) -> dict[str, Any]:
        """``{"error": {...}}`` with the message and details cut to their caps (an error never grows
        with its input)."""
        message = self.message
        if len(message) > MAX_ERROR_MESSAGE:
            message = message[: MAX_ERROR_MESSAGE - 3] + "..."
        error: dict[str, Any] = {"code": self.code, "message": message, "retryable": self.retryable}
        if self.details:
            import json

            size = len(json.dumps(self.details, default=str))
            error["details"] = self.details if size <= MAX_ERROR_DETAILS else {"truncated": True}
        return {"error": error}


def echo(value: Any, limit: int = ECHO_CHARS) -> str:
    """A short quotable form of an input value for an error message (``repr``, cut to ``limit``)."""
    text = repr(value) if not isinstance(value, str) else repr(value[: limit + 1])
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _int_env(env: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"environment variable {key} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"environment variable {key} must be between {low} and {high}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Deployment settings, read once per cold start from the Lambda environment (or built by hand)."""

    bucket: str = ""
    table: str = ""
    kms_key_arn: str = ""
    collect_document: str = ""
    capture_document: str = ""
    automation_role_arn: str = ""
    allowed_regions: tuple[str, ...] = ()
    default_region: str = ""
    presign_put_seconds: int = 900
    presign_get_seconds: int = 900

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from environment variables (see the CONTEXT contract for the names).

        ``default_region`` is ``AWS_REGION`` (set by Lambda), else ``AWS_DEFAULT_REGION``. When
        ``ALLOWED_REGIONS`` is empty the default region is the only allowed one.
        """
        default_region = env.get("AWS_REGION", "") or env.get("AWS_DEFAULT_REGION", "")
        allowed = tuple(r.strip() for r in env.get("ALLOWED_REGIONS", "").split(",") if r.strip())
        if not allowed and default_region:
            allowed = (default_region,)
        return cls(
            bucket=env.get("BUCKET_NAME", ""),
            table=env.get("TABLE_NAME", ""),
            kms_key_arn=env.get("KMS_KEY_ARN", ""),
            collect_document=env.get("COLLECT_DOCUMENT_NAME", ""),
            capture_document=env.get("CAPTURE_DOCUMENT_NAME", ""),
            automation_role_arn=env.get("AUTOMATION_ROLE_ARN", ""),
            allowed_regions=allowed,
            default_region=default_region,
            presign_put_seconds=_int_env(env, "PRESIGN_PUT_SECONDS", 900, 60, 3600),
            presign_get_seconds=_int_env(env, "PRESIGN_GET_SECONDS", 900, 1, MAX_PRESIGN_GET_SECONDS),
        )


class FileSink(Protocol):
    """Where the indexer writes the member files of a bundle while it reads the archive."""

    def open(self, path: str) -> BinaryIO: ...
    def wait(self) -> None:
        """Block until every closed file is stored; raise the first storage error."""


class BundleStore(Protocol):
    """Bundles and their indexes: S3 in AWS (adapters.s3_store), a folder locally (adapters.local_store)."""

    def upload_key(self, instance_id: str, bundle_id: str) -> str: ...
    def presign_put(self, key: str, expires_seconds: int) -> str: ...
    def presign_get(self, key: str, expires_seconds: int) -> str: ...
    def load_index(self, bundle_id: str) -> dict[str, Any] | None: ...
    def save_index(self, bundle_id: str, index: dict[str, Any]) -> None: ...
    def file_size(self, bundle_id: str, path: str) -> int | None: ...
    def read_range(self, bundle_id: str, path: str, start: int, end: int) -> bytes: ...
    def iter_chunks(self, bundle_id: str, path: str, chunk: int = 1 << 20) -> Iterator[bytes]: ...
    def file_sink(self, bundle_id: str) -> FileSink: ...
    def file_key(self, bundle_id: str, path: str) -> str: ...
    def get_text(self, key: str, max_bytes: int) -> str: ...
    def delete_bundle(self, bundle_id: str) -> None:
        """Remove the index and extracted files of a bundle (PermissionError where the role may not)."""


class JobStore(Protocol):
    """Collection jobs, latest-bundle pointers and small records: DynamoDB in AWS, files locally.

    Writes that decide who does something are conditional (see ``adapters.lifecycle``):
    ``create_job`` and ``claim_record`` succeed once, ``transition`` is a compare-and-set, and
    ``advance_latest`` never moves a pointer back. A damaged job reads as a failed job marked
    ``corrupt``, never as an exception.
    """

    def create_job(self, job: dict[str, Any]) -> None: ...
    def update_job(self, bundle_id: str, **fields: Any) -> None: ...
    def transition(self, bundle_id: str, expect: Mapping[str, Any], fields: Mapping[str, Any]) -> bool: ...
    def get_job(self, bundle_id: str) -> dict[str, Any] | None: ...
    def set_latest(self, instance_id: str, bundle_id: str) -> None: ...
    def advance_latest(self, instance_id: str, bundle_id: str) -> bool: ...
    def get_latest(self, instance_id: str) -> str | None: ...
    def list_jobs(self, instance_id: str | None, limit: int) -> list[dict[str, Any]]: ...
    def put_record(self, kind: str, record_id: str, record: dict[str, Any]) -> None: ...
    def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None: ...
    def claim_record(
        self, kind: str, record_id: str, record: dict[str, Any], supersede: str | None = None
    ) -> dict[str, Any]: ...
    def new_owner(self) -> str: ...
    def owner_alive(self, owner: str | None) -> bool: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


ClientFactory = Callable[[str, "str | None"], Any]


def client_config(service: str) -> Any:
    """botocore Config for ``service``: S3 signs with SigV4 (needed for SSE-KMS presigned URLs)."""
    from botocore.config import Config

    if service == "s3":
        return Config(signature_version="s3v4", s3={"addressing_style": "virtual"}, retries={"mode": "standard"})
    return Config(retries={"mode": "standard"})


def _boto3_client(service: str, region: str | None) -> Any:
    import boto3  # deferred: local mode and the engine never need boto3

    return boto3.client(service, region_name=region, config=client_config(service))  # type: ignore[call-overload]


@dataclass
class ToolContext:
    """Everything a tool may use. Build one per cold start (Lambda) or per server (local).

    ``client_factory(service, region)`` makes AWS clients; tests pass moto-backed ones. ``local`` is
    True when serving bundles from a folder with no AWS (``eksdiag serve``): tools that need AWS then
    raise ``ToolError("Upstream", ...)`` from :meth:`aws`.
    """

    settings: Settings
    store: BundleStore
    jobs: JobStore
    client_factory: ClientFactory | None = None
    clock: Callable[[], datetime] = _utcnow
    local: bool = False
    #: Folders the answers must not disclose, each with the name shown instead (the local server's).
    private_paths: tuple[tuple[str, str], ...] = ()
    #: Rebuilds a damaged index from its source when the store can (local imports); True if rebuilt.
    repair_index: Callable[[ToolContext, str], bool] | None = field(default=None, repr=False)
    #: Per-context memo for tools (e.g. recently loaded bundle indexes); never shared across contexts.
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _clients: dict[tuple[str, str | None], Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def aws(self, service: str, region: str | None = None) -> Any:
        """A cached boto3 client for ``service`` in ``region`` (default: the settings' region)."""
        if self.local and self.client_factory is None:
            raise ToolError(
                "Upstream",
                f"this tool needs AWS ({service}); it is not available when serving local bundles",
            )
        region = region or self.settings.default_region or None
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                factory = self.client_factory or _boto3_client
                client = factory(service, region)
                self._clients[key] = client
            return client

    def now(self) -> datetime:
        """Current time, UTC, timezone-aware (injectable through ``clock``)."""
        value = self.clock()
        return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_iso(value: Any) -> datetime | None:
    """A timestamp we stored (RFC 3339, ``Z`` or an offset; naive means UTC), or None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(dt: datetime) -> str:
    """RFC 3339 UTC timestamp with a ``Z`` suffix and second precision (four-digit years, always)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    elif dt.utcoffset():
        dt = dt.astimezone(UTC)
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}Z"


def new_bundle_id(now: datetime) -> str:
    """A fresh bundle id: ``b-<UTC yyyymmddHHMMSS>-<8 hex>`` (sortable by time, unguessable tail)."""
    import secrets

    return f"b-{now.astimezone(UTC).strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"
