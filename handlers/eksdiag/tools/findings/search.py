"""search: an RE2 pattern over the bundle's text files, exact line numbers, paged with a cursor.

RE2 runs in linear time, so no pattern can pin the function (no ReDoS). Each call scans at most
:data:`SCAN_BUDGET_BYTES`; when the budget or ``maxMatches`` is reached the answer carries a
``nextCursor`` that resumes exactly where this call stopped.
"""

from __future__ import annotations

import fnmatch
import time
from collections import deque
from typing import Any

import re2

from eksdiag.tools.base import ToolContext, ToolError
from eksdiag.tools.findings._common import (
    clip,
    cursor_int,
    cursor_secret,
    decode_cursor,
    encode_cursor,
    query_key,
    resolve_bundle,
)
from eksdiag.tools.findings._files import iter_lines

NAME = "search"
GROUP = "findings"
SCAN_BUDGET_BYTES = 256 << 20
TIME_BUDGET_SECONDS = 20.0
MAX_LINE_CHARS = 1000


def compile_pattern(pattern: str, ignore_case: bool) -> Any:
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not ignore_case
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ToolError(
            "InvalidArgument",
            f"pattern is not valid RE2 syntax: {reason} (RE2 has no backreferences or lookaround)",
        ) from None


def _candidates(files: dict[str, dict[str, Any]], globs: list[str]) -> list[str]:
    paths = sorted(p for p, f in files.items() if not f.get("binary"))
    if globs:
        paths = [p for p in paths if any(fnmatch.fnmatchcase(p, g) for g in globs)]
    return paths


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    bundle = resolve_bundle(args, ctx)
    regex = compile_pattern(args["pattern"], args["ignoreCase"])
    globs = list(args.get("files") or [])
    paths = _candidates(bundle.files, globs)
    limit, around = args["maxMatches"], args["contextLines"]
    key = query_key(NAME, bundle.bundle_id, args["pattern"], args["ignoreCase"], globs, limit, around)
    secret = cursor_secret(ctx, bundle)
    position = decode_cursor(args.get("cursor"), key, secret) or {"f": 0, "l": 1, "b": 0}
    file_index = cursor_int(position, "f", 0, max(0, len(paths) - 1))
    start_line, start_byte = cursor_int(position, "l", 1), cursor_int(position, "b", 0)
    # the first line to match; the lines from start_line up to it only give "before" context
    search_from = cursor_int(position, "s", start_line, start_line + around) if "s" in position else start_line
    if (start_line == 1) != (start_byte == 0):  # line 1 starts at byte 0 and no other line does
        raise ToolError("InvalidArgument", "cursor is not one this tool returned; start without cursor")

    matches: list[dict[str, Any]] = []
    waiting: list[dict[str, Any]] = []  # matches still collecting "after" context
    scanned = searched_lines = 0
    started = time.monotonic()
    searched: list[str] = []
    next_position: dict[str, int] | None = None
    while file_index < len(paths):
        path = paths[file_index]
        searched.append(path)
        before: deque[str] = deque(maxlen=around)
        recent: deque[tuple[int, int]] = deque(maxlen=around + 1)  # (number, start) of the last lines
        resume: dict[str, int] | None = None
        for line in iter_lines(ctx, bundle.bundle_id, path, start_line, start_byte):
            text = line.text
            recent.append((line.number, line.start))
            if line.number < search_from:  # context for the first matches of this page
                if around:
                    before.append(clip(text, MAX_LINE_CHARS))
                continue
            for pending in waiting:
                pending["after"].append(clip(text, MAX_LINE_CHARS))
            waiting = [m for m in waiting if len(m["after"]) < around]
            scanned += len(line.raw) + 1
            if (
                resume is None
                and searched_lines  # every page moves on by at least one line, however slow the store
                and (
                    len(matches) >= limit
                    or scanned > SCAN_BUDGET_BYTES
                    or (time.monotonic() - started > TIME_BUDGET_SECONDS)
                )
            ):
                # the next page searches from this line on, re-reading the lines before it for context
                first, first_start = recent[0]
                resume = {"f": file_index, "l": first, "b": first_start, "s": line.number}
            if resume is not None:
                if not waiting:  # keep reading only to finish the "after" context of this page's matches
                    break
                continue
            if regex.search(text):
                match: dict[str, Any] = {
                    "file": path,
                    "line": line.number,
                    "text": clip(text, MAX_LINE_CHARS),
                }
                if around:
                    match["before"] = list(before)
                    match["after"] = []
                    waiting.append(match)
                matches.append(match)
            searched_lines += 1
            if around:
                before.append(clip(text, MAX_LINE_CHARS))
        waiting = []
        if resume is not None:
            next_position = resume
            break
        file_index, start_line, start_byte, search_from = file_index + 1, 1, 0, 1
        if len(matches) >= limit and file_index < len(paths):
            next_position = {"f": file_index, "l": 1, "b": 0}
            break
    return {
        **bundle.header(),
        "pattern": args["pattern"],
        "matches": matches,
        "returned": len(matches),
        "filesSearched": searched,
        "filesTotal": len(paths),
        "bytesScanned": scanned,
        "complete": next_position is None,
        "nextCursor": encode_cursor(key, next_position, secret) if next_position else None,
    }
