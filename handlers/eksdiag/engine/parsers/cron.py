"""``var_log/cron`` (AL2: rsyslog's ``cron.*`` file): when each cron job ran.

cronie logs one line per run: ``Sep 17 21:44:01 host CROND[13867]: (root) CMD (/usr/bin/job --flag)``
(Debian's cron: ``CRON[123]: (root) CMD (command)``). A job is the pair (user, command). The parser
keeps, per job, how many runs followed the previous one by less than RAPID_SECONDS, the shortest
such gap and the lines of the first and last of them; memory is bounded by MAX_JOBS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from eksdiag.engine.parsers.base import Line, clip
from eksdiag.engine.parsers.logline import parse_journal_short

RAPID_SECONDS = 300
"""The EKS Node Monitoring Agent's bar: a job that runs again within five minutes runs rapidly."""
MAX_JOBS = 10_000
MAX_RAPID = 200

_CMD = re.compile(r"\(([^()\s]*)\) CMD \((.*)\)\s*$", re.DOTALL)
_PSEUDO_YEAR = 2000
"""A leap year, so ``Feb 29`` parses; the log has no year and only gaps between runs matter."""
_HALF_YEAR = timedelta(days=183)


def parse_cron_log(lines: Iterable[Line]) -> dict[str, Any]:
    """``{"kind": "cron", "runs": int, "jobs": int, "rapid_jobs": int, "rapid": [{"user", "command", "runs",
    "rapid_runs", "min_gap_seconds", "first_line", "first_text", "last_line", "last_text"}],
    "unparsed", "truncated"}``; ``rapid`` lists (up to MAX_RAPID) jobs with at least one rapid run,
    those with the most rapid runs first."""
    state: dict[tuple[str, str], dict[str, Any]] = {}
    runs = 0
    unparsed = 0
    truncated = False
    year_offset = 0
    previous: datetime | None = None
    for number, text in lines:
        if " CMD (" not in text:
            continue
        entry = parse_journal_short(text)
        m = _CMD.search(entry.message) if entry is not None else None
        if entry is None or m is None:
            unparsed += 1
            continue
        try:
            when = datetime(_PSEUDO_YEAR + year_offset, entry.month, entry.day, entry.hour, entry.minute, entry.second)
        except ValueError:
            unparsed += 1
            continue
        if previous is not None and previous - when > _HALF_YEAR:  # December to January
            year_offset += 1
            when = when.replace(year=when.year + 1)
        previous = when
        runs += 1
        key = (m.group(1), m.group(2))
        job = state.get(key)
        if job is None:
            if len(state) >= MAX_JOBS:
                truncated = True
                continue
            state[key] = {"runs": 1, "last": when, "rapid_runs": 0, "min_gap_seconds": None}
            continue
        gap = (when - job["last"]).total_seconds()
        job["runs"] += 1
        job["last"] = when
        if 0 <= gap < RAPID_SECONDS:
            job["rapid_runs"] += 1
            if job["min_gap_seconds"] is None or gap < job["min_gap_seconds"]:
                job["min_gap_seconds"] = int(gap)
            job.setdefault("first_line", number)
            job.setdefault("first_text", clip(text))
            job["last_line"] = number
            job["last_text"] = clip(text)
    rapid = [
        {
            "user": user,
            "command": clip(command),
            "runs": job["runs"],
            "rapid_runs": job["rapid_runs"],
            "min_gap_seconds": job["min_gap_seconds"],
            "first_line": job["first_line"],
            "first_text": job["first_text"],
            "last_line": job["last_line"],
            "last_text": job["last_text"],
        }
        for (user, command), job in state.items()
        if job["rapid_runs"]
    ]
    rapid.sort(key=lambda j: (-j["rapid_runs"], j["first_line"]))
    return {
        "kind": "cron",
        "runs": runs,
        "jobs": len(state),
        "rapid_jobs": len(rapid),
        "rapid": rapid[:MAX_RAPID],
        "unparsed": unparsed,
        "truncated": truncated,
    }
