"""Process tables and kernel process state: ``ps``, ``top``, ``/proc/stat``, ``/proc/<pid>/stat``.

Files (eks-log-collector.sh, research/bundle.md 2.1): ``system/ps.txt`` (``ps fauxwww --headers``,
a process forest), ``system/ps-threads.txt`` (``ps -eTF --headers``, one line per thread),
``system/top.txt`` (``top -b -n 1``), ``system/procstat.txt`` (``/proc/stat``),
``system/allprocstat.txt`` (every ``/proc/<pid>/stat``) and ``system/large_environments.txt``
(``PID<TAB>Count`` for processes with more than 1000 environment variables).

Every parser keeps memory bounded on hostile input: counts grow, kept rows stop at a cap and
``truncated`` says so. None raises on arbitrary text.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from typing import Any

from eksdiag.engine.parsers.base import HeadedTable, Line, clip

MAX_KEPT = 200
"""Rows kept per list (zombies, large environments, top thread owners)."""
MAX_PROCESSES = 200_000
"""Per-PID tables (commands, thread counts) stop growing beyond this many PIDs."""
TOP_THREAD_OWNERS = 10

_PS_ROW = re.compile(
    r"(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+) (.*)",
    re.DOTALL,
)
"""USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND: ps separates columns by one space, so the
COMMAND group keeps the forest prefix (`` \\_ `` per level, four characters each)."""
_FOREST_MARK = " \\_ "
_PS_THREADS_ROW = re.compile(
    r"(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+\s+\d+\s+\d+\s+\S+\s+\S+\s+\S+\s+\S+ ?(.*)", re.DOTALL
)
"""UID PID SPID PPID C SZ RSS PSR STIME TTY TIME CMD (``ps -eTF``)."""
_TOP_TASKS = re.compile(
    r"(?:Tasks|Threads):\s*(\d+) total,\s*(\d+) running,\s*(\d+) sleeping,\s*(\d+) stopped,\s*(\d+) zombie"
)
_TOP_UPTIME = re.compile(r"top - \S+ up\s+(?:(\d+) days?,\s*)?(?:(\d+):(\d+)|(\d+) min)")
_TOP_SWAP = re.compile(r"([KMGTPE]i)B Swap:\s*([\d.]+)\s*total,\s*([\d.]+)\s*free,\s*([\d.]+)\s*used")
_TOP_MEM = re.compile(r"([KMGTPE]i)B Mem\s*:\s*([\d.]+)\s*total,\s*([\d.]+)\s*free,\s*([\d.]+)\s*used")
_UNIT_BYTES = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60}
_STAT_FIELDS_AFTER_COMM = 40
"""``/proc/<pid>/stat`` fields after ``(comm)`` up to ``delayacct_blkio_ticks`` (field 42)."""


def _row(number: int, text: str) -> dict[str, Any]:
    return {"line": number, "text": clip(text)}


# --- ps fauxwww ----------------------------------------------------------------------------------


def forest_depth(command: str) -> tuple[int, str]:
    """Depth in the ``ps f`` forest and the command without its prefix.

    ``ps`` draws each level as four characters (``    `` or `` |  ``) and the last as `` \\_ ``.
    """
    mark = command.find(_FOREST_MARK)
    if mark < 0 or command[:mark].strip(" |"):
        return 0, command
    return (mark + len(_FOREST_MARK)) // 4, command[mark + len(_FOREST_MARK) :]


def parse_ps(lines: Iterable[Line]) -> dict[str, Any]:
    """``ps fauxwww --headers``: process count, zombies with their parent, commands by PID.

    Returns ``{"kind": "ps", "processes": int, "zombies": int, "zombie_rows": [{"line", "text",
    "pid", "parent_pid", "parent"}], "commands": {pid: command}, "header_line", "unparsed",
    "truncated"}``. A zombie's parent is the process above it one level up in the forest: the one
    that has not reaped it.
    """
    processes = 0
    zombies = 0
    zombie_rows: list[dict[str, Any]] = []
    commands: dict[str, str] = {}
    header_line: int | None = None
    unparsed = 0
    truncated = False
    ancestors: list[tuple[str, str]] = []  # (pid, command) of the last process seen at each depth
    for number, text in lines:
        if not text.strip():
            continue
        if text.lstrip().startswith("USER") and text.rstrip().endswith("COMMAND"):
            header_line = header_line or number  # --headers repeats the header on every page
            continue
        m = _PS_ROW.match(text)
        if m is None:
            unparsed += 1
            continue
        processes += 1
        pid, stat = m.group(2), m.group(8)
        depth, command = forest_depth(m.group(11))
        del ancestors[depth:]
        parent = ancestors[-1] if ancestors and len(ancestors) == depth else None
        ancestors.append((pid, command))
        if len(commands) < MAX_PROCESSES:
            commands[pid] = clip(command)
        else:
            truncated = True
        if stat.startswith("Z"):
            zombies += 1
            if len(zombie_rows) < MAX_KEPT:
                zombie_rows.append(
                    {
                        **_row(number, text),
                        "pid": pid,
                        "parent_pid": parent[0] if parent else None,
                        "parent": clip(parent[1]) if parent else None,
                    }
                )
            else:
                truncated = True
    return {
        "kind": "ps",
        "processes": processes,
        "zombies": zombies,
        "zombie_rows": zombie_rows,
        "commands": commands,
        "header_line": header_line,
        "unparsed": unparsed,
        "truncated": truncated,
    }


# --- ps -eTF -------------------------------------------------------------------------------------


def parse_ps_threads(lines: Iterable[Line]) -> dict[str, Any]:
    """``ps -eTF --headers``: thread count, and the processes holding the most threads.

    Returns ``{"kind": "ps-threads", "threads": int, "processes": int, "top": [{"pid", "threads",
    "command", "line", "text"}], "unparsed", "truncated"}`` (``top``: the TOP_THREAD_OWNERS
    processes with the most threads, biggest first; ``line``/``text``: the first line of each).
    ``ps`` lists a process's threads together, so each run of one PID is counted as it ends.
    """
    threads = 0
    pids: set[str] = set()
    top: list[tuple[int, int, str, int, str]] = []  # heap of (threads, -line, pid, line, text)
    run: list[Any] | None = None  # [pid, threads, line, text]
    unparsed = 0
    truncated = False

    def close(current: list[Any] | None) -> None:
        if current is None:
            return
        item = (current[1], -current[2], current[0], current[2], current[3])
        if len(top) < TOP_THREAD_OWNERS:
            heapq.heappush(top, item)
        elif item > top[0]:
            heapq.heapreplace(top, item)

    for number, text in lines:
        if not text.strip():
            continue
        if text.lstrip().startswith("UID") and text.rstrip().endswith("CMD"):  # repeated on every page
            continue
        m = _PS_THREADS_ROW.match(text)
        if m is None:
            unparsed += 1
            continue
        threads += 1
        pid = m.group(2)
        if run is not None and run[0] == pid:
            run[1] += 1
            continue
        close(run)
        run = [pid, 1, number, clip(text)]
        if len(pids) < MAX_PROCESSES:
            pids.add(pid)
        else:
            truncated = True
    close(run)
    ranked = sorted(top, reverse=True)
    return {
        "kind": "ps-threads",
        "threads": threads,
        "processes": len(pids),
        "top": [
            {"pid": pid, "threads": n, "line": line, "text": text, "command": _ps_threads_command(text)}
            for n, _, pid, line, text in ranked
        ],
        "unparsed": unparsed,
        "truncated": truncated,
    }


def _ps_threads_command(text: str) -> str:
    m = _PS_THREADS_ROW.match(text)
    return clip(m.group(5)) if m else ""


# --- top -b -n 1 ---------------------------------------------------------------------------------


def _scaled(value: str, unit: str) -> int | None:
    try:
        return round(float(value) * _UNIT_BYTES[unit])
    except (ValueError, KeyError, OverflowError):
        return None


def parse_top(lines: Iterable[Line]) -> dict[str, Any]:
    """``top -b -n 1``: the summary area (uptime, tasks, memory, swap) and its line numbers.

    Returns ``{"kind": "top", "uptime_seconds", "tasks": {"total", "running", "sleeping",
    "stopped", "zombie", "line"}, "memory": {"total", "free", "used" (bytes), "line", "text"}, "swap":
    {same keys}}``; a part top did not print is ``None``. Only the first screen's summary is read.
    """
    uptime: int | None = None
    tasks: dict[str, Any] | None = None
    memory: dict[str, Any] | None = None
    swap: dict[str, Any] | None = None
    for number, text in lines:
        if uptime is None and text.startswith("top - "):
            m = _TOP_UPTIME.match(text)
            if m is not None:
                days = int(m.group(1) or 0)
                minutes = int(m.group(4)) if m.group(4) else int(m.group(2)) * 60 + int(m.group(3))
                uptime = days * 86400 + minutes * 60
            continue
        if tasks is None and (text.startswith("Tasks:") or text.startswith("Threads:")):
            m = _TOP_TASKS.match(text)
            if m is not None:
                keys = ("total", "running", "sleeping", "stopped", "zombie")
                tasks = {k: int(v) for k, v in zip(keys, m.groups(), strict=True)}
                tasks["line"] = number
            continue
        if memory is None and "B Mem" in text[:8]:
            memory = _top_memory(_TOP_MEM.match(text), number, text)
            continue
        if swap is None and "B Swap" in text[:8]:
            swap = _top_memory(_TOP_SWAP.match(text), number, text)
            continue
        if text.lstrip().startswith("PID ") or (tasks is not None and swap is not None):
            break
    return {"kind": "top", "uptime_seconds": uptime, "tasks": tasks, "memory": memory, "swap": swap}


def _top_memory(m: re.Match[str] | None, number: int, text: str) -> dict[str, Any] | None:
    if m is None:
        return None
    unit = m.group(1)
    return {
        "total": _scaled(m.group(2), unit),
        "free": _scaled(m.group(3), unit),
        "used": _scaled(m.group(4), unit),
        "line": number,
        "text": clip(text),
    }


# --- /proc/stat and /proc/<pid>/stat -------------------------------------------------------------


def parse_procstat(lines: Iterable[Line]) -> dict[str, Any]:
    """``/proc/stat``: boot time (``btime``, epoch seconds) and the process counters, with lines.

    Returns ``{"kind": "procstat", "btime", "processes", "procs_running", "procs_blocked",
    "lines": {key: line}}``; a missing key is ``None``.
    """
    keys = ("btime", "processes", "procs_running", "procs_blocked")
    values: dict[str, int | None] = dict.fromkeys(keys)
    where: dict[str, int] = {}
    for number, text in lines:
        parts = text.split()
        if len(parts) == 2 and parts[0] in values and values[parts[0]] is None and parts[1].isdigit():
            values[parts[0]] = int(parts[1])
            where[parts[0]] = number
    return {"kind": "procstat", **values, "lines": where}


def split_proc_stat(text: str) -> tuple[str, str, list[str]] | None:
    """``/proc/<pid>/stat`` → (pid, comm, the fields after comm); ``None`` for anything else.

    ``comm`` is between the first ``(`` and the last ``)``: it may itself hold spaces and parentheses.
    """
    open_at = text.find(" (")
    close_at = text.rfind(") ")
    if open_at <= 0 or close_at <= open_at:
        return None
    pid = text[:open_at]
    if not pid.isdigit():
        return None
    return pid, text[open_at + 2 : close_at], text[close_at + 2 :].split()


def parse_allprocstat(lines: Iterable[Line]) -> dict[str, Any]:
    """Every ``/proc/<pid>/stat`` line: per process its start time, threads and block-IO delay.

    Returns ``{"kind": "allprocstat", "processes": int, "threads": int, "by_pid": {pid: {"comm",
    "state", "threads", "start_ticks", "blkio_ticks", "line"}}, "unparsed", "truncated"}``
    (``start_ticks``: clock ticks after boot, 100 per second on Linux; ``blkio_ticks``: aggregated
    block-IO delay in the same ticks).
    """
    by_pid: dict[str, dict[str, Any]] = {}
    processes = 0
    threads = 0
    unparsed = 0
    truncated = False
    for number, text in lines:
        split = split_proc_stat(text)
        if split is None or len(split[2]) < _STAT_FIELDS_AFTER_COMM:
            if text.strip():
                unparsed += 1
            continue
        pid, comm, fields = split
        try:
            task_count, start_ticks, blkio_ticks = int(fields[17]), int(fields[19]), int(fields[39])
        except ValueError:
            unparsed += 1
            continue
        entry: dict[str, Any] = {
            "comm": clip(comm),
            "state": fields[0],
            "threads": task_count,
            "start_ticks": start_ticks,
            "blkio_ticks": blkio_ticks,
            "line": number,
        }
        processes += 1
        threads += task_count
        if len(by_pid) < MAX_PROCESSES:
            by_pid[pid] = entry
        else:
            truncated = True
    return {
        "kind": "allprocstat",
        "processes": processes,
        "threads": threads,
        "by_pid": by_pid,
        "unparsed": unparsed,
        "truncated": truncated,
    }


# --- large environments --------------------------------------------------------------------------


def parse_large_environments(lines: Iterable[Line]) -> dict[str, Any]:
    """``PID<TAB>Count`` rows (the collector writes only processes with more than 1000 variables).

    Returns ``{"kind": "large-environments", "processes": int, "largest": row | None, "rows":
    [{"pid", "count", "line", "text"}], "header_line", "unparsed", "truncated"}``; ``rows`` keeps
    the first MAX_KEPT rows in file order, ``largest`` the row with the most variables.
    """
    rows: list[dict[str, Any]] = []
    largest: dict[str, Any] | None = None
    processes = 0
    table = HeadedTable(("PID", "Count"))
    for number, text, parts in table.rows(lines):
        if len(parts) != 2 or not parts[0].isdigit() or not parts[1].isdigit():
            table.unparsed += 1
            continue
        processes += 1
        row = {"pid": parts[0], "count": int(parts[1]), **_row(number, text)}
        if largest is None or row["count"] > largest["count"]:
            largest = row
        if len(rows) < MAX_KEPT:
            rows.append(row)
    return {
        "kind": "large-environments",
        "processes": processes,
        "largest": largest,
        "rows": rows,
        "header_line": table.header_line,
        "unparsed": table.unparsed,
        "truncated": processes > len(rows),
    }
