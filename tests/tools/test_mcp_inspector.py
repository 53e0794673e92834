"""The local MCP server driven by a client nobody here wrote: the MCP Inspector CLI (npm package
``@modelcontextprotocol/inspector``, pinned in package.json; install with ``npm ci``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eksdiag.tools.registry import tools

from tests.tools.conftest import Seed
from tests.tools.local_server import http_server_process, server_command

REPO = Path(__file__).resolve().parents[2]
INSPECTOR = REPO / "node_modules" / "@modelcontextprotocol" / "inspector"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (the MCP Inspector CLI needs it)"),
    pytest.mark.skipif(
        not INSPECTOR.is_dir(), reason="MCP Inspector not installed: run `npm ci` at the repository root"
    ),
]


def inspector(tmp_path: Path, *args: str) -> Any:
    env = {**os.environ, "MCP_CATALOG_PATH": str(tmp_path / "inspector-catalog.json")}
    done = subprocess.run(
        ["npx", "--no-install", "@modelcontextprotocol/inspector", "--cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_inspector_lists_the_tools_over_stdio(bundles: Path, tmp_path: Path) -> None:
    listed = inspector(tmp_path, *server_command(bundles), "--method", "tools/list")
    assert [t["name"] for t in listed["tools"]] == list(tools())
    errors = next(t for t in listed["tools"] if t["name"] == "findings___errors")
    assert errors["inputSchema"] == tools()["findings___errors"].input_schema


def test_inspector_calls_collect_then_errors_over_stdio(bundles: Path, tmp_path: Path, seed: Seed) -> None:
    collected = inspector(
        tmp_path,
        *server_command(bundles),
        "--method",
        "tools/call",
        "--tool-name",
        "nodelog___collect",
        "--tool-arg",
        f"instanceId={seed.faulty_instance}",
    )
    assert collected["structuredContent"]["state"] == "indexed"
    errors = inspector(
        tmp_path,
        *server_command(bundles),
        "--method",
        "tools/call",
        "--tool-name",
        "findings___errors",
        "--tool-arg",
        f"instanceId={seed.faulty_instance}",
        "--tool-arg",
        "pageSize=2",
    )
    assert errors["structuredContent"]["returned"] == 2
    assert errors["structuredContent"]["findings"][0]["rule"] == "network.iptables.forward-drop"


def test_inspector_over_streamable_http_with_the_bearer_token(bundles: Path, tmp_path: Path) -> None:
    token_file = tmp_path / "token.txt"
    with http_server_process(bundles, "--token-file", str(token_file)) as (url, _proc):
        token = token_file.read_text().strip()
        listed = inspector(
            tmp_path,
            "--transport",
            "http",
            "--server-url",
            url,
            "--header",
            f"Authorization: Bearer {token}",
            "--method",
            "tools/list",
        )
        assert len(listed["tools"]) == len(tools())
