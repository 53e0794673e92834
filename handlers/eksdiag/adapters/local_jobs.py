"""JobStore on a local folder: one JSON file per job, pointer and record under ``<root>/.eksdiag/state``."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from eksdiag.adapters.local_store import atomic_write
from eksdiag.tools.base import ToolError
from eksdiag.tools.validate import bundle_id as check_bundle_id
from eksdiag.tools.validate import instance_id as check_instance_id


class LocalJobStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.dir = Path(root).resolve() / ".eksdiag" / "state"
        self._lock = threading.Lock()

    def _job_path(self, bundle_id: str) -> Path:
        return self.dir / "jobs" / f"{check_bundle_id(bundle_id)}.json"

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        return data

    @staticmethod
    def _write(path: Path, data: dict[str, Any]) -> None:
        atomic_write(path, json.dumps(data, sort_keys=True, default=str).encode("utf-8"))

    def create_job(self, job: dict[str, Any]) -> None:
        path = self._job_path(job["bundle_id"])
        with self._lock:
            if path.exists():
                raise ToolError("Conflict", f"job {job['bundle_id']} already exists")
            self._write(path, dict(job))

    def update_job(self, bundle_id: str, **fields: Any) -> None:
        path = self._job_path(bundle_id)
        with self._lock:
            job = self._read(path) or {"bundle_id": bundle_id}
            job.update(fields)
            self._write(path, job)

    def get_job(self, bundle_id: str) -> dict[str, Any] | None:
        return self._read(self._job_path(bundle_id))

    def set_latest(self, instance_id: str, bundle_id: str) -> None:
        path = self.dir / "latest" / f"{check_instance_id(instance_id)}.json"
        self._write(path, {"instance_id": instance_id, "bundle_id": bundle_id})

    def get_latest(self, instance_id: str) -> str | None:
        record = self._read(self.dir / "latest" / f"{check_instance_id(instance_id)}.json")
        return str(record["bundle_id"]) if record else None

    def list_jobs(self, instance_id: str | None, limit: int) -> list[dict[str, Any]]:
        folder = self.dir / "jobs"
        if not folder.is_dir():
            return []
        out: list[dict[str, Any]] = []
        # bundle ids start with their UTC creation time, so name order is time order
        for path in sorted(folder.glob("b-*.json"), reverse=True):
            job = self._read(path)
            if job and (instance_id is None or job.get("instance_id") == instance_id):
                out.append(job)
                if len(out) >= limit:
                    break
        return out

    def _record_path(self, kind: str, record_id: str) -> Path:
        for part in (kind, record_id):
            if not part or not all(c.isalnum() or c in "-_." for c in part) or part.startswith("."):
                raise ToolError("InvalidArgument", f"bad record name {part[:80]!r}")
        return self.dir / "records" / kind / f"{record_id}.json"

    def put_record(self, kind: str, record_id: str, record: dict[str, Any]) -> None:
        self._write(self._record_path(kind, record_id), dict(record))

    def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        return self._read(self._record_path(kind, record_id))
