#!/bin/sh
# run-collector.sh: body of the run-collector Command document.
#
# Runs collect-node-diagnostics.sh (beside this file) into a private temporary directory, uploads
# the archive with curl to a presigned S3 PUT URL, prints its name, size and sha256, and removes
# every temporary file. One collection at a time per node (lock directory). Never installs packages.
#
# Input (environment, set by SSM Agent from the document parameters, interpolationType ENV_VAR):
#   SSM_UploadUrl     presigned HTTPS PUT URL for the bundle
#   SSM_SseKmsKeyId   KMS key the URL was signed with ('' when it was signed without SSE headers)
# Optional: EKSDIAG_TMPDIR (default /var/tmp), EKSDIAG_LOCK (default /run/eksdiag-collector.lock).

set -u
umask 077
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}
export PATH

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=upload.sh
. "$HERE/upload.sh"

fail() {
    printf 'EKSDIAG_ERROR: %s\n' "$*" >&2
    exit 1
}

if [ -z "${SSM_UploadUrl+set}" ]; then
    fail "parameter UploadUrl did not arrive as SSM_UploadUrl: SSM Agent 3.3.2746.0 or later is required"
fi
UPLOAD_URL=$SSM_UploadUrl
KMS_KEY_ID=${SSM_SseKmsKeyId:-}
valid_upload_url "$UPLOAD_URL" || fail "UploadUrl is not a presigned https URL"
valid_kms_key_id "$KMS_KEY_ID" || fail "SseKmsKeyId is not a KMS key id or ARN"
command -v curl >/dev/null 2>&1 || fail "curl is not installed on this node"

TMPROOT=${EKSDIAG_TMPDIR:-/var/tmp}
LOCK=${EKSDIAG_LOCK:-/run/eksdiag-collector.lock}

if ! mkdir "$LOCK" 2>/dev/null; then
    # A lock older than two hours is left over from a killed run.
    if [ -n "$(find "$LOCK" -maxdepth 0 -mmin +120 2>/dev/null)" ]; then
        rm -rf "$LOCK"
        mkdir "$LOCK" 2>/dev/null || fail "another collection is running on this node"
    else
        fail "another collection is running on this node"
    fi
fi
WORK=
cleanup() {
    [ -n "$WORK" ] && rm -rf "$WORK"
    rmdir "$LOCK" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

WORK=$(mktemp -d -p "$TMPROOT") || fail "cannot create a directory in $TMPROOT"
mkdir "$WORK/out"

sh "$HERE/collect-node-diagnostics.sh" "$WORK/out" >"$WORK/stdout.txt" 2>"$WORK/stderr.txt"
rc=$?
ARCHIVE=$(tail -n 1 "$WORK/stdout.txt")
if [ "$rc" -ne 0 ] || [ ! -f "$ARCHIVE" ]; then
    tail -n 20 "$WORK/stderr.txt" >&2
    fail "collector failed (exit $rc)"
fi

SIZE=$(wc -c <"$ARCHIVE" | tr -d ' ')
SHA256=$(sha256sum "$ARCHIVE" | cut -d ' ' -f 1)
printf 'bundle: %s\n' "$(basename "$ARCHIVE")"
printf 'size_bytes: %s\n' "$SIZE"
printf 'sha256: %s\n' "$SHA256"

if ! upload_file "$ARCHIVE" "$UPLOAD_URL" "$KMS_KEY_ID" 2>"$WORK/curl.txt"; then
    tail -n 5 "$WORK/curl.txt" >&2
    fail "upload failed"
fi
printf 'upload: ok\n'
