"""The local MCP server (``eksdiag serve``): the same tools, names and schemas as the gateway, on
bundles in a local folder, over stdio or streamable HTTP.

* Tool names are ``<group>___<tool>``, exactly as AgentCore Gateway presents them; input and output
  schemas are the full schema files; arguments are validated the same way as in Lambda.
* ``nodelog___collect`` imports ``<bundles>/eks_<instanceId>_*.tar.gz`` instead of calling SSM, and
  ``nodelog___status`` reports that import. Tools that need AWS answer with an ``Upstream`` error.
* HTTP binds 127.0.0.1 unless told otherwise and requires a bearer token: a JWT checked against a
  configured issuer and JWKS (``--jwt-issuer``, ``--jwks-url``), or, by default, a development token
  generated at start and printed on stderr.
* With issuer JWTs, each token may list and call only the tools its scopes grant, by the same scope
  table the gateway enforces (:mod:`eksdiag.authz`): ``<identifier>/read`` for analysis, status and
  runbooks, ``<identifier>/collect`` for those and collection and capture. The development token and
  stdio keep every tool (they are local).

Entry points: :func:`main` (argv after ``serve``) and :func:`run_server`.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from eksdiag.authz import DEFAULT_IDENTIFIER, ScopePolicy, token_scopes
from eksdiag.engine.redact_log import NO_REDACT_WARNING
from eksdiag.tools.admission import ISOLATED_CLASSES, Admission, cost_of
from eksdiag.tools.base import ToolContext, ToolError
from eksdiag.tools.registry import ToolRun, ToolSpec, tools
from eksdiag.tools.workers import WorkerProcesses

LOG = logging.getLogger("eksdiag.server")

SERVER_NAME = "eksdiag"
#: An OAuth scope-token (RFC 6749 section 3.3): the resource server identifier must be one.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]{1,256}")
DEV_ISSUER = "https://eksdiag.local/dev"
DEV_TOKEN_SECONDS = 12 * 3600
INSTRUCTIONS = (
    "Diagnose EKS worker nodes from their log bundles. Start with nodelog___collect (instanceId) and "
    "nodelog___status, then findings___errors; feed finding ids to findings___read, findings___correlate "
    "and findings___summarize; compare nodes with findings___compare_nodes; runbooks___get_sop gives procedures."
)


@dataclass
class ServedTool:
    spec: ToolSpec
    run: ToolRun


def served_tools(local: bool) -> dict[str, ServedTool]:
    """Every registered tool by full name; with ``local`` the SSM-backed ones use their local versions."""
    overrides: dict[str, ToolRun] = {}
    if local:
        from eksdiag.adapters.local_tools import LOCAL_OVERRIDES

        overrides = LOCAL_OVERRIDES
    return {name: ServedTool(spec, overrides.get(name, spec.run)) for name, spec in tools().items()}


# ---------------------------------------------------------------- auth


@dataclass
class JwtSettings:
    """How HTTP bearer tokens are checked.

    With ``issuer`` and ``jwks_url`` tokens must be RS256/ES256 JWTs signed by a key of that JWKS
    (``http(s)://...`` or a local file) with that ``iss``; ``audience`` and ``client_ids`` add the
    ``aud`` / ``client_id`` checks (Cognito access tokens carry ``client_id``, not ``aud``); one of
    them is required, else every token is refused (an issuer signs tokens for all of its clients).
    Such tokens are then held to the scope table with ``resource_server`` as the scope identifier.
    Without them a development key is generated and :meth:`dev_token` issues tokens for it.
    """

    issuer: str | None = None
    jwks_url: str | None = None
    audience: str | None = None
    client_ids: tuple[str, ...] = ()
    resource_server: str = DEFAULT_IDENTIFIER
    dev_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    @property
    def development(self) -> bool:
        return not self.jwks_url

    @property
    def effective_issuer(self) -> str:
        return self.issuer or DEV_ISSUER

    @property
    def scope_policy(self) -> ScopePolicy | None:
        """The per-tool scope checks for issuer tokens; None (every tool) for the development token."""
        return None if self.development else ScopePolicy(self.resource_server)

    def dev_token(self, seconds: int = DEV_TOKEN_SECONDS) -> str:
        import jwt

        now = int(time.time())
        claims = {"iss": DEV_ISSUER, "sub": "eksdiag-dev", "client_id": "eksdiag-dev", "iat": now, "exp": now + seconds}
        return jwt.encode(claims, self.dev_secret, algorithm="HS256")


#: Seconds past ``exp`` a token is still accepted (clock skew between the issuer and this machine).
JWT_LEEWAY = 30


class JwtVerifier:
    """An ``mcp`` TokenVerifier backed by PyJWT.

    An agent sends the same token with every call, so a token once verified is taken again from a
    small cache, without its signature checked, for at most :attr:`REUSE_SECONDS` and never past its
    expiry (with the leeway); a key removed from the JWKS stops its tokens within that time."""

    REUSE_SECONDS = 60.0
    CACHE_SIZE = 1024

    def __init__(self, settings: JwtSettings) -> None:
        self.settings = settings
        self._jwks: Any = None
        self._verified: dict[str, tuple[float, Any]] = {}  # token -> (good until, epoch s; AccessToken)

    def _key_for(self, token: str) -> Any:
        import jwt

        if self.settings.development:
            return self.settings.dev_secret
        url = str(self.settings.jwks_url)
        if url.startswith(("http://", "https://")):
            if self._jwks is None:
                self._jwks = jwt.PyJWKClient(url, cache_keys=True)
            return self._jwks.get_signing_key_from_jwt(token).key
        keys = jwt.PyJWKSet.from_dict(json.loads(Path(url).read_text(encoding="utf-8")))
        kid = jwt.get_unverified_header(token).get("kid")
        for key in keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise jwt.InvalidTokenError("no JWKS key matches the token's kid")

    def check(self, token: str) -> dict[str, Any] | None:
        """The token's claims when it is valid, else None."""
        import jwt

        if not self.settings.development and self.settings.audience is None and not self.settings.client_ids:
            return None  # fail closed: an issuer signs tokens for many clients; we must know which are ours
        try:
            key = self._key_for(token)
            algorithms = ["HS256"] if self.settings.development else ["RS256", "RS384", "RS512", "ES256", "ES384"]
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=self.settings.effective_issuer,
                audience=self.settings.audience,
                options={"require": ["exp", "iss"], "verify_aud": self.settings.audience is not None},
                leeway=JWT_LEEWAY,
            )
        except (jwt.PyJWTError, OSError, ValueError, TypeError, KeyError):
            # TypeError: a header naming another key family (ES256 over an RSA key) reaches the
            # crypto library with the wrong key type; refused like any other bad token
            return None
        if self.settings.client_ids and claims.get("client_id", claims.get("azp")) not in self.settings.client_ids:
            return None
        return claims

    async def verify_token(self, token: str) -> Any:
        import anyio
        from mcp.server.auth.provider import AccessToken

        now = time.time()
        known = self._verified.get(token)
        if known is not None and now < known[0]:
            return known[1]
        if self.settings.development:
            claims = self.check(token)  # HMAC with a key in memory: microseconds, no I/O
        else:
            claims = await anyio.to_thread.run_sync(self.check, token)  # may fetch or read the JWKS
        if claims is None:
            self._verified.pop(token, None)
            return None
        access = AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or claims.get("sub") or "unknown"),
            scopes=sorted(token_scopes(claims)),
            expires_at=int(claims["exp"]) if "exp" in claims else None,
            subject=claims.get("sub"),
            claims={"iss": claims.get("iss")},
        )
        self._remember(token, access, min(now + self.REUSE_SECONDS, float(claims["exp"]) + JWT_LEEWAY))
        return access

    def _remember(self, token: str, access: Any, until: float) -> None:
        if len(self._verified) >= self.CACHE_SIZE:
            now = time.time()
            for stale in [t for t, (good, _) in self._verified.items() if good <= now]:
                del self._verified[stale]
            while len(self._verified) >= self.CACHE_SIZE:
                del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = (until, access)


