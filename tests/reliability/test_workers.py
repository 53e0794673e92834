"""Worker processes of the local HTTP server (``eksdiag.tools.workers``): calls answered through the
event loop, a worker that dies fails only its own call and is replaced, and a cancelled caller
waits for its call to end so no reply is left for the next call to read."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from eksdiag.tools.base import ToolError
from eksdiag.tools.workers import WorkerProcesses


@pytest.fixture
def pool(bundles: Path) -> Iterator[WorkerProcesses]:
    workers = WorkerProcesses(str(bundles), 2)
    workers.start()
    try:
        yield workers
    finally:
        workers.close()


def test_a_dead_worker_fails_only_its_own_call_and_is_replaced(pool: WorkerProcesses, seed: Any) -> None:
    async def main() -> tuple[list[dict[str, Any]], dict[str, Any], int]:
        collected, text = await pool.call("nodelog___collect", {"instanceId": seed.faulty_instance})
        assert collected["state"] == "indexed" and json.loads(text) == collected
        status = {"bundleId": collected["bundleId"]}
        victim = pool.pids()[0]  # the worker the next call takes
        os.kill(victim, signal.SIGKILL)
        answers: list[dict[str, Any]] = []

        async def ask() -> None:
            try:
                answers.append((await pool.call("nodelog___status", status))[0])
            except ToolError as err:  # what the server answers with it
                answers.append(err.to_result())

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(ask)
            await anyio.sleep(0)
            tasks.start_soon(ask)
        after, _ = await pool.call("nodelog___status", status)
        return answers, after, victim

    answers, after, victim = anyio.run(main)
    failed = [a for a in answers if "error" in a]
    assert len(failed) == 1 and len(answers) == 2
    assert failed[0]["error"]["code"] == "Upstream" and failed[0]["error"]["retryable"] is True
    assert "stopped" in failed[0]["error"]["message"]
    assert [a["state"] for a in answers if "error" not in a] == ["indexed"]
    assert after["state"] == "indexed"
    assert len(pool.pids()) == 2 and victim not in pool.pids()


def test_a_cancelled_call_ends_before_its_worker_serves_another(pool: WorkerProcesses, seed: Any) -> None:
    async def main() -> tuple[int, dict[str, Any]]:
        with anyio.CancelScope() as scope:

            async def cancel_once_running() -> None:
                while pool.busy == 0:
                    await anyio.sleep(0.001)
                scope.cancel()

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(cancel_once_running)
                await pool.call("nodelog___collect", {"instanceId": seed.healthy_instance})
                await anyio.sleep(60)  # reached only if the call ended before the cancel came
        busy_after_cancel = pool.busy
        # had the cancelled collect's reply been left on the socket, this call would read it
        # (``idempotent: false``: the first import's answer)
        again, _ = await pool.call("nodelog___collect", {"instanceId": seed.healthy_instance})
        return busy_after_cancel, again

    busy, again = anyio.run(main)
    assert busy == 0
    assert again["state"] == "indexed" and again["idempotent"] is True, again
