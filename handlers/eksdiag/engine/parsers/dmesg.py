"""The kernel ring buffer as the bundle holds it: ``kernel/dmesg.current`` (``dmesg``, stamps in
seconds since boot), ``kernel/dmesg.human.current`` (``dmesg --ctime``, wall-clock stamps) and, on
AL2, ``kernel/dmesg.boot`` (``/var/log/dmesg``, written at boot, raw stamps).

Line rules read these files; this parser keeps only what maps boot-relative stamps to wall time:
the first stamped lines of each file (the same messages, at the same moments, in both formats).
It stops reading after KEPT_STAMPS of them; the indexer's line scan reads the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eksdiag.engine.parsers.base import Line
from eksdiag.engine.parsers.logline import parse_dmesg

KEPT_STAMPS = 200
MAX_MESSAGE = 200


def parse_dmesg_log(lines: Iterable[Line]) -> dict[str, Any]:
    """``{"kind": "dmesg", "raw": [[seconds, message]], "ctime": [[epoch, message]]}``: the first
    stamped lines of the file in each format (together at most KEPT_STAMPS; messages cut to
    MAX_MESSAGE characters)."""
    raw: list[list[Any]] = []
    ctime: list[list[Any]] = []
    for _, text in lines:
        parsed = parse_dmesg(text)
        if parsed is None:
            continue
        message = parsed.message[:MAX_MESSAGE]
        if parsed.seconds is not None:
            raw.append([parsed.seconds, message])
        elif parsed.time is not None:
            ctime.append([parsed.time.timestamp(), message])
        if len(raw) + len(ctime) >= KEPT_STAMPS:
            break
    return {"kind": "dmesg", "raw": raw, "ctime": ctime}
