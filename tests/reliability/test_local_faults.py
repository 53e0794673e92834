"""Fault injection on the local folder stores: racing processes, a server killed with -9 while it
indexes, and every kind of damaged state file. Each case ends with what the agent sees."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from eksdiag.adapters import lifecycle
from eksdiag.adapters.local_jobs import LocalJobStore
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.reliability.helpers import big_bundle, bundle_of, local
from tests.tools.conftest import Seed
from tests.tools.local_server import free_port, server_command, wait_for_port

INSTANCE = "i-0f1a2b3c4d5e6f708"


def _collect_in_process(folder: str, instance: str, out: Any) -> None:
    """One OS process calling the local collect (the spawn start method: nothing shared but the folder)."""
    from eksdiag.adapters.local_tools import local_collect
    from eksdiag.tools.dispatch import call_tool
    from eksdiag.tools.registry import tools

    from tests.reliability.helpers import local

    ctx = local(Path(folder))
    out.put(call_tool(tools()["nodelog___collect"], {"instanceId": instance}, ctx, run=local_collect))


def test_collects_racing_from_separate_processes_import_once(bundles: Path, seed: Seed) -> None:
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()
    procs = [
        spawn.Process(target=_collect_in_process, args=(str(bundles), seed.faulty_instance, out)) for _ in range(4)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert all(proc.exitcode == 0 for proc in procs)
    assert not [r for r in results if "error" in r], results
    assert len({r["bundleId"] for r in results}) == 1 and {r["state"] for r in results} == {"indexed"}
    assert sorted(r["idempotent"] for r in results) == [False] + [True] * 3
    assert [p.name for p in (bundles / ".eksdiag" / "bundles").iterdir()] == [results[0]["bundleId"]]
    imports = list((bundles / ".eksdiag" / "state" / "records" / "imports").iterdir())
    assert [json.loads(p.read_text())["bundle_id"] for p in imports] == [results[0]["bundleId"]]
    assert local(bundles).jobs.get_latest(seed.faulty_instance) == results[0]["bundleId"]


def test_an_idempotency_token_returns_the_same_bundle_and_a_new_file_a_new_one(
    bundles: Path, seed: Seed, run: Any
) -> None:
    ctx = local(bundles)
    first = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance, "idempotencyToken": "t-1"})
    newer = bundles / f"eks_{seed.faulty_instance}_2025-03-07_0900-UTC_0.7.9.tar.gz"
    bundle_of(newer, seed.faulty_instance)
    os.utime(newer, (time.time() + 60, time.time() + 60))
    again = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance, "idempotencyToken": "t-1"})
    fresh = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance})
    assert again["bundleId"] == first["bundleId"] and again["idempotent"] is True
    assert fresh["bundleId"] != first["bundleId"] and fresh["idempotent"] is False
    assert ctx.jobs.get_latest(seed.faulty_instance) == fresh["bundleId"]


# ---------------------------------------------------------------- kill -9 of a serving process


@pytest.fixture
def big_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "bundles"
    folder.mkdir()
    big_bundle(folder / f"eks_{INSTANCE}_2025-03-06_1822-UTC_0.7.9.tar.gz", INSTANCE, megabytes=48)
    return folder


@pytest.fixture
def server(big_folder: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The local server as a subprocess on HTTP; restartable (``start()``), killed at the end."""
    state: dict[str, Any] = {"proc": None, "folder": big_folder}

    def start() -> tuple[str, str]:
        port = free_port()
        token_file = tmp_path / f"token-{port}"
        command = [*server_command(big_folder), "--transport", "http", "--port", str(port)]
        proc = subprocess.Popen(
            [*command, "--token-file", str(token_file)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        state["proc"] = proc
        wait_for_port(port, proc)
        return f"http://127.0.0.1:{port}/mcp", token_file.read_text().strip()

    state["start"] = start
    try:
        yield state
    finally:
        proc = state["proc"]
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


async def _call(url: str, token: str, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        result = await client.call_tool(tool, args)
        return json.loads(result.content[0].text)


def _indexing_job(folder: Path, seconds: float = 60) -> dict[str, Any] | None:
    """The job file once it says ``indexing`` and partial files exist (polled, bounded)."""
    jobs, files = folder / ".eksdiag" / "state" / "jobs", folder / ".eksdiag" / "bundles"
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        for path in jobs.glob("b-*.json") if jobs.is_dir() else []:
            try:
                job = json.loads(path.read_bytes())
            except ValueError:
                continue
            if job.get("state") == "indexing" and any((files / job["bundle_id"] / "files").glob("*")):
                return dict(job)
        time.sleep(0.005)
    return None


@pytest.mark.slow
def test_a_server_killed_during_indexing_leaves_a_failed_job_and_no_partial_files(server: dict[str, Any]) -> None:
    folder = server["folder"]
    url, token = server["start"]()

    def collect_in_background() -> None:
        try:
            anyio.run(_call, url, token, "nodelog___collect", {"instanceId": INSTANCE})
        except Exception:  # the server dies under this call: the client's error is expected
            return

    import threading

    caller = threading.Thread(target=collect_in_background, daemon=True)
    caller.start()
    job = _indexing_job(folder)
    assert job is not None, "the import never reached the indexing state"
    os.kill(server["proc"].pid, signal.SIGKILL)
    server["proc"].wait(timeout=10)
    bid = job["bundle_id"]
    assert any((folder / ".eksdiag" / "bundles" / bid / "files").glob("*"))

    url, token = server["start"]()  # the restart settles what the dead server left
    status = anyio.run(_call, url, token, "nodelog___status", {"bundleId": bid})
    assert status["state"] == "failed" and status["done"] is True
    assert "stopped before it finished" in status["failureReason"]
    assert not (folder / ".eksdiag" / "bundles" / bid).exists()
    errors = anyio.run(_call, url, token, "findings___errors", {"bundleId": bid})
    assert errors["error"]["code"] == "NotFound" and errors["error"]["retryable"] is False
    again = anyio.run(_call, url, token, "nodelog___collect", {"instanceId": INSTANCE})
    assert again["state"] == "indexed" and again["bundleId"] != bid and again["idempotent"] is False
    by_instance = anyio.run(_call, url, token, "findings___errors", {"instanceId": INSTANCE, "pageSize": 1})
    assert by_instance["bundleId"] == again["bundleId"]


def test_recover_ends_jobs_of_dead_owners_and_keeps_live_ones(bundles: Path, seed: Seed) -> None:
    ctx = local(bundles)
    dead = LocalJobStore(bundles)
    dead_owner = dead.owner
    for bid, owner in (("b-20260306183000-0000000a", dead_owner), ("b-20260306183000-0000000b", ctx.jobs.new_owner())):
        ctx.jobs.create_job(
            {
                "bundle_id": bid,
                "instance_id": seed.faulty_instance,
                "state": "uploaded",
                "created_at": "2026-03-06T18:30:00Z",
            }
        )
        ctx.jobs.transition(bid, {"state": "uploaded"}, {"state": "indexing", "owner": owner})
        (bundles / ".eksdiag" / "bundles" / bid / "files").mkdir(parents=True)
    dead.close()  # as the kernel does for a process that died
    assert lifecycle.recover(ctx) == ["b-20260306183000-0000000a"]
    assert ctx.jobs.get_job("b-20260306183000-0000000a")["state"] == "failed"
    assert ctx.jobs.get_job("b-20260306183000-0000000b")["state"] == "indexing"
    assert not (bundles / ".eksdiag" / "bundles" / "b-20260306183000-0000000a").exists()
    assert (bundles / ".eksdiag" / "bundles" / "b-20260306183000-0000000b").exists()


def test_an_import_past_its_deadline_fails_even_when_its_owner_lives(bundles: Path, seed: Seed, run: Any) -> None:
    from tests.tools.ssm_fake import Clock

    clock = Clock()
    ctx = local(bundles, clock=clock)
    bid = "b-20260306183000-0000000c"
    ctx.jobs.create_job({"bundle_id": bid, "instance_id": seed.faulty_instance, "state": "uploaded"})
    claim = lifecycle.claim_indexing(ctx, bid)
    assert claim.outcome == "claimed"
    assert run(ctx, "findings___errors", {"bundleId": bid})["error"]["code"] == "NotReady"
    clock.advance(minutes=40)
    status = run(ctx, "nodelog___status", {"bundleId": bid})
    assert status["state"] == "failed" and "deadline" in status["failureReason"]
    assert not lifecycle.finish(ctx, claim, state="indexed")  # the late owner cannot undo the failure


# ---------------------------------------------------------------- damaged files


@pytest.mark.parametrize("damage", [b"", b"\x00" * 64, b"{", b"[]", b'{"bundle_id": 7}', b"\xff\xfe garbage"], ids=str)
def test_damaged_records_are_replaced_not_fatal(bundles: Path, seed: Seed, run: Any, damage: bytes) -> None:
    ctx = local(bundles)
    first = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance})
    records = bundles / ".eksdiag" / "state" / "records"
    for path in records.rglob("*.json"):
        path.write_bytes(damage)
    again = run(local(bundles), "nodelog___collect", {"instanceId": seed.faulty_instance})
    assert again["state"] == "indexed" and "error" not in again
    # the archive was imported again under a new id: the damaged record could not say it had been
    assert again["bundleId"] != first["bundleId"] or again["idempotent"] is True


def test_leftovers_of_a_crash_do_not_confuse_the_store(bundles: Path, seed: Seed, run: Any) -> None:
    ctx = local(bundles)
    state = bundles / ".eksdiag" / "state"
    (state / "jobs").mkdir(parents=True)
    (state / "jobs" / ".b-20260306183000-0000000d.json.123.456.abcd.tmp").write_bytes(b'{"half')
    (state / "jobs" / "not-a-bundle.json").write_text("{}")
    (state / "owners").mkdir()
    (state / "owners" / "local_gone_1_dead.lock").write_text("")
    assert lifecycle.recover(ctx) == []
    assert not (state / "owners" / "local_gone_1_dead.lock").exists()
    result = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance})
    assert result["state"] == "indexed"
    assert [j["bundle_id"] for j in ctx.jobs.list_jobs(None, 10)] == [result["bundleId"]]


