"""The red-team bundle through the local MCP server over streamable HTTP, with the official MCP SDK client:
no tool output carries a planted secret, and injected lines only ever appear inside evidence fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.security import corpus
from tests.security.conftest import injected_paths, leaked, outside_evidence
from tests.tools.local_server import http_server_process


async def _call_every_tool(url: str, token: str, bundle: corpus.RedTeamBundle, healthy: str) -> dict[str, Any]:
    instance = bundle.instance_id
    out: dict[str, Any] = {}
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):

        async def call(label: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
            result = await client.call_tool(name, args)
            body = result.structured_content or json.loads(result.content[0].text)
            out[label] = body
            assert not result.is_error, (label, body)
            return body

        listed = await client.list_tools()
        out["list_tools"] = [t.model_dump(mode="json") for t in listed.tools]
        collected = await call("collect", "nodelog___collect", {"instanceId": instance})
        await call("collect_healthy", "nodelog___collect", {"instanceId": healthy})
        bid = collected["bundleId"]
        await call("status", "nodelog___status", {"bundleId": bid})
        await call("history", "nodelog___history", {"instanceId": instance})
        errors = await call("errors", "findings___errors", {"bundleId": bid, "minSeverity": "INFO", "pageSize": 100})
        ids = [f["id"] for f in errors["findings"]]
        await call("validate", "findings___validate", {"bundleId": bid})
        for finding_id in ids:
            await call(f"read:{finding_id}", "findings___read", {"bundleId": bid, "findingId": finding_id})
        for planted_file in sorted({p.path for p in bundle.planted}):
            await call(f"read:{planted_file}", "findings___read", {"bundleId": bid, "path": planted_file})
            if not planted_file.endswith(".gz"):  # compressed files are read by line only
                args = {"bundleId": bid, "path": planted_file, "startByte": 0}
                await call(f"bytes:{planted_file}", "findings___read", args)
            art = await call(f"artifact:{planted_file}", "findings___artifact", {"bundleId": bid, "path": planted_file})
            # over HTTP the artifact is a signed link of the server itself (no server path is disclosed)
            assert urlparse(art["url"]).scheme == "http", art["url"]
            async with httpx2.AsyncClient(timeout=60) as download:
                out[f"artifact-bytes:{planted_file}"] = (await download.get(art["url"])).content
        for pattern in ("AKIA|ASIA|ghp_|github_pat_|glpat-|xox|eyJ|IQoJ", "(?i)pass|secret|token|key", "REDACTED", "."):
            args = {"bundleId": bid, "pattern": pattern, "maxMatches": 500}
            await call(f"search:{pattern}", "findings___search", args)
        await call("correlate", "findings___correlate", {"bundleId": bid})
        await call("summarize", "findings___summarize", {"bundleId": bid, "findingIds": ids[:20]})
        await call("compare", "findings___compare_nodes", {"instanceIds": [instance, healthy]})
        await call("network", "findings___network_diagnostics", {"bundleId": bid})
        await call("storage", "findings___storage_diagnostics", {"bundleId": bid})
        await call("sops", "runbooks___list_sops", {})
    return out


@pytest.fixture
def served(redteam: corpus.RedTeamBundle, redteam_folder: Path, tmp_path: Path) -> dict[str, Any]:
    from tests.fixtures.seed import HEALTHY_ID

    token_file = tmp_path / "token.txt"
    with http_server_process(redteam_folder, "--token-file", str(token_file)) as (url, _):
        return anyio.run(_call_every_tool, url, token_file.read_text().strip(), redteam, HEALTHY_ID)


def test_no_tool_output_over_http_contains_a_planted_secret(
    served: dict[str, Any], redteam: corpus.RedTeamBundle
) -> None:
    for label, output in served.items():
        text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
        assert not leaked(text, redteam.secrets()), label
    # the tools did see the planted files: every read and search came back with their redacted lines
    assert served["status"]["redactions"]["enabled"] is True
    assert served["status"]["redactions"]["count"] >= len(redteam.planted)
    redacted = {m["text"] for m in served["search:REDACTED"]["matches"]}
    assert {p.path for p in redteam.planted} <= {m["file"] for m in served["search:REDACTED"]["matches"]}
    assert any("[REDACTED:private-key]" in line for line in redacted)


def test_injected_lines_only_land_in_evidence_fields(served: dict[str, Any]) -> None:
    landed = {label: injected_paths(output) for label, output in served.items() if not isinstance(output, bytes)}
    assert landed["errors"] and landed["correlate"] and landed["summarize"]  # they did reach the tools
    for label, paths in landed.items():
        assert not outside_evidence(paths), (label, outside_evidence(paths))
    for tool in served["list_tools"]:
        assert corpus.INJECTION_MARK not in json.dumps(tool)
    for finding in served["errors"]["findings"]:
        assert corpus.INJECTION_MARK not in finding["title"]
        for evidence in finding.get("evidence", []):
            assert len(evidence["text"]) <= 2001  # a 100 kB injected line is cut in evidence
