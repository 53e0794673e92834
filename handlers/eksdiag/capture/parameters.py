"""Validation patterns of the SSM document parameters (one source of truth).

``ssm/build.py`` writes these into the documents' ``allowedPattern`` fields, and tool handlers use
them to refuse a bad argument before calling SSM. A pattern is evaluated three times: by the tool
(:func:`matches`, with RE2), by the SSM API (Java regex) and on the node by the SSM Agent, with Go's
``regexp`` (``regexp.Compile`` then ``MatchString``). The agent refuses to run a document whose
pattern Go cannot compile, so every pattern is anchored and written in RE2 syntax: no look-around,
no back-references, and no repeat count above 1000, where nested repeats count as the product of
their counts (``(x{0,4}){0,63}`` is 252 copies; ``(x{0,63}){0,63}`` would be 3969 and is refused).
Lengths beyond what a repeat count may say are bounded by the parameter's ``maxChars``, which the
API and the agent enforce too. ``tests/contracts/test_ssm_allowed_patterns.py`` compiles every
pattern of every document with google-re2 and with Go's own ``regexp``.

The BPF filter grammar is a token whitelist, not a character blacklist: tcpdump keywords, numbers,
addresses, byte-offset accessors and comparison operators, separated by spaces or parentheses.
It has no quotes, ``;``, ``$``, backticks, ``<``, ``>``, ``|``, ``&``, ``#``, ``\\`` or line breaks,
so ``tcp[tcpflags] & tcp-rst != 0`` is refused (use ``tcp[13] = 4``). Tokens must be separated,
which keeps every match linear (no ambiguous splits for a backtracking engine to explore).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import re2

INSTANCE_ID = r"^i-[0-9a-f]{8,17}$"

S3_PRESIGNED_PUT_URL = (
    r"^https://([a-z0-9][a-z0-9.-]{1,62}\.)?s3([.-][a-z0-9-]{1,30}){0,3}\.amazonaws\.com(\.cn)?"
    r"/[A-Za-z0-9._~/%-]{1,1000}\?[A-Za-z0-9._~%=&-]{16,}$"
)
"""A presigned S3 URL: HTTPS, an S3 endpoint host, a path and a query string of URL-safe characters
(no shell metacharacter, space or line break anywhere); at most :data:`UPLOAD_URL_MAX_CHARS` in all."""

UPLOAD_URL_MAX_CHARS = 4096
"""``maxChars`` of the upload URL parameters, and the limit ``ssm/scripts/upload.sh`` checks on the node.
A URL signed with a role session's token is about 1,500 characters."""

BUNDLE_ID = r"^b-[0-9]{14}-[0-9a-f]{8}$"
"""A bundle id as the collect tool issues it: ``b-<yyyymmddHHMMSS>-<8 hex>``."""

S3_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"

KMS_KEY_ARN = r"^arn:aws[a-z-]{0,20}:kms:[a-z0-9-]{1,30}:[0-9]{12}:key/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})$"


def integer_range_pattern(low: int, high: int) -> str:
    """An anchored pattern for the decimal integers ``low`` to ``high`` (no sign, no leading zero)."""
    if not 0 <= low <= high:
        raise ValueError(f"bad range {low}..{high}")
    alternatives: list[str] = []
    while low <= high:
        top = min(high, 10 ** len(str(low)) - 1)  # same number of digits
        alternatives += _same_length(str(low), str(top))
        low = top + 1
    return "^(" + "|".join(alternatives) + ")$"


def _same_length(low: str, high: str) -> list[str]:
    """Alternatives for the digit strings ``low`` to ``high`` of one length (leading zeros allowed)."""
    if low == high:
        return [low]
    if len(low) == 1:
        return [f"[{low}-{high}]"]
    if low[0] == high[0]:
        rest = _same_length(low[1:], high[1:])
        return [low[0] + (rest[0] if len(rest) == 1 else "(?:" + "|".join(rest) + ")")]
    tail = len(low) - 1
    out: list[str] = []
    first, last = int(low[0]), int(high[0])
    if low[1:] != "0" * tail:
        out += [low[0] + a for a in _wrap(_same_length(low[1:], "9" * tail))]
        first += 1
    if high[1:] != "9" * tail:
        last -= 1
    if first <= last:
        digit = str(first) if first == last else f"[{first}-{last}]"
        out.append(digit + "[0-9]" + (f"{{{tail}}}" if tail > 1 else ""))
    if high[1:] != "9" * tail:
        out += [high[0] + a for a in _wrap(_same_length("0" * tail, high[1:]))]
    return out