def write_token_file(path: str | Path, token: str) -> None:
    """Write the bearer token readable by its owner only (0600), never through a symlink."""
    import os

    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
        os.write(fd, (token + "\n").encode("utf-8"))
    finally:
        os.close(fd)


# ---------------------------------------------------------------- server


def client_keys(context: Any) -> tuple[str, ...]:
    """Who a call counts against for the per-client caps: its MCP session (HTTP), else the token's
    principal; nothing on stdio (one client)."""
    from mcp.server.auth.middleware.auth_context import get_access_token

    request = getattr(context, "_request_context", None) or getattr(context, "request_context", None)
    with contextlib.suppress(AttributeError, ValueError, LookupError):
        session = request.session_id if request is not None else None
        if session:
            return (f"session:{session}",)
    token = get_access_token()
    if token is not None:
        return (f"principal:{token.client_id}:{token.subject or ''}",)
    return ()


def run_call(spec: ToolSpec, run: ToolRun, arguments: Any, ctx: ToolContext) -> tuple[dict[str, Any], str]:
    """One tool call as the server answers it, with its JSON text (non-ASCII kept as it is): a fault
    becomes a structured error (logged with its traceback here), never an exception text with server
    paths in it."""
    from eksdiag.tools.dispatch import call_tool_encoded

    try:
        return call_tool_encoded(spec, arguments, ctx, run=run, ensure_ascii=False)
    except Exception as exc:
        LOG.exception("tool %s failed", spec.full_name)
        fault = ToolError(
            "Upstream",
            f"internal error ({type(exc).__name__}) in {spec.full_name}; the server log has the details",
            retryable=True,
        ).to_result()
        return fault, json.dumps(fault)


