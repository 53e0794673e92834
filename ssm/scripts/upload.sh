# shellcheck shell=sh
# upload.sh: sourced by run-collector.sh and packet-capture.sh (POSIX sh, no side effects).
#
# upload_file FILE URL KMS_KEY_ID
#   PUTs FILE to a presigned S3 URL with curl. When KMS_KEY_ID is not empty, sends the two SSE-KMS
#   headers the URL was signed with (x-amz-server-side-encryption: aws:kms and
#   x-amz-server-side-encryption-aws-kms-key-id). HTTPS only; bounded in time; retried on
#   transient failures. The node needs no S3 or KMS permission: the signature carries them.
#
# valid_upload_url URL / valid_kms_key_id ID: defence in depth behind the documents' allowedPattern.

valid_upload_url() {
    case $1 in
    https://*\?*) ;;
    *) return 1 ;;
    esac
    case $1 in
    *[!A-Za-z0-9._~:/?\&=%-]*) return 1 ;;
    esac
    [ "${#1}" -le 4096 ]
}

valid_kms_key_id() {
    case $1 in
    '') return 0 ;;
    *[!A-Za-z0-9:/_-]*) return 1 ;;
    esac
    [ "${#1}" -le 2048 ]
}

upload_file() {
    if ! command -v curl >/dev/null 2>&1; then
        printf 'upload: curl not found\n' >&2
        return 1
    fi
    if [ -n "$3" ]; then
        curl --silent --show-error --fail --proto '=https' --tlsv1.2 \
            --connect-timeout 10 --max-time 600 --retry 3 --retry-delay 2 \
            -H 'x-amz-server-side-encryption: aws:kms' \
            -H "x-amz-server-side-encryption-aws-kms-key-id: $3" \
            --upload-file "$1" --output /dev/null -- "$2"
    else
        curl --silent --show-error --fail --proto '=https' --tlsv1.2 \
            --connect-timeout 10 --max-time 600 --retry 3 --retry-delay 2 \
            --upload-file "$1" --output /dev/null -- "$2"
    fi
}
