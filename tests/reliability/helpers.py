"""Shared by the fault-injection tests: big bundles, contexts, and the local server as a process."""

from __future__ import annotations

import random
from pathlib import Path

from eksdiag.adapters.context import local_context
from eksdiag.tools.base import ToolContext

from tests.fixtures.seed import node_files, write_bundle
from tests.tools.conftest import FIXED_NOW


def local(folder: Path, clock: object = None) -> ToolContext:
    """The local stores on ``folder`` (what ``eksdiag serve --bundles folder`` uses), fixed clock."""
    return local_context(folder, clock=clock or (lambda: FIXED_NOW))  # type: ignore[arg-type]


def big_bundle(path: Path, instance_id: str, megabytes: int = 8, seed: int = 7) -> Path:
    """The faulty seed node's files plus a large, poorly compressible log, packed like the collector
    (``./``-prefixed members, gzip): indexing it takes long enough to be interrupted."""
    rng = random.Random(seed)
    lines = [f"Mar 06 18:0{i % 10}:00 node app[1]: {rng.getrandbits(256):064x}" for i in range(megabytes * 11_000)]
    files = {**node_files(faulty=True), "var_log/zz-big.log": "\n".join(lines) + "\n"}
    files["system/instance-id.txt"] = instance_id + "\n"
    return write_bundle(files, path)


def bundle_of(path: Path, instance_id: str, extra: dict[str, str] | None = None, name_id: bool = True) -> Path:
    """A small bundle of ``instance_id`` (the faulty seed's files); ``extra`` files added or replaced."""
    files = {**node_files(faulty=True), "system/instance-id.txt": instance_id + "\n", **(extra or {})}
    return write_bundle({k: v for k, v in files.items() if v is not None}, path)