def build_server(
    ctx: ToolContext,
    *,
    auth: JwtSettings | None = None,
    resource_url: str | None = None,
    admission: Admission | None = None,
    processes: WorkerProcesses | None = None,
) -> Any:
    """An ``MCPServer`` serving every tool on ``ctx`` (local overrides when ``ctx.local``); calls are
    admitted by cost class and client (:mod:`eksdiag.tools.admission`), and those of the isolated
    classes run in ``processes`` when given (else in threads, like the rest)."""
    import anyio
    from mcp.server.mcpserver import MCPServer
    from mcp_types import CallToolResult, TextContent
    from mcp_types import Tool as MCPTool

    table = served_tools(ctx.local)
    scopes = auth.scope_policy if auth is not None else None

    def permitted(name: str) -> bool:
        return scopes is None or scopes.allows(name, _request_scopes())

    gate = admission or Admission()

    class EksdiagServer(MCPServer[Any]):
        """MCPServer with tools described by our schema files instead of Python signatures."""

        async def list_tools(self) -> list[MCPTool]:
            # Like the gateway with its policy engine: a token sees only the tools it may call.
            return [
                MCPTool(
                    name=name,
                    description=tool.spec.description,
                    input_schema=tool.spec.input_schema,
                    output_schema=tool.spec.output_schema,
                )
                for name, tool in table.items()
                if permitted(name)
            ]

        def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
            tool = table.get(name)
            return tool.spec.input_schema if tool else None

        async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
            tool = table.get(name)
            if tool is None:
                return CallToolResult(
                    content=[
                        TextContent(
                            type="text",
                            text=json.dumps(
                                {"error": {"code": "NotFound", "message": f"unknown tool {name!r}", "retryable": False}}
                            ),
                        )
                    ],
                    is_error=True,
                )
            if scopes is not None and not permitted(name):
                # A tool error, not HTTP 403: the session and the other tools stay usable, and the
                # model reads which scope is missing.
                refusal = json.dumps(scopes.refusal(name, _request_scopes()))
                return CallToolResult(content=[TextContent(type="text", text=refusal)], is_error=True)
            isolated = processes is not None and cost_of(name) in ISOLATED_CLASSES
            try:
                async with gate.admit(name, client_keys(context)) as threads:
                    if isolated:
                        result, text = await processes.call(name, arguments)  # type: ignore[union-attr]
                    else:
                        work = partial(run_call, tool.spec, tool.run, arguments, ctx)
                        result, text = await anyio.to_thread.run_sync(work, limiter=threads)
            except ToolError as err:
                result = err.to_result()
                text = json.dumps(result)
            if "error" in result:
                return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
            return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=result)

    kwargs: dict[str, Any] = {}
    if auth is not None:
        from mcp.server.auth.settings import AuthSettings
        from pydantic import AnyHttpUrl

        kwargs["auth"] = AuthSettings(
            issuer_url=AnyHttpUrl(auth.effective_issuer),
            resource_server_url=AnyHttpUrl(resource_url) if resource_url else None,
            validate_token_resource=False,
        )
        kwargs["token_verifier"] = JwtVerifier(auth)
    return EksdiagServer(name=SERVER_NAME, instructions=INSTRUCTIONS, version=_version(), **kwargs)


