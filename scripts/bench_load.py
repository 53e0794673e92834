"""Load benchmark of the local MCP server over loopback HTTP, with the official MCP client (bounded).

Starts ``eksdiag serve --transport http`` on the seed bundles plus one bundle holding a large log,
imports them, then measures, in the same run:

(a) load: ``--clients`` concurrent MCP sessions, each calling findings___errors, findings___read (by
    finding id) and findings___summarize ``--rounds`` times: p50/p99 per tool (issue 14's goal:
    p99 <= 1 s for each);
(b) fairness: cheap calls (runbooks___list_sops, nodelog___status) from ``--cheap-clients`` sessions
    for ``--seconds``, first alone (the baseline), then while ``--searchers`` sessions run expensive
    searches over the large log: p50/p99 of the cheap calls both ways, and their ratio.

Latencies are measured by the client around each ``call_tool``. Prints figures only; nothing is
asserted. The last line is: ``bench-load: load p99 <s> s, cheap p99 <s> s alone, <s> s under searches``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures import seed  # noqa: E402
from tests.tools.local_server import http_server_process  # noqa: E402

BIG_INSTANCE = "i-0b16b16b16b16b16b"
QUANTILES = (50, 99)


# ---------------------------------------------------------------- bundles and the server


def big_bundle(folder: Path, mib: int) -> Path:
    """The faulty seed node's files plus ``var_log/big.log`` of about ``mib`` MiB of journal lines."""
    rng = random.Random(14)  # noqa: S311 - reproducible filler
    stamp = "Mar 06 18:{m:02d}:{s:02d} ip-192-168-45-12.us-west-2.compute.internal app[4242]: "
    words = ["GET", "PUT", "200", "204", "503", "/healthz", "/api/v1/items", "cache", "miss", "hit", "retry"]
    lines: list[str] = []
    size = 0
    i = 0
    while size < mib << 20:
        text = stamp.format(m=(i // 60) % 60, s=i % 60) + " ".join(rng.choice(words) for _ in range(12))
        text += f" req={rng.getrandbits(64):016x}"
        lines.append(text)
        size += len(text) + 1
        i += 1
    files = {**seed.node_files(faulty=True), "var_log/big.log": "\n".join(lines) + "\n"}
    files["system/instance-id.txt"] = BIG_INSTANCE + "\n"
    return seed.write_bundle(files, folder / f"eks_{BIG_INSTANCE}_2025-03-06_1822-UTC_0.7.9.tar.gz")


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[tuple[str, str, int]]:
    """``eksdiag serve`` on HTTP at a free loopback port: yields its URL, bearer token and pid."""
    token_file = folder.parent / "token"
    with http_server_process(folder, "--token-file", str(token_file)) as (url, proc):
        yield url, token_file.read_text().strip(), proc.pid


# ---------------------------------------------------------------- measuring


class Samples:
    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.cpu = 0.0  # client CPU seconds from the start to the end of the phase

    def add(self, tool: str, seconds: float, result: Any) -> None:
        self.seconds.setdefault(tool, []).append(seconds)
        if getattr(result, "is_error", False):
            code = json.loads(result.content[0].text).get("error", {}).get("code", "?")
            self.errors[code] = self.errors.get(code, 0) + 1

    @staticmethod
    def quantile(values: list[float], q: int) -> float:
        if len(values) < 2:
            return values[0] if values else float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    def line(self, tools: list[str]) -> str:
        parts = []
        for tool in tools:
            values = self.seconds.get(tool, [])
            p50, p99 = (self.quantile(values, q) for q in QUANTILES)
            parts.append(f"{tool.split('___')[1]} n={len(values)} p50={p50:.3f}s p99={p99:.3f}s")
        return "; ".join(parts)

    def p99(self, tools: list[str]) -> float:
        return self.quantile([s for t in tools for s in self.seconds.get(t, [])], 99)


async def _session(url: str, token: str) -> Any:
    """An MCP session (its own HTTP connection pool), tools listed: what an agent does before calling."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    stack = contextlib.AsyncExitStack()
    http = await stack.enter_async_context(
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
    )
    client = await stack.enter_async_context(Client(streamable_http_client(url, http_client=http)))
    await client.list_tools()
    return stack, client


async def _timed(client: Any, samples: Samples, tool: str, args: dict[str, Any]) -> Any:
    started = time.perf_counter()
    result = await client.call_tool(tool, args)
    samples.add(tool, time.perf_counter() - started, result)
    return result


async def prepare(url: str, token: str) -> dict[str, Any]:
    """Import the bundles; the faulty bundle's id and its worst finding's id."""
    stack, client = await _session(url, token)
    async with stack:
        out: dict[str, Any] = {}
        for instance in (seed.FAULTY_ID, seed.HEALTHY_ID, BIG_INSTANCE):
            result = await client.call_tool("nodelog___collect", {"instanceId": instance})
            out[instance] = result.structured_content["bundleId"]
        errors = await client.call_tool("findings___errors", {"bundleId": out[seed.FAULTY_ID], "pageSize": 1})
        out["finding"] = errors.structured_content["findings"][0]["id"]
        return out


def process_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its live children (Linux ``/proc``; 0 elsewhere)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Barrier:
    """Every session of every client process is connected (its tools listed) before the clock starts:
    a process reports ready once all its sessions are, then all wait for the parent's go."""

    def __init__(self, sessions: int, ready: Any, go: Any) -> None:
        import anyio

        self._left = sessions
        self._all_here = anyio.Event()
        self._ready, self._go = ready, go
        self.started = anyio.Event()
        if sessions == 0:
            self._all_here.set()

    async def arrive(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self._all_here.set()
        await self.started.wait()

    async def run(self) -> None:
        """The process's side: report ready, wait for the go, start."""
        import anyio

        await self._all_here.wait()
        self._ready.put(1)
        await anyio.to_thread.run_sync(self._go.wait)
        self.started.set()


async def load_clients(
    url: str, token: str, ids: dict[str, Any], clients: int, rounds: int, ready: Any, go: Any
) -> tuple[Samples]:
    """(a), in one process: ``clients`` sessions connect, then all start together."""
    import anyio

    samples = Samples()
    bid, finding = ids[seed.FAULTY_ID], ids["finding"]
    barrier = Barrier(clients, ready, go)

    async def one_client() -> None:
        stack, client = await _session(url, token)
        async with stack:
            await barrier.arrive()
            for _ in range(rounds):
                await _timed(client, samples, "findings___errors", {"bundleId": bid, "pageSize": 10})
                await _timed(client, samples, "findings___read", {"bundleId": bid, "findingId": finding})
                await _timed(client, samples, "findings___summarize", {"bundleId": bid, "findingIds": [finding]})

    async def clock() -> None:
        await barrier.run()
        samples.cpu = -process_cpu()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(clock)
        for _ in range(clients):
            tasks.start_soon(one_client)
    samples.cpu += process_cpu()
    return (samples,)


async def cheap_clients(
    url: str, token: str, ids: dict[str, Any], clients: int, searchers: int, seconds: float, ready: Any, go: Any
) -> tuple[Samples, Samples]:
    """(b), in one process: the searchers start at the go, the cheap calls one second later (the
    searches are running by then) and last ``seconds``."""
    import anyio

    cheap, expensive = Samples(), Samples()
    big, bid = ids[BIG_INSTANCE], ids[seed.FAULTY_ID]
    lead = 1.0 if searchers else 0.0
    barrier = Barrier(searchers + clients, ready, go)
    stop: list[float] = []

    def running() -> bool:
        return not stop or time.monotonic() < stop[0]

    async def cheap_client() -> None:
        stack, client = await _session(url, token)
        async with stack:
            await barrier.arrive()
            await anyio.sleep(lead)
            while running():
                await _timed(client, cheap, "runbooks___list_sops", {})
                await _timed(client, cheap, "nodelog___status", {"bundleId": bid})

    async def searcher(n: int) -> None:
        stack, client = await _session(url, token)
        async with stack:
            await barrier.arrive()
            while running():
                args = {"bundleId": big, "pattern": f"req=ffff{n:02x}[0-9a-f]*7$", "files": ["var_log/big.log"]}
                await _timed(client, expensive, "findings___search", args)

    async def clock() -> None:
        await barrier.run()
        stop.append(time.monotonic() + lead + seconds)
        await anyio.sleep(lead)
        cheap.cpu = -process_cpu()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(clock)
        for n in range(searchers):
            tasks.start_soon(searcher, n)
        for _ in range(clients):
            tasks.start_soon(cheap_client)
    cheap.cpu += process_cpu()
    return cheap, expensive


def _worker(phase: str, args: tuple[Any, ...], out: Any, ready: Any, go: Any) -> None:
    """One client process: its share of a phase; sends back the raw samples."""
    import anyio

    runner: Any = load_clients if phase == "load" else cheap_clients
    parts = anyio.run(runner, *args, ready, go)
    out.put([(p.seconds, p.errors, p.cpu) for p in parts])


def run_phase(phase: str, shares: list[tuple[Any, ...]]) -> list[Samples]:
    """Run a phase in one client process per share (a fleet of clients is not one event loop)."""
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")
    out, ready, go = spawn.Queue(), spawn.Queue(), spawn.Event()
    workers = [spawn.Process(target=_worker, args=(phase, share, out, ready, go)) for share in shares]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=600)
    go.set()
    merged: list[Samples] = []
    for _ in workers:
        for i, (seconds, errors, cpu) in enumerate(out.get(timeout=900)):
            while len(merged) <= i:
                merged.append(Samples())
            merged[i].cpu += cpu
            for tool, values in seconds.items():
                merged[i].seconds.setdefault(tool, []).extend(values)
            for code, count in errors.items():
                merged[i].errors[code] = merged[i].errors.get(code, 0) + count
    for worker in workers:
        worker.join(timeout=30)
    return merged


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def main(argv: list[str] | None = None) -> int:
    import anyio

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=int(os.environ.get("BENCH_LOAD_CLIENTS", "100")))
    parser.add_argument("--rounds", type=int, default=3, help="errors+read+summarize rounds per client")
    parser.add_argument("--procs", type=int, default=4, help="client processes the sessions are spread over")
    parser.add_argument("--cheap-clients", type=int, default=4)
    parser.add_argument("--searchers", type=int, default=int(os.environ.get("BENCH_LOAD_SEARCHERS", "45")))
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each cheap-call phase")
    parser.add_argument("--big-mib", type=int, default=int(os.environ.get("BENCH_LOAD_BIG_MIB", "256")))
    opts = parser.parse_args(argv)
    procs = max(1, opts.procs)
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"bench-load: {os.cpu_count()} CPUs, load average {load_avg:.1f} at start")
    tools = ["findings___errors", "findings___read", "findings___summarize"]
    cheap_tools = ["runbooks___list_sops", "nodelog___status"]

    with tempfile.TemporaryDirectory(prefix="eksdiag-bench-load-") as work:
        folder = Path(work) / "bundles"
        folder.mkdir()
        seed.build_seed_bundles(folder)
        big_bundle(folder, opts.big_mib)
        with serving(folder) as (url, token, pid):
            started = time.monotonic()
            ids = anyio.run(prepare, url, token)
            print(f"bench-load: imported 3 bundles ({opts.big_mib} MiB log) in {time.monotonic() - started:.1f} s")

            server_cpu = tree_cpu(pid)
            (load,) = run_phase("load", [(url, token, ids, n, opts.rounds) for n in _split(opts.clients, procs)])
            server_cpu = tree_cpu(pid) - server_cpu
            calls = sum(len(v) for v in load.seconds.values())
            print(f"bench-load: (a) {opts.clients} clients x {opts.rounds} rounds: {load.line(tools)}")
            print(
                f"bench-load: (a) {calls} calls, errors answered: {load.errors or 'none'}; CPU: server "
                f"{server_cpu:.1f} s ({1000 * server_cpu / max(calls, 1):.1f} ms/call), client processes "
                f"{load.cpu:.1f} s ({1000 * load.cpu / max(calls, 1):.1f} ms/call); goal p99 <= 1 s per tool"
            )

            runs: dict[int, list[Samples]] = {}
            for searchers in (0, opts.searchers):
                splits = zip(_split(opts.cheap_clients, procs), _split(searchers, procs), strict=True)
                runs[searchers] = run_phase("cheap", [(url, token, ids, c, n, opts.seconds) for c, n in splits])
            alone, (loaded, searches) = runs[0][0], runs[opts.searchers]
            print(f"bench-load: (b) cheap calls alone: {alone.line(cheap_tools)}")
            print(f"bench-load: (b) cheap calls under {opts.searchers} searches: {loaded.line(cheap_tools)}")
            print(
                f"bench-load: (b) searches: {searches.line(['findings___search'])}; "
                f"answered with errors: {searches.errors or 'none'}"
            )
    base, under = alone.p99(cheap_tools), loaded.p99(cheap_tools)
    print(f"bench-load: (b) cheap p99 ratio under searches / alone: {under / base:.2f}")
    print(f"bench-load: load p99 {load.p99(tools):.3f} s, cheap p99 {base:.3f} s alone, {under:.3f} s under searches")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
