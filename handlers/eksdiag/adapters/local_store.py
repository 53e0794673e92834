"""BundleStore on a local folder (``eksdiag serve --bundles DIR``): same layout as the S3 bucket.

Everything lives under ``<root>/.eksdiag/`` so the bundle archives in ``<root>`` stay untouched.
Presigned URLs become ``file://`` URIs of the extracted file (there is no one to sign for).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from eksdiag.adapters import CorruptIndex, DiscardWriter, check_index, file_key, index_key, line_index_key, upload_key
from eksdiag.adapters._files import atomic_write
from eksdiag.tools.base import ToolError

__all__ = ["LocalBundleStore", "LocalFileSink", "atomic_write"]


class LocalFileSink:
    def __init__(self, store: LocalBundleStore, bundle_id: str) -> None:
        self._store = store
        self._bundle_id = bundle_id

    def open(self, path: str) -> BinaryIO:
        return self._open_key(file_key, path)

    def open_line_index(self, path: str) -> BinaryIO:
        return self._open_key(line_index_key, path)

    def _open_key(self, key_of: Callable[[str, str], str], path: str) -> BinaryIO:
        try:
            target = self._store.key_path(key_of(self._bundle_id, path))
        except ToolError:
            return DiscardWriter()  # type: ignore[return-value]  # a name no file can hold: index it, keep no copy
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.open("wb")

    def wait(self) -> None:
        """Files are written synchronously; nothing to wait for."""


class LocalBundleStore:
    def __init__(self, root: str | os.PathLike[str], *, redact: bool = True) -> None:
        self.root = Path(root).resolve()
        self.redact = redact
        """False only for ``eksdiag serve --no-redact``: bundles imported here are not redacted."""
        self.state = self.root / ".eksdiag"
        #: Set by the HTTP server: artifact links go through it instead of naming a local path.
        self.link_signer: Any = None

    def key_path(self, key: str) -> Path:
        """The file behind an object key; refuses keys that would leave the state folder."""
        path = (self.state / key).resolve()
        if not path.is_relative_to(self.state):
            raise ToolError("InvalidArgument", f"key {key[:80]!r} leaves the bundle store")
        return path

    def upload_key(self, instance_id: str, bundle_id: str) -> str:
        return upload_key(instance_id, bundle_id)

    def file_key(self, bundle_id: str, path: str) -> str:
        return file_key(bundle_id, path)

    def presign_put(self, key: str, expires_seconds: int) -> str:
        raise ToolError("Upstream", "uploads need AWS; locally, put bundle archives in the --bundles folder")

    def presign_get(self, key: str, expires_seconds: int) -> str:
        """A signed link of the HTTP server when it serves remote clients, else a ``file://`` URI
        (stdio: the client started the server on its own folder)."""
        if self.link_signer is not None:
            return str(self.link_signer.sign(key, expires_seconds))
        return self.key_path(key).as_uri()

    def linked_file(self, key: str) -> Path | None:
        """The extracted bundle file a signed link may serve (never an index, a job or a link)."""
        if not key.startswith("bundles/") or "/files/" not in key:
            return None
        try:
            path = self.key_path(key)
        except ToolError:
            return None
        try:
            return path if path.is_file() and not path.is_symlink() else None
        except OSError:
            return None

    def load_index(self, bundle_id: str) -> dict[str, Any] | None:
        """The bundle's index; None when there is none; :class:`CorruptIndex` when it is damaged."""
        path = self.key_path(index_key(bundle_id))
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise CorruptIndex(bundle_id, "a folder, not a file") from None
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise CorruptIndex(bundle_id, "not JSON: empty, cut short or overwritten") from None
        return check_index(data, bundle_id)

    def index_looks_whole(self, bundle_id: str) -> bool:
        """A cheap check (no parsing) that the index file is there and is one closed JSON object."""
        path = self.key_path(index_key(bundle_id))
        try:
            with path.open("rb") as handle:
                head = handle.read(1)
                handle.seek(max(0, path.stat().st_size - 1))
                tail = handle.read(1)
        except (FileNotFoundError, IsADirectoryError):
            return False
        return head == b"{" and tail == b"}"

    def delete_bundle(self, bundle_id: str) -> None:
        """Remove everything stored for ``bundle_id`` (its index and extracted files)."""
        folder = self.key_path(index_key(bundle_id)).parent
        if not folder.is_dir():
            return
        # renamed first: no reader ever sees half a folder, and a crash leaves a hidden folder only
        doomed = folder.with_name(f".deleted-{folder.name}-{secrets.token_hex(4)}")
        with contextlib.suppress(FileNotFoundError):
            folder.rename(doomed)
            shutil.rmtree(doomed, ignore_errors=True)

    def save_index(self, bundle_id: str, index: dict[str, Any]) -> None:
        payload = json.dumps(index, separators=(",", ":"), sort_keys=True).encode("utf-8")
        atomic_write(self.key_path(index_key(bundle_id)), payload)

    def file_size(self, bundle_id: str, path: str) -> int | None:
        target = self.key_path(file_key(bundle_id, path))
        return target.stat().st_size if target.is_file() else None

    def _open(self, bundle_id: str, path: str) -> BinaryIO:
        try:
            return self.key_path(file_key(bundle_id, path)).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise ToolError("NotFound", f"file {path} is not in bundle {bundle_id}") from None

    def read_range(self, bundle_id: str, path: str, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        with self._open(bundle_id, path) as handle:
            handle.seek(start)
            return handle.read(end - start)

    def iter_chunks(self, bundle_id: str, path: str, chunk: int = 1 << 20) -> Iterator[bytes]:
        with self._open(bundle_id, path) as handle:
            while block := handle.read(chunk):
                yield block

    def file_sink(self, bundle_id: str) -> LocalFileSink:
        return LocalFileSink(self, bundle_id)

    def get_text(self, key: str, max_bytes: int) -> str:
        try:
            with self.key_path(key).open("rb") as handle:
                return handle.read(max_bytes).decode("utf-8", errors="replace")
        except FileNotFoundError:
            raise ToolError("NotFound", f"object {key} does not exist") from None
