"""Fairness of the local server: cost classes with their own workers, per-client caps, bounded queues,
and faults answered as structured errors (never an exception text)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from eksdiag.tools.admission import TOOL_COSTS, Admission, ClassLimits, cost_of
from eksdiag.tools.base import ToolContext, ToolError
from eksdiag.tools.registry import tools

from tests.reliability.helpers import local

SMALL = {
    "cheap": ClassLimits(workers=2, per_client=2, queue=8, wait_seconds=1.0),
    "index": ClassLimits(workers=2, per_client=1, queue=8, wait_seconds=1.0),
    "scan": ClassLimits(workers=2, per_client=1, queue=3, wait_seconds=0.3),
    "import": ClassLimits(workers=1, per_client=1, queue=2, wait_seconds=0.3),
}


def test_every_cost_class_names_a_served_tool() -> None:
    assert set(TOOL_COSTS) <= set(tools())
    assert cost_of("findings___search") == "scan" and cost_of("runbooks___list_sops") == "cheap"
    assert cost_of("findings___errors") == "index"


def test_cheap_calls_pass_while_every_scan_worker_is_busy() -> None:
    gate = Admission(SMALL)

    async def main() -> list[str]:
        order: list[str] = []
        release = anyio.Event()

        async def scan(client: str) -> None:
            async with gate.admit("findings___search", (client,)):
                order.append(f"scan {client}")
                await release.wait()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(scan, "a")
            tasks.start_soon(scan, "b")
            await anyio.sleep(0.05)
            assert gate.snapshot()["scan"]["busy"] == 2
            with anyio.fail_after(1):
                async with gate.admit("runbooks___list_sops", ("a",)):
                    order.append("cheap a")
            release.set()
        return order

    assert anyio.run(main)[-1] == "cheap a"


def test_a_client_over_its_cap_waits_then_is_throttled_while_others_run() -> None:
    gate = Admission(SMALL)

    async def main() -> dict[str, Any]:
        out: dict[str, Any] = {}
        release = anyio.Event()

        async def hold(client: str) -> None:
            async with gate.admit("findings___read", (client,)):
                await release.wait()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(hold, "greedy")
            await anyio.sleep(0.05)
            try:
                async with gate.admit("findings___read", ("greedy",)):
                    out["greedy"] = "admitted"
            except ToolError as err:
                out["greedy"] = err.to_result()["error"]
            with anyio.fail_after(1):  # the other client gets the second worker at once
                async with gate.admit("findings___read", ("polite",)):
                    out["polite"] = "admitted"
            release.set()
        return out

    out = anyio.run(main)
    assert out["polite"] == "admitted"
    assert out["greedy"]["code"] == "Throttled" and out["greedy"]["retryable"] is True
    assert out["greedy"]["details"]["retryAfterSeconds"] >= 1


def test_a_full_queue_answers_at_once() -> None:
    gate = Admission(SMALL)

    async def main() -> list[str]:
        codes: list[str] = []
        release = anyio.Event()

        async def call(client: str) -> None:
            try:
                async with gate.admit("nodelog___collect", (client,)):
                    await release.wait()
            except ToolError as err:
                codes.append(err.code)

        async with anyio.create_task_group() as tasks:
            for i in range(6):
                tasks.start_soon(call, f"c{i}")
            await anyio.sleep(0.1)
            release.set()
        return codes

    codes = anyio.run(main)
    assert codes and set(codes) == {"Throttled"}
    assert Admission(SMALL).snapshot()["import"] == {"waiting": 0, "busy": 0}


def test_a_fault_in_a_tool_is_a_structured_error_without_paths(bundles: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import eksdiag.server as server_module
    from mcp import Client

    real = server_module.served_tools

    def failing(local_mode: bool) -> Any:
        table = real(local_mode)
        tool = table["findings___errors"]

        def broken(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
            raise FileNotFoundError(2, "No such file or directory", str(bundles / ".eksdiag" / "secret"))

        table["findings___errors"] = type(tool)(tool.spec, broken)
        return table

    monkeypatch.setattr(server_module, "served_tools", failing)
    server = server_module.build_server(local(bundles))

    async def main() -> Any:
        async with Client(server) as client:
            return await client.call_tool("findings___errors", {"bundleId": "b-20260101120000-00000001"})

    result = anyio.run(main)
    body = json.loads(result.content[0].text)
    assert result.is_error and body["error"]["code"] == "Upstream" and body["error"]["retryable"] is True
    assert str(bundles) not in result.content[0].text and "Traceback" not in result.content[0].text
