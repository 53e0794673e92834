"""Review findings: each test failed before its fix (hostile or sloppy arguments, cursors, page sizes)."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.tools.conftest import Indexed
from tests.tools.test_mcp_server import ISSUER, issue


def _put_file(indexed: Indexed, path: str, data: bytes) -> None:
    """Add a file to the faulty bundle (store and index) as the indexer would."""
    ctx = indexed.ctx
    sink = ctx.store.file_sink(indexed.faulty)
    with sink.open(path) as handle:
        handle.write(data)
    sink.wait()
    index = ctx.store.load_index(indexed.faulty)
    assert index is not None
    index["files"].append({"path": path, "size": len(data), "lines": data.count(b"\n"), "binary": False})
    ctx.store.save_index(indexed.faulty, index)
    ctx.cache.clear()


# ---------------------------------------------------------------- integers are integers


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("findings___search", {"pattern": "error", "contextLines": 2.0}),
        ("findings___search", {"pattern": "error", "maxMatches": 10.0}),
        ("findings___read", {"path": "kubelet/kubelet.log", "startByte": 5.0}),
        ("findings___read", {"path": "kubelet/kubelet.log", "startLine": 1.0}),
        ("findings___errors", {"pageSize": 5.0}),
        ("findings___read", {"path": "kubelet/kubelet.log", "startLine": True}),
    ],
)
def test_integral_floats_and_bools_are_not_integers(
    local_indexed: Indexed, run: Any, tool: str, args: dict[str, Any]
) -> None:
    result = run(local_indexed.ctx, tool, {"bundleId": local_indexed.faulty, **args})
    assert result["error"]["code"] == "InvalidArgument", result


# ---------------------------------------------------------------- cursors


def _tamper(cursor: str, **changes: Any) -> str:
    """Edit the position inside a cursor and keep whatever signature it carried."""
    body, dot, mac = cursor.partition(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data.update(changes)
    edited = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
    return edited + dot + mac


def _search_page(indexed: Indexed, run: Any, cursor: str | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {"bundleId": indexed.faulty, "pattern": "e", "maxMatches": 3}
    if cursor:
        args["cursor"] = cursor
    return run(indexed.ctx, "findings___search", args)


@pytest.mark.parametrize(
    "changes",
    [{"f": -1}, {"f": "x"}, {"f": 10_000}, {"l": 0}, {"l": 1, "b": 7}, {"b": -3}, {"l": 987_654}, {"b": None}],
    ids=[
        "negative-file",
        "string-file",
        "file-past-end",
        "line-zero",
        "offset-moved",
        "negative-offset",
        "line-renumbered",
        "null-offset",
    ],
)
def test_a_tampered_search_cursor_is_refused(local_indexed: Indexed, run: Any, changes: dict[str, Any]) -> None:
    first = _search_page(local_indexed, run)
    assert first["nextCursor"]
    again = _search_page(local_indexed, run, first["nextCursor"])
    assert "error" not in again
    bad = _search_page(local_indexed, run, _tamper(first["nextCursor"], **changes))
    assert bad["error"]["code"] == "InvalidArgument", bad


@pytest.mark.parametrize("offset", ["x", -5, None, 1.5, True, 0])
def test_a_tampered_errors_cursor_is_refused(local_indexed: Indexed, run: Any, offset: Any) -> None:
    first = run(local_indexed.ctx, "findings___errors", {"bundleId": local_indexed.faulty, "pageSize": 1})
    assert first["nextCursor"]
    bad = run(
        local_indexed.ctx,
        "findings___errors",
        {"bundleId": local_indexed.faulty, "pageSize": 1, "cursor": _tamper(first["nextCursor"], o=offset)},
    )
    assert bad["error"]["code"] == "InvalidArgument", bad


def test_a_cursor_of_another_bundle_is_refused(local_indexed: Indexed, run: Any) -> None:
    ctx = local_indexed.ctx
    mine = run(ctx, "findings___errors", {"bundleId": local_indexed.faulty, "pageSize": 1})["nextCursor"]
    other = run(ctx, "findings___errors", {"bundleId": local_indexed.healthy, "pageSize": 1, "cursor": mine})
    assert other["error"]["code"] == "InvalidArgument"


def test_search_cursor_line_numbers_stay_exact_across_pages(local_indexed: Indexed, run: Any) -> None:
    data = b"".join(b"match %d\n" % i if i % 7 == 0 else b"other line %d\n" % i for i in range(1, 3000))
    _put_file(local_indexed, "var_log/numbers.log", data)
    args = {"bundleId": local_indexed.faulty, "pattern": "^match", "files": ["var_log/numbers.log"], "maxMatches": 13}
    seen: list[int] = []
    cursor = None
    while True:
        page = run(local_indexed.ctx, "findings___search", {**args, **({"cursor": cursor} if cursor else {})})
        for match in page["matches"]:
            assert match["text"] == f"match {match['line']}"
            seen.append(match["line"])
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == [i for i in range(1, 3000) if i % 7 == 0]


# ---------------------------------------------------------------- paths


@pytest.mark.parametrize(
    "path",
    [
        "kubelet/../kubelet/kubelet.log",
        "./kubelet/kubelet.log",
        "kubelet//kubelet.log",
        "kubelet/kubelet.log/",
        "kubelet%2Fkubelet.log",
        "kubelet/%2e%2e/kubelet/kubelet.log",
        "\uff4bubelet/kubelet.log",  # a fullwidth k
        "kubelet/kubelet.log\u200b",
        "k" * 5000,
    ],
)
def test_read_and_artifact_take_only_the_exact_listed_path(local_indexed: Indexed, run: Any, path: str) -> None:
    for tool in ("findings___read", "findings___artifact"):
        result = run(local_indexed.ctx, tool, {"bundleId": local_indexed.faulty, "path": path})
        assert result["error"]["code"] in ("InvalidArgument", "NotFound"), (tool, path, result)


# ---------------------------------------------------------------- read pages fit the gateway


@pytest.mark.parametrize("mode", ["lines", "bytes"])
def test_read_pages_stay_under_the_result_cap_even_when_json_escaping_grows_them(
    local_indexed: Indexed, run: Any, mode: str
) -> None:
    from eksdiag.tools.base import MAX_RESULT_BYTES

    line = b"\x01" * 1000 + b"\n"  # every byte becomes \u0001 (6 bytes) in JSON
    data = line * 2000
    _put_file(local_indexed, "var_log/control.log", data)
    args: dict[str, Any] = {"bundleId": local_indexed.faulty, "path": "var_log/control.log"}
    args.update({"startLine": 1, "lineCount": 5000} if mode == "lines" else {"startByte": 0, "maxBytes": 1 << 20})
    got = b""
    for _ in range(100):
        page = run(local_indexed.ctx, "findings___read", args)
        assert "error" not in page, page
        assert len(json.dumps(page).encode()) < MAX_RESULT_BYTES
        got += page["content"].encode()
        if mode == "lines":
            if page["nextLine"] is None:
                break
            args["startLine"] = page["nextLine"]
        else:
            if page["nextByte"] is None:
                break
            args["startByte"] = page["nextByte"]
    assert got == data


# ---------------------------------------------------------------- local server


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


def test_the_development_token_file_is_private(tmp_path: Path) -> None:
    from eksdiag.server import write_token_file

    target = tmp_path / "token.txt"
    target.write_text("old\n")
    target.chmod(0o644)
    write_token_file(target, "secret-token")
    assert target.read_text() == "secret-token\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_an_issuer_without_audience_or_client_id_accepts_no_token(signing_key: Any, jwks_file: Path) -> None:
    from eksdiag.server import JwtSettings, JwtVerifier

    open_door = JwtVerifier(JwtSettings(issuer=ISSUER, jwks_url=str(jwks_file)))
    assert open_door.check(issue(signing_key, client_id="any-client-of-the-pool")) is None


def test_serve_refuses_an_issuer_without_audience_or_client_id(tmp_path: Path, jwks_file: Path) -> None:
    from eksdiag.server import main as serve_main

    argv = ["--bundles", str(tmp_path), "--transport", "http", "--jwt-issuer", ISSUER, "--jwks-url", str(jwks_file)]
    with pytest.raises(SystemExit, match="--jwt-client-id"):
        serve_main(argv)


def test_unsigned_and_symmetric_tokens_are_refused(signing_key: Any, jwks_file: Path) -> None:
    import time

    import jwt
    from eksdiag.server import JwtSettings, JwtVerifier

    verifier = JwtVerifier(JwtSettings(issuer=ISSUER, jwks_url=str(jwks_file), client_ids=("agent-client",)))
    claims = {"iss": ISSUER, "client_id": "agent-client", "exp": int(time.time()) + 60}
    unsigned = jwt.encode(claims, key=None, algorithm="none", headers={"kid": "key-1"})
    assert verifier.check(unsigned) is None
    dev = JwtSettings()
    assert JwtVerifier(dev).check(jwt.encode({**claims, "iss": dev.effective_issuer}, None, algorithm="none")) is None


@pytest.mark.parametrize("around", [1, 2, 5])
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_search_paging_with_context_lines_misses_no_match(
    local_indexed: Indexed, run: Any, around: int, limit: int
) -> None:
    data = b"".join(b"hit %d\n" % i if i % 3 else b"miss %d\n" % i for i in range(1, 40))
    _put_file(local_indexed, "var_log/dense.log", data)
    args = {
        "bundleId": local_indexed.faulty,
        "pattern": "^hit",
        "files": ["var_log/dense.log"],
        "maxMatches": limit,
        "contextLines": around,
    }
    seen: list[int] = []
    cursor = None
    for _ in range(100):
        page = run(local_indexed.ctx, "findings___search", {**args, **({"cursor": cursor} if cursor else {})})
        seen += [m["line"] for m in page["matches"]]
        for match in page["matches"]:
            after = [f"{'hit' if i % 3 else 'miss'} {i}" for i in range(match["line"] + 1, match["line"] + 1 + around)]
            assert match["after"] == [line for line in after if int(line.split()[1]) < 40]
            before = [f"{'hit' if i % 3 else 'miss'} {i}" for i in range(match["line"] - around, match["line"])]
            assert match["before"] == [line for line in before if int(line.split()[1]) >= 1]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == [i for i in range(1, 40) if i % 3]


def test_search_pages_always_make_progress_even_over_the_time_budget(
    local_indexed: Indexed, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eksdiag.tools.findings import search

    monkeypatch.setattr(search, "TIME_BUDGET_SECONDS", -1.0)  # every page is "over time" from its start
    data = b"".join(b"line %d\n" % i for i in range(1, 8))
    _put_file(local_indexed, "var_log/slow.log", data)
    args = {"bundleId": local_indexed.faulty, "pattern": "line", "files": ["var_log/slow.log"]}
    seen: list[int] = []
    cursor = None
    for _ in range(20):
        page = run(local_indexed.ctx, "findings___search", {**args, **({"cursor": cursor} if cursor else {})})
        seen += [m["line"] for m in page["matches"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == list(range(1, 8))


# ---------------------------------------------------------------- indexer Lambda


def test_a_redelivered_event_for_a_removed_upload_is_skipped_not_retried(aws_ctx: Any) -> None:
    from eksdiag.lambda_entry.indexer import IndexerHandler

    from tests.tools.test_indexer_lambda import s3_event

    handler = IndexerHandler(context_factory=lambda: aws_ctx)
    result = handler(s3_event("uploads/i-0f1a2b3c4d5e6f708/b-20260306183000-0a1b2c3d.tar.gz"), None)
    assert result["results"][0]["status"] == "skipped"
    assert aws_ctx.jobs.get_job("b-20260306183000-0a1b2c3d") is None


def test_indexer_log_lines_do_not_carry_the_previous_records_ids(
    aws_ctx: Any, seed: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from eksdiag.lambda_entry.indexer import IndexerHandler

    from tests.tools.test_indexer_lambda import s3_event, upload

    key = "uploads/i-0f1a2b3c4d5e6f708/b-20260306183000-0a1b2c3d.tar.gz"
    upload(aws_ctx, key, seed.faulty.read_bytes())
    event = s3_event(key)
    event["Records"] += s3_event("uploads/not-an-upload.txt")["Records"]
    handler = IndexerHandler(context_factory=lambda: aws_ctx)
    handler(event, None)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    skipped = [line for line in lines if line.get("message") == "key is not an upload"]
    assert skipped and "bundle_id" not in skipped[0]


# ---------------------------------------------------------------- ids end where they end


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("findings___compare_nodes", {"bundleIds": ["{faulty}\n", "{healthy}"]}),
        ("findings___compare_nodes", {"bundleIds": ["{faulty}", "{healthy}"], "baselineBundleId": "{healthy}\n"}),
        ("findings___errors", {"bundleId": "{faulty}\n"}),
        ("findings___summarize", {"bundleId": "{faulty}", "findingIds": ["F-0123456789abcdef\n"]}),
    ],
)
def test_an_id_with_a_trailing_line_break_is_invalid(
    local_indexed: Indexed, run: Any, tool: str, args: dict[str, Any]
) -> None:
    def fill(value: Any) -> Any:
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value.format(faulty=local_indexed.faulty, healthy=local_indexed.healthy)

    result = run(local_indexed.ctx, tool, {k: fill(v) for k, v in args.items()})
    assert result["error"]["code"] == "InvalidArgument", result
    assert "pattern" in result["error"]["message"] or "bundleId" in result["error"]["message"]


@pytest.mark.parametrize(
    ("pattern", "value", "ok"),
    [
        ("^ab$", "ab", True),
        ("^ab$", "ab\n", False),
        ("ab", "xxabxx", True),
        ("^a\\$$", "a$", True),
        ("^a\\$$", "a$\n", False),
        ("^a\\$", "a$x", True),
    ],
)
def test_schema_patterns_keep_their_json_schema_meaning(pattern: str, value: str, ok: bool) -> None:
    from eksdiag.tools.base import ToolError
    from eksdiag.tools.dispatch import validate_arguments

    schema = {"type": "object", "properties": {"v": {"type": "string", "pattern": pattern}}}
    if ok:
        assert validate_arguments(schema, {"v": value}) == {"v": value}
    else:
        with pytest.raises(ToolError):
            validate_arguments(schema, {"v": value})


def test_a_byte_offset_past_the_end_of_an_empty_file_is_invalid(local_indexed: Indexed, run: Any) -> None:
    _put_file(local_indexed, "var_log/empty.log", b"")
    args = {"bundleId": local_indexed.faulty, "path": "var_log/empty.log"}
    assert run(local_indexed.ctx, "findings___read", {**args, "startByte": 0})["content"] == ""
    past = run(local_indexed.ctx, "findings___read", {**args, "startByte": 100})
    assert past["error"]["code"] == "InvalidArgument", past


# ---------------------------------------------------------------- polling ends


def test_a_capture_ssm_never_registered_ends_instead_of_pending_forever(ctx: Any, fake: Any, ec2: Any) -> None:
    from botocore.exceptions import ClientError

    from tests.tools.ssm_fake import call, check_output, launch_ssm_node, self_managed_tags

    node = launch_ssm_node(ec2, fake, self_managed_tags("demo"))
    started = call(ctx, "capture", "tcpdump_capture", {"instanceId": node, "durationSeconds": 30})
    real = ctx.aws("ssm", "us-west-2")

    class NoInvocation:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def get_command_invocation(self, **_: Any) -> Any:
            raise ClientError({"Error": {"Code": "InvocationDoesNotExist", "Message": "none"}}, "GetCommandInvocation")

    ctx._clients[("ssm", "us-west-2")] = NoInvocation()
    early = call(ctx, "capture", "tcpdump_analyze", {"captureId": started["captureId"]})
    assert early["done"] is False
    ctx.clock.advance(minutes=30)
    late = call(ctx, "capture", "tcpdump_analyze", {"captureId": started["captureId"]})
    check_output("capture", "tcpdump_analyze", late)
    assert late["done"] is True and "never reached the node" in late["failureReason"]
