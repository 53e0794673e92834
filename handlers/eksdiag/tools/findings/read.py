"""read: part of one file of a bundle, by finding id, line range or byte range.

Only files listed in the bundle's index can be read (never an arbitrary key). Byte ranges are
exact and never split a UTF-8 character: the start moves forward past continuation bytes and the
end moves back to a character boundary; the answer says which bytes it returns and where to go on.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from eksdiag.adapters import safe_member_path
from eksdiag.tools.base import ToolContext, ToolError
from eksdiag.tools.findings._common import LoadedBundle, brief, resolve_bundle
from eksdiag.tools.findings._files import lines_from
from eksdiag.tools.validate import finding_id as check_finding_id

NAME = "read"
GROUP = "findings"
#: Content returned by one call; far below the gateway's 6 MB, and a sane amount for a model.
MAX_CONTENT_BYTES = 1 << 20
#: The content as a JSON string (``json.dumps``, ASCII-escaped) stays under this many bytes: a control
#: byte becomes a six-character escape such as ``\u001b`` and non-ASCII characters are escaped too, so
#: 1 MiB of raw bytes can grow to 6 MiB, over the gateway's 6 MB result cap.
MAX_CONTENT_JSON_BYTES = 3 << 20


def json_cost(text: str) -> int:
    """Bytes ``text`` takes inside a JSON string (``json.dumps`` with its default ``ensure_ascii``)."""
    return len(json.dumps(text)) - 2


def fit_json(chunk: bytes, budget: int) -> int:
    """How many leading bytes of ``chunk`` (ending on a character boundary) decode, with invalid bytes
    as U+FFFD, to text whose JSON form takes at most ``budget`` bytes."""
    text = chunk.decode("utf-8", errors="surrogateescape")
    if len(json.dumps(text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace"))) - 2 <= budget:
        return len(chunk)
    cost = used = 0
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte: shown as \ufffd
            width, escaped = 1, 6
        elif code < 0x80:
            width, escaped = 1, len(json.dumps(char)) - 2
        elif code < 0x800:
            width, escaped = 2, 6
        elif code < 0x10000:
            width, escaped = 3, 6
        else:
            width, escaped = 4, 12  # a surrogate pair
        if cost + escaped > budget:
            break
        cost += escaped
        used += width
    return used


def utf8_window(data: bytes, limit: int) -> tuple[int, int]:
    """``(skip, keep)``: drop ``skip`` leading continuation bytes and keep ``data[skip:keep]``, at most
    ``limit`` bytes, ending on a character boundary (at least one whole character if there is one)."""
    skip = 0
    while skip < min(3, len(data)) and data[skip] & 0xC0 == 0x80:
        skip += 1
    end = min(len(data), skip + limit)
    cut = end
    # walk back from the end to the start of the last character and keep it only if it is whole
    lead = cut - 1
    while lead > skip and data[lead] & 0xC0 == 0x80 and cut - lead < 4:
        lead -= 1
    if lead >= skip:
        first = data[lead]
        width = (
            1
            if first < 0x80
            else 2
            if first >> 5 == 0b110
            else 3
            if first >> 4 == 0b1110
            else 4
            if first >> 3 == 0b11110
            else 1
        )
        if lead + width > cut:
            cut = lead
    if cut == skip and len(data) > skip:  # the limit is smaller than one character: return that character
        first = data[skip]
        width = 2 if first >> 5 == 0b110 else 3 if first >> 4 == 0b1110 else 4 if first >> 3 == 0b11110 else 1
        cut = skip + width if skip + width <= len(data) else skip
    return skip, cut


def _check_path(bundle: LoadedBundle, path: str) -> dict[str, Any]:
    """The index entry of exactly ``path``: a listed file, named the way the index names it.

    Non-canonical spellings (``a/../b``, ``./a``, ``a//b``, a trailing ``/``) are refused rather than
    normalised: the caller must name the file exactly as validate/errors/search listed it.
    """
    clean = safe_member_path(path)
    if clean != path:
        raise ToolError(
            "InvalidArgument",
            f"path must be a bundle-relative file path exactly as listed (no '.', '..' or empty parts), "
            f"got {path[:80]!r}" + (f"; did you mean {clean[:80]!r}?" if clean in bundle.files else ""),
        )
    entry = bundle.files.get(path)
    if entry is None:
        close = difflib.get_close_matches(path, list(bundle.files), n=5, cutoff=0.5)
        raise ToolError(
            "NotFound",
            f"{path} is not a file of bundle {bundle.bundle_id}",
            details={"similarFiles": close} if close else None,
        )
    return entry


def _read_lines(ctx: ToolContext, bundle: LoadedBundle, path: str, start: int, count: int) -> dict[str, Any]:
    lines: list[str] = []
    used = escaped = 0
    first_byte: int | None = None
    end_byte = 0
    last = start - 1
    more = False
    for line in lines_from(ctx, bundle.bundle_id, path, start):
        text = line.text
        cost = json_cost(text) + 2  # and its "\n"
        if len(lines) >= count or (
            lines and (used + len(line.raw) + 1 > MAX_CONTENT_BYTES or escaped + cost > MAX_CONTENT_JSON_BYTES)
        ):
            more = True
            break
        if first_byte is None:
            first_byte = line.start
        lines.append(text)
        used += len(line.raw) + 1
        escaped += cost
        end_byte = line.start + line.length + (1 if line.newline else 0)
        last = line.number
    if first_byte is None:
        total = bundle.files[path].get("lines")
        raise ToolError("InvalidArgument", f"{path} has no line {start} (it has {total} lines)")
    return {
        "mode": "lines",
        "startLine": start,
        "endLine": last,
        "startByte": first_byte,
        "endByte": end_byte,
        "content": "\n".join(lines) + ("\n" if lines else ""),
        "nextLine": last + 1 if more else None,
        "nextByte": None,
    }


def _read_bytes(ctx: ToolContext, bundle: LoadedBundle, path: str, start: int, limit: int) -> dict[str, Any]:
    if path.endswith(".gz"):
        raise ToolError("InvalidArgument", f"{path} is compressed: read it by line range (startLine) instead")
    size = ctx.store.file_size(bundle.bundle_id, path)
    if size is None:
        raise ToolError("NotFound", f"{path} is listed in the index but its content is missing")
    if start >= size and (size > 0 or start > 0):
        raise ToolError("InvalidArgument", f"startByte {start} is past the end of {path} ({size} bytes)")
    # up to 3 continuation bytes may be skipped and one whole 4-byte character may be needed
    data = ctx.store.read_range(bundle.bundle_id, path, start, min(size, start + limit + 7))
    skip, keep = utf8_window(data, limit)
    keep = skip + max(fit_json(data[skip:keep], MAX_CONTENT_JSON_BYTES), min(keep - skip, 4))
    keep = skip + utf8_window(data[skip:keep], keep - skip)[1]
    chunk = data[skip:keep]
    end = start + keep
    try:
        text, invalid = chunk.decode("utf-8"), False
    except UnicodeDecodeError:
        text, invalid = chunk.decode("utf-8", errors="replace"), True
    return {
        "mode": "bytes",
        "startLine": None,
        "endLine": None,
        "startByte": start + skip,
        "endByte": end,
        "content": text,
        "invalidUtf8": invalid,
        "nextLine": None,
        "nextByte": end if end < size else None,
    }


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    bundle = resolve_bundle(args, ctx)
    finding_id, path = args.get("findingId"), args.get("path")
    if bool(finding_id) == bool(path):
        raise ToolError("InvalidArgument", "give exactly one of findingId or path")
    finding: dict[str, Any] | None = None
    if finding_id:
        if "startLine" in args or "startByte" in args:
            raise ToolError("InvalidArgument", "startLine/startByte go with path, not with findingId")
        finding = bundle.finding(check_finding_id(finding_id))
        if finding is None:
            raise ToolError("NotFound", f"finding {finding_id} is not in bundle {bundle.bundle_id}; see errors")
        path = finding["file"]
        around = args["contextLines"]
        start, count = max(1, int(finding["line"]) - around), 2 * around + 1
    if "startLine" in args and "startByte" in args:
        raise ToolError("InvalidArgument", "give startLine (line mode) or startByte (byte mode), not both")
    assert path is not None
    entry = _check_path(bundle, path)
    if entry.get("binary") and "startByte" not in args:
        raise ToolError("InvalidArgument", f"{path} is binary: read a byte range (startByte) or fetch it with artifact")
    if finding is None and "startByte" in args:
        part = _read_bytes(ctx, bundle, path, args["startByte"], args["maxBytes"])
    else:
        if finding is None:
            start, count = args.get("startLine", 1), args["lineCount"]
        part = _read_lines(ctx, bundle, path, start, count)
    result: dict[str, Any] = {
        **bundle.header(),
        "path": path,
        "size": entry.get("size"),
        "totalLines": entry.get("lines"),
        **part,
    }
    if finding is not None:
        result["finding"] = brief(finding, evidence=5)
    return result
