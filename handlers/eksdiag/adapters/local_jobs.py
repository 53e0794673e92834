"""JobStore on a local folder: one JSON file per job, pointer and record under ``<root>/.eksdiag/state``.

Safe under threads, several processes and ``kill -9``:

* every file is replaced atomically (a private temporary file and a rename), so a reader sees the
  old or the new record, never half of one;
* jobs and records that must exist once (one job per idempotency key) are created exclusively;
* read-modify-write cycles (updates, conditional transitions, the latest pointer) run under an
  ``flock`` on ``state/.lock``, which the kernel releases when its holder dies;
* each store instance is an *owner*: it holds an ``flock`` on ``state/owners/<id>.lock`` for its
  whole life, so another process can tell that a job's owner died (the lock is free) without
  trusting process ids, which the system reuses.

A damaged file is never a fault: a job reads as ``failed`` (marked ``corrupt``), a record as
absent, a latest pointer is rebuilt from the jobs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eksdiag.adapters import check_job, damaged_job
from eksdiag.adapters._files import atomic_write, create_exclusive, hold_lock_file, locked, try_lock
from eksdiag.adapters.identity import is_node_id
from eksdiag.tools.base import ToolError
from eksdiag.tools.validate import BUNDLE_ID_PATTERN
from eksdiag.tools.validate import bundle_id as check_bundle_id

_MISSING = object()
BUNDLE_ID = re.compile(BUNDLE_ID_PATTERN.strip("^$"))
#: A record file larger than this is damaged (records are a few hundred bytes).
MAX_RECORD_BYTES = 1 << 20
#: ``b-<yyyymmddHHMMSS>``: the part of a bundle id that says when it was made.
TIME_PREFIX = 16


def _decode(raw: bytes) -> Any:
    """The JSON value in ``raw``, or ``_MISSING`` when it is not JSON at all (empty, NULs, cut short)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return _MISSING


class LocalJobStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.dir = Path(root).resolve() / ".eksdiag" / "state"
        self._owner: str | None = None
        self._owner_fd: int | None = None

    # ---------------------------------------------------------------- ownership

    @property
    def owner(self) -> str:
        """This store's owner id (``local:<host>:<pid>:<random>``); its lock file is held while it lives."""
        if self._owner is None:
            owner = f"local:{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
            self._owner_fd = hold_lock_file(self._owner_lock(owner))
            self._owner = owner
        return self._owner

    def _owner_lock(self, owner: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in owner)
        return self.dir / "owners" / f"{safe}.lock"

    def new_owner(self) -> str:
        """An owner id for one unit of work (this store's id: its lock proves the work's process lives)."""
        return self.owner

    def owner_alive(self, owner: str | None) -> bool:
        """Whether the process that owns ``owner`` still runs (its lock file is held)."""
        if not owner or not owner.startswith("local:"):
            return False
        if owner == self._owner:
            return True
        fd = try_lock(self._owner_lock(owner))
        if fd is None:
            return self._owner_lock(owner).exists()
        os.close(fd)
        return False

    def dead_owners(self) -> list[str]:
        """Lock files of owners that no longer run (removed as they are found)."""
        folder = self.dir / "owners"
        dead: list[str] = []
        if not folder.is_dir():
            return dead
        for path in sorted(folder.glob("*.lock")):
            if self._owner and path == self._owner_lock(self._owner):
                continue
            fd = try_lock(path)
            if fd is not None:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                os.close(fd)
                dead.append(path.stem)
        return dead

    def close(self) -> None:
        """Give up ownership (tests and short-lived tools; a process that exits does the same)."""
        if self._owner_fd is not None:
            with contextlib.suppress(FileNotFoundError):
                self._owner_lock(str(self._owner)).unlink()
            os.close(self._owner_fd)
            self._owner_fd, self._owner = None, None

    def __del__(self) -> None:
        with contextlib.suppress(OSError, TypeError, AttributeError):
            self.close()

    # ---------------------------------------------------------------- files

    def _job_path(self, bundle_id: str) -> Path:
        return self.dir / "jobs" / f"{check_bundle_id(bundle_id)}.json"

    @staticmethod
    def _read(path: Path) -> Any:
        """The JSON value stored at ``path``; None when there is no file; ``_MISSING`` when damaged."""
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_RECORD_BYTES + 1)
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            return _MISSING
        if len(raw) > MAX_RECORD_BYTES:
            return _MISSING
        return _decode(raw)

    @staticmethod
    def _encode(data: Mapping[str, Any]) -> bytes:
        return json.dumps(dict(data), sort_keys=True, default=str).encode("utf-8")

    def _write(self, path: Path, data: Mapping[str, Any]) -> None:
        atomic_write(path, self._encode(data))

    def _mutating(self) -> contextlib.AbstractContextManager[None]:
        return locked(self.dir / ".lock")

    def _job_or_none(self, bundle_id: str) -> dict[str, Any] | None:
        data = self._read(self._job_path(bundle_id))
        if data is None:
            return None
        if data is _MISSING:
            return damaged_job(bundle_id, "not JSON")
        return check_job(data, bundle_id)

    # ---------------------------------------------------------------- jobs

    def create_job(self, job: dict[str, Any]) -> None:
        if not create_exclusive(self._job_path(job["bundle_id"]), self._encode(job)):
            raise ToolError("Conflict", f"job {job['bundle_id']} already exists")

    def update_job(self, bundle_id: str, **fields: Any) -> None:
        path = self._job_path(bundle_id)
        with self._mutating():
            job = self._job_or_none(bundle_id) or {"bundle_id": bundle_id}
            job.update(fields)
            self._write(path, job)

    def transition(self, bundle_id: str, expect: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
        """Apply ``fields`` only if the job's current values equal ``expect`` (None: the field is
        absent); True when applied. The compare and the write happen under the store lock."""
        path = self._job_path(bundle_id)
        with self._mutating():
            job = self._job_or_none(bundle_id)
            if job is None or any(job.get(key) != value for key, value in expect.items()):
                return False
            job.update(fields)
            for key in [k for k, v in fields.items() if v is None]:
                job.pop(key, None)
            self._write(path, job)
            return True

    def get_job(self, bundle_id: str) -> dict[str, Any] | None:
        return self._job_or_none(bundle_id)

    # ---------------------------------------------------------------- latest pointers

    def _latest_path(self, instance_id: str) -> Path:
        if not is_node_id(instance_id):  # EC2 instance ids and hybrid (SSM managed instance) ids only
            raise ToolError("InvalidArgument", "instanceId must look like i-0123456789abcdef0")
        return self.dir / "latest" / f"{instance_id}.json"

    def set_latest(self, instance_id: str, bundle_id: str) -> None:
        with self._mutating():
            self._write(self._latest_path(instance_id), {"instance_id": instance_id, "bundle_id": bundle_id})

    def advance_latest(self, instance_id: str, bundle_id: str) -> bool:
        """Point the node at ``bundle_id`` unless it already points at a bundle made in a later second
        (ids start with their creation time; within one second the last indexed wins)."""
        with self._mutating():
            current = self._stored_latest(instance_id)
            if current is not None and current[:TIME_PREFIX] > bundle_id[:TIME_PREFIX]:
                return False
            self._write(self._latest_path(instance_id), {"instance_id": instance_id, "bundle_id": bundle_id})
            return True

    def _stored_latest(self, instance_id: str) -> str | None:
        record = self._read(self._latest_path(instance_id))
        if isinstance(record, dict) and record.get("instance_id") == instance_id:
            try:
                return check_bundle_id(record.get("bundle_id"))
            except ToolError:
                return None
        return None

    def get_latest(self, instance_id: str) -> str | None:
        """The node's latest indexed bundle; a damaged pointer is rebuilt from the node's indexed jobs."""
        path = self._latest_path(instance_id)
        stored = self._stored_latest(instance_id)
        if stored is not None or not path.exists():
            return stored
        with self._mutating():
            indexed = [j for j in self.list_jobs(instance_id, 10_000) if j.get("state") == "indexed"]
            if not indexed:
                path.unlink(missing_ok=True)
                return None
            newest = str(max(j["bundle_id"] for j in indexed))
            self._write(path, {"instance_id": instance_id, "bundle_id": newest})
            return newest

    # ---------------------------------------------------------------- listing

    def list_jobs(self, instance_id: str | None, limit: int) -> list[dict[str, Any]]:
        folder = self.dir / "jobs"
        if not folder.is_dir():
            return []
        out: list[dict[str, Any]] = []
        # bundle ids start with their UTC creation time, so name order is time order
        for path in sorted(folder.glob("b-*.json"), reverse=True):
            try:
                job = self._job_or_none(path.stem)
            except ToolError:  # a file name that is not a bundle id: not ours
                continue
            if job and not job.get("corrupt") and (instance_id is None or job.get("instance_id") == instance_id):
                out.append(job)
                if len(out) >= limit:
                    break
        return out

    def damaged_jobs(self) -> list[dict[str, Any]]:
        """Job files that cannot be read as jobs (for :func:`eksdiag.adapters.lifecycle.recover`)."""
        folder = self.dir / "jobs"
        out: list[dict[str, Any]] = []
        for path in sorted(folder.glob("b-*.json")) if folder.is_dir() else []:
            try:
                job = self._job_or_none(path.stem)
            except ToolError:
                continue
            if job and job.get("corrupt"):
                out.append(job)
        return out

    # ---------------------------------------------------------------- records

    def _record_path(self, kind: str, record_id: str) -> Path:
        for part in (kind, record_id):
            if not part or not all(c.isalnum() or c in "-_." for c in part) or part.startswith("."):
                raise ToolError("InvalidArgument", f"bad record name {part[:80]!r}")
        return self.dir / "records" / kind / f"{record_id}.json"

    def put_record(self, kind: str, record_id: str, record: dict[str, Any]) -> None:
        self._write(self._record_path(kind, record_id), dict(record))

    def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        """The record, or None when there is none or it is damaged (not an object, or naming a bundle
        with something that is not a bundle id)."""
        data = self._read(self._record_path(kind, record_id))
        if not isinstance(data, dict):
            return None
        if "bundle_id" in data and not (isinstance(data["bundle_id"], str) and BUNDLE_ID.fullmatch(data["bundle_id"])):
            return None
        return data

    def claim_record(
        self, kind: str, record_id: str, record: dict[str, Any], supersede: str | None = None
    ) -> dict[str, Any]:
        """Store ``record`` if no record has this name (or the stored one is damaged, or names the
        bundle ``supersede``); return the record that is stored now: ours, or the winner's."""
        path = self._record_path(kind, record_id)
        if create_exclusive(path, self._encode(record)):
            return dict(record)
        with self._mutating():
            current = self.get_record(kind, record_id)
            if current is None or (supersede is not None and current.get("bundle_id") == supersede):
                self._write(path, record)
                return dict(record)
            return current
