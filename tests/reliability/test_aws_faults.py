"""Fault injection on the Lambda path: S3 + DynamoDB stores under moto (``mock_aws``), the indexer
Lambda handler with the events S3 sends, racing writers, killed and timed-out invocations, damaged
items and objects. The same contract as the local stores (tests/reliability/test_local_faults.py)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from eksdiag.adapters import lifecycle
from eksdiag.adapters.ingest import IndexingBusy
from eksdiag.lambda_entry.indexer import IndexerHandler
from eksdiag.tools.base import ToolContext

from tests.tools.conftest import BUCKET, TABLE, Seed
from tests.tools.ssm_fake import Clock
from tests.tools.test_indexer_lambda import s3_event, upload

INSTANCE = "i-0f1a2b3c4d5e6f708"
BUNDLE = "b-20260306183000-0a1b2c3d"
KEY = f"uploads/{INSTANCE}/{BUNDLE}.tar.gz"


class Invocation:
    """The ``context`` Lambda passes: a request id and the time left before the function is stopped."""

    def __init__(self, request_id: str, seconds_left: float) -> None:
        self.aws_request_id = request_id
        self._seconds = seconds_left

    def get_remaining_time_in_millis(self) -> int:
        return int(self._seconds * 1000)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(aws_env: dict[str, Any], clock: Clock) -> ToolContext:
    from eksdiag.adapters.context import aws_context

    return aws_context(aws_env["env"], client_factory=aws_env["clients"], clock=clock)


def _files(ctx: ToolContext, bid: str = BUNDLE) -> list[str]:
    listed = ctx.aws("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"bundles/{bid}/")
    return [obj["Key"] for obj in listed.get("Contents") or []]


def _job(ctx: ToolContext, **fields: Any) -> None:
    ctx.jobs.create_job({"bundle_id": BUNDLE, "instance_id": INSTANCE, "state": "uploaded", **fields})


# ---------------------------------------------------------------- conditional writes under races
#
# moto serves each request without a lock, so threads racing on it would test moto's races, not
# DynamoDB's conditional writes; the races below are interleaved by hand, at the worst moment.


def test_of_two_writers_claiming_one_record_the_second_gets_the_first_ones(ctx: ToolContext) -> None:
    first = ctx.jobs.claim_record("imports", "same-key", {"bundle_id": "b-20260306183000-00000001"})
    second = ctx.jobs.claim_record("imports", "same-key", {"bundle_id": "b-20260306183000-00000002"})
    assert first == second == ctx.jobs.get_record("imports", "same-key")
    kept = ctx.jobs.claim_record("imports", "same-key", {"bundle_id": "b-20260306183000-000000aa"}, supersede="x")
    assert kept["bundle_id"] == "b-20260306183000-00000001"  # superseding works only for the record it names
    moved = ctx.jobs.claim_record(
        "imports", "same-key", {"bundle_id": "b-20260306183000-000000aa"}, supersede="b-20260306183000-00000001"
    )
    assert moved["bundle_id"] == "b-20260306183000-000000aa"


def test_of_two_workers_that_read_the_same_job_only_one_claims_it(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _job(ctx)
    stale = ctx.jobs.get_job(BUNDLE)
    first = lifecycle.claim_indexing(ctx, BUNDLE, owner="lambda:first")
    # the second read the job before the first claimed it, and writes now
    monkeypatch.setattr(ctx.jobs, "get_job", lambda bid: dict(stale) if bid == BUNDLE else None, raising=False)
    attempts: list[bool] = []
    real = type(ctx.jobs).transition

    def once(self: Any, bid: str, expect: Any, fields: Any) -> bool:
        attempts.append(real(self, bid, expect, fields))
        monkeypatch.undo()  # later reads see the truth
        return attempts[-1]

    monkeypatch.setattr(type(ctx.jobs), "transition", once)
    second = lifecycle.claim_indexing(ctx, BUNDLE, owner="lambda:second")
    assert first.outcome == "claimed" and attempts == [False] and second.outcome == "busy"
    job = ctx.jobs.get_job(BUNDLE)
    assert job["owner"] == "lambda:first" and job["attempts"] == 1


def test_a_stale_compare_and_set_changes_nothing(ctx: ToolContext) -> None:
    _job(ctx)
    assert not ctx.jobs.transition(BUNDLE, {"state": "indexing"}, {"state": "indexed"})
    assert not ctx.jobs.transition(BUNDLE, {"state": "uploaded", "owner": "someone"}, {"state": "indexed"})
    assert ctx.jobs.transition(BUNDLE, {"state": "uploaded", "owner": None}, {"state": "failed", "error": "x"})
    assert ctx.jobs.get_job(BUNDLE)["state"] == "failed"
    assert not ctx.jobs.transition("b-20260306183000-00000000", {"state": None}, {"state": "indexed"})
    assert ctx.jobs.get_job("b-20260306183000-00000000") is None  # no item made from nothing


def test_the_latest_pointer_never_moves_back_and_replaces_a_damaged_one(ctx: ToolContext) -> None:
    newer, older = "b-20260306183000-0000000b", "b-20260306120000-0000000a"
    assert ctx.jobs.advance_latest(INSTANCE, newer)
    assert not ctx.jobs.advance_latest(INSTANCE, older)
    assert ctx.jobs.get_latest(INSTANCE) == newer
    ctx.aws("dynamodb").put_item(
        TableName=TABLE,
        Item={"pk": {"S": f"INSTANCE#{INSTANCE}"}, "sk": {"S": "LATEST"}, "bundle_id": {"N": "7"}, "made": {"N": "1"}},
    )
    assert ctx.jobs.get_latest(INSTANCE) is None  # a number is no bundle id
    assert ctx.jobs.advance_latest(INSTANCE, older) and ctx.jobs.get_latest(INSTANCE) == older


# ---------------------------------------------------------------- the indexer Lambda


class _PausingSink:
    """The store's sink, pausing the first invocation at its first file until released."""

    def __init__(self, inner: Any, reached: threading.Event, release: threading.Event) -> None:
        self._inner, self._reached, self._release = inner, reached, release

    def open(self, path: str) -> Any:
        self._reached.set()
        self._release.wait(60)
        return self._inner.open(path)

    def wait(self) -> None:
        self._inner.wait()


