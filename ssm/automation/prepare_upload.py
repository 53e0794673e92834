import re

import boto3
from botocore.config import Config

INSTANCE_ID = re.compile(r"i-[0-9a-f]{8,17}")
BUNDLE_ID = re.compile(r"b-[0-9]{14}-[0-9a-f]{8}")
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
KMS_KEY_ARN = re.compile(r"arn:(aws[a-z-]{0,20}):kms:([a-z0-9-]{1,30}):[0-9]{12}:key/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})")


def handler(events, context):
    """Presign the one S3 PUT the node may make: uploads/<InstanceId>/<BundleId>.tar.gz, SSE-KMS.

    The URL carries this Automation role's authority for UploadExpiresSeconds (at most the role
    session's lifetime), so the node itself needs no S3 or KMS permission. The bucket is in the KMS
    key's region (S3 only accepts a same-region key for SSE-KMS).
    """
    instance_id = events["InstanceId"]
    bundle_id = events["BundleId"]
    bucket = events["Bucket"]
    kms_key_arn = events["KmsKeyId"]
    expires = int(events["UploadExpiresSeconds"])
    if not INSTANCE_ID.fullmatch(instance_id):
        raise ValueError(f"InstanceId {instance_id!r} is not an EC2 instance id")
    if not BUNDLE_ID.fullmatch(bundle_id):
        raise ValueError(f"BundleId {bundle_id!r} is not b-<yyyymmddHHMMSS>-<8 hex>")
    if not BUCKET.fullmatch(bucket):
        raise ValueError(f"Bucket {bucket!r} is not an S3 bucket name")
    key_arn = KMS_KEY_ARN.fullmatch(kms_key_arn)
    if not key_arn:
        raise ValueError("KmsKeyId must be a KMS key ARN")
    if not 60 <= expires <= 3600:
        raise ValueError("UploadExpiresSeconds must be 60 to 3600")
    key = f"uploads/{instance_id}/{bundle_id}.tar.gz"
    s3 = boto3.client(
        "s3",
        region_name=key_arn.group(2),
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": key, "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_arn},
        ExpiresIn=expires,
    )
    return {"UploadUrl": url, "BundleKey": key}