def _request_scopes() -> list[str]:
    """Scopes of the bearer token of the request being served (none without one: fail closed)."""
    from mcp.server.auth.middleware.auth_context import get_access_token

    token = get_access_token()
    return list(token.scopes) if token is not None else []


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("eksdiag")
    except PackageNotFoundError:
        return "0"


def run_server(
    bundles_dir: str | Path,
    transport: str = "stdio",
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    auth: JwtSettings | None = None,
    require_auth: bool = True,
    token_file: str | Path | None = None,
    redact: bool = True,
    allowed_hosts: Sequence[str] = (),
    sse_responses: bool = False,
) -> None:
    """Serve the bundles in ``bundles_dir`` until interrupted.

    ``transport`` is ``stdio`` or ``http`` (streamable HTTP at ``http://host:port/mcp``). For HTTP,
    ``auth`` says how tokens are checked (default: a development token, printed on stderr and written
    to ``token_file`` when given); ``require_auth=False`` serves without a token (loopback only).
    Each answer is one JSON body, or with ``sse_responses`` an SSE stream (keep-alive pings while a
    long call runs, for a client or proxy that drops an idle response; more CPU per call).
    """
    from eksdiag.adapters import lifecycle
    from eksdiag.adapters.context import local_context

    root = Path(bundles_dir)
    if not root.is_dir():
        raise SystemExit(f"eksdiag serve: --bundles {root} is not a folder")
    if not redact:
        print(NO_REDACT_WARNING, file=sys.stderr, flush=True)
    ctx = local_context(root, redact=redact)
    ended = lifecycle.recover(ctx)
    if ended:
        print(f"eksdiag serve: {len(ended)} unfinished import(s) of an earlier run marked failed", file=sys.stderr)
    if transport == "stdio":
        build_server(ctx).run("stdio")
        return
    if transport != "http":
        raise SystemExit(f"eksdiag serve: unknown transport {transport!r} (stdio or http)")
    settings: JwtSettings | None = None
    if require_auth:
        settings = auth or JwtSettings()
        if settings.development:
            token = settings.dev_token()
            print(f"eksdiag serve: development bearer token (valid {DEV_TOKEN_SECONDS // 3600} h):", file=sys.stderr)
            print(token, file=sys.stderr, flush=True)
            if token_file:
                try:
                    write_token_file(token_file, token)
                except OSError as exc:
                    why = "it is a symbolic link (refused)" if exc.errno == errno.ELOOP else exc.strerror
                    raise SystemExit(f"eksdiag serve: cannot write --token-file {token_file}: {why}") from None
    elif host not in ("127.0.0.1", "::1", "localhost"):
        raise SystemExit("eksdiag serve: --no-auth is only allowed on a loopback address")
    base = f"http://{_url_host(host)}:{port}"
    resource = f"{base}/mcp"
    admission = Admission()
    processes = WorkerProcesses(str(root), sum(admission.limits(c).workers for c in ISOLATED_CLASSES), redact=redact)
    processes.start()
    server = build_server(
        ctx, auth=settings, resource_url=resource if settings else None, admission=admission, processes=processes
    )
    serve_artifact_links(server, ctx, base)
    security = transport_security(host, port, allowed_hosts)
    print(f"eksdiag serve: MCP over streamable HTTP at {resource}, bundles in {root}", file=sys.stderr, flush=True)
    print(f"eksdiag serve: accepted Host headers: {', '.join(security.allowed_hosts)}", file=sys.stderr, flush=True)
    import uvicorn

    # By default one JSON body per answer: no tool streams progress or asks the client anything
    # mid-call, and the SSE framing costs more CPU than the rest of a call (make bench-load measures both)
    app = server.streamable_http_app(transport_security=security, host=host, json_response=not sse_responses)
    try:
        # no access log: a line per request is noise here and costs a few percent at hundreds of calls a second
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
    finally:
        processes.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # noqa: S104 - names of the wildcard binds, not a bind


