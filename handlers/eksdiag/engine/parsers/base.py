"""Types shared by the artifact parsers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Line = tuple[int, str]
Parser = Callable[[Iterable[Line]], dict[str, Any]]


@dataclass(frozen=True)
class ArtifactSpec:
    kind: str
    paths: tuple[str, ...]
    """fnmatch globs over the bundle-relative path (no leading ``./``)."""
    parse: Parser
