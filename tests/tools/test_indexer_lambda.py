"""The indexer Lambda on moto S3 + DynamoDB, called with the S3 event S3 sends, and the whole
collect -> upload -> index -> status -> errors chain with helper B's collect and status."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from eksdiag.lambda_entry.indexer import IndexerHandler
from eksdiag.tools.base import ToolContext

from tests.tools.conftest import BUCKET, Seed
from tests.tools.ssm_fake import Clock, SsmFake, launch_ssm_node, managed_tags

INSTANCE = "i-0f1a2b3c4d5e6f708"
BUNDLE = "b-20260306183000-0a1b2c3d"


def s3_event(key: str, bucket: str = BUCKET, size: int = 1234, name: str = "ObjectCreated:Put") -> dict[str, Any]:
    """The notification S3 delivers to Lambda (keys arrive URL-encoded, spaces as '+')."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-west-2",
                "eventTime": "2026-03-06T18:31:00.000Z",
                "eventName": name,
                "userIdentity": {"principalId": "AWS:AROAEXAMPLE:node"},
                "requestParameters": {"sourceIPAddress": "192.168.45.12"},
                "responseElements": {"x-amz-request-id": "R1", "x-amz-id-2": "I2"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "eksdiag-uploads",
                    "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A1"}, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key, safe="/"), "size": size, "eTag": "0123", "sequencer": "0A1B"},
                },
            }
        ]
    }


@pytest.fixture
def indexer(aws_ctx: ToolContext) -> IndexerHandler:
    return IndexerHandler(context_factory=lambda: aws_ctx)


def upload(ctx: ToolContext, key: str, data: bytes) -> None:
    ctx.aws("s3").put_object(
        Bucket=BUCKET, Key=key, Body=data, ServerSideEncryption="aws:kms", SSEKMSKeyId=ctx.settings.kms_key_arn
    )


