"""``storage/mounts.txt`` (``mount``, a blank line, ``df --human-readable``) and ``storage/inodes.txt``.

``df`` sizes with ``-h`` are powers of 1024 with one-letter suffixes (``9.2G``); they are returned
as whole bytes. ``Use%``/``IUse%`` is an int, or ``None`` where df prints ``-``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from eksdiag.engine.parsers.base import Line

MAX_ROWS = 4096
"""Rows kept per section; beyond that only counts grow and ``truncated`` is set."""

_MOUNT = re.compile(r"(\S+) on (.+) type (\S+) \((.*)\)\s*$")
_DF_HEADER = re.compile(r"Filesystem\s+(?:Size|1K-blocks|\d+[KMG]?-blocks|Inodes)\b")
_SCALE = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50, "E": 1 << 60}
_HUMAN = re.compile(r"(\d+(?:[.,]\d+)?)([KMGTPE]?)(?:i?B)?")


def human_to_int(text: str) -> int | None:
    """``9.2G`` → 9878424780, ``0`` → 0, ``-`` → None (df ``-h``/``-i -h`` figures, base 1024)."""
    m = _HUMAN.fullmatch(text)
    if m is None:
        return None
    number = float(m.group(1).replace(",", "."))
    return round(number * _SCALE[m.group(2)])


def percent(text: str) -> int | None:
    """``89%`` → 89; ``-`` (no inodes, e.g. vfat) → None."""
    if text.endswith("%") and text[:-1].isdigit():
        return int(text[:-1])
    return None


class _DfRowSplitter:
    """Splits ``df`` rows into their six fields. A filesystem name too long for its column, which df
    puts on a line of its own, is joined to the figures on the next line."""

    def __init__(self) -> None:
        self.waiting_name: str | None = None
        self.unparsed = 0

    def split(self, text: str) -> list[str] | None:
        """The six fields of the row ``text`` completes; None when ``text`` is a lone filesystem name
        (kept for the next line) or no df row (counted in ``unparsed``)."""
        if self.waiting_name is None:
            fields = text.split(None, 5)
            if len(fields) == 1:
                self.waiting_name = fields[0]
                return None
        else:
            fields = [self.waiting_name, *text.split(None, 4)]
            self.waiting_name = None
        if len(fields) < 6:
            self.unparsed += 1
            return None
        return fields


def parse_mounts(lines: Iterable[Line]) -> dict[str, Any]:
    """``storage/mounts.txt``: the mount table summary and the ``df -h`` rows.

    Returns ``{"kind": "mounts", "mount_count", "mount_types": {type: count}, "overlay_count",
    "block_mounts": [{"device", "mountpoint", "type", "options", "line"}], "df_header_line",
    "filesystems": [{"filesystem", "size", "used", "avail", "use_pct", "mounted_on", "line", "text"}],
    "unparsed": int, "truncated": bool}``. ``line``/``text`` are the number and exact text of the
    line holding the figures (an over-long filesystem name that df put on a line of its own is
    joined into ``filesystem``). Lines that fit neither section (stderr text) count in ``unparsed``.
    """
    mount_count = 0
    overlay_count = 0
    mount_types: dict[str, int] = {}
    block_mounts: list[dict[str, Any]] = []
    filesystems: list[dict[str, Any]] = []
    unparsed = 0
    truncated = False
    header_line: int | None = None
    splitter = _DfRowSplitter()
    for number, text in lines:
        if header_line is None:
            if _DF_HEADER.match(text):
                header_line = number
                continue
            m = _MOUNT.match(text)
            if m is None:
                if text.strip():
                    unparsed += 1
                continue
            mount_count += 1
            device, mountpoint, fstype, options = m.groups()
            mount_types[fstype] = mount_types.get(fstype, 0) + 1
            if fstype == "overlay":
                overlay_count += 1
            elif device.startswith("/dev/"):
                if len(block_mounts) < MAX_ROWS:
                    block_mounts.append(
                        {
                            "device": device,
                            "mountpoint": mountpoint,
                            "type": fstype,
                            "options": options.split(","),
                            "line": number,
                        }
                    )
                else:
                    truncated = True
            continue
        if not text.strip():
            continue
        fields = splitter.split(text)
        if fields is None:
            continue
        row = _df_row(fields, number, text)
        if row is None:
            unparsed += 1
        elif len(filesystems) < MAX_ROWS:
            filesystems.append(row)
        else:
            truncated = True
    return {
        "kind": "mounts",
        "mount_count": mount_count,
        "mount_types": mount_types,
        "overlay_count": overlay_count,
        "block_mounts": block_mounts,
        "df_header_line": header_line,
        "filesystems": filesystems,
        "unparsed": unparsed + splitter.unparsed,
        "truncated": truncated,
    }


def _df_row(fields: list[str], line: int, text: str) -> dict[str, Any] | None:
    filesystem, size, used, avail, use, mounted_on = fields
    size_b, used_b, avail_b = human_to_int(size), human_to_int(used), human_to_int(avail)
    use_pct = percent(use)
    if size_b is None or (use_pct is None and use != "-"):
        return None
    return {
        "filesystem": filesystem,
        "size": size_b,
        "used": used_b,
        "avail": avail_b,
        "use_pct": use_pct,
        "mounted_on": mounted_on,
        "line": line,
        "text": text,
    }


def parse_inodes(lines: Iterable[Line]) -> dict[str, Any]:
    """``storage/inodes.txt`` (``df --inodes``, also with ``-h``).

    Returns ``{"kind": "inodes", "df_header_line", "filesystems": [{"filesystem", "inodes",
    "iused", "ifree", "iuse_pct", "mounted_on", "line", "text"}], "unparsed", "truncated"}``.
    """
    filesystems: list[dict[str, Any]] = []
    header_line: int | None = None
    unparsed = 0
    truncated = False
    splitter = _DfRowSplitter()
    for number, text in lines:
        if not text.strip():
            continue
        if header_line is None and _DF_HEADER.match(text):
            header_line = number
            continue
        fields = splitter.split(text)
        if fields is None:
            continue
        filesystem, inodes, iused, ifree, iuse, mounted_on = fields
        total = human_to_int(inodes)
        iuse_pct = percent(iuse)
        if total is None or (iuse_pct is None and iuse != "-"):
            unparsed += 1
            continue
        if len(filesystems) >= MAX_ROWS:
            truncated = True
            continue
        filesystems.append(
            {
                "filesystem": filesystem,
                "inodes": total,
                "iused": human_to_int(iused),
                "ifree": human_to_int(ifree),
                "iuse_pct": iuse_pct,
                "mounted_on": mounted_on,
                "line": number,
                "text": text,
            }
        )
    return {
        "kind": "inodes",
        "df_header_line": header_line,
        "filesystems": filesystems,
        "unparsed": unparsed + splitter.unparsed,
        "truncated": truncated,
    }