def _wrap(alternatives: list[str]) -> list[str]:
    return alternatives if len(alternatives) == 1 else ["(?:" + "|".join(alternatives) + ")"]


# Time limits of the documents, in seconds. ssm/build.py writes them into the documents, and the
# tools sign every upload URL to outlive the latest moment the node may start its upload.
#
# A presigned URL is refused after X-Amz-Date + X-Amz-Expires, and a URL signed with temporary
# credentials stops working when they expire, whatever X-Amz-Expires says. The collect URL is signed
# by the Automation role (PrepareUpload), whose session covers the Automation: every step is bounded
# (the executeScript steps by SCRIPT_STEP_TIMEOUT, RunCollector by its timeoutSeconds) and the whole
# run ends well within the hour SSM's role session lasts by default. Capture URLs are signed by the
# capture Lambda with its execution role's credentials; Lambda documents no minimum remaining
# lifetime for them ("services that assume a role, such as the AWS Lambda execution role, don't
# necessarily comply with the role's session duration settings", AWS Knowledge Center). When they
# expire first, the node reports "upload_pcap: failed" and tcpdump_analyze returns that reason.

COLLECTOR_BUDGET_SECONDS = 1200
"""EKSDIAG_TOTAL_SECONDS of collect-node-diagnostics.sh: the collector stops starting commands then."""
UPLOAD_ATTEMPT_SECONDS = 600
"""curl --max-time of one upload attempt in upload.sh."""
SCRIPT_STEP_TIMEOUT = 120
"""timeoutSeconds of each aws:executeScript step of collect.yaml (they make a few API calls)."""
COLLECT_DELIVERY_TIMEOUT = 600
"""RunCollector's TimeoutSeconds: how long SSM waits for the node's agent to take the command."""
RUN_COLLECTOR_TIMEOUT = COLLECTOR_BUDGET_SECONDS + UPLOAD_ATTEMPT_SECONDS + 300
"""Execution timeout of run-collector.yaml: the collector, one upload, and slack for retries."""
CAPTURE_MAX_SECONDS = 300
CAPTURE_DELIVERY_TIMEOUT = 120
"""SendCommand TimeoutSeconds of a capture: a capture that waits longer is no longer wanted."""
PACKET_CAPTURE_TIMEOUT = CAPTURE_MAX_SECONDS + 2 * UPLOAD_ATTEMPT_SECONDS + 60
"""Execution timeout of packet-capture.yaml: the longest capture, two uploads, decoding."""
SCHEDULING_SLACK_SECONDS = 60
"""Added to every worst case: Automation step transitions and clock skew."""
MAX_UPLOAD_EXPIRES_SECONDS = 3600

COLLECT_UPLOAD_EXPIRES_SECONDS = (
    SCRIPT_STEP_TIMEOUT + COLLECT_DELIVERY_TIMEOUT + RUN_COLLECTOR_TIMEOUT + SCHEDULING_SLACK_SECONDS
)
"""Signed by PrepareUpload; used at the latest after CheckManagedInstance, the delivery wait and the
collector's whole execution timeout."""
CAPTURE_UPLOAD_EXPIRES_SECONDS = CAPTURE_DELIVERY_TIMEOUT + PACKET_CAPTURE_TIMEOUT + SCHEDULING_SLACK_SECONDS
"""Signed just before SendCommand; used at the latest after the delivery wait and the execution timeout."""


