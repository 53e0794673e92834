"""The local MCP server (``eksdiag serve``) driven by the official MCP Python SDK client, over stdio
and over streamable HTTP with a bearer token (development token and issuer/JWKS JWTs)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import jwt
import pytest
from eksdiag.server import JwtSettings, JwtVerifier
from eksdiag.server import main as serve_main
from eksdiag.tools.registry import tools
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.tools.conftest import Seed
from tests.tools.local_server import http_server_process, server_command

pytestmark = pytest.mark.slow


def stdio_params(bundles: Path) -> StdioServerParameters:
    command, *args = server_command(bundles)
    return StdioServerParameters(command=command, args=args)


def test_stdio_lists_every_tool_with_the_gateway_names_and_full_schemas(bundles: Path) -> None:
    async def main() -> list[Any]:
        async with Client(stdio_params(bundles)) as client:
            return list((await client.list_tools()).tools)

    listed = anyio.run(main)
    assert [t.name for t in listed] == list(tools())
    for tool in listed:
        spec = tools()[tool.name]
        assert tool.input_schema == spec.input_schema and tool.output_schema == spec.output_schema
        assert tool.description == spec.description


def test_stdio_collect_status_errors_read(bundles: Path, seed: Seed) -> None:
    async def main() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with Client(stdio_params(bundles)) as client:
            collected = await client.call_tool("nodelog___collect", {"instanceId": seed.faulty_instance})
            out["collect"] = collected.structured_content
            bid = collected.structured_content["bundleId"]
            out["status"] = (await client.call_tool("nodelog___status", {"bundleId": bid})).structured_content
            errors = await client.call_tool("findings___errors", {"instanceId": seed.faulty_instance, "pageSize": 3})
            out["errors"] = errors.structured_content
            top = errors.structured_content["findings"][0]
            read = await client.call_tool("findings___read", {"bundleId": bid, "findingId": top["id"]})
            out["read"] = read.structured_content
            again = await client.call_tool("nodelog___collect", {"instanceId": seed.faulty_instance})
            out["again"] = again.structured_content
            bad = await client.call_tool("findings___errors", {"bundleId": "nope"})
            out["bad"] = (bad.is_error, json.loads(bad.content[0].text))
            aws_only = await client.call_tool("nodelog___cluster_health", {"clusterName": "prod"})
            out["aws_only"] = (aws_only.is_error, json.loads(aws_only.content[0].text))
            missing = await client.call_tool("nodelog___collect", {"instanceId": "i-0123456789abcdef0"})
            out["missing"] = json.loads(missing.content[0].text)
        return out

    out = anyio.run(main)
    assert out["collect"]["state"] == "indexed" and out["collect"]["idempotent"] is False
    assert out["status"]["done"] is True and out["status"]["findingCounts"]["CRITICAL"] == 1
    assert out["errors"]["bundleId"] == out["collect"]["bundleId"]
    assert out["errors"]["findings"][0]["rule"] == "network.iptables.forward-drop"
    assert out["read"]["path"] == "networking/iptables-filter.txt" and "DROP" in out["read"]["content"]
    assert out["again"]["idempotent"] is True and out["again"]["bundleId"] == out["collect"]["bundleId"]
    assert out["bad"][0] is True and out["bad"][1]["error"]["code"] == "InvalidArgument"
    assert out["aws_only"][0] is True and out["aws_only"][1]["error"]["code"] == "Upstream"
    assert out["missing"]["error"]["code"] == "NotFound"
    assert seed.faulty_instance in out["missing"]["error"]["details"]["instancesWithBundles"]
    assert (bundles / ".eksdiag" / "bundles" / out["collect"]["bundleId"] / "index.json").is_file()


# ---------------------------------------------------------------- HTTP


@pytest.fixture
def http_server(bundles: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    extra: list[str] = getattr(request, "param", [])
    token_file = tmp_path / "token.txt"
    with http_server_process(bundles, "--token-file", str(token_file), *extra) as (url, proc):
        yield {"url": url, "token_file": token_file, "proc": proc}


async def _errors_over_http(url: str, token: str, instance: str) -> Any:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        names = [t.name for t in (await client.list_tools()).tools]
        await client.call_tool("nodelog___collect", {"instanceId": instance})
        result = await client.call_tool("findings___errors", {"instanceId": instance, "pageSize": 1})
        return names, result.structured_content


def _post_status(url: str, token: str | None) -> int:
    headers = {"Accept": "application/json, text/event-stream"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    return httpx2.post(url, json=body, headers=headers, timeout=10).status_code


def test_http_requires_the_development_token_printed_at_start(http_server: dict[str, Any], seed: Seed) -> None:
    url = http_server["url"]
    token = http_server["token_file"].read_text().strip()
    assert _post_status(url, None) == 401
    assert _post_status(url, "not-a-jwt") == 401
    forged = jwt.encode(
        {"iss": "https://eksdiag.local/dev", "exp": int(time.time()) + 60},
        "guessed-secret-" + "x" * 32,
        algorithm="HS256",
    )
    assert _post_status(url, forged) == 401
    names, errors = anyio.run(_errors_over_http, url, token, seed.faulty_instance)
    assert names == list(tools()) and errors["findings"][0]["rule"] == "network.iptables.forward-drop"


# ---------------------------------------------------------------- JWTs from a configured issuer


ISSUER = "https://issuer.example.com/pool-1"


@pytest.fixture(scope="module")
def signing_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_file(signing_key: Any, tmp_path: Path) -> Path:
    from jwt.algorithms import RSAAlgorithm

    jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update({"kid": "key-1", "use": "sig", "alg": "RS256"})
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return path


def issue(key: Any, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "sub": "agent",
        "client_id": "agent-client",
        "iat": now,
        "exp": now + 300,
        "scope": "eksdiag/read",
    }
    body.update(claims)
    return jwt.encode(
        {k: v for k, v in body.items() if v is not None}, key, algorithm="RS256", headers={"kid": "key-1"}
    )


def test_jwt_verifier_checks_signature_issuer_expiry_audience_and_client(signing_key: Any, jwks_file: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    verifier = JwtVerifier(JwtSettings(issuer=ISSUER, jwks_url=str(jwks_file), client_ids=("agent-client",)))
    assert verifier.check(issue(signing_key))["sub"] == "agent"
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rejected = {
        "other-key": issue(other_key),
        "other-issuer": issue(signing_key, iss="https://evil.example.com"),
        "expired": issue(signing_key, exp=int(time.time()) - 3600),
        "no-exp": issue(signing_key, exp=None),
        "other-client": issue(signing_key, client_id="someone-else"),
        "hs256-with-public-key": jwt.encode({"iss": ISSUER, "exp": int(time.time()) + 60}, "x" * 32, algorithm="HS256"),
    }
    for why, token in rejected.items():
        assert verifier.check(token) is None, why
    with_audience = JwtVerifier(JwtSettings(issuer=ISSUER, jwks_url=str(jwks_file), audience="eksdiag"))
    assert with_audience.check(issue(signing_key, aud="eksdiag")) is not None
    assert with_audience.check(issue(signing_key, aud="other")) is None
    assert with_audience.check(issue(signing_key)) is None


def test_dev_tokens_are_only_valid_for_the_server_that_made_them() -> None:
    mine, theirs = JwtSettings(), JwtSettings()
    assert JwtVerifier(mine).check(mine.dev_token()) is not None
    assert JwtVerifier(mine).check(theirs.dev_token()) is None
    assert JwtVerifier(mine).check(mine.dev_token(seconds=-120)) is None


@pytest.fixture
def jwt_server(bundles: Path, jwks_file: Path) -> Iterator[dict[str, Any]]:
    auth = ("--jwt-issuer", ISSUER, "--jwks-url", str(jwks_file), "--jwt-client-id", "agent-client")
    with http_server_process(bundles, *auth) as (url, proc):
        yield {"url": url, "proc": proc}


def test_http_with_a_configured_issuer(jwt_server: dict[str, Any], signing_key: Any, seed: Seed) -> None:
    url = jwt_server["url"]
    assert _post_status(url, issue(signing_key, client_id="someone-else")) == 401
    assert _post_status(url, issue(signing_key, iss="https://evil.example.com")) == 401
    # Collecting needs the collect scope (tests/authz holds every tool to the scope table).
    _, errors = anyio.run(_errors_over_http, url, issue(signing_key, scope="eksdiag/collect"), seed.faulty_instance)
    assert errors["bundleId"].startswith("b-")


@pytest.mark.parametrize(
    "argv",
    [
        ["--transport", "http", "--host", "0.0.0.0", "--no-auth"],
        ["--transport", "http", "--jwt-issuer", ISSUER],
    ],
    ids=["no-auth-off-loopback", "issuer-without-jwks"],
)
def test_unsafe_or_incomplete_http_options_are_refused(bundles: Path, argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        serve_main(["--bundles", str(bundles), *argv])


def test_a_missing_bundles_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="not a folder"):
        serve_main(["--bundles", str(tmp_path / "nope")])


def test_the_demo_walks_the_incident_to_its_root_cause(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(repo / "scripts" / "demo.py"), "--bundles", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for step in ("collect", "status", "errors", "search", "correlate", "read", "summarize", "compare_nodes"):
        assert f"___{step}" in out, step
    cause = out.split("ROOT CAUSE", 1)[1]
    assert "network.iptables.forward-drop" in cause and "networking/iptables-filter.txt:9" in cause


# ---------------------------------------------------------------- local collect and status (no subprocess)


def _local(bundles: Path) -> Any:
    from eksdiag.adapters.context import local_context

    return local_context(bundles)


def test_local_collect_imports_the_newest_bundle_of_the_instance(bundles: Path, seed: Seed, run: Any) -> None:
    import os

    ctx = _local(bundles)
    older = bundles / f"eks_{seed.faulty_instance}_2025-03-01_0000-UTC_0.7.9.tar.gz"
    shutil.copy(seed.healthy, older)
    os.utime(older, (1, 1))  # the seed file copied in the fixture is newer
    result = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance})
    index = ctx.store.load_index(result["bundleId"])
    assert index["bundle"]["name"] == seed.faulty.name and result["region"] == "us-west-2"


def test_local_collect_tokens_and_repeats(bundles: Path, seed: Seed, run: Any) -> None:
    ctx = _local(bundles)
    first = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance, "idempotencyToken": "t-1"})
    again = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance, "idempotencyToken": "t-1"})
    plain = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance})
    assert again["bundleId"] == first["bundleId"] == plain["bundleId"] and again["idempotent"]
    (bundles / seed.faulty.name).touch()  # a new file version is a new collection
    newer = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance})
    assert newer["bundleId"] != first["bundleId"] and not newer["idempotent"]


def test_local_collect_of_an_extracted_folder(bundles: Path, seed: Seed, run: Any) -> None:
    import tarfile

    folder = bundles / f"eks_{seed.healthy_instance}_extracted"
    with tarfile.open(seed.healthy) as tar:
        tar.extractall(folder, filter="data")
    (bundles / seed.healthy.name).unlink()
    ctx = _local(bundles)
    result = run(ctx, "nodelog___collect", {"instanceId": seed.healthy_instance})
    assert result["state"] == "indexed"
    assert run(ctx, "findings___validate", {"bundleId": result["bundleId"]})["fileCount"] > 20


def test_local_collect_of_a_corrupt_file_fails_and_status_says_why(bundles: Path, run: Any) -> None:
    instance = "i-0123456789abcdef0"
    (bundles / f"eks_{instance}_2025-03-06_1822-UTC_0.7.9.tar.gz").write_bytes(b"not a bundle at all")
    ctx = _local(bundles)
    result = run(ctx, "nodelog___collect", {"instanceId": instance})
    assert result["state"] == "failed"
    status = run(ctx, "nodelog___status", {"executionId": result["executionId"]})
    assert status["done"] and status["state"] == "failed" and "not a readable bundle" in status["failureReason"]
    assert run(ctx, "findings___errors", {"bundleId": result["bundleId"]})["error"]["code"] == "NotFound"


def test_local_status_of_an_unknown_collection(bundles: Path, run: Any) -> None:
    ctx = _local(bundles)
    assert run(ctx, "nodelog___status", {"bundleId": "b-20260101120000-00000001"})["error"]["code"] == "NotFound"
