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


#: Classes whose calls run in worker processes when the server has them (``WorkerProcesses``): their
#: Python-heavy loops (line iteration, indexing) would otherwise hold the server's interpreter lock
#: and slow every other call, whatever the admission says.
ISOLATED_CLASSES = frozenset({"scan", "import"})

_WORKER_CONTEXTS: dict[str, Any] = {}


def _call_in_worker(root: str, redact: bool, tool: str, arguments: Any) -> dict[str, Any]:
    """Runs in a worker process: the call on the worker's own context for ``root`` (kept between
    calls, so its index cache stays warm), with the server's redaction setting."""
    from eksdiag.adapters.context import local_context
    from eksdiag.server import run_call, served_tools

    key = f"{redact}:{root}"
    ctx = _WORKER_CONTEXTS.get(key)
    if ctx is None:
        ctx = _WORKER_CONTEXTS[key] = local_context(root, redact=redact)
    served = served_tools(True)[tool]
    return run_call(served.spec, served.run, arguments, ctx)


def _warm() -> int:
    import eksdiag.server  # noqa: F401 - the imports a first call would pay for

    return 0


def _die_with_parent(parent: int) -> None:
    """Worker initializer: end this worker when the server that started it is gone (even by
    ``kill -9``, which leaves no time to stop the pool), so its work dies with it: a killed server
    never leaves an import running behind its back."""
    import os
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="eksdiag-parent-watch", daemon=True).start()


class WorkerProcesses:
    """A pool of worker processes (``spawn``: nothing inherited but the arguments) for the isolated
    classes of the local server. A worker that dies (killed, out of memory) fails only the calls it
    held: the pool is rebuilt and the caller gets a retryable error."""

    def __init__(self, root: str, workers: int, *, redact: bool = True) -> None:
        self.root = root
        self.workers = workers
        self.redact = redact
        self._pool: Any = None

    def _executor(self) -> Any:
        if self._pool is None:
            import multiprocessing
            import os
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_die_with_parent,
                initargs=(os.getpid(),),
            )
        return self._pool

    def start(self) -> None:
        """Boot every worker in the background now (a first call should not wait for interpreters)."""
        pool = self._executor()
        for _ in range(self.workers):
            pool.submit(_warm)

    def call(self, tool: str, arguments: Any) -> dict[str, Any]:
        """Blocks the calling thread (which releases the interpreter lock while it waits)."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._executor().submit(_call_in_worker, self.root, self.redact, tool, arguments).result()
        except BrokenProcessPool:
            self._pool = None
            raise ToolError(
                "Upstream", f"the worker running {tool} stopped (killed or out of memory); retry", retryable=True
            ) from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
