"""The maintained secret detectors (detect-secrets) that run on candidate lines.

Only the pattern detectors run: detect-secrets' two entropy detectors (``Base64HighEntropyString``,
``HexHighEntropyString``) flag container ids, image digests and pod UIDs on nearly every node log
line, which are the evidence a diagnosis needs. Each detector is paired with a cheap RE2 trigger that
covers its own patterns (a property test generates strings from the detectors' regexes and checks
the trigger sees them), so a detector only runs on a line its trigger matched.

``analyze_string`` is called, not ``analyze_line``: it only matches, it never verifies a secret
against its provider over the network and it needs no global settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: detect-secrets plugin (module, class) -> the RE2 trigger that covers every string it can report.
#: ``\pN`` where the detector's Python ``\d`` also takes non-ASCII digits (RE2's ``\d`` is ASCII only).
#: A repeat that ends a pattern is cut to at most 4 (and what followed it dropped): a prefix of a match
#: is still a match of the shorter pattern, and the DFA stays small.
DETECTOR_TRIGGERS: tuple[tuple[str, str, str], ...] = (
    ("aws", "AWSKeyDetector", r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{4}|(?i:aws.{0,20}?(?:key|pw|pass|token))"),
    ("artifactory", "ArtifactoryDetector", r"AKC[a-zA-Z0-9]{4}|AP(?:\pN|[ABCDEF])[a-zA-Z0-9]{4}"),
    ("azure_storage_key", "AzureStorageKeyDetector", r"[A-Za-z0-9+/]{4}=="),
    ("basic_auth", "BasicAuthDetector", r"://[^\s/@]*:[^\s/@]*@"),
    ("cloudant", "CloudantDetector", r"(?i:cl(?:ou|oudant)?[_-]?(?:api)?(?:key|pw|pass|token)|\.cloudant\.com)"),
    ("discord", "DiscordBotTokenDetector", r"[MNO][a-zA-Z\pN_-]{23,25}\.[a-zA-Z\pN_-]{6}\."),
    ("github_token", "GitHubTokenDetector", r"gh[pousr]_[A-Za-z0-9_]{4}"),
    ("ibm_cos_hmac", "IbmCosHmacDetector", r"(?i:secret[-_]?(?:access)?[-_]?key)"),
    (
        "ibm_cloud_iam",
        "IbmCloudIamDetector",
        r"(?i:(?:key|pwd|pass|token)[\"'\]]*[ ]*(?::=|=>|::|=|:|[ ]+)[ ]*[\"']?[a-zA-Z0-9_-]{4})",
    ),
    ("jwt", "JwtTokenDetector", r"eyJ[A-Za-z0-9_=-]"),
    ("mailchimp", "MailchimpDetector", r"[0-9a-z]{4}-us[0-9]"),
    ("npm", "NpmDetector", r"npm_[A-Za-z0-9-]{4}|(?i:_authToken|npm[ _-]?token)"),
    ("private_key", "PrivateKeyDetector", r"PRIVATE KEY|PuTTY-User-Key-File"),
    (
        "keyword",
        "KeywordDetector",
        r"(?i:api[_.\-]?key|auth_?key|service_?key|account_?key|db_?key|database_?key|priv_?key|private_?key"
        r"|client_?key|db_?pass|database_?pass|key_?pass|passw|token|_pass\b|pwd|secret|contrase|recaptcha_"
        r"|nessus_?key)",
    ),
    ("sendgrid", "SendGridDetector", r"SG\.[a-zA-Z0-9_-]{4}"),
    ("slack", "SlackDetector", r"(?i:xox[aboprs]-|hooks\.slack\.com/services/)"),
    (
        "softlayer",
        "SoftlayerDetector",
        r"(?i:(?:softlayer|sl)[_-]?(?:api)?[_-]?(?:key|pw|pass|token)|api.softlayer.com)",
    ),
    ("square_oauth", "SquareOAuthDetector", r"sq0csp-"),
    ("stripe", "StripeDetector", r"[rs]k_live_"),
    ("twilio", "TwilioKeyDetector", r"AC[a-z0-9]{4}|SK[a-z0-9]{4}"),
)

#: Lines longer than this go to our RE2 rules only: the detectors use Python's backtracking ``re``.
MAX_DETECTOR_LINE = 4096


@dataclass(frozen=True)
class Detected:
    kind: str
    value: str


def _kind(secret_type: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in secret_type.lower()).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return "detect-secrets:" + slug


@lru_cache(maxsize=1)
def _plugins() -> tuple[tuple[Any, str], ...]:
    """Instances of the pattern detectors, built on first use (no work at import time)."""
    import importlib

    plugins = []
    for module, name, _ in DETECTOR_TRIGGERS:
        cls = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)
        plugin = cls()
        plugins.append((plugin, _kind(plugin.secret_type)))
    return tuple(plugins)


def detect(line: str, detectors: list[int]) -> Iterator[Detected]:
    """Secrets the detectors numbered ``detectors`` (indices into DETECTOR_TRIGGERS) report in ``line``."""
    if len(line) > MAX_DETECTOR_LINE:
        return
    plugins = _plugins()
    for index in detectors:
        plugin, kind = plugins[index]
        for value in plugin.analyze_string(line):
            if value:
                yield Detected(kind, value)
