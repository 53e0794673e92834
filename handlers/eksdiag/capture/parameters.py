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

UPLOAD_EXPIRES_SECONDS = r"^([6-9][0-9]|[1-9][0-9]{2}|[1-2][0-9]{3}|3[0-5][0-9]{2}|3600)$"
"""60 to 3600 seconds."""

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
