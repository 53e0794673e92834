"""A missing object is an answer, not a fault, under the permissions the module renders.

S3 answers a read of a missing key with 404 only to a caller that may list the bucket, 403
otherwise (see s3_as_role.py). The handlers turn 404 into an answer: tcpdump_analyze returns the
capture's failure reason, the indexer treats an event for a removed upload as done, the findings
tools report a missing file. Here they run on moto with S3's rule applied for the role Terraform
renders for them (default inputs), and, as a control, for the same role without its s3:ListBucket.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from eksdiag.lambda_entry.indexer import IndexerHandler

from tests.tools.ssm_fake import Clock, SsmFake, call, check_output, launch_ssm_node, self_managed_tags
from tests.tools.test_indexer_lambda import BUNDLE, INSTANCE, s3_event

from .policies import Statement, statements_of
from .s3_as_role import S3AsRole
from .support import Rendered, tool_context

pytestmark = pytest.mark.terraform

POLICIES = {
    "capture": 'module.tools.data.aws_iam_policy_document.this["capture"]',
    "findings": 'module.tools.data.aws_iam_policy_document.this["findings"]',
    "indexer": "module.indexer.data.aws_iam_policy_document.this",
}


def role(rendered: dict[str, Rendered], name: str, *, may_list: bool = True) -> S3AsRole:
    found = statements_of(rendered["defaults"], POLICIES[name])
    if not may_list:
        found = [st for st in found if "s3:ListBucket" not in st.actions]
    return S3AsRole(found)


def test_the_rule_answers_403_to_a_role_that_may_not_list(
    aws_env: dict[str, Any], rendered: dict[str, Rendered]
) -> None:
    """The control: without s3:ListBucket the very same read is AccessDenied, so the tests below can fail."""
    ctx = tool_context(aws_env, wrap=role(rendered, "capture", may_list=False).attach)
    s3 = ctx.aws("s3")
    s3.put_object(Bucket=ctx.settings.bucket, Key="captures/i-0123456789abcdef0/x/summary.txt", Body=b"ok")
    assert s3.get_object(Bucket=ctx.settings.bucket, Key="captures/i-0123456789abcdef0/x/summary.txt")
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.get_object(Bucket=ctx.settings.bucket, Key="captures/i-0123456789abcdef0/y/summary.txt")
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.get_object(Bucket=ctx.settings.bucket, Key="bundles/b-1/index.json")  # not the role's prefix


def _failed_capture(ctx: Any, fake: SsmFake, ec2: Any) -> dict[str, Any]:
    node = launch_ssm_node(ec2, fake, self_managed_tags("demo"))
    started = call(ctx, "capture", "tcpdump_capture", {"instanceId": node})
    fake.set_invocation(
        started["commandId"],
        node,
        "Failed",
        StatusDetails="Failed",
        StandardErrorContent="EKSDIAG_ERROR: tcpdump is not installed on this node\n",
    )
    return started


def test_analysis_of_a_capture_that_never_uploaded_returns_the_node_error(
    aws_env: dict[str, Any], fake: SsmFake, clock: Clock, ec2: Any, rendered: dict[str, Rendered]
) -> None:
    ctx = tool_context(aws_env, fake=fake, clock=clock, wrap=role(rendered, "capture").attach)
    started = _failed_capture(ctx, fake, ec2)
    result = call(ctx, "capture", "tcpdump_analyze", {"captureId": started["captureId"]})
    check_output("capture", "tcpdump_analyze", result)
    assert result["done"] is True and "tcpdump is not installed" in result["failureReason"]


def test_without_list_permission_the_same_analysis_faults(
    aws_env: dict[str, Any], fake: SsmFake, clock: Clock, ec2: Any, rendered: dict[str, Rendered]
) -> None:
    ctx = tool_context(aws_env, fake=fake, clock=clock, wrap=role(rendered, "capture", may_list=False).attach)
    started = _failed_capture(ctx, fake, ec2)
    with pytest.raises(ClientError, match="AccessDenied"):
        call(ctx, "capture", "tcpdump_analyze", {"captureId": started["captureId"]})


def test_a_redelivered_event_for_a_removed_upload_is_done(
    aws_env: dict[str, Any], rendered: dict[str, Rendered]
) -> None:
    ctx = tool_context(aws_env, wrap=role(rendered, "indexer").attach)
    result = IndexerHandler(context_factory=lambda: ctx)(s3_event(f"uploads/{INSTANCE}/{BUNDLE}.tar.gz"), None)
    (record,) = result["results"]
    assert record["status"] == "skipped" and "no longer exists" in record["reason"], record


def test_findings_read_a_missing_file_as_missing(aws_env: dict[str, Any], rendered: dict[str, Rendered]) -> None:
    ctx = tool_context(aws_env, wrap=role(rendered, "findings").attach)
    assert ctx.store.file_size(BUNDLE, "system/ps.txt") is None  # HeadObject
    assert ctx.store.load_index(BUNDLE) is None  # GetObject


def test_statements_are_read_from_the_rendered_roles(rendered: dict[str, Rendered]) -> None:
    for name, address in POLICIES.items():
        assert any(isinstance(st, Statement) for st in statements_of(rendered["defaults"], address)), name