def transport_security(host: str, port: int, extra_hosts: Sequence[str] = ()) -> Any:
    """Host and Origin checks (DNS rebinding protection) for every bind address, not only loopback.

    Accepted: the loopback names, the bind address itself, the machine's names when bound to all
    addresses, and ``extra_hosts`` (``--allowed-host``, e.g. a name a proxy forwards)."""
    import socket

    from mcp.server.transport_security import TransportSecuritySettings

    names = ["127.0.0.1", "localhost", "[::1]"]
    if host in WILDCARD_HOSTS:
        names += [socket.gethostname(), socket.getfqdn()]
    else:
        names.append(_url_host(host))
    hosts: list[str] = []
    for name in [*names, *extra_hosts]:
        for entry in (name, f"{name}:{port}") if ":" not in name.strip("[]") or name.startswith("[") else (name,):
            if entry not in hosts:
                hosts.append(entry)
    origins = [f"{scheme}://{entry}" for entry in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def serve_artifact_links(server: Any, ctx: ToolContext, base_url: str) -> None:
    """Make ``findings___artifact`` answer with links of this server (see ``adapters.local_links``)."""
    from eksdiag.adapters.local_links import ROUTE, LinkSigner
    from eksdiag.adapters.local_store import LocalBundleStore

    store = ctx.store
    if not isinstance(store, LocalBundleStore):
        return
    signer = LinkSigner(base_url)
    store.link_signer = signer

    @server.custom_route(ROUTE, methods=["GET"], include_in_schema=False)
    async def artifact(request: Any) -> Any:
        from starlette.responses import FileResponse, PlainTextResponse

        key = signer.verify(str(request.path_params.get("link", "")))
        path = store.linked_file(key) if key else None
        if path is None:
            return PlainTextResponse("link invalid or expired", status_code=403)
        return FileResponse(path, media_type="application/octet-stream", filename=path.name)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eksdiag serve", description="Serve the eksdiag MCP tools on local bundles.")
    p.add_argument("--bundles", required=True, metavar="DIR", help="folder with eks_<instanceId>_*.tar.gz bundles")
    p.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    p.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default: %(default)s)")
    p.add_argument("--port", type=int, default=8000, help="HTTP port (default: %(default)s)")
    p.add_argument("--jwt-issuer", help="accept JWTs from this issuer (needs --jwks-url)")
    p.add_argument("--jwks-url", help="JWKS of the issuer: https://.../jwks.json or a local file")
    p.add_argument("--jwt-audience", help="required aud claim")
    p.add_argument("--jwt-client-id", action="append", default=[], help="allowed client_id claim (repeatable)")
    p.add_argument(
        "--jwt-resource-server",
        default=DEFAULT_IDENTIFIER,
        metavar="IDENTIFIER",
        help="OAuth resource server identifier of the scopes: a token may call the read tools with "
        "IDENTIFIER/read and every tool with IDENTIFIER/collect (default: %(default)s)",
    )
    p.add_argument("--token-file", help="also write the development token to this file")
    p.add_argument("--no-auth", action="store_true", help="HTTP without a token (loopback addresses only)")
    p.add_argument(
        "--sse-responses",
        action="store_true",
        help="answer each HTTP call with an SSE stream instead of one JSON body: it sends keep-alive pings "
        "while a long call (a large import) runs, for a client or proxy that drops an idle response; "
        "costs more CPU per call",
    )
    p.add_argument(
        "--no-redact",
        action="store_true",
        help="UNSAFE, local use only: import bundles without redacting secrets; every tool then returns them "
        "to the MCP client and its model",
    )
    p.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="also accept this Host header (repeatable; e.g. the name a proxy forwards)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``eksdiag serve`` (``argv`` is what follows ``serve``)."""
    opts = parser().parse_args(argv)
    if bool(opts.jwt_issuer) != bool(opts.jwks_url):
        raise SystemExit("eksdiag serve: --jwt-issuer and --jwks-url go together")
    if opts.jwt_issuer and not (opts.jwt_audience or opts.jwt_client_id):
        raise SystemExit(
            "eksdiag serve: --jwt-issuer needs --jwt-audience or --jwt-client-id (an issuer such as a Cognito "
            "user pool signs tokens for every one of its clients)"
        )
    if not _SCOPE_TOKEN.fullmatch(opts.jwt_resource_server):
        raise SystemExit("eksdiag serve: --jwt-resource-server must be printable, no spaces, quotes or backslashes")
    auth = JwtSettings(
        issuer=opts.jwt_issuer,
        jwks_url=opts.jwks_url,
        audience=opts.jwt_audience,
        client_ids=tuple(opts.jwt_client_id),
        resource_server=opts.jwt_resource_server,
    )
    try:
        run_server(
            opts.bundles,
            opts.transport,
            opts.host,
            opts.port,
            auth=auth,
            require_auth=not opts.no_auth,
            token_file=opts.token_file,
            redact=not opts.no_redact,
            allowed_hosts=tuple(opts.allowed_host),
            sse_responses=opts.sse_responses,
        )
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
