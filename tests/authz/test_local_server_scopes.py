"""``eksdiag serve`` in JWT mode holds each token to the scope table, over streamable HTTP with the
official MCP SDK client and RS256 tokens whose JWKS is served on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import httpx2
import jwt
import pytest
from eksdiag.tools.registry import tools
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.fixtures.seed import FAULTY_ID, build_seed_bundles
from tests.tools.local_server import http_server_process

pytestmark = pytest.mark.slow

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123"
CLIENT = "4example0client0id0abcdefg"
COLLECT_TOOLS = {"nodelog___collect", "nodelog___batch_collect", "capture___tcpdump_capture"}
READ_TOOLS = set(tools()) - COLLECT_TOOLS


@pytest.fixture(scope="module")
def signing_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(signing_key: Any) -> Iterator[str]:
    """The issuer's JWKS, served over HTTP on 127.0.0.1 like a Cognito user pool serves its own."""
    from jwt.algorithms import RSAAlgorithm

    jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update({"kid": "key-1", "use": "sig", "alg": "RS256"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/.well-known/jwks.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def access_token(key: Any, **claims: Any) -> str:
    """A Cognito client-credentials access token: client_id and scope, no aud."""
    now = int(time.time())
    body = {"iss": ISSUER, "sub": CLIENT, "client_id": CLIENT, "token_use": "access", "iat": now, "exp": now + 300}
    body.update(claims)
    return jwt.encode(
        {k: v for k, v in body.items() if v is not None}, key, algorithm="RS256", headers={"kid": "key-1"}
    )


@pytest.fixture(scope="module")
def seed_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("seed")
    build_seed_bundles(folder)
    return folder


@pytest.fixture
def bundles(seed_folder: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "bundles"
    shutil.copytree(seed_folder, folder)
    return folder


@pytest.fixture
def server(bundles: Path, jwks_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    extra: list[str] = getattr(request, "param", [])
    auth = ("--jwt-issuer", ISSUER, "--jwks-url", jwks_url, "--jwt-client-id", CLIENT, *extra)
    with http_server_process(bundles, *auth) as (url, _proc):
        yield url


async def _session(url: str, token: str, calls: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        listed = {t.name for t in (await client.list_tools()).tools}
        results = []
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            results.append((result.is_error, json.loads(result.content[0].text)))
        return {"listed": listed, "results": results}


def run_session(url: str, token: str, *calls: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return anyio.run(_session, url, token, list(calls))


def imported(bundles: Path) -> list[Path]:
    return sorted((bundles / ".eksdiag").glob("bundles/*/index.json"))


COLLECT = ("nodelog___collect", {"instanceId": FAULTY_ID})
ERRORS = ("findings___errors", {"instanceId": FAULTY_ID, "pageSize": 1})


def test_read_token_is_refused_collection_and_capture_and_nothing_is_imported(
    server: str, signing_key: Any, bundles: Path
) -> None:
    out = run_session(
        server,
        access_token(signing_key, scope="eksdiag/read"),
        COLLECT,
        ("nodelog___batch_collect", {"clusterName": "prod", "dryRun": True}),
        ("capture___tcpdump_capture", {"instanceId": FAULTY_ID}),
        ("runbooks___list_sops", {}),
        ("nodelog___history", {}),
    )
    assert out["listed"] == READ_TOOLS
    for is_error, body in out["results"][:3]:
        assert is_error and body["error"]["code"] == "Forbidden" and body["error"]["retryable"] is False
        assert body["error"]["details"] == {"requiredScopes": ["eksdiag/collect"], "tokenScopes": ["eksdiag/read"]}
    assert out["results"][3][0] is False and out["results"][3][1]["runbooks"]
    assert out["results"][4][0] is False and out["results"][4][1]["jobs"] == []
    assert imported(bundles) == []


def test_collect_token_collects_and_reads(server: str, signing_key: Any, bundles: Path) -> None:
    out = run_session(server, access_token(signing_key, scope="eksdiag/collect"), COLLECT, ERRORS)
    assert out["listed"] == set(tools())
    (collect_error, collected), (errors_error, errors) = out["results"]
    assert not collect_error and collected["state"] == "indexed"
    assert not errors_error and errors["findings"][0]["rule"] == "network.iptables.forward-drop"
    assert len(imported(bundles)) == 1


@pytest.mark.parametrize(
    ("claims", "listed"),
    [
        ({"scope": "openid eksdiag/read eksdiag/collect"}, set(tools())),
        ({"scp": ["eksdiag/collect"]}, set(tools())),
        ({"scope": None}, set()),
        ({"scope": "other/read other/collect"}, set()),
        ({"scope": "eksdiag/collector eksdiag/readonly xeksdiag/collect"}, set()),
    ],
    ids=["both-scopes", "scp-list", "no-scope", "other-resource-server", "lookalikes"],
)
def test_each_token_sees_exactly_the_tools_it_may_call(
    server: str, signing_key: Any, bundles: Path, claims: dict[str, Any], listed: set[str]
) -> None:
    out = run_session(server, access_token(signing_key, **claims), ("runbooks___list_sops", {}), COLLECT)
    assert out["listed"] == listed
    for is_error, body in out["results"]:
        assert is_error is not bool(listed), body
        if not listed:
            assert body["error"]["code"] == "Forbidden"
    assert len(imported(bundles)) == (1 if listed else 0)


@pytest.mark.parametrize("server", [["--jwt-resource-server", "https://api.example.com/diag"]], indirect=True)
def test_the_resource_server_identifier_is_configurable(server: str, signing_key: Any, bundles: Path) -> None:
    default = run_session(server, access_token(signing_key, scope="eksdiag/collect"), COLLECT)
    assert default["listed"] == set() and default["results"][0][1]["error"]["code"] == "Forbidden"
    own = run_session(server, access_token(signing_key, scope="https://api.example.com/diag/read"), COLLECT, ERRORS)
    assert own["listed"] == READ_TOOLS
    assert own["results"][0][1]["error"]["details"]["requiredScopes"] == ["https://api.example.com/diag/collect"]
    assert own["results"][1][1]["error"]["code"] == "NotFound"  # nothing was imported to read
    assert imported(bundles) == []


def test_an_identifier_that_is_not_a_scope_token_is_refused(bundles: Path) -> None:
    from eksdiag.server import main as serve_main

    argv = ["--bundles", str(bundles), "--transport", "http", "--jwt-issuer", ISSUER, "--jwks-url", "x"]
    with pytest.raises(SystemExit, match="jwt-resource-server"):
        serve_main([*argv, "--jwt-client-id", CLIENT, "--jwt-resource-server", "two words"])


def test_refusals_do_not_end_the_session(server: str, signing_key: Any) -> None:
    """The refusal is a tool result: the same MCP session goes on with the tools the token may call."""
    out = run_session(server, access_token(signing_key, scope="eksdiag/read"), COLLECT, ("runbooks___list_sops", {}))
    assert out["results"][0][0] is True and out["results"][1][0] is False
