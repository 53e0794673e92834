"""The local MCP server (``python -m eksdiag.server``) as a subprocess, for the server and Inspector tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def server_command(bundles: Path) -> list[str]:
    """The command line that serves the bundles in ``bundles`` over stdio."""
    return [sys.executable, "-m", "eksdiag.server", "--bundles", str(bundles)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[str], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("server did not start listening")


@contextmanager
def http_server_process(bundles: Path, *auth: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The server on streamable HTTP at a free loopback port with the ``auth`` options, once it listens:
    yields its MCP URL and process, and stops it on exit."""
    port = free_port()
    proc = subprocess.Popen(
        [*server_command(bundles), "--transport", "http", "--port", str(port), *auth],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}/mcp", proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
