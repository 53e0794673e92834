"""One test per defect of issue 13 (and the ``eks__`` identity item of issue 11): each failed before
its fix. The broader fault-injection cases are in the neighbouring modules."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import jwt
import pytest
from eksdiag.tools.base import ToolContext

from tests.reliability.helpers import big_bundle, local
from tests.tools.conftest import Seed

# 1 ---------------------------------------------------------------- concurrent collects


def test_concurrent_collects_of_one_instance_make_one_bundle(bundles: Path, seed: Seed, run: Any) -> None:
    ctx = local(bundles)
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def collect() -> None:
        try:
            results.append(run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance}))
        except BaseException as exc:  # a raw fault is what this test looks for
            errors.append(exc)

    threads = [threading.Thread(target=collect) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert not [r for r in results if "error" in r], [r for r in results if "error" in r][:3]
    assert len({r["bundleId"] for r in results}) == 1
    bundle_dirs = list((bundles / ".eksdiag" / "bundles").iterdir())
    assert [p.name for p in bundle_dirs] == [results[0]["bundleId"]]
    assert ctx.jobs.get_latest(seed.faulty_instance) == results[0]["bundleId"]
    assert all(r["state"] == "indexed" for r in results)


# 2 ---------------------------------------------------------------- a killed indexing ends


def test_a_job_left_indexing_by_a_dead_server_ends_failed_and_its_partial_files_go(
    bundles: Path, seed: Seed, run: Any, tmp_path: Path
) -> None:
    import subprocess
    import sys

    big = big_bundle(tmp_path / "big.tar.gz", seed.faulty_instance)

    bid = "b-20260306183000-0a1b2c3d"
    # a real process indexes an upload that stalls half-way, and is killed (-9) while it waits
    script = (
        "import gzip, os, signal, sys, threading, time\n"
        "from eksdiag.adapters.context import local_context\n"
        "from eksdiag.adapters.ingest import ingest\n"
        "data = gzip.decompress(open(sys.argv[2], 'rb').read())  # a plain tar streams member by member\n"
        "class Stalling:\n"
        "    def __init__(self): self.pos = 0\n"
        "    def read(self, n=-1):\n"
        "        if self.pos >= len(data) * 3 // 4: time.sleep(600)\n"
        "        n = 65536 if n < 0 else min(n, 65536)\n"
        "        out = data[self.pos:self.pos + n]; self.pos += len(out); return out\n"
        "ctx = local_context(sys.argv[1])\n"
        f"args = dict(bundle_id='{bid}', instance_id='{seed.faulty_instance}')\n"
        "threading.Thread(target=ingest, args=(ctx, Stalling()), kwargs=args, daemon=True).start()\n"
        f"files = os.path.join(sys.argv[1], '.eksdiag', 'bundles', '{bid}', 'files')\n"
        "while not (os.path.isdir(files) and os.listdir(files)): time.sleep(0.05)\n"
        "time.sleep(0.5)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(bundles), str(big)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == -9, proc.stderr
    assert (bundles / ".eksdiag" / "bundles" / bid / "files").is_dir()
    ctx = local(bundles)
    status = run(ctx, "nodelog___status", {"bundleId": bid})
    assert status["state"] == "failed" and status["done"] is True and status.get("pollAfterSeconds", 0) == 0
    assert not (bundles / ".eksdiag" / "bundles" / bid).exists()
    errors = run(ctx, "findings___errors", {"bundleId": bid})
    assert errors["error"]["retryable"] is False


# 3 ---------------------------------------------------------------- corrupt index and state files


@pytest.mark.parametrize(
    "damage",
    [b"", b"\x00" * 4096, b'{"bundle": {"id": "b-', b"[1, 2, 3]", b'{"findings": "nope", "files": 3}'],
    ids=["empty", "nul", "truncated", "wrong-type", "wrong-fields"],
)
def test_a_corrupt_index_is_rebuilt_or_reported_never_a_raw_error(
    bundles: Path, seed: Seed, run: Any, damage: bytes
) -> None:
    ctx = local(bundles)
    first = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance})
    bid = first["bundleId"]
    good = run(ctx, "findings___errors", {"bundleId": bid})
    (bundles / ".eksdiag" / "bundles" / bid / "index.json").write_bytes(damage)
    fresh = local(bundles)  # no cached index
    again = run(fresh, "findings___errors", {"bundleId": bid})
    if "error" in again:
        assert again["error"]["code"] == "Corrupt"
        collected = run(fresh, "nodelog___collect", {"instanceId": seed.faulty_instance})
        again = run(fresh, "findings___errors", {"bundleId": collected["bundleId"]})
    assert [f["id"] for f in again["findings"]] == [f["id"] for f in good["findings"]]


@pytest.mark.parametrize("damage", [b"", b"\x00\x00", b"{not json", b'"a string"', b'{"state": 5}'])
def test_garbage_job_files_and_latest_pointers_give_answers_not_faults(
    bundles: Path, seed: Seed, run: Any, damage: bytes
) -> None:
    ctx = local(bundles)
    bid = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance})["bundleId"]
    state = bundles / ".eksdiag" / "state"
    (state / "jobs" / f"{bid}.json").write_bytes(damage)
    (state / "latest" / f"{seed.faulty_instance}.json").write_bytes(damage)
    fresh = local(bundles)
    status = run(fresh, "nodelog___status", {"bundleId": bid})
    assert status["done"] is True
    by_instance = run(fresh, "findings___errors", {"instanceId": seed.faulty_instance})
    assert "error" not in by_instance or by_instance["error"]["code"] in ("NotFound", "Corrupt")
    again = run(fresh, "nodelog___collect", {"instanceId": seed.faulty_instance})
    assert again["state"] == "indexed"
    assert run(fresh, "findings___errors", {"instanceId": seed.faulty_instance})["bundleId"] == again["bundleId"]


# 4 ---------------------------------------------------------------- extreme dates


@pytest.mark.parametrize(
    "args",
    [
        {"incidentTime": "9999-12-31T23:59:59Z"},
        {"incidentTime": "0001-01-01T00:00:00+01:00"},
        {"since": "0001-01-01T00:00:00+01:00"},
        {"until": "9999-12-31T23:59:59-05:00"},
        {"since": "0001-01-01T00:00:00Z"},
    ],
    ids=["max-incident", "min-with-offset", "since-before-year-1", "until-after-9999", "since-year-1"],
)
@pytest.mark.parametrize("tool", ["findings___errors", "findings___correlate"])
def test_extreme_dates_work_or_give_structured_errors(
    bundles: Path, seed: Seed, run: Any, tool: str, args: dict[str, Any]
) -> None:
    from eksdiag.adapters.ingest import ingest

    ctx = local(bundles)
    ingest(ctx, seed.faulty, bundle_id="b-20250306182200-0000000f", instance_id=seed.faulty_instance)
    result = run(ctx, tool, {"bundleId": "b-20250306182200-0000000f", **args})
    if "error" in result:
        assert result["error"]["code"] == "InvalidArgument"
        return
    window = result["window"]
    for stamp in (window["start"], window["end"]):
        assert len(stamp) == 20 and stamp[4] == "-" and stamp.endswith("Z"), stamp
    if args == {"since": "0001-01-01T00:00:00Z"}:
        assert window["start"] == "0001-01-01T00:00:00Z"


# 5 ---------------------------------------------------------------- fairness


def test_a_cheap_call_is_answered_while_expensive_calls_fill_the_server(
    bundles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import eksdiag.server as server_module
    from mcp import Client

    release = threading.Event()
    real = server_module.served_tools

    def with_blocking_search(local_mode: bool) -> Any:
        table = real(local_mode)
        tool = table["findings___search"]

        def blocked(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
            release.wait(60)
            return {"error": "released"}

        table["findings___search"] = type(tool)(tool.spec, blocked)
        return table

    monkeypatch.setattr(server_module, "served_tools", with_blocking_search)
    server = server_module.build_server(local(bundles))
    answered: dict[str, float] = {}

    async def main() -> None:
        async with Client(server) as client, anyio.create_task_group() as tasks:
            for _ in range(45):
                search = {"bundleId": "b-20260101120000-00000001", "pattern": "x"}
                tasks.start_soon(client.call_tool, "findings___search", search)
            await anyio.sleep(0.5)
            started = time.monotonic()
            with anyio.fail_after(15):
                listed = await client.call_tool("runbooks___list_sops", {})
            answered["seconds"] = time.monotonic() - started
            assert not listed.is_error
            release.set()

    try:
        anyio.run(main)
    finally:
        release.set()
    assert answered


# 6 ---------------------------------------------------------------- error replies


@pytest.mark.parametrize("size", [600, 8 << 20])
def test_error_replies_are_capped_and_echo_only_a_short_prefix(bundles: Path, run: Any, size: int) -> None:
    ctx = local(bundles)
    pattern = "(" * size
    result = run(ctx, "findings___search", {"bundleId": "b-20260101120000-00000001", "pattern": pattern})
    text = json.dumps(result)
    assert len(text) < 2000 and "(" * 200 not in text


# 7 ---------------------------------------------------------------- identity


def test_a_partial_instance_id_does_not_match_another_nodes_bundle(bundles: Path, seed: Seed, run: Any) -> None:
    ctx = local(bundles)
    result = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance[:10]})
    assert result["error"]["code"] == "NotFound"


def test_a_bundle_named_without_an_instance_id_is_found_by_its_contents(tmp_path: Path, seed: Seed, run: Any) -> None:
    folder = tmp_path / "eks-bundles"
    folder.mkdir()
    shutil.copy(seed.faulty, folder / "eks__2025-03-06_1822-UTC_0.7.8.tar.gz")
    ctx = local(folder)
    result = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance})
    assert result["state"] == "indexed" and result["instanceId"] == seed.faulty_instance
    other = run(ctx, "nodelog___collect", {"instanceId": seed.healthy_instance})
    assert other["error"]["code"] == "NotFound"


# 8 ---------------------------------------------------------------- symlinks at the top level


def test_links_at_the_top_of_the_bundles_folder_are_not_followed(tmp_path: Path, seed: Seed, run: Any) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "eks_i-0123456789abcdef0_x" / "system").mkdir(parents=True)
    (elsewhere / "eks_i-0123456789abcdef0_x" / "system" / "secret.txt").write_text("private\n")
    folder = tmp_path / "eks-bundles"
    folder.mkdir()
    (folder / "eks_i-0123456789abcdef0_2025-03-06_1822-UTC_0.7.8").symlink_to(elsewhere / "eks_i-0123456789abcdef0_x")
    (folder / f"eks_{seed.healthy_instance}_2025-03-06_1822-UTC_0.7.8.tar.gz").symlink_to(seed.healthy)
    ctx = local(folder)
    for instance in ("i-0123456789abcdef0", seed.healthy_instance):
        assert run(ctx, "nodelog___collect", {"instanceId": instance})["error"]["code"] == "NotFound"


# 9 ---------------------------------------------------------------- JWT algorithm confusion


def test_an_es256_header_over_an_rsa_key_is_refused_not_a_fault(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from eksdiag.server import JwtSettings, JwtVerifier
    from jwt.algorithms import RSAAlgorithm

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key()))
    jwk.update({"kid": "key-1", "use": "sig"})
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}))
    issuer = "https://issuer.example.com/pool"
    token = jwt.encode(
        {"iss": issuer, "exp": int(time.time()) + 60, "client_id": "c"},
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": "key-1"},
    )
    verifier = JwtVerifier(JwtSettings(issuer=issuer, jwks_url=str(jwks), client_ids=("c",)))
    assert verifier.check(token) is None


# 10 --------------------------------------------------------------- host checks, paths, token file


def test_a_non_loopback_bind_keeps_the_host_and_origin_checks(bundles: Path, tmp_path: Path) -> None:
    import socket
    import subprocess

    import httpx2

    from tests.tools.local_server import free_port, server_command

    port = free_port()
    token_file = tmp_path / "token"
    proc = subprocess.Popen(
        [
            *server_command(bundles),
            "--transport",
            "http",
            "--host",
            "127.0.0.2",
            "--port",
            str(port),
            "--token-file",
            str(token_file),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not token_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.2", port)) == 0:
                    break
            time.sleep(0.1)
        token = token_file.read_text().strip()
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
            "Host": "evil.example.com",
        }
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        response = httpx2.post(f"http://127.0.0.2:{port}/mcp", json=body, headers=headers, timeout=10)
        assert response.status_code == 421
        headers["Host"] = f"127.0.0.2:{port}"
        headers["Origin"] = "http://evil.example.com"
        response = httpx2.post(f"http://127.0.0.2:{port}/mcp", json=body, headers=headers, timeout=10)
        assert response.status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_answers_do_not_disclose_the_servers_folders(bundles: Path, seed: Seed, run: Any) -> None:
    ctx = local(bundles)
    missing = run(ctx, "nodelog___collect", {"instanceId": "i-0123456789abcdef0"})
    assert str(bundles) not in json.dumps(missing)


def test_a_symlinked_token_file_stops_start_up_with_one_line(bundles: Path, tmp_path: Path) -> None:
    import subprocess

    from tests.tools.local_server import free_port, server_command

    target = tmp_path / "target"
    target.write_text("")
    link = tmp_path / "token"
    link.symlink_to(target)
    proc = subprocess.run(
        [*server_command(bundles), "--transport", "http", "--port", str(free_port()), "--token-file", str(link)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "token-file" in proc.stderr, proc.stderr
    assert os.path.getsize(target) == 0


def test_a_hybrid_nodes_bundle_is_collected_by_its_managed_instance_id(tmp_path: Path, run: Any) -> None:
    from tests.reliability.helpers import bundle_of

    folder = tmp_path / "eks-bundles"
    folder.mkdir()
    node = "mi-0123456789abcdef0"
    config = json.dumps({"kind": "KubeletConfiguration", "providerID": f"eks-hybrid:///us-west-2/prod/{node}"})
    bundle_of(
        folder / "eks__2025-03-06_1822-UTC_0.7.9.tar.gz",
        "",
        {"system/instance-id.txt": None, "kubelet/config.json": config},  # type: ignore[dict-item]
    )
    ctx = local(folder)
    collected = run(ctx, "nodelog___collect", {"instanceId": node})
    assert collected["state"] == "indexed" and collected["instanceId"] == node
    errors = run(ctx, "findings___errors", {"instanceId": node, "pageSize": 1})
    assert errors["bundleId"] == collected["bundleId"] and errors["instanceId"] == node
    assert run(ctx, "nodelog___status", {"bundleId": collected["bundleId"]})["instanceId"] == node
