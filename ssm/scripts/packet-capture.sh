#!/bin/sh
# packet-capture.sh: body of the packet-capture Command document.
#
# Captures packets with tcpdump on a node interface, or on an interface inside a pod's network
# namespace (pod resolved with crictl), for at most DurationSeconds and MaxPackets. Writes
# capture.pcap and summary.txt (`tcpdump -nn -tt -v` text, capped in lines) and uploads both with
# curl to two presigned S3 PUT URLs. Never installs packages.
#
# The BPF filter never passes through a shell: it is checked against a character whitelist, split
# on spaces with globbing off, and handed to tcpdump as separate arguments after `--`.
#
# Input (environment, set by SSM Agent from the document parameters, interpolationType ENV_VAR):
#   SSM_Interface          interface name ('' = any on the node, eth0 in a pod)
#   SSM_DurationSeconds    1..300
#   SSM_Filter             BPF expression ('' = everything)
#   SSM_PodNamespace       with SSM_PodName: capture inside that pod's network namespace
#   SSM_PodName
#   SSM_MaxPackets         1..100000
#   SSM_UploadUrl          presigned PUT URL for capture.pcap
#   SSM_SummaryUploadUrl   presigned PUT URL for summary.txt
#   SSM_SseKmsKeyId        KMS key the URLs were signed with ('' = no SSE headers)
# Optional: EKSDIAG_TMPDIR (default /var/tmp).

set -u
umask 077
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}
LANG=C
LC_ALL=C
export PATH LANG LC_ALL

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=upload.sh
. "$HERE/upload.sh"

SNAPLEN=1024
SUMMARY_MAX_LINES=20000

fail() {
    printf 'EKSDIAG_ERROR: %s\n' "$*" >&2
    exit 1
}

# in_range VALUE LOW HIGH: VALUE is a decimal integer within [LOW, HIGH].
in_range() {
    case $1 in
    '' | *[!0-9]*) return 1 ;;
    esac
    [ "${#1}" -le 9 ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# k8s_name VALUE: a Kubernetes namespace or pod name (DNS subdomain).
k8s_name() {
    case $1 in
    '' | *[!a-z0-9.-]* | [.-]* | *[.-]) return 1 ;;
    esac
    [ "${#1}" -le 253 ]
}

if [ -z "${SSM_UploadUrl+set}" ]; then
    fail "parameters did not arrive as SSM_* variables: SSM Agent 3.3.2746.0 or later is required"
fi
INTERFACE=${SSM_Interface:-}
DURATION=${SSM_DurationSeconds:-30}
FILTER=${SSM_Filter:-}
POD_NAMESPACE=${SSM_PodNamespace:-}
POD_NAME=${SSM_PodName:-}
MAX_PACKETS=${SSM_MaxPackets:-10000}
UPLOAD_URL=$SSM_UploadUrl
SUMMARY_URL=${SSM_SummaryUploadUrl:-}
KMS_KEY_ID=${SSM_SseKmsKeyId:-}

case $INTERFACE in
*[!A-Za-z0-9_.-]*) fail "Interface has characters outside [A-Za-z0-9_.-]" ;;
esac
[ "${#INTERFACE}" -le 15 ] || fail "Interface is longer than 15 characters"
in_range "$DURATION" 1 300 || fail "DurationSeconds must be an integer from 1 to 300"
in_range "$MAX_PACKETS" 1 100000 || fail "MaxPackets must be an integer from 1 to 100000"
case $FILTER in
*[!]A-Za-z0-9\ \(\).:/_=![-]*) fail "Filter has characters outside the BPF whitelist" ;;
esac
[ "${#FILTER}" -le 256 ] || fail "Filter is longer than 256 characters"
if [ -n "$POD_NAMESPACE$POD_NAME" ]; then
    k8s_name "$POD_NAMESPACE" || fail "PodNamespace is not a Kubernetes name"
    k8s_name "$POD_NAME" || fail "PodName is not a Kubernetes name"
fi
valid_upload_url "$UPLOAD_URL" || fail "UploadUrl is not a presigned https URL"
valid_upload_url "$SUMMARY_URL" || fail "SummaryUploadUrl is not a presigned https URL"
valid_kms_key_id "$KMS_KEY_ID" || fail "SseKmsKeyId is not a KMS key id or ARN"
command -v tcpdump >/dev/null 2>&1 || fail "tcpdump is not installed on this node (this document never installs packages)"
command -v curl >/dev/null 2>&1 || fail "curl is not installed on this node"
command -v timeout >/dev/null 2>&1 || fail "timeout (coreutils) is not installed on this node"

