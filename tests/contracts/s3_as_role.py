"""S3's authorization of object reads, for one role of the rendered module, on a moto S3 client.

moto answers a GetObject or HeadObject of a missing key with 404 to anyone. S3 does not: it
answers 404 only to a caller that may also list the bucket (s3:ListBucket), 403 AccessDenied
otherwise, and 403 for a key the caller may not read at all (botocore's s3 model, the GetObject and
HeadObject documentation). :class:`S3AsRole` applies that rule on botocore's ``after-call`` event,
deciding from the role's statements as Terraform renders them, so the handlers meet the answers
their deployed role would get.
"""

from __future__ import annotations

from typing import Any

from .policies import Statement, bucket_of, iam_glob, may_list_for_object_requests

_READS = ("GetObject", "HeadObject")
_MISSING = ("NoSuchKey", "404", "NotFound")


class S3AsRole:
    def __init__(self, statements: list[Statement]) -> None:
        readable = [
            r for st in statements if st.effect == "Allow" and "s3:GetObject" in st.actions for r in st.resources
        ]
        buckets = {bucket_of(r) for r in readable} - {None}
        assert len(buckets) == 1, f"the role reads objects of one bucket, not {sorted(map(str, buckets))}"
        self.bucket_arn = str(buckets.pop())
        self.readable = readable
        self.may_list = may_list_for_object_requests(statements, self.bucket_arn)

    def attach(self, client: Any) -> Any:
        for operation in _READS:
            client.meta.events.register(f"before-parameter-build.s3.{operation}", self._remember_key)
            client.meta.events.register(f"after-call.s3.{operation}", self._authorize)
        return client

    @staticmethod
    def _remember_key(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["s3_as_role_key"] = params.get("Key", "")

    def _authorize(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        key = str(context.get("s3_as_role_key", ""))
        may_read = any(iam_glob(r, f"{self.bucket_arn}/{key}") for r in self.readable)
        missing = str(parsed.get("Error", {}).get("Code", "")) in _MISSING
        if may_read and (not missing or self.may_list):
            return
        http_response.status_code = 403
        code = "403" if model.name == "HeadObject" else "AccessDenied"
        parsed.clear()
        parsed.update(
            {
                "Error": {"Code": code, "Message": "Access Denied"},
                "ResponseMetadata": {"HTTPStatusCode": 403, "HTTPHeaders": {}, "RetryAttempts": 0},
            }
        )
