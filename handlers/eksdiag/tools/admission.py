"""Admission control for the local server: what a call costs decides where it waits.

Every tool belongs to one cost class (:data:`TOOL_COSTS`, data). Each class has its own bounded
worker pool, so a cheap call (list the runbooks, poll a status) never queues behind expensive ones
(searches over GiB logs, imports); within a class each client (a token's principal, and each MCP
session) has a concurrency cap, so one client's regexes cannot take every worker. A call that cannot
start within the class's queue time, or finds the queue full, is answered ``Throttled`` (retryable,
with ``retryAfterSeconds``) instead of waiting without end.

On Lambda every invocation is its own worker and the same bounds come from each group's reserved
concurrency; this module is for the one process of ``eksdiag serve``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from eksdiag.tools.base import ToolError

#: Cost class of each tool (full name); a tool not listed is ``index`` (works on a loaded index).
TOOL_COSTS: dict[str, str] = {
    "runbooks___list_sops": "cheap",
    "runbooks___get_sop": "cheap",
    "nodelog___status": "cheap",
    "nodelog___history": "cheap",
    "nodelog___batch_status": "cheap",
    "findings___search": "scan",
    "findings___read": "scan",
    "findings___compare_nodes": "scan",
    "nodelog___collect": "import",
    "nodelog___batch_collect": "import",
}
DEFAULT_COST = "index"


@dataclass(frozen=True)
class ClassLimits:
    """Bounds of one cost class: workers in all, workers per client, the queue's length and wait."""

    workers: int
    per_client: int
    queue: int
    wait_seconds: float


#: Defaults for a laptop or a small VM; ``eksdiag serve`` takes them as they are.
DEFAULT_LIMITS: dict[str, ClassLimits] = {
    "cheap": ClassLimits(workers=16, per_client=8, queue=256, wait_seconds=10.0),
    "index": ClassLimits(workers=8, per_client=4, queue=256, wait_seconds=20.0),
    "scan": ClassLimits(workers=4, per_client=2, queue=128, wait_seconds=30.0),
    "import": ClassLimits(workers=2, per_client=1, queue=64, wait_seconds=120.0),
}


def cost_of(tool: str) -> str:
    return TOOL_COSTS.get(tool, DEFAULT_COST)


@dataclass
class _Counter:
    """Calls of one client in one class: running and the semaphore that caps them."""

    semaphore: Any
    users: int = 0


@dataclass
class _CostClass:
    limits: ClassLimits
    workers: Any  # anyio.Semaphore gating admission
    threads: Any  # anyio.CapacityLimiter the admitted calls run their thread on
    waiting: int = 0
    clients: dict[str, _Counter] = field(default_factory=dict)


class Admission:
    """``async with admission.admit(tool, clients) as threads:`` then run the call with
    ``anyio.to_thread.run_sync(..., limiter=threads)``. ``clients`` are the keys the per-client cap
    applies to (e.g. ``("principal:abc", "session:123")``); each is capped on its own."""

    def __init__(self, limits: Mapping[str, ClassLimits] | None = None) -> None:
        import anyio

        self._classes = {
            name: _CostClass(lim, anyio.Semaphore(lim.workers), anyio.CapacityLimiter(lim.workers))
            for name, lim in (limits or DEFAULT_LIMITS).items()
        }

    def limits(self, cost: str) -> ClassLimits:
        return self._classes[cost].limits

    def _throttled(self, cost: str, why: str) -> ToolError:
        limits = self._classes[cost].limits
        return ToolError(
            "Throttled",
            f"too many {cost} calls right now ({why}); retry in a few seconds",
            retryable=True,
            details={"costClass": cost, "retryAfterSeconds": max(1, math.ceil(limits.wait_seconds / 4))},
        )

    @contextlib.asynccontextmanager
    async def admit(self, tool: str, clients: tuple[str, ...] = ()) -> AsyncIterator[Any]:
        import anyio

        cost = cost_of(tool)
        klass = self._classes[cost]
        if klass.waiting >= klass.limits.queue:
            raise self._throttled(cost, f"{klass.waiting} calls already waiting")
        counters = []
        for key in clients:
            counter = klass.clients.get(key)
            if counter is None:
                counter = klass.clients[key] = _Counter(anyio.Semaphore(klass.limits.per_client))
            counter.users += 1
            counters.append((key, counter))
        klass.waiting += 1
        held: list[Any] = []
        try:
            try:
                with anyio.fail_after(klass.limits.wait_seconds):
                    for _, counter in counters:
                        await counter.semaphore.acquire()
                        held.append(counter.semaphore)
                    await klass.workers.acquire()
                    held.append(klass.workers)
            except TimeoutError:
                raise self._throttled(cost, f"waited {klass.limits.wait_seconds:g} s for a worker") from None
            finally:
                klass.waiting -= 1
            yield klass.threads
        finally:
            for semaphore in reversed(held):
                semaphore.release()
            for key, counter in counters:
                counter.users -= 1
                if counter.users == 0 and klass.clients.get(key) is counter:
                    del klass.clients[key]

    def snapshot(self) -> dict[str, dict[str, int]]:
        """Waiting calls and busy workers per class (for logs and tests)."""
        return {
            name: {"waiting": k.waiting, "busy": k.limits.workers - int(k.workers.value)}
            for name, k in self._classes.items()
        }


# ---------------------------------------------------------------- worker processes


#: Classes whose calls run in worker processes when the server has them (:mod:`eksdiag.tools.workers`):
#: their Python-heavy loops (line iteration, indexing) would otherwise hold the server's interpreter
#: lock and slow every other call, whatever the admission says.
ISOLATED_CLASSES = frozenset({"scan", "import"})