# pod_pid NAMESPACE NAME: pid of the pod sandbox, through crictl (exact name match).
pod_pid() {
    command -v crictl >/dev/null 2>&1 || return 1
    for id in $(timeout 20 crictl pods --namespace "$1" --name "$2" --quiet 2>/dev/null); do
        case $id in
        *[!a-f0-9]*) continue ;;
        esac
        info=$(timeout 20 crictl inspectp --output json "$id" 2>/dev/null) || continue
        printf '%s\n' "$info" | grep -F -q "\"name\": \"$2\"" || continue
        printf '%s\n' "$info" | grep -F -q "\"namespace\": \"$1\"" || continue
        pid=$(printf '%s\n' "$info" | grep -m 1 '"pid": *[0-9]' | tr -dc '0-9')
        if [ -n "$pid" ] && [ -e "/proc/$pid/ns/net" ]; then
            printf '%s\n' "$pid"
            return 0
        fi
    done
    return 1
}

NETNS_PID=
if [ -n "$POD_NAME" ]; then
    command -v nsenter >/dev/null 2>&1 || fail "nsenter (util-linux) is not installed on this node"
    NETNS_PID=$(pod_pid "$POD_NAMESPACE" "$POD_NAME") ||
        fail "pod $POD_NAMESPACE/$POD_NAME not found on this node (crictl)"
    [ -n "$INTERFACE" ] || INTERFACE=eth0
else
    [ -n "$INTERFACE" ] || INTERFACE=any
fi

WORK=
cleanup() {
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
WORK=$(mktemp -d -p "${EKSDIAG_TMPDIR:-/var/tmp}") || fail "cannot create a temporary directory"
PCAP=$WORK/capture.pcap
SUMMARY=$WORK/summary.txt

# The filter words become separate arguments; `set -f` keeps `tcp[13]` from globbing.
set -f
IFS=' '
# shellcheck disable=SC2086
set -- $FILTER
IFS=$(printf ' \t\n')

CAPTURE_START=$(date -u +%s)
if [ -n "$NETNS_PID" ]; then
    timeout -k 5 -s INT "$DURATION" nsenter "--net=/proc/$NETNS_PID/ns/net" -- \
        tcpdump -i "$INTERFACE" -nn -U -Z root -s "$SNAPLEN" -c "$MAX_PACKETS" -w "$PCAP" -- "$@" \
        2>"$WORK/tcpdump.txt"
else
    timeout -k 5 -s INT "$DURATION" \
        tcpdump -i "$INTERFACE" -nn -U -Z root -s "$SNAPLEN" -c "$MAX_PACKETS" -w "$PCAP" -- "$@" \
        2>"$WORK/tcpdump.txt"
fi
rc=$?
CAPTURE_END=$(date -u +%s)
set +f
# 124: stopped by the duration limit, the normal end of a capture that did not reach MaxPackets.
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
    tail -n 5 "$WORK/tcpdump.txt" >&2
    fail "tcpdump failed (exit $rc)"
fi
[ -f "$PCAP" ] || fail "tcpdump wrote no capture file"

PACKETS=$(tcpdump -nn -r "$PCAP" 2>/dev/null | wc -l | tr -d ' ')
{
    printf '# eksdiag packet capture summary\n'
    printf '# interface: %s\n' "$INTERFACE"
    [ -n "$POD_NAME" ] && printf '# pod: %s/%s\n' "$POD_NAMESPACE" "$POD_NAME"
    printf '# filter: %s\n' "$FILTER"
    printf '# duration_seconds: %s\n' "$DURATION"
    printf '# capture_start_epoch: %s\n' "$CAPTURE_START"
    printf '# capture_end_epoch: %s\n' "$CAPTURE_END"
    printf '# packets: %s\n' "$PACKETS"
    printf '# max_lines: %s\n' "$SUMMARY_MAX_LINES"
    tcpdump -nn -tt -v -r "$PCAP" 2>/dev/null | head -n "$SUMMARY_MAX_LINES"
} >"$SUMMARY"

printf 'interface: %s\n' "$INTERFACE"
printf 'packets: %s\n' "$PACKETS"
printf 'pcap_bytes: %s\n' "$(wc -c <"$PCAP" | tr -d ' ')"
printf 'pcap_sha256: %s\n' "$(sha256sum "$PCAP" | cut -d ' ' -f 1)"

status=0
if upload_file "$PCAP" "$UPLOAD_URL" "$KMS_KEY_ID" 2>"$WORK/curl-pcap.txt"; then
    printf 'upload_pcap: ok\n'
else
    printf 'upload_pcap: failed\n'
    tail -n 3 "$WORK/curl-pcap.txt" >&2
    status=1
fi
if upload_file "$SUMMARY" "$SUMMARY_URL" "$KMS_KEY_ID" 2>"$WORK/curl-summary.txt"; then
    printf 'upload_summary: ok\n'
else
    printf 'upload_summary: failed\n'
    tail -n 3 "$WORK/curl-summary.txt" >&2
    status=1
fi
[ "$status" -eq 0 ] || fail "upload failed"
