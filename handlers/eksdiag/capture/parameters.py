"""Validation patterns of the SSM document parameters (one source of truth).

``ssm/build.py`` writes these into the documents' ``allowedPattern`` fields, and tool handlers can
use them to refuse a bad argument before calling SSM. Every pattern is anchored, bounded in length
and written in the regular-expression subset shared by Python, Java and RE2 (no look-around, no
back-references), so it means the same thing wherever it is evaluated.

The BPF filter grammar is a token whitelist, not a character blacklist: tcpdump keywords, numbers,
addresses, byte-offset accessors and comparison operators, separated by spaces or parentheses.
It has no quotes, ``;``, ``$``, backticks, ``<``, ``>``, ``|``, ``&``, ``#``, ``\\`` or line breaks,
so ``tcp[tcpflags] & tcp-rst != 0`` is refused (use ``tcp[13] = 4``). Tokens must be separated,
which keeps every match linear (no ambiguous splits for a backtracking engine to explore).
"""

from __future__ import annotations

import re

INSTANCE_ID = r"^i-[0-9a-f]{8,17}$"

S3_PRESIGNED_PUT_URL = (
    r"^https://([a-z0-9][a-z0-9.-]{1,62}\.)?s3([.-][a-z0-9-]{1,30}){0,3}\.amazonaws\.com(\.cn)?"
    r"/[A-Za-z0-9._~/%-]{1,1024}\?[A-Za-z0-9._~%=&-]{16,4000}$"
)
"""A presigned S3 URL: HTTPS, an S3 endpoint host, a path and a query string of URL-safe characters."""

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
        r"[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}(/[0-9]{1,3})?",  # IPv6 or MAC address
        r"[0-9]{1,10}",  # number
        r"(ether|ip|ip6|arp|tcp|udp|icmp|icmp6|vlan)\[([0-9]{1,4}(:[124])?|tcpflags|icmptype|icmp6type)\]",
        r"!=|==|=|!",
    )
)
BPF_FILTER = rf"^([ (]*({_BPF_TOKEN})([ ()]+({_BPF_TOKEN})){{0,63}}[ )]*)?$"
"""A BPF filter expression built from whitelisted tokens, or empty (capture everything)."""


def matches(pattern: str, value: str) -> bool:
    """True when ``value`` matches ``pattern`` in full (no trailing line break either)."""
    return re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value) is not None