@pytest.mark.parametrize("tool", ["findings___errors", "findings___correlate", "findings___search", "findings___read"])
def test_every_findings_tool_survives_a_damaged_index(bundles: Path, seed: Seed, run: Any, tool: str) -> None:
    ctx = local(bundles)
    bid = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance})["bundleId"]
    (bundles / ".eksdiag" / "bundles" / bid / "index.json").write_bytes(b"\x00" * 100)
    args = {
        "findings___errors": {},
        "findings___correlate": {},
        "findings___search": {"pattern": "DROP"},
        "findings___read": {"path": "networking/iptables-filter.txt"},
    }[tool]
    result = run(local(bundles), tool, {"bundleId": bid, **args})
    assert "error" not in result, result  # rebuilt from the archive it was imported from


def test_a_damaged_index_whose_archive_is_gone_is_reported_as_corrupt_until_collected_again(
    bundles: Path, seed: Seed, run: Any
) -> None:
    ctx = local(bundles)
    bid = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance})["bundleId"]
    (bundles / ".eksdiag" / "bundles" / bid / "index.json").write_bytes(b'{"schema": "eksdiag.index/1"')
    archive = next(bundles.glob(f"eks_{seed.faulty_instance}_*"))
    os.utime(archive, (time.time() + 5, time.time() + 5))  # "a different file" now: no rebuild from it
    fresh = local(bundles)
    result = run(fresh, "findings___errors", {"bundleId": bid})
    assert result["error"]["code"] == "Corrupt" and "nodelog___collect" in result["error"]["message"]
    status = run(fresh, "nodelog___status", {"bundleId": bid})
    assert status["state"] == "failed" and "damaged" in status["failureReason"]
    collected = run(fresh, "nodelog___collect", {"instanceId": seed.faulty_instance})
    assert collected["state"] == "indexed" and collected["bundleId"] != bid
    assert run(fresh, "findings___errors", {"instanceId": seed.faulty_instance})["bundleId"] == collected["bundleId"]


