"""Load benchmark of the local MCP server over loopback HTTP (bounded; prints figures, asserts nothing).

Starts ``eksdiag serve --transport http`` on the seed bundles plus one bundle holding a large log,
imports them, then measures, in the same run:

(0) protocol: the official MCP SDK client (its default protocol, and the initialize handshake) calls
    each measured tool once; its answers must equal the light client's, else the bench stops;
(a) load: ``--clients`` MCP sessions, each its own client (initialize handshake, its own session id
    and HTTP connection), call findings___errors, findings___read (by finding id) and
    findings___summarize ``--rounds`` times, all starting together: p50/p99 per tool (issue 14's goal:
    p99 <= 1 s for each), with the CPU the server and the load generator spent per call; first on the
    server as it answers by default (one JSON body per answer), then on a second server started with
    ``--sse-responses`` (an SSE stream per answer), and the ratio of the two;
(b) fairness: cheap calls (runbooks___list_sops, nodelog___status) from ``--cheap-clients`` sessions
    for ``--seconds``, first alone (the baseline), then while ``--searchers`` sessions run expensive
    searches over the large log: p50/p99 of the cheap calls both ways, and their ratio (issue 13).

The load generator is one asyncio process speaking MCP streamable HTTP (protocol 2025-11-25) with
httpx: a fleet of SDK clients costs more CPU per call than the server, and on one machine it would
measure itself. Latency is measured around each call: request sent to JSON-RPC response parsed.
The last line is: ``bench-load: load p99 <s> s (<ms> ms server CPU per call), cheap p99 <s> s alone,
<s> s under searches``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures import seed  # noqa: E402
from tests.tools.local_server import http_server_process  # noqa: E402

BIG_INSTANCE = "i-0b16b16b16b16b16b"
QUANTILES = (50, 99)
LOAD_TOOLS = ("findings___errors", "findings___read", "findings___summarize")
CHEAP_TOOLS = ("runbooks___list_sops", "nodelog___status")
PROTOCOL_VERSION = "2025-11-25"
JSON_ANSWERS = "JSON answers"
SSE_ANSWERS = "SSE answers"


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
def serving(folder: Path, *options: str) -> Iterator[tuple[str, str, int]]:
    """``eksdiag serve`` on HTTP at a free loopback port: yields its URL, bearer token and pid."""
    token_file = folder.parent / f"token{len(list(folder.parent.glob('token*')))}"
    with http_server_process(folder, "--token-file", str(token_file), *options) as (url, proc):
        yield url, token_file.read_text().strip(), proc.pid


# ---------------------------------------------------------------- the light MCP client


class ProtocolError(RuntimeError):
    """The server answered outside the MCP streamable HTTP transport's rules."""


class McpSession:
    """One MCP client over streamable HTTP: the initialize handshake, then requests carrying the
    session id and protocol version headers; each answer is read as the transport says a server may
    send it, one JSON body or an SSE stream in which the response to this request is one event."""

    def __init__(self, url: str, token: str) -> None:
        import httpx2

        self.url = url
        # one connection per client, as a separate agent would have
        self.http = httpx2.AsyncClient(
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json",
            },
            timeout=180,
            limits=httpx2.Limits(max_connections=1, max_keepalive_connections=1),
        )
        self.headers: dict[str, str] = {}
        self._ids = 0

    async def open(self) -> None:
        result = await self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "bench-load", "version": "1"},
            },
        )
        if result.get("protocolVersion") != PROTOCOL_VERSION:
            raise ProtocolError(f"server negotiated {result.get('protocolVersion')!r}, not {PROTOCOL_VERSION}")
        self.headers["MCP-Protocol-Version"] = PROTOCOL_VERSION
        answer = await self.http.post(
            self.url, content=_encode(_message("notifications/initialized")), headers=self.headers
        )
        if answer.status_code != 202:
            raise ProtocolError(f"notifications/initialized answered HTTP {answer.status_code}, not 202")

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """``tools/call``: the CallToolResult (a tool error is a result with ``isError``)."""
        return await self.request("tools/call", {"name": tool, "arguments": arguments})

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        import httpx2

        self._ids += 1
        request_id = self._ids
        body = _encode(_message(method, params, request_id))
        async with self.http.stream("POST", self.url, content=body, headers=self.headers) as response:
            if response.status_code != 200:
                await response.aread()
                raise ProtocolError(f"{method} answered HTTP {response.status_code}: {response.text[:200]}")
            if method == "initialize" and "mcp-session-id" in response.headers:
                self.headers["Mcp-Session-Id"] = response.headers["mcp-session-id"]
            kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
            if kind == "application/json":
                return _result_of(json.loads(await response.aread()), request_id)
            if kind != "text/event-stream":
                raise ProtocolError(f"{method} answered with content type {kind!r}")
            async for event in httpx2.EventSource(response):
                if event.event != "message" or not event.data:
                    continue  # a priming event (id only) or another event type
                message = json.loads(event.data)
                if message.get("id") == request_id and ("result" in message or "error" in message):
                    return _result_of(message, request_id)
                if "id" in message and "method" in message:
                    raise ProtocolError(f"the server sent a request ({message['method']}) this client does not serve")
        raise ProtocolError(f"the SSE stream of {method} ended without its response")

    async def aclose(self) -> None:
        if "Mcp-Session-Id" in self.headers:
            with contextlib.suppress(Exception):
                await self.http.delete(self.url, headers=self.headers)
        await self.http.aclose()


