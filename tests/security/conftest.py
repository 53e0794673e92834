"""Fixtures of the red-team tests: the planted bundle, and where tool output may carry bundle text."""

from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.security import corpus

#: A field whose value is bundle text by nature (evidence lines, read content, search matches), or names a
#: bundle file (file names are chosen by whoever wrote the bundle, and stay in these data fields).
EVIDENCE_FIELDS = frozenset(
    {"evidence", "text", "content", "before", "after", "events"}
    | {"file", "path", "files", "filesSearched", "problems", "skipped", "similarFiles"}
)
#: Fields the tools write themselves: bundle text must never reach them.
PROSE_FIELDS = frozenset(
    {"title", "headline", "caveats", "reason", "timing", "nextStep", "description", "baselineReason", "message"}
)


@pytest.fixture(scope="session")
def redteam(tmp_path_factory: pytest.TempPathFactory) -> corpus.RedTeamBundle:
    return corpus.build(tmp_path_factory.mktemp("redteam"))


@pytest.fixture
def redteam_folder(redteam: corpus.RedTeamBundle, tmp_path: Path) -> Path:
    """A bundles folder with the red-team bundle and the healthy seed bundle (for compare_nodes)."""
    from tests.fixtures.seed import build_seed_bundles

    folder = tmp_path / "bundles"
    folder.mkdir()
    shutil.copy(redteam.path, folder / redteam.path.name)
    _, healthy = build_seed_bundles(tmp_path / "seed")
    shutil.copy(healthy, folder / Path(healthy).name)
    return folder


def inflate(data: bytes) -> bytes:
    """What a gzip stream holds, as far as it goes (a truncated one gives what precedes the cut)."""
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)


def leaked(output: Any, secrets: list[str]) -> list[str]:
    """The planted secrets (first characters only) found anywhere in ``output``."""
    text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
    return [secret[:12] + "…" for secret in secrets if secret in text]


def injected_paths(output: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths (keys, ``[]`` for list items) of the strings in ``output`` that carry the injection marker."""
    found: list[tuple[str, ...]] = []
    if isinstance(output, dict):
        for key, value in output.items():
            found += injected_paths(value, (*path, str(key)))
    elif isinstance(output, list):
        for value in output:
            found += injected_paths(value, (*path, "[]"))
    elif isinstance(output, str) and corpus.INJECTION_MARK in output:
        found.append(path)
    return found


def outside_evidence(paths: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Paths that are not inside an evidence field, or that end in one of the tools' own prose fields."""
    return [p for p in paths if not EVIDENCE_FIELDS.intersection(p) or p[-1] in PROSE_FIELDS]


# the moto-backed AWS context of the tool tests
from tests.tools.conftest import aws_ctx, aws_env  # noqa: E402, F401