def test_an_event_redelivered_while_the_first_is_indexing_is_left_to_a_retry(
    ctx: ToolContext, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload(ctx, KEY, seed.faulty.read_bytes())
    handler = IndexerHandler(context_factory=lambda: ctx)
    reached, release = threading.Event(), threading.Event()
    real_sink = type(ctx.store).file_sink
    monkeypatch.setattr(
        type(ctx.store), "file_sink", lambda self, bid: _PausingSink(real_sink(self, bid), reached, release)
    )
    first: list[dict[str, Any]] = []
    worker = threading.Thread(target=lambda: first.append(handler(s3_event(KEY), Invocation("req-1", 300))))
    worker.start()
    assert reached.wait(60)
    try:
        with pytest.raises(IndexingBusy):  # raised so Lambda retries it later
            handler(s3_event(KEY), Invocation("req-2", 300))
    finally:
        monkeypatch.undo()
        release.set()
        worker.join(60)
    assert first[0]["results"][0]["status"] == "indexed"
    job = ctx.jobs.get_job(BUNDLE)
    assert job["state"] == "indexed" and job["attempts"] == 1 and job.get("owner") is None
    retry = handler(s3_event(KEY), Invocation("req-2-retry", 300))  # Lambda's retry of the busy one
    assert retry["results"][0]["status"] == "skipped" and ctx.jobs.get_job(BUNDLE)["attempts"] == 1


def test_a_new_upload_under_the_same_key_is_indexed_again_with_the_same_ids(ctx: ToolContext, seed: Seed) -> None:
    handler = IndexerHandler(context_factory=lambda: ctx)
    upload(ctx, KEY, seed.healthy.read_bytes())
    handler(s3_event(KEY), Invocation("req-1", 300))
    upload(ctx, KEY, seed.faulty.read_bytes())
    assert handler(s3_event(KEY), Invocation("req-2", 300))["results"][0]["status"] == "indexed"
    index = ctx.store.load_index(BUNDLE)
    assert any(f["rule"] == "network.iptables.forward-drop" for f in index["findings"])


class _SlowSink:
    """The store's sink with a slow disk: each file takes ``seconds`` to open."""

    def __init__(self, inner: Any, seconds: float) -> None:
        self._inner, self._seconds = inner, seconds

    def open(self, path: str) -> Any:
        time.sleep(self._seconds)
        return self._inner.open(path)

    def wait(self) -> None:
        self._inner.wait()


def test_an_invocation_short_of_time_stops_and_keeps_what_it_read(
    ctx: ToolContext, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload(ctx, KEY, seed.faulty.read_bytes())
    real_sink = type(ctx.store).file_sink
    monkeypatch.setattr(type(ctx.store), "file_sink", lambda self, bid: _SlowSink(real_sink(self, bid), 0.1))
    handler = IndexerHandler(context_factory=lambda: ctx)
    result = handler(s3_event(KEY), Invocation("req-short", 2.0))  # ~40 files at 0.1 s: more than 2 s
    assert result["results"][0]["status"] == "indexed"
    job = ctx.jobs.get_job(BUNDLE)
    assert job["state"] == "indexed" and job["complete"] is False
    problems = ctx.store.load_index(BUNDLE)["bundle"]["problems"]
    assert any("indexing time limit" in p for p in problems), problems


def test_a_killed_invocation_ends_at_its_deadline_for_readers_and_the_retry(
    ctx: ToolContext, clock: Clock, seed: Seed, run: Any
) -> None:
    upload(ctx, KEY, seed.faulty.read_bytes())
    _job(ctx)
    # an invocation claimed the job, wrote some files and was killed (timeout or out of memory)
    claim = lifecycle.claim_indexing(ctx, BUNDLE, owner="lambda:dead", deadline=clock() + timedelta(minutes=5))
    assert claim.outcome == "claimed"
    sink = ctx.store.file_sink(BUNDLE)
    with sink.open("kubelet/kubelet.log") as handle:
        handle.write(b"partial\n")
    sink.wait()
    handler = IndexerHandler(context_factory=lambda: ctx)
    with pytest.raises(IndexingBusy):  # the redelivery while the claim holds: Lambda retries later
        handler(s3_event(KEY), Invocation("req-early", 300))
    errors = run(ctx, "findings___errors", {"bundleId": BUNDLE})
    assert errors["error"]["code"] == "NotReady" and errors["error"]["retryable"] is True

    clock.advance(minutes=7)  # past the deadline and its grace
    errors = run(ctx, "findings___errors", {"bundleId": BUNDLE})
    assert errors["error"]["code"] == "NotFound" and errors["error"]["retryable"] is False
    assert "did not finish by its deadline" in errors["error"]["message"]
    assert ctx.jobs.get_job(BUNDLE)["state"] == "failed" and _files(ctx) == []

    retry = handler(s3_event(KEY), Invocation("req-retry", 300))  # a later retry imports it after all
    assert retry["results"][0]["status"] == "indexed" and ctx.jobs.get_job(BUNDLE)["state"] == "indexed"


def test_an_upload_killed_twice_fails_for_good(ctx: ToolContext, clock: Clock, seed: Seed) -> None:
    upload(ctx, KEY, seed.faulty.read_bytes())
    _job(ctx)
    for attempt in range(lifecycle.MAX_INDEX_ATTEMPTS):
        claim = lifecycle.claim_indexing(ctx, BUNDLE, owner=f"lambda:dead-{attempt}", deadline=clock())
        assert claim.outcome == "claimed"
        clock.advance(minutes=2)
    result = IndexerHandler(context_factory=lambda: ctx)(s3_event(KEY), Invocation("req-3", 300))
    assert result["results"][0]["status"] == "failed" and "too large" in result["results"][0]["reason"]
    job = ctx.jobs.get_job(BUNDLE)
    assert job["state"] == "failed" and job["retryable"] is False


def test_status_ends_a_collection_whose_indexer_died(ctx: ToolContext, clock: Clock) -> None:
    from eksdiag.tools.nodelog._automation import collection_state

    _job(ctx, created_at="2026-03-06T18:30:00Z")
    lifecycle.claim_indexing(ctx, BUNDLE, owner="lambda:dead", deadline=clock() + timedelta(minutes=15))
    clock.advance(minutes=20)
    job = lifecycle.settle(ctx, ctx.jobs.get_job(BUNDLE))
    state = collection_state(None, job, clock())
    assert state["done"] is True and state["state"] == "failed" and "deadline" in state["failureReason"]


# ---------------------------------------------------------------- damaged items and objects


@pytest.mark.parametrize(
    "body", [b"", b"\x00" * 512, b'{"schema": "eksdiag.index/1", "bundle":', b"[]", b'{"schema": 1}'], ids=str
)
def test_a_damaged_index_object_is_a_structured_corrupt_error(
    ctx: ToolContext, seed: Seed, run: Any, body: bytes
) -> None:
    upload(ctx, KEY, seed.faulty.read_bytes())
    IndexerHandler(context_factory=lambda: ctx)(s3_event(KEY), Invocation("req-1", 300))
    ctx.aws("s3").put_object(Bucket=BUCKET, Key=f"bundles/{BUNDLE}/index.json", Body=body)
    for tool, args in (("findings___errors", {}), ("findings___search", {"pattern": "x"})):
        result = run(ctx, tool, {"bundleId": BUNDLE, **args})
        assert result["error"]["code"] == "Corrupt" and "nodelog___collect" in result["error"]["message"]


@pytest.mark.parametrize(
    "item",
    [
        {"state": {"N": "5"}},
        {"state": {"S": "exploded"}},
        {"bundle_id": {"S": "b-20260306183000-ffffffff"}, "state": {"S": "indexed"}},
        {"instance_id": {"L": []}},
    ],
    ids=["state-number", "unknown-state", "other-bundle", "instance-list"],
)
def test_a_damaged_job_item_reads_as_a_failed_job(ctx: ToolContext, run: Any, item: dict[str, Any]) -> None:
    base = {
        "pk": {"S": f"BUNDLE#{BUNDLE}"},
        "sk": {"S": "JOB"},
        "bundle_id": {"S": BUNDLE},
        "instance_id": {"S": INSTANCE},
        "state": {"S": "indexing"},
    }
    ctx.aws("dynamodb").put_item(TableName=TABLE, Item={**base, **item})
    job = ctx.jobs.get_job(BUNDLE)
    assert job["state"] == "failed" and job["corrupt"] is True
    result = run(ctx, "findings___errors", {"bundleId": BUNDLE})
    assert result["error"]["code"] == "NotFound" and "damaged" in result["error"]["message"]
