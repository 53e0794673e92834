"""Block devices and their state: ``system/io_throttling.txt``, ``storage/xfs.txt``, ``storage/lsblk.txt``.

- ``io_throttling.txt``: ``cut -d" " -f 1,2,42 /proc/[0-9]*/stat | sort -n -k+3 -r | grep -v " 0$"``
  under the header ``PID Name Block IO Delay (centisconds)``: PID, ``(comm)`` and the aggregated
  block-IO delay in clock ticks (centiseconds). ``cut`` splits on single spaces, so a ``comm`` with
  a space in it (``(VM Thread)``) shifts the fields: such a row's number is not the delay and is
  marked ``reliable: false``.
- ``xfs.txt``: for each XFS mount, ``xfs_info <dev>`` then ``xfs_db -r -c 'freesp -s' <dev>``: the
  free-extent histogram and ``total free extents``, ``total free blocks``, ``average free extent size``.
- ``lsblk.txt``: the block-device tree (``NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINT(S)``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from eksdiag.engine.parsers.base import HeadedTable, Line, clip
from eksdiag.engine.parsers.df import human_to_int

MAX_ROWS = 200

_XFS_META = re.compile(r"meta-data=(\S+)\s+isize=(\d+)\s+agcount=(\d+)")
_XFS_KV = re.compile(r"\b(bsize|blocks|sparse|agsize)=(\d+)")
_FREESP_ROW = re.compile(r"\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s*$")
_FREESP_SUMMARY = re.compile(r"(total free extents|total free blocks|average free extent size)\s+(\S+)")
_LSBLK_TREE = re.compile(r"^[\s│├└─|`\-]*")


# --- io_throttling.txt ---------------------------------------------------------------------------


def parse_io_throttling(lines: Iterable[Line]) -> dict[str, Any]:
    """Processes with a non-zero aggregated block-IO delay.

    Returns ``{"kind": "io-throttling", "rows": [{"pid", "name", "delay_ticks", "reliable", "line",
    "text"}], "processes": int, "header_line", "unparsed", "truncated"}``; ``rows`` are the
    MAX_ROWS largest reliable delays (the collector sorts them, largest first), then unreliable ones.
    """
    rows: list[dict[str, Any]] = []
    processes = 0
    table = HeadedTable(("PID", "Name"))
    for number, text, parts in table.rows(lines):
        if len(parts) < 3 or not parts[0].isdigit() or not parts[-1].isdigit():
            table.unparsed += 1
            continue
        processes += 1
        name = " ".join(parts[1:-1])
        reliable = len(parts) == 3 and (not name.startswith("(") or name.endswith(")"))
        rows.append(
            {
                "pid": parts[0],
                "name": clip(name[1:-1] if reliable and name.startswith("(") else name),
                "delay_ticks": int(parts[-1]),
                "reliable": reliable,
                "line": number,
                "text": clip(text),
            }
        )
        if len(rows) > 4 * MAX_ROWS:
            rows = _largest(rows)
    kept = _largest(rows)
    return {
        "kind": "io-throttling",
        "rows": kept,
        "processes": processes,
        "header_line": table.header_line,
        "unparsed": table.unparsed,
        "truncated": processes > len(kept),
    }


def _largest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (not r["reliable"], -r["delay_ticks"], r["line"]))[:MAX_ROWS]


# --- xfs.txt -------------------------------------------------------------------------------------


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_xfs(lines: Iterable[Line]) -> dict[str, Any]:
    """``xfs_info`` + ``xfs_db -r -c 'freesp -s'`` per XFS filesystem.

    Returns ``{"kind": "xfs", "filesystems": [{"device", "line", "isize", "bsize", "data_blocks",
    "agcount", "sparse_inodes", "histogram": [{"from", "to", "extents", "blocks"}],
    "free_extents", "free_blocks", "average_extent", "average_line", "average_text"}], "unparsed"}``.
    A freesp summary without an ``xfs_info`` header before it gets ``device: None``. An average
    ``xfs_db`` prints as ``nan`` (no free extent at all) is ``None``.
    """
    filesystems: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    unparsed = 0

    def start(device: str | None, number: int) -> dict[str, Any]:
        fs: dict[str, Any] = {
            "device": device,
            "line": number,
            "isize": None,
            "bsize": None,
            "data_blocks": None,
            "agcount": None,
            "sparse_inodes": None,
            "histogram": [],
            "free_extents": None,
            "free_blocks": None,
            "average_extent": None,
            "average_line": None,
            "average_text": None,
        }
        if len(filesystems) < MAX_ROWS:
            filesystems.append(fs)
        return fs

    section = ""
    for number, text in lines:
        stripped = text.strip()
        if not stripped:
            continue
        meta = _XFS_META.search(text)
        if meta is not None:
            current = start(meta.group(1), number)
            current["isize"] = int(meta.group(2))
            current["agcount"] = int(meta.group(3))
            section = "meta-data"
            continue
        head = stripped.split("=", 1)[0].strip()
        if head in ("data", "naming", "log", "realtime"):
            section = head
        if current is not None and "=" in stripped and section in ("naming", "log", "realtime"):
            continue
        if current is not None and "=" in stripped and section in ("meta-data", "data"):
            for key, value in _XFS_KV.findall(text):
                if key == "sparse" and section == "meta-data":
                    current["sparse_inodes"] = value == "1"
                elif key == "bsize" and section == "data" and current["bsize"] is None:
                    current["bsize"] = int(value)
                elif key == "blocks" and section == "data" and current["data_blocks"] is None:
                    current["data_blocks"] = int(value)
            continue
        summary = _FREESP_SUMMARY.search(text)
        if summary is not None:
            if current is None or current["average_extent"] is not None or current["average_text"] is not None:
                current = start(None, number)
            key, value = summary.group(1), summary.group(2)
            if key == "total free extents":
                current["free_extents"] = int(value) if value.isdigit() else None
            elif key == "total free blocks":
                current["free_blocks"] = int(value) if value.isdigit() else None
            else:
                current["average_extent"] = _number(value)
                current["average_line"] = number
                current["average_text"] = clip(text)
            continue
        row = _FREESP_ROW.match(text)
        if row is not None:
            if current is None or current["average_text"] is not None:
                current = start(None, number)
            if len(current["histogram"]) < 64:
                current["histogram"].append(
                    {
                        "from": int(row.group(1)),
                        "to": int(row.group(2)),
                        "extents": int(row.group(3)),
                        "blocks": int(row.group(4)),
                    }
                )
            continue
        if not stripped.startswith(("from", "=")):
            unparsed += 1
    return {"kind": "xfs", "filesystems": filesystems, "unparsed": unparsed}


# --- lsblk.txt -----------------------------------------------------------------------------------


def parse_lsblk(lines: Iterable[Line]) -> dict[str, Any]:
    """``lsblk``: ``{"kind": "lsblk", "devices": [{"name", "size", "type", "mountpoint", "line",
    "text"}], "unparsed"}`` (``size`` in bytes; tree drawing stripped from the name)."""
    devices: list[dict[str, Any]] = []
    unparsed = 0
    for number, text in lines:
        if not text.strip() or text.startswith("NAME"):
            continue
        name_part = _LSBLK_TREE.sub("", text)
        parts = name_part.split(None, 6)
        if len(parts) == 1 and text[:1].isspace() and devices:  # lsblk 2.37+: one more mountpoint of the device above
            devices[-1]["mountpoint"] = f"{devices[-1]['mountpoint']} {parts[0]}".strip()
            continue
        if len(parts) < 6 or ":" not in parts[1]:
            unparsed += 1
            continue
        if len(devices) >= 4 * MAX_ROWS:
            continue
        devices.append(
            {
                "name": parts[0],
                "size": human_to_int(parts[3]),
                "type": parts[5],
                "mountpoint": parts[6].strip() if len(parts) > 6 else "",
                "line": number,
                "text": clip(text),
            }
        )
    return {"kind": "lsblk", "devices": devices, "unparsed": unparsed}
