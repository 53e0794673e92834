import re
import urllib.parse

INSTANCE_ID = re.compile(r"i-[0-9a-f]{8,17}")
BUNDLE_KEY = re.compile(r"uploads/(i-[0-9a-f]{8,17})/[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.tar\.gz")
MAX_EXPIRES_SECONDS = 3600


def handler(events, context):
    """Check that the presigned URL uploads exactly BundleKey for InstanceId, before touching the node."""
    instance_id = events["InstanceId"]
    key = events["BundleKey"]
    url = events["UploadUrl"]
    kms_key_id = events.get("SseKmsKeyId") or ""
    if not INSTANCE_ID.fullmatch(instance_id):
        raise ValueError(f"InstanceId {instance_id!r} is not an EC2 instance id")
    match = BUNDLE_KEY.fullmatch(key)
    if not match:
        raise ValueError(f"BundleKey {key!r} is not uploads/<instance-id>/<bundle-id>.tar.gz")
    if match.group(1) != instance_id:
        raise ValueError(f"BundleKey {key!r} belongs to {match.group(1)}, not to {instance_id}")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("UploadUrl is not an https URL")
    path = urllib.parse.unquote(parts.path)
    if not path.endswith("/" + key):
        raise ValueError(f"UploadUrl does not upload to {key}")
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    if not query.get("X-Amz-Signature"):
        raise ValueError("UploadUrl is not a presigned URL (no X-Amz-Signature)")
    expires = query.get("X-Amz-Expires", "")
    if not expires.isdigit() or int(expires) > MAX_EXPIRES_SECONDS:
        raise ValueError(f"UploadUrl must expire within {MAX_EXPIRES_SECONDS} seconds")
    signed = set(query.get("X-Amz-SignedHeaders", "").split(";"))
    if kms_key_id and "x-amz-server-side-encryption-aws-kms-key-id" not in signed:
        raise ValueError("SseKmsKeyId is set but UploadUrl was not signed with the SSE-KMS headers")
    if not kms_key_id and "x-amz-server-side-encryption" in signed:
        raise ValueError("UploadUrl was signed with SSE headers: pass SseKmsKeyId")
    return {"BundleKey": key}
