"""Worker processes of the local HTTP server, for the cost classes it isolates (searches, reads,
imports): their Python loops would otherwise hold the server's interpreter lock and slow every other
call, whatever the admission says.

Each worker is a ``spawn``-started process (nothing inherited but its arguments) joined to the server
by its own socket pair; a call is one pickled request and one pickled reply on that socket, sent and
awaited by the server's event loop itself. So no server thread waits for a worker, and no pool
manager or queue-feeder threads hand each call over under the interpreter lock. A worker that dies
(killed, out of memory) fails only the call it was running (``Upstream``, retryable) and is
replaced; a worker whose server is gone, even by ``kill -9``, ends at once, its work with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import socket
import struct
from collections import deque
from typing import Any

from eksdiag.tools.base import ToolError

_HEADER = struct.Struct("!Q")


# ---------------------------------------------------------------- the worker's side


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _watch_parent(parent: int) -> None:
    """End this process when the server that started it is gone (``kill -9`` leaves it no time to
    stop its workers), so a killed server never leaves an import running behind its back."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="eksdiag-parent-watch", daemon=True).start()


def serve_worker(sock: socket.socket, parent: int, root: str, redact: bool) -> None:
    """A worker's life: warm up (imports, tools, the context whose index cache then stays warm), then
    answer one request at a time until the server closes the socket."""
    from eksdiag.adapters.context import local_context
    from eksdiag.server import run_call, served_tools

    _watch_parent(parent)
    ctx = local_context(root, redact=redact)
    table = served_tools(True)
    while True:
        header = _recv_exactly(sock, _HEADER.size)
        if header is None:
            return
        body = _recv_exactly(sock, _HEADER.unpack(header)[0])
        if body is None:
            return
        tool, arguments = pickle.loads(body)  # noqa: S301 - from the server that started this process
        served = table[tool]
        reply = pickle.dumps(run_call(served.spec, served.run, arguments, ctx), protocol=pickle.HIGHEST_PROTOCOL)
        sock.sendall(_HEADER.pack(len(reply)) + reply)


# ---------------------------------------------------------------- the server's side


class _Worker:
    def __init__(self, process: Any, sock: socket.socket) -> None:
        self.process = process
        self.sock = sock

    async def call(self, tool: str, arguments: Any) -> tuple[dict[str, Any], str]:
        """One request and its reply (``run_call``'s); ``ConnectionError`` when the worker is gone."""
        loop = asyncio.get_running_loop()
        request = pickle.dumps((tool, arguments), protocol=pickle.HIGHEST_PROTOCOL)
        await loop.sock_sendall(self.sock, _HEADER.pack(len(request)) + request)
        size = _HEADER.unpack(await self._read(loop, _HEADER.size))[0]
        reply: tuple[dict[str, Any], str] = pickle.loads(await self._read(loop, size))  # noqa: S301 - our worker
        return reply

    async def _read(self, loop: asyncio.AbstractEventLoop, size: int) -> bytearray:
        data = bytearray(size)
        view = memoryview(data)
        done = 0
        while done < size:
            got = await loop.sock_recv_into(self.sock, view[done:])
            if not got:
                raise ConnectionResetError("the worker closed its socket")
            done += got
        return data

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class WorkerProcesses:
    """``workers`` worker processes for the bundles in ``root``; :meth:`call` from the event loop.

    The admission of the isolated classes lets at most ``workers`` calls in at once, so a call finds
    an idle worker at once; should it not, it waits for one."""

    def __init__(self, root: str, workers: int, *, redact: bool = True) -> None:
        self.root = root
        self.workers = workers
        self.redact = redact
        self._idle: deque[_Worker] = deque()
        self._all: set[_Worker] = set()
        self._freed: asyncio.Condition | None = None

    def _spawn(self) -> _Worker:
        import multiprocessing

        mine, theirs = socket.socketpair()
        process = multiprocessing.get_context("spawn").Process(
            target=serve_worker,
            args=(theirs, os.getpid(), self.root, self.redact),
            name="eksdiag-worker",
            daemon=True,
        )
        process.start()
        theirs.close()
        mine.setblocking(False)
        worker = _Worker(process, mine)
        self._all.add(worker)
        return worker

    @property
    def busy(self) -> int:
        """Calls running in a worker now."""
        return len(self._all) - len(self._idle)

    def pids(self) -> list[int]:
        """Process ids of the workers, the idle ones first in the order calls will take them."""
        idle = list(self._idle)
        return [w.process.pid for w in idle + [w for w in self._all if w not in idle]]

    def start(self) -> None:
        """Start every worker now: they boot and warm up while the server starts listening."""
        while len(self._all) < self.workers:
            self._idle.append(self._spawn())

    async def call(self, tool: str, arguments: Any) -> tuple[dict[str, Any], str]:
        """Run one call in a worker: the result and its JSON text (see ``server.run_call``). Like a
        thread, a call once started is not abandoned when its caller is cancelled: the cancellation
        waits for its reply, so a worker is never handed on with a reply still to come and admission's
        counts stay true."""
        import anyio

        if self._freed is None:
            self._freed = asyncio.Condition()
        async with self._freed:
            await self._freed.wait_for(lambda: bool(self._idle) or len(self._all) < self.workers)
            try:
                worker = self._idle.popleft() if self._idle else self._spawn()
            except OSError as exc:
                raise ToolError("Upstream", f"cannot start a worker process ({exc.strerror})", retryable=True) from None
        with anyio.CancelScope(shield=True):
            try:
                reply = await worker.call(tool, arguments)
            except (ConnectionError, EOFError, OSError):
                self._all.discard(worker)
                await anyio.to_thread.run_sync(worker.stop)
                with contextlib.suppress(OSError):  # else the next call starts it
                    self._idle.append(self._spawn())  # warming up before the next call needs it
                raise ToolError(
                    "Upstream", f"the worker running {tool} stopped (killed or out of memory); retry", retryable=True
                ) from None
            else:
                self._idle.append(worker)
            finally:
                async with self._freed:
                    self._freed.notify()
        return reply

    def close(self) -> None:
        for worker in list(self._all):
            worker.stop()
        self._all.clear()
        self._idle.clear()
