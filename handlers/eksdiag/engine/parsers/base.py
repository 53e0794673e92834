"""Types shared by the artifact parsers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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


MAX_KEPT_TEXT = 300
"""Characters of a line or command a parser keeps for evidence and detail."""


def clip(text: str, limit: int = MAX_KEPT_TEXT) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass
class HeadedTable:
    """Rows of a whitespace-separated table under a header line (``PID Count``, ``PID Name ...``).

    ``rows`` yields ``(line number, text, fields)`` for every non-blank line after taking the first one
    that starts with ``header`` as the header; the caller counts the rows it cannot use in ``unparsed``.
    """

    header: tuple[str, ...]
    header_line: int | None = None
    unparsed: int = 0

    def rows(self, lines: Iterable[Line]) -> Iterator[tuple[int, str, list[str]]]:
        for number, text in lines:
            fields = text.split()
            if not fields:
                continue
            if self.header_line is None and tuple(fields[: len(self.header)]) == self.header:
                self.header_line = number
                continue
            yield number, text, fields