def test_a_job_record_lost_while_its_index_survived_is_rebuilt_as_indexed(bundles: Path, seed: Seed, run: Any) -> None:
    ctx = local(bundles)
    bid = run(ctx, "nodelog___collect", {"instanceId": seed.faulty_instance})["bundleId"]
    (bundles / ".eksdiag" / "state" / "jobs" / f"{bid}.json").write_bytes(b"\x00\x00\x00")
    status = run(local(bundles), "nodelog___status", {"bundleId": bid})
    assert status["state"] == "indexed" and status["instanceId"] == seed.faulty_instance
    assert status["findingCounts"]["CRITICAL"] == 1


def test_a_hybrid_bundle_is_known_by_the_managed_instance_id_its_kubelet_config_names(
    tmp_path: Path,
) -> None:
    from eksdiag.adapters.local_tools import find_bundle_file, peek_identity

    folder = tmp_path / "b"
    folder.mkdir()
    config = json.dumps(
        {"kind": "KubeletConfiguration", "providerID": "eks-hybrid:///us-west-2/prod/mi-0123456789abcdef0"}
    )
    archive = bundle_of(
        folder / "eks__2025-03-06_1822-UTC_0.7.9.tar.gz",
        "",
        {"system/instance-id.txt": None, "kubelet/config.json": config},  # type: ignore[dict-item]
    )
    assert peek_identity(archive) == "mi-0123456789abcdef0"
    ec2 = bundle_of(
        folder / "eks__2025-03-07_1822-UTC_0.7.9.tar.gz",
        "",
        {
            "system/instance-id.txt": None,
            "kubelet/config.json": json.dumps({"providerID": "aws:///us-west-2b/i-0aaaaaaaaaaaaaaa1"}),
        },  # type: ignore[dict-item]
    )
    assert peek_identity(ec2) == "i-0aaaaaaaaaaaaaaa1"
    ctx = local(folder)
    assert find_bundle_file(ctx, folder, "i-0aaaaaaaaaaaaaaa1") == ec2
    with pytest.raises(Exception) as missing:
        find_bundle_file(ctx, folder, "i-0aaaaaaa")
    assert "i-0aaaaaaaaaaaaaaa1" in str(getattr(missing.value, "details", ""))
