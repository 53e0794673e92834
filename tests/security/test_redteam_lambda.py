"""The red-team bundle on the AWS path: the indexer Lambda on moto S3 (S3 event -> extracted files and
index), then the findings Lambda entry as the gateway calls it. Redaction cannot be turned off there."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from eksdiag.lambda_entry import indexer as indexer_entry
from eksdiag.lambda_entry._runtime import GroupHandler
from eksdiag.lambda_entry.indexer import IndexerHandler
from eksdiag.tools.base import ToolContext

from tests.security import corpus
from tests.security.conftest import inflate, injected_paths, leaked, outside_evidence
from tests.tools.conftest import BUCKET
from tests.tools.test_indexer_lambda import s3_event, upload
from tests.tools.test_lambda_entry import gateway_context

BUNDLE = "b-20250306182200-0000000e"
OPT_OUTS = {"EKSDIAG_NO_REDACT": "1", "EKSDIAG_REDACT": "false", "NO_REDACT": "1", "REDACT": "0"}


def _stored_files(ctx: ToolContext) -> dict[str, bytes]:
    s3 = ctx.aws("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"bundles/{BUNDLE}/files/")["Contents"]
    out = {}
    for obj in listed:
        body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
        out[obj["Key"].split("/files/", 1)[1]] = inflate(body) if obj["Key"].endswith(".gz") else body
    return out


@pytest.fixture
def indexed_on_s3(aws_ctx: ToolContext, redteam: corpus.RedTeamBundle, monkeypatch: pytest.MonkeyPatch) -> ToolContext:
    for name, value in OPT_OUTS.items():  # whatever the environment says, the Lambda path redacts
        monkeypatch.setenv(name, value)
    key = f"uploads/{redteam.instance_id}/{BUNDLE}.tar.gz"
    upload(aws_ctx, key, redteam.path.read_bytes())
    event = s3_event(key)
    event["redact"] = False
    event["Records"][0]["noRedact"] = True
    event["Records"][0]["s3"]["object"]["redact"] = False
    result = IndexerHandler(context_factory=lambda: aws_ctx)(event, None)
    assert result["results"][0]["status"] == "indexed"
    return aws_ctx


def test_the_indexer_lambda_stores_and_indexes_only_redacted_text(
    indexed_on_s3: ToolContext, redteam: corpus.RedTeamBundle
) -> None:
    ctx = indexed_on_s3
    stored = _stored_files(ctx)
    assert set(stored) >= {p.path for p in redteam.planted}
    for path, data in stored.items():
        assert not leaked(data.decode("utf-8", "replace"), redteam.secrets()), path
        # line numbers stay those of the original file
        assert data.count(b"\n") == redteam.files[path].count(b"\n") if not path.endswith(".gz") else True
    assert stored[corpus.ROTATED].count(b"\n") == inflate(redteam.files[corpus.ROTATED]).count(b"\n")
    index = ctx.store.load_index(BUNDLE)
    assert not leaked(index, redteam.secrets())
    assert index["redactions"]["enabled"] is True and index["redactions"]["count"] >= len(redteam.planted)
    for record in index["redactions"]["records"]:
        assert set(record) == {"file", "line", "kind"}
        original = redteam.files[record["file"]]
        if record["file"].endswith(".gz"):
            original = inflate(original)
        line = original.split(b"\n")[record["line"] - 1].decode()
        assert any(p.value in line for p in redteam.planted if p.path == record["file"]) or record["kind"] in (
            "private-key",
        )
    job = ctx.jobs.get_job(BUNDLE)
    assert job["redactions"] == {"enabled": True, "count": index["redactions"]["count"]}


def test_the_findings_lambda_returns_no_planted_secret(
    indexed_on_s3: ToolContext, redteam: corpus.RedTeamBundle
) -> None:
    handler = GroupHandler("findings", context_factory=lambda: indexed_on_s3)

    def call(tool: str, args: dict[str, Any]) -> dict[str, Any]:
        result = handler({"bundleId": BUNDLE, **args}, gateway_context(f"findings___{tool}"))
        assert "error" not in result, result
        return result

    errors = call("errors", {"minSeverity": "INFO", "pageSize": 100})
    ids = [f["id"] for f in errors["findings"]]
    outputs = {
        "errors": errors,
        "summarize": call("summarize", {"findingIds": ids[:20]}),
        "correlate": call("correlate", {}),
        "network": call("network_diagnostics", {}),
        "storage": call("storage_diagnostics", {}),
        "search": call("search", {"pattern": ".", "maxMatches": 500}),
        **{f"read:{i}": call("read", {"findingId": i}) for i in ids},
        **{f"read:{p.path}": call("read", {"path": p.path}) for p in redteam.planted},
    }
    for label, output in outputs.items():
        assert not leaked(output, redteam.secrets()), label
        assert not outside_evidence(injected_paths(output)), label
    artifact = call("artifact", {"path": "system/ps.txt"})
    assert artifact["url"].startswith("https://") and "X-Amz-Signature" in artifact["url"]


def test_the_indexer_lambda_has_no_way_to_turn_redaction_off() -> None:
    source = inspect.getsource(indexer_entry)
    assert "redact" not in source  # it calls ingest() with the default, redact=True
    assert json.dumps(OPT_OUTS)  # the environment opt-outs above are ignored (see the fixture)