def _message(method: str, params: dict[str, Any] | None = None, request_id: int | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if request_id is not None:
        message["id"] = request_id
    if params is not None:
        message["params"] = params
    return message


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode("utf-8")


def _result_of(message: Any, request_id: int) -> dict[str, Any]:
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or message.get("id") != request_id:
        raise ProtocolError(f"not the JSON-RPC response to request {request_id}: {str(message)[:200]}")
    if "error" in message:
        raise ProtocolError(f"JSON-RPC error: {message['error']}")
    result = message.get("result")
    if not isinstance(result, dict):
        raise ProtocolError(f"JSON-RPC result is not an object: {str(result)[:200]}")
    return result


@contextlib.asynccontextmanager
async def sessions(url: str, token: str, count: int) -> AsyncIterator[list[McpSession]]:
    """``count`` initialized sessions (opened a few at a time, as agents would start), closed on exit."""
    opened: list[McpSession] = [McpSession(url, token) for _ in range(count)]
    gate = asyncio.Semaphore(16)

    async def open_one(session: McpSession) -> None:
        async with gate:
            await session.open()

    try:
        await asyncio.gather(*(open_one(s) for s in opened))
        yield opened
    finally:
        await asyncio.gather(*(s.aclose() for s in opened), return_exceptions=True)


# ---------------------------------------------------------------- measuring


class Samples:
    """Latencies per tool and the error codes answered."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}

    async def timed(self, session: McpSession, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        result = await session.call(tool, arguments)
        self.seconds.setdefault(tool, []).append(time.perf_counter() - started)
        if result.get("isError"):
            code = json.loads(result["content"][0]["text"]).get("error", {}).get("code", "?")
            self.errors[code] = self.errors.get(code, 0) + 1
        return result

    @property
    def calls(self) -> int:
        return sum(len(v) for v in self.seconds.values())

    @staticmethod
    def quantile(values: list[float], q: int) -> float:
        if len(values) < 2:
            return values[0] if values else float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    def line(self, tools: tuple[str, ...]) -> str:
        parts = []
        for tool in tools:
            values = self.seconds.get(tool, [])
            p50, p99 = (self.quantile(values, q) for q in QUANTILES)
            parts.append(f"{tool.split('___')[1]} n={len(values)} p50={p50:.3f}s p99={p99:.3f}s")
        return "; ".join(parts)

    def p99(self, tools: tuple[str, ...]) -> float:
        return self.quantile([s for t in tools for s in self.seconds.get(t, [])], 99)


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its live children (its worker processes), from Linux ``/proc``."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Meter:
    """CPU of the server (with its workers) and of this process over a phase, and its wall time."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid
        self.server = self.client = self.wall = 0.0

    @contextlib.contextmanager
    def measure(self) -> Iterator[Meter]:
        server, client, wall = tree_cpu(self.pid), own_cpu(), time.perf_counter()
        yield self
        self.server = tree_cpu(self.pid) - server
        self.client = own_cpu() - client
        self.wall = time.perf_counter() - wall

    def line(self, calls: int) -> str:
        per = 1000 / max(calls, 1)
        return (
            f"{calls} calls in {self.wall:.1f} s ({calls / max(self.wall, 1e-9):.0f}/s); CPU per call: server "
            f"{self.server * per:.2f} ms, load generator {self.client * per:.2f} ms"
        )


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


# ---------------------------------------------------------------- phases


async def prepare(url: str, token: str) -> dict[str, str]:
    """Import the bundles; the faulty bundle's id and its worst finding's id."""
    async with sessions(url, token, 1) as (session,):
        ids: dict[str, str] = {}
        for instance in (seed.FAULTY_ID, seed.HEALTHY_ID, BIG_INSTANCE):
            result = await session.call("nodelog___collect", {"instanceId": instance})
            if result.get("isError"):
                raise RuntimeError(f"collect {instance}: {result['content'][0]['text']}")
            ids[instance] = result["structuredContent"]["bundleId"]
        errors = await session.call("findings___errors", {"bundleId": ids[seed.FAULTY_ID], "pageSize": 1})
        ids["finding"] = errors["structuredContent"]["findings"][0]["id"]
        return ids


def load_calls(ids: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    bid, finding = ids[seed.FAULTY_ID], ids["finding"]
    return [
        ("findings___errors", {"bundleId": bid, "pageSize": 10}),
        ("findings___read", {"bundleId": bid, "findingId": finding}),
        ("findings___summarize", {"bundleId": bid, "findingIds": [finding]}),
    ]


async def protocol_check(url: str, token: str, ids: dict[str, str]) -> str:
    """The official SDK client, in its default protocol and over the initialize handshake, gets the
    same structured answers as the light client: the light client speaks the protocol right."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with sessions(url, token, 1) as (light,):
        expected = {tool: (await light.call(tool, args))["structuredContent"] for tool, args in load_calls(ids)}
    versions = []
    for mode in ("auto", "legacy"):
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
            Client(streamable_http_client(url, http_client=http), mode=mode) as client,
        ):
            names = {tool.name for tool in (await client.list_tools()).tools}
            for tool, args in load_calls(ids):
                if tool not in names:
                    raise ProtocolError(f"the SDK client ({mode}) does not see {tool}")
                answer = await client.call_tool(tool, args)
                if answer.is_error or answer.structured_content != expected[tool]:
                    raise ProtocolError(f"the SDK client ({mode}) and the light client disagree on {tool}")
            versions.append(f"{mode}: {client.protocol_version}")
    return ", ".join(versions)


async def load_phase(url: str, token: str, ids: dict[str, str], clients: int, rounds: int, meter: Meter) -> Samples:
    """(a): every session connected first, then all start together."""
    samples = Samples()
    calls = load_calls(ids)
    async with sessions(url, token, clients) as opened:
        start = asyncio.Event()

        async def one_client(session: McpSession) -> None:
            await start.wait()
            for _ in range(rounds):
                for tool, args in calls:
                    await samples.timed(session, tool, args)

        tasks = [asyncio.create_task(one_client(s)) for s in opened]
        await asyncio.sleep(0)
        with meter.measure():
            start.set()
            await asyncio.gather(*tasks)
    return samples


async def cheap_phase(
    url: str, token: str, ids: dict[str, str], clients: int, searchers: int, seconds: float
) -> tuple[Samples, Samples]:
    """(b): the searchers start first; the cheap calls one second later (the searches are running by
    then) and last ``seconds``; then every call still running is abandoned (its connection closed)."""
    cheap, expensive = Samples(), Samples()
    big, bid = ids[BIG_INSTANCE], ids[seed.FAULTY_ID]
    lead = 1.0 if searchers else 0.0

    async def forever(session: McpSession, step: Callable[[McpSession], Awaitable[None]]) -> None:
        while True:
            await step(session)

    async def cheap_step(session: McpSession) -> None:
        await cheap.timed(session, "runbooks___list_sops", {})
        await cheap.timed(session, "nodelog___status", {"bundleId": bid})

    def search_step(n: int) -> Callable[[McpSession], Awaitable[None]]:
        args = {"bundleId": big, "pattern": f"req=ffff{n:02x}[0-9a-f]*7$", "files": ["var_log/big.log"]}

        async def step(session: McpSession) -> None:
            await expensive.timed(session, "findings___search", args)

        return step

    async with sessions(url, token, clients + searchers) as opened:
        running = [asyncio.create_task(forever(s, search_step(n))) for n, s in enumerate(opened[clients:])]
        await asyncio.sleep(lead)
        running += [asyncio.create_task(forever(s, cheap_step)) for s in opened[:clients]]
        await asyncio.sleep(seconds)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    return cheap, expensive


async def connect(url: str, token: str, label: str) -> dict[str, str]:
    """Import the bundles (an import already done answers at once) and check the protocol."""
    started = time.monotonic()
    ids = await prepare(url, token)
    versions = await protocol_check(url, token, ids)
    print(
        f"bench-load: {label}: bundles ready in {time.monotonic() - started:.1f} s; "
        f"the official MCP SDK client agrees with the light client ({versions})"
    )
    return ids


async def measure_load(url: str, token: str, pid: int, opts: argparse.Namespace, label: str) -> tuple[Samples, Meter]:
    ids = await connect(url, token, label)
    meter = Meter(pid)
    print(f"bench-load: (a) {label}: {load_average()} before")
    load = await load_phase(url, token, ids, opts.clients, opts.rounds, meter)
    print(f"bench-load: (a) {label}: {opts.clients} clients x {opts.rounds} rounds: {load.line(LOAD_TOOLS)}")
    print(f"bench-load: (a) {label}: {meter.line(load.calls)}; errors answered: {load.errors or 'none'}")
    return load, meter


async def measure_fairness(url: str, token: str, opts: argparse.Namespace) -> tuple[Samples, Samples]:
    ids = await prepare(url, token)
    runs: dict[int, tuple[Samples, Samples]] = {}
    for searchers in (0, opts.searchers):
        print(f"bench-load: (b) {load_average()} before the run with {searchers} searchers")
        runs[searchers] = await cheap_phase(url, token, ids, opts.cheap_clients, searchers, opts.seconds)
    alone, (loaded, searches) = runs[0][0], runs[opts.searchers]
    print(f"bench-load: (b) cheap calls alone: {alone.line(CHEAP_TOOLS)}")
    print(f"bench-load: (b) cheap calls under {opts.searchers} searches: {loaded.line(CHEAP_TOOLS)}")
    done = searches.line(("findings___search",))
    print(
        f"bench-load: (b) {opts.searchers} searchers: {done}, answered with errors: {searches.errors or 'none'}; "
        "the others were still searching or waiting for a worker when the phase ended"
    )
    return alone, loaded


def run(main: Callable[[], Awaitable[Any]]) -> Any:
    """The load generator's event loop: uvloop when installed (less CPU per call), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=int(os.environ.get("BENCH_LOAD_CLIENTS", "100")))
    parser.add_argument("--rounds", type=int, default=5, help="errors+read+summarize rounds per client")
    parser.add_argument("--cheap-clients", type=int, default=4)
    parser.add_argument("--searchers", type=int, default=int(os.environ.get("BENCH_LOAD_SEARCHERS", "45")))
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each cheap-call phase")
    parser.add_argument("--big-mib", type=int, default=int(os.environ.get("BENCH_LOAD_BIG_MIB", "256")))
    opts = parser.parse_args(argv)
    print(f"bench-load: {os.cpu_count()} CPUs, {load_average()} at start")

    with tempfile.TemporaryDirectory(prefix="eksdiag-bench-load-") as work:
        folder = Path(work) / "bundles"
        folder.mkdir()
        seed.build_seed_bundles(folder)
        big_bundle(folder, opts.big_mib)
        with serving(folder) as (url, token, pid):
            load, meter = run(lambda: measure_load(url, token, pid, opts, JSON_ANSWERS))
            with serving(folder, "--sse-responses") as (sse_url, sse_token, sse_pid):
                sse_load, sse_meter = run(lambda: measure_load(sse_url, sse_token, sse_pid, opts, SSE_ANSWERS))
            alone, loaded = run(lambda: measure_fairness(url, token, opts))
    calls = max(load.calls, 1)
    json_ms, sse_ms = 1000 * meter.server / calls, 1000 * sse_meter.server / max(sse_load.calls, 1)
    print(
        f"bench-load: (a) goal p99 <= 1 s per tool; {SSE_ANSWERS} / {JSON_ANSWERS}: server CPU per call "
        f"{sse_ms / json_ms:.2f}, p99 {sse_load.p99(LOAD_TOOLS) / load.p99(LOAD_TOOLS):.2f}"
    )
    base, under = alone.p99(CHEAP_TOOLS), loaded.p99(CHEAP_TOOLS)
    print(f"bench-load: (b) cheap p99 ratio under searches / alone: {under / base:.2f}")
    print(
        f"bench-load: load p99 {load.p99(LOAD_TOOLS):.3f} s ({json_ms:.2f} ms server CPU per call), "
        f"cheap p99 {base:.3f} s alone, {under:.3f} s under searches"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