def test_an_upload_is_indexed_with_its_files_job_and_pointer(
    aws_ctx: ToolContext, indexer: IndexerHandler, seed: Seed
) -> None:
    key = f"uploads/{INSTANCE}/{BUNDLE}.tar.gz"
    upload(aws_ctx, key, seed.faulty.read_bytes())
    result = indexer(s3_event(key), None)
    assert result["results"][0]["status"] == "indexed" and result["results"][0]["findings"] > 5

    index = aws_ctx.store.load_index(BUNDLE)
    assert index["bundle"]["id"] == BUNDLE and index["bundle"]["instance_id"] == INSTANCE
    listed = aws_ctx.aws("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"bundles/{BUNDLE}/files/")["Contents"]
    assert {o["Key"].split("/files/", 1)[1] for o in listed} == {f["path"] for f in index["files"]}
    head = aws_ctx.aws("s3").head_object(Bucket=BUCKET, Key=f"bundles/{BUNDLE}/index.json")
    assert head["ServerSideEncryption"] == "aws:kms"
    job = aws_ctx.jobs.get_job(BUNDLE)
    assert job["state"] == "indexed" and job["counts"]["CRITICAL"] == 1 and job["complete"] is True
    assert aws_ctx.jobs.get_latest(INSTANCE) == BUNDLE


def test_a_redelivered_event_rewrites_the_same_index(aws_ctx: ToolContext, indexer: IndexerHandler, seed: Seed) -> None:
    key = f"uploads/{INSTANCE}/{BUNDLE}.tar.gz"
    upload(aws_ctx, key, seed.faulty.read_bytes())
    indexer(s3_event(key), None)
    first = aws_ctx.store.load_index(BUNDLE)
    indexer(s3_event(key), None)
    second = aws_ctx.store.load_index(BUNDLE)
    assert [f["id"] for f in first["findings"]] == [f["id"] for f in second["findings"]]
    assert first == second and aws_ctx.jobs.get_job(BUNDLE)["state"] == "indexed"


def test_an_older_bundle_does_not_move_the_latest_pointer_back(
    aws_ctx: ToolContext, indexer: IndexerHandler, seed: Seed
) -> None:
    newer, older = "b-20260306183000-0000000b", "b-20260306120000-0000000a"
    for bid in (newer, older):
        key = f"uploads/{INSTANCE}/{bid}.tar.gz"
        upload(aws_ctx, key, seed.faulty.read_bytes())
        indexer(s3_event(key), None)
    assert aws_ctx.jobs.get_latest(INSTANCE) == newer


def _tar_gz(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00" * 4096, b"PK\x03\x04 not a tarball", gzip.compress(b"just text, not a tar" * 100)],
    ids=["empty", "zeros", "zip-header", "gzip-of-text"],
)
def test_a_bad_archive_marks_the_job_failed_without_a_retry_loop(
    aws_ctx: ToolContext, indexer: IndexerHandler, data: bytes
) -> None:
    key = f"uploads/{INSTANCE}/{BUNDLE}.tar.gz"
    upload(aws_ctx, key, data)
    result = indexer(s3_event(key), None)  # returns normally: S3 will not redeliver
    assert result["results"][0]["status"] == "failed"
    job = aws_ctx.jobs.get_job(BUNDLE)
    assert job["state"] == "failed" and "not a readable bundle" in job["error"]
    assert aws_ctx.store.load_index(BUNDLE) is None and aws_ctx.jobs.get_latest(INSTANCE) is None


def test_a_truncated_upload_fails_with_the_reason(aws_ctx: ToolContext, indexer: IndexerHandler, seed: Seed) -> None:
    key = f"uploads/{INSTANCE}/{BUNDLE}.tar.gz"
    upload(aws_ctx, key, seed.faulty.read_bytes()[:3000])
    assert indexer(s3_event(key), None)["results"][0]["status"] == "failed"
    assert "ended before" in aws_ctx.jobs.get_job(BUNDLE)["error"]


def test_hostile_member_names_are_skipped_and_never_written(aws_ctx: ToolContext, indexer: IndexerHandler) -> None:
    key = f"uploads/{INSTANCE}/{BUNDLE}.tar.gz"
    data = _tar_gz(
        {
            "./system/instance-id.txt": INSTANCE.encode() + b"\n",
            "../../escape.txt": b"x",
            "/etc/cron.d/evil": b"x",
            "kubelet/kubelet.log": b"Mar 06 18:01:44 host kubelet[1]: ok\n",
        }
    )
    upload(aws_ctx, key, data)
    assert indexer(s3_event(key), None)["results"][0]["status"] == "indexed"
    index = aws_ctx.store.load_index(BUNDLE)
    assert {f["path"] for f in index["files"]} == {"system/instance-id.txt", "kubelet/kubelet.log"}
    assert {s["path"] for s in index["skipped"]} >= {"../../escape.txt", "/etc/cron.d/evil"}
    keys = [o["Key"] for o in aws_ctx.aws("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert all(k.startswith((f"uploads/{INSTANCE}/", f"bundles/{BUNDLE}/")) for k in keys), keys


def _bomb(first: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz, tarfile.open(fileobj=gz, mode="w|") as tar:
        for name, data in first.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("var_log/zeros.log")
        info.size = 80 << 20
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    return out.getvalue()


def test_a_gzip_bomb_stops_at_the_limit_and_keeps_what_came_before(
    aws_ctx: ToolContext, indexer: IndexerHandler
) -> None:
    key = f"uploads/{INSTANCE}/{BUNDLE}.tar.gz"
    upload(aws_ctx, key, _bomb({"system/instance-id.txt": INSTANCE.encode() + b"\n"}))
    indexer(s3_event(key), None)
    job = aws_ctx.jobs.get_job(BUNDLE)
    assert job["state"] == "indexed" and job["complete"] is False
    problems = aws_ctx.store.load_index(BUNDLE)["bundle"]["problems"]
    assert any("decompression bomb" in p for p in problems)


def test_a_bundle_that_is_only_a_gzip_bomb_fails(aws_ctx: ToolContext, indexer: IndexerHandler) -> None:
    key = f"uploads/{INSTANCE}/{BUNDLE}.tar.gz"
    upload(aws_ctx, key, _bomb({}))
    assert indexer(s3_event(key), None)["results"][0]["status"] == "failed"
    assert "decompression bomb" in aws_ctx.jobs.get_job(BUNDLE)["error"]


@pytest.mark.parametrize(
    ("key", "bucket"),
    [
        ("uploads/i-0f1a2b3c4d5e6f708/b-20260306183000-0a1b2c3d.zip", BUCKET),
        ("bundles/b-20260306183000-0a1b2c3d/index.json", BUCKET),
        ("uploads/i-0f1a2b3c4d5e6f708/../b-20260306183000-0a1b2c3d.tar.gz", BUCKET),
        ("uploads/i-0f1a2b3c4d5e6f708/nested/b-20260306183000-0a1b2c3d.tar.gz", BUCKET),
        ("uploads/i-0f1a2b3c4d5e6f708/b-20260306183000-0a1b2c3d.tar.gz", "someone-elses-bucket"),
    ],
    ids=["not-tar-gz", "not-an-upload", "dot-dot", "nested", "other-bucket"],
)
def test_records_that_are_not_uploads_are_skipped(
    aws_ctx: ToolContext, indexer: IndexerHandler, key: str, bucket: str
) -> None:
    result = indexer(s3_event(key, bucket=bucket), None)
    assert result["results"][0]["status"] == "skipped" and aws_ctx.jobs.get_job(BUNDLE) is None


def test_keys_are_url_decoded_before_matching(aws_ctx: ToolContext, indexer: IndexerHandler, seed: Seed) -> None:
    key = f"uploads/{INSTANCE}/{BUNDLE}.tar.gz"
    upload(aws_ctx, key, seed.healthy.read_bytes())
    event = s3_event(key)
    event["Records"][0]["s3"]["object"]["key"] = quote_plus(key, safe="")  # '/' as %2F
    assert indexer(event, None)["results"][0]["status"] == "indexed"


@pytest.mark.parametrize("event", [{}, {"Records": []}, {"Records": [{"eventSource": "aws:sqs"}]}, []])
def test_events_without_s3_records_do_nothing(indexer: IndexerHandler, event: Any) -> None:
    assert all(r["status"] == "skipped" for r in indexer(event, None)["results"])


# ---------------------------------------------------------------- the whole chain


def test_collect_upload_index_status_errors_chain(
    ctx: ToolContext, fake: SsmFake, clock: Clock, ec2: Any, seed: Seed, run: Any
) -> None:
    """collect (helper B's, SSM served by ssm_fake) -> the node PUTs through a presigned URL ->
    the indexer gets S3's event -> status says indexed -> errors lists the findings."""
    import requests

    instance = launch_ssm_node(ec2, fake, managed_tags("prod"))

    started = run(ctx, "nodelog___collect", {"instanceId": instance})
    assert started["state"] == "collecting"
    bundle_id, execution_id = started["bundleId"], started["executionId"]
    job = ctx.jobs.get_job(bundle_id)

    # what the Automation's presign step and the node's curl do
    url = ctx.store.presign_put(job["upload_key"], ctx.settings.presign_put_seconds)
    put = requests.put(
        url,
        data=Path(seed.faulty).read_bytes(),
        headers={
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": ctx.settings.kms_key_arn,
        },
        timeout=10,
    )
    assert put.status_code == 200
    clock.advance(minutes=3)
    fake.finish(execution_id, "Success")

    size = ctx.aws("s3").head_object(Bucket=BUCKET, Key=job["upload_key"])["ContentLength"]
    IndexerHandler(context_factory=lambda: ctx)(s3_event(job["upload_key"], size=size), None)

    status = run(ctx, "nodelog___status", {"bundleId": bundle_id})
    assert status["state"] == "indexed" and status["done"] is True and status["findingCounts"]["CRITICAL"] == 1
    errors = run(ctx, "findings___errors", {"instanceId": instance})  # the pointer finds the new bundle
    assert errors["bundleId"] == bundle_id
    assert errors["findings"][0]["rule"] == "network.iptables.forward-drop"