def upload_url_lifetime(configured: int, worst_case: int) -> int:
    """The lifetime to sign an upload URL with: the configured one, raised to the worst case."""
    if worst_case > MAX_UPLOAD_EXPIRES_SECONDS:
        raise ValueError(f"the worst case {worst_case} s exceeds {MAX_UPLOAD_EXPIRES_SECONDS} s")
    return min(MAX_UPLOAD_EXPIRES_SECONDS, max(int(configured), worst_case))


UPLOAD_EXPIRES_SECONDS = integer_range_pattern(COLLECT_UPLOAD_EXPIRES_SECONDS, MAX_UPLOAD_EXPIRES_SECONDS)
"""The collect document's UploadExpiresSeconds: never shorter than the worst case, at most an hour."""

AUTOMATION_ASSUME_ROLE = r"^(arn:aws[a-z-]{0,20}:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512})?$"

SSE_KMS_KEY_ID = (
    r"^(arn:aws[a-z-]{0,20}:kms:[a-z0-9-]{1,30}:[0-9]{12}:key/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})"
    r"|mrk-[0-9a-f]{32}|[0-9a-f-]{36})?$"
)
"""A KMS key id or key ARN (the value signed into the presigned URL), or empty for no SSE headers."""

INTERFACE = r"^[A-Za-z0-9_.-]{0,15}$"
"""A Linux interface name (at most 15 characters), or empty for the default."""

DURATION_SECONDS = r"^([1-9]|[1-9][0-9]|[12][0-9]{2}|300)$"
"""1 to 300."""

MAX_PACKETS = r"^([1-9][0-9]{0,4}|100000)$"
"""1 to 100000."""

KUBERNETES_NAME = r"^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)?$"
"""A Kubernetes namespace or pod name (DNS subdomain), or empty."""

FILTER_MAX_CHARS = 256

BPF_KEYWORDS: tuple[str, ...] = (
    "and", "or", "not", "host", "net", "mask", "port", "portrange", "src", "dst", "ether", "ip",
    "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "sctp", "vlan", "mpls", "proto",
    "gateway", "broadcast", "multicast", "less", "greater", "len", "inbound", "outbound",
    "tcpflags", "icmptype", "icmp6type", "tcp-fin", "tcp-syn", "tcp-rst", "tcp-push", "tcp-ack",
    "tcp-urg", "tcp-ece", "tcp-cwr", "icmp-echoreply", "icmp-unreach", "icmp-sourcequench",
    "icmp-redirect", "icmp-echo", "icmp-routeradvert", "icmp-routersolicit", "icmp-timxceed",
    "icmp-paramprob", "domain", "http", "https", "ssh", "ntp",
)  # fmt: skip

_BPF_TOKEN = "|".join(
    (
        "|".join(BPF_KEYWORDS),
        r"0x[0-9a-fA-F]{1,8}",  # hex number
        r"[0-9]{1,5}-[0-9]{1,5}",  # port range
        r"[0-9]{1,3}(\.[0-9]{1,3}){1,3}(/[0-9]{1,2})?",  # IPv4 address or network
        # IPv6 or MAC address: 3 to 8 groups. Written with "?" rather than "{2,7}" so that no repeat
        # nests inside the token repeat below with a product above RE2's 1000.
        r"[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2}" + r"(:[0-9a-fA-F]{0,4})?" * 5 + r"(/[0-9]{1,3})?",
        r"[0-9]{1,10}",  # number
        r"(ether|ip|ip6|arp|tcp|udp|icmp|icmp6|vlan)\[([0-9]{1,4}(:[124])?|tcpflags|icmptype|icmp6type)\]",
        r"!=|==|=|!",
    )
)
BPF_FILTER = rf"^([ (]*({_BPF_TOKEN})([ ()]+({_BPF_TOKEN})){{0,63}}[ )]*)?$"
"""A BPF filter expression built from whitelisted tokens, or empty (capture everything)."""


@cache
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern)


def matches(pattern: str, value: str) -> bool:
    """True when the SSM Agent would accept ``value``: Go's ``MatchString`` of the anchored pattern, with
    the same engine rules (RE2, where ``$`` is the end of the text, so no trailing line break either)."""
    return _compiled(pattern).search(value) is not None
