"""Redaction at indexing: secrets in bundle text are replaced before anything is stored or indexed.

Every line is scanned, but cheaply: one RE2 alternation of :data:`TRIGGERS` runs over whole blocks
(like the rule scanner), and only the lines it finds go through the value rules (:data:`RULES`, RE2)
and the maintained detectors (detect-secrets, see :mod:`eksdiag.engine.redact_detectors`). A secret
is replaced by ``[REDACTED:<kind>]``. A redaction never adds or removes a newline, so line numbers
stay those of the original file; byte offsets are those of the redacted copy, which is what the
tools read. Multi-line PEM private keys are replaced line by line, across blocks.

What is recorded is the line and the kind, never the value.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import re2

from eksdiag.engine.reader import ByteStream
from eksdiag.engine.redact_detectors import DETECTOR_TRIGGERS, detect

MARK = "[REDACTED:{kind}]"
#: Lines after a PEM ``BEGIN ... PRIVATE KEY`` line without its END that are still treated as key body
#: (an 8192-bit RSA key is about 100 lines of base64).
MAX_PEM_LINES = 200
#: A line longer than this without a newline is passed on in pieces cut between tokens.
MAX_PENDING_BYTES = 1 << 20

_OPTIONS = re2.Options()
_OPTIONS.max_mem = 64 << 20
_OPTIONS.log_errors = False

_FLAG_WORDS = (
    r"(?:password|passwd|passphrase|[-_.]pass|pwd|secret|token|api-?key|apikey|access-?key|secret-?key"
    r"|private-?key|client-?secret|credentials?)"
)
_ENV_WORDS = (
    r"(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH_?KEY|_PASS|PWD)"
)
_KEY_WORDS = (
    r"(?:password|passwd|passphrase|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|client[_.-]?secret"
    r"|credentials?|auth[_.-]?key)"
)
#: A value: the inside of double or single quotes, or a bare word (escape pairs such as ``\"`` included,
#: so redacting it never leaves a dangling backslash in a JSON string).
_VALUE = r"(?:\"((?:[^\"\\]|\\.)*)\"|'([^']*)'|((?:[^\s\"',;\\]|\\.)+))"
_DB_CLIENTS = r"\b(?:mysql|mysqldump|mysqladmin|mysqlsh|mariadb|mariadb-dump)\b"

#: Cheap candidate-line patterns (RE2), searched as one alternation over whole blocks. Every string a
#: value rule or a detector can redact contains a match of one of them (tests/security checks it).
TRIGGERS: tuple[str, ...] = (
    r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{4}",
    r"IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE|FQoGZXIvYXdzE",
    r"eyJ[A-Za-z0-9_=-]",
    r"PRIVATE KEY",
    r"://[^\s/@]*:[^\s/@]*@",
    r"(?i:bearer|authorization)",
    r"gh[pousr]_|github_pat_|gl(?:pat|dt|rt|ptt|cbt|oas|ft|imt|soat|agent)-|xox[abposre]-|xapp-|hooks\.slack\.com/",
    r"(?i:passw|passphrase|pwd|secret|token|api[_.-]?key|apikey|access[_.-]?key|private[_.-]?key|credential"
    r"|auth[_.-]?key|[-_.]pass)",
    r"(?i:sshpass|redis-cli|sqlcmd|mysql|mariadb)",
    *(trigger for _, _, trigger in DETECTOR_TRIGGERS),
)


@dataclass(frozen=True)
class Redaction:
    """One redacted secret: the 1-based line of the file and the kind of secret (never the value)."""

    line: int
    kind: str


@dataclass(frozen=True)
class ValueRule:
    """A secret format: ``pattern`` (RE2, bytes) matches it and its group ``group`` is the secret."""

    kind: str
    pattern: str
    groups: tuple[int, ...] = (1,)
    """The groups that may hold the secret (alternatives); the first that took part is redacted."""
    keep: Callable[[Any], bool] | None = None
    """Returns True for a match that is not a secret (e.g. ``TOKEN_FILE=/path``)."""


_NOT_SECRET_VALUES = frozenset({b"", b'""', b"''", b"true", b"false", b"null", b"none", b"nil", b"yes", b"no"})
_NOT_SECRET_NAME_ENDINGS = (
    b"FILE",
    b"PATH",
    b"DIR",
    b"ARN",
    b"NAME",
    b"TYPE",
    b"MODE",
    b"ENDPOINT",
    b"REF",
    b"URL",
    b"URI",
    b"TTL",
    b"SECONDS",
    b"EXPIRATION",
    b"EXPIRY",
    b"COUNT",
    b"LENGTH",
    b"SIZE",
)


def _assignment_is_not_secret(match: Any) -> bool:
    name = match.group(1).upper().replace(b"-", b"_").replace(b".", b"_")
    value = next((v for v in match.groups()[1:] if v is not None), b"").lower()
    if name in (b"PWD", b"OLDPWD") or name.endswith(_NOT_SECRET_NAME_ENDINGS):
        return True
    return value in _NOT_SECRET_VALUES or value.startswith(b"[redacted:")


RULES: tuple[ValueRule, ...] = (
    ValueRule(
        "private-key",
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(.+?)(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)",
    ),
    ValueRule("aws-access-key-id", r"\b((?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16})\b"),
    ValueRule(
        "aws-secret-access-key",
        r"(?i)(?:aws.?secret.?(?:access.?)?key|secret.?access.?key)[\"']?(?:\s*[:=]>?\s*|\s+)[\"']?([A-Za-z0-9/+=]{16,})",
    ),
    ValueRule(
        "aws-session-token",
        r"(?i)(?:aws.?session.?token|aws.?security.?token|session.?token|\"token\")[\"']?(?:\s*[:=]\s*|\s+)[\"']?"
        r"([A-Za-z0-9/+=]{16,})",
    ),
    ValueRule("aws-session-token", r"((?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE|FQoGZXIvYXdzE)[A-Za-z0-9/+=]{16,})"),
    ValueRule("jwt", r"\b(eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)"),
    ValueRule("bearer-token", r"(?i)\bbearer\s+([A-Za-z0-9._~+/-]{8,}=*)"),
    ValueRule(
        "bearer-token",
        r"(?i)authorization[\"']?\s*[:=]\s*[\"']?(?:basic|token|digest)\s+([A-Za-z0-9._~+/-]{8,}=*)",
    ),
    ValueRule("github-token", r"\b(gh[pousr]_[A-Za-z0-9_]{30,255})"),
    ValueRule("github-token", r"\b(github_pat_[A-Za-z0-9_]{30,255})"),
    ValueRule("gitlab-token", r"\b(gl(?:pat|dt|rt|ptt|cbt|oas|ft|imt|soat|agent)-[A-Za-z0-9_-]{20,})"),
    ValueRule("slack-token", r"\b(xox[abposre]-[A-Za-z0-9-]{10,})"),
    ValueRule("slack-token", r"\b(xapp-[0-9]+-[A-Za-z0-9-]{10,})"),
    ValueRule("slack-webhook", r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9/_-]{10,})"),
    ValueRule(
        "connection-string",
        r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|sqlserver|mssql|oracle"
        r"|cockroachdb|clickhouse)://[^\s/:@\"'<>]*:([^\s/@\"'<>]+)@",
    ),
    ValueRule("url-credentials", r"(?i)\b[a-z][a-z0-9+.-]{0,20}://[^\s/:@\"'<>]*:([^\s/@\"'<>]+)@"),
    ValueRule(
        "password-in-command-line",
        r"(?i)(?:^|[\s\"'])--?[a-z0-9_.-]*" + _FLAG_WORDS + "=" + _VALUE,
        groups=(1, 2, 3),
    ),
    ValueRule(
        "password-in-command-line",
        r"(?i)(?:^|[\s\"'])--?[a-z0-9_.-]*" + _FLAG_WORDS + r"\s+(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'-][^\s\"',]*))",
        groups=(1, 2, 3),
    ),
    ValueRule("password-in-command-line", _DB_CLIENTS + r"[^\n]*?\s-p([^\s\"']+)"),
    ValueRule("password-in-command-line", _DB_CLIENTS + r"[^\n]*?\s-p\s+([^\s\"'-][^\s\"']*)"),
    ValueRule("password-in-command-line", r"\bsshpass\s+-p\s*([^\s\"']+)"),
    ValueRule("password-in-command-line", r"\bredis-cli\b[^\n]*?\s-a\s+([^\s\"']+)"),
    ValueRule("password-in-command-line", r"\bsqlcmd\b[^\n]*?\s-P\s+([^\s\"']+)"),
    ValueRule(
        "secret-in-environment",
        r"(?i)\b([A-Z0-9_.-]*" + _ENV_WORDS + r"[A-Z0-9_]*)=" + _VALUE,
        groups=(2, 3, 4),
        keep=_assignment_is_not_secret,
    ),
    ValueRule(
        "secret-value",
        r"(?i)[\"']?([A-Za-z0-9_.-]*" + _KEY_WORDS + r")[\"']?\s*:\s*" + _VALUE,
        groups=(2, 3, 4),
        keep=_assignment_is_not_secret,
    ),
)

#: Kinds of secret our own rules name; the detectors add ``detect-secrets:<type>`` kinds.
KINDS: tuple[str, ...] = (
    *dict.fromkeys(rule.kind for rule in RULES),
    "kubernetes-service-account-token",
)

_PEM_BEGIN = re2.compile(rb"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----", _OPTIONS)
_PEM_END = re2.compile(rb"-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----", _OPTIONS)
_PEM_OPEN_TAIL = frozenset(b" \t\r\"',")


@lru_cache(maxsize=1)
def _compiled() -> tuple[Any, Any, tuple[tuple[ValueRule, Any], ...], Any]:
    """(trigger alternation, detector trigger set, compiled rules, rule set), built on first use."""
    trigger = re2.compile("|".join(f"(?:{t})" for t in TRIGGERS).encode(), _OPTIONS)
    detectors = re2.Set.SearchSet(_OPTIONS)
    for _, _, pattern in DETECTOR_TRIGGERS:
        detectors.Add(pattern.encode())  # type: ignore[union-attr]
    detectors.Compile()
    rules = tuple((rule, re2.compile(rule.pattern.encode(), _OPTIONS)) for rule in RULES)
    rule_set = re2.Set.SearchSet(_OPTIONS)
    for rule in RULES:
        rule_set.Add(rule.pattern.encode())  # type: ignore[union-attr]
    rule_set.Compile()
    return trigger, detectors, rules, rule_set


def _jwt_kind(token: bytes) -> str:
    """``kubernetes-service-account-token`` for a JWT a Kubernetes (or EKS OIDC) issuer signed."""
    parts = token.split(b".")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + b"=" * (-len(parts[1]) % 4))
    except (ValueError, IndexError):
        return "jwt"
    return "kubernetes-service-account-token" if b"kubernetes.io" in payload else "jwt"


def _mark(kind: str) -> bytes:
    return MARK.format(kind=kind).encode()


def redact_line(line: bytes) -> tuple[bytes, list[str]]:
    """``line`` (no newline) with every secret replaced, and the kinds replaced, in line order."""
    _, detectors, rules, rule_set = _compiled()
    spans: list[tuple[int, int, str]] = []
    for index in sorted(rule_set.Match(line) or ()):
        rule, regex = rules[index]
        for match in regex.finditer(line):
            if rule.keep is not None and rule.keep(match):
                continue
            group = next((g for g in rule.groups if match.group(g) is not None), rule.groups[0])
            start, end = match.span(group)
            if start < end:
                kind = _jwt_kind(line[start:end]) if rule.kind == "jwt" else rule.kind
                spans.append((start, end, kind))
    selected = detectors.Match(line)
    if selected:
        text = line.decode("utf-8", "surrogateescape")
        for found in detect(text, sorted(selected)):
            value = found.value.encode("utf-8", "surrogateescape")
            at = line.find(value)
            while at >= 0:
                spans.append((at, at + len(value), found.kind))
                at = line.find(value, at + len(value))
    if not spans:
        return line, []
    return _apply(line, spans)


def _apply(line: bytes, spans: list[tuple[int, int, str]]) -> tuple[bytes, list[str]]:
    """Replace the spans; overlapping spans merge into one, named by our own rule's kind if one took part."""
    spans.sort(key=lambda s: (s[0], -s[1]))
    out: list[bytes] = []
    kinds: list[str] = []
    copied = 0
    current: tuple[int, int, str] | None = None
    for start, end, kind in spans:
        if current is not None and start < current[1]:
            named = kind if current[2].startswith("detect-secrets:") else current[2]  # our own kind names it
            current = (current[0], max(current[1], end), named)
            continue
        if current is not None:
            out += [line[copied : current[0]], _mark(current[2])]
            kinds.append(current[2])
            copied = current[1]
        current = (start, end, kind)
    assert current is not None
    out += [line[copied : current[0]], _mark(current[2]), line[current[1] :]]
    kinds.append(current[2])
    return b"".join(out), kinds


def _pem_opens(line: bytes) -> bool:
    """A BEGIN marker that ends its line (the key body follows on the next lines)."""
    match = _PEM_BEGIN.search(line)
    if match is None or _PEM_END.search(line, match.end()) is not None:
        return False
    return all(c in _PEM_OPEN_TAIL for c in line[match.end() :])


class BlockRedactor:
    """Redacts the blocks of one file in order; keeps the PEM state from one block to the next."""

    def __init__(self) -> None:
        self._pem_left = 0

    @property
    def in_key(self) -> bool:
        """A PEM private key is open: the next lines are redacted whether or not a trigger is on them."""
        return self._pem_left > 0

    def redact_block(
        self, block: bytes, line_base: int, trigger_lines: Sequence[int] | None = None
    ) -> tuple[bytes, list[Redaction]]:
        """``block`` holds whole lines (the last may lack its newline); ``line_base`` lines precede it.

        ``trigger_lines``: the start offsets (ascending) of the lines a shared prefilter found
        :data:`TRIGGERS` on (every such line, perhaps more), in place of searching the block here.
        """
        trigger = _compiled()[0].search
        starts = iter(trigger_lines) if trigger_lines is not None else None
        out: list[bytes] = []
        found: list[Redaction] = []
        size = len(block)
        copied = pos = counted_pos = 0
        counted = line_base
        while pos < size:
            if self._pem_left:
                start = pos
            elif starts is not None:
                start = next((s for s in starts if s >= pos), -1)
                if start < 0:
                    break
            else:
                match = trigger(block, pos)
                if match is None:
                    break
                start = block.rfind(b"\n", 0, match.start()) + 1
            end = block.find(b"\n", start)
            if end < 0:
                end = size
            counted += block.count(b"\n", counted_pos, start)
            counted_pos = start
            line = block[start:end]
            new, kinds = self._pem_body(line) if self._pem_left else self._line(line)
            if kinds:
                out += [block[copied:start], new]
                copied = end
                found += [Redaction(counted + 1, kind) for kind in kinds]
            pos = end + 1
        if not out:
            return block, found
        out.append(block[copied:])
        return b"".join(out), found

    def _line(self, line: bytes) -> tuple[bytes, list[str]]:
        new, kinds = redact_line(line)
        if b"PRIVATE KEY" in line and _pem_opens(line):
            self._pem_left = MAX_PEM_LINES
        return new, kinds

    def _pem_body(self, line: bytes) -> tuple[bytes, list[str]]:
        end = _PEM_END.search(line)
        if end is not None:
            self._pem_left = 0
            cut = end.start()
        else:
            self._pem_left -= 1
            cut = len(line) - (1 if line.endswith(b"\r") else 0)
        lead = len(line) - len(line.lstrip(b" \t"))
        if cut <= lead:
            return line, []
        return line[:lead] + _mark("private-key") + line[cut:], ["private-key"]


def redact_block(block: bytes, line_base: int) -> tuple[bytes, list[Redaction]]:
    """Redact one self-contained block of whole lines (a PEM key open at its end is not carried on)."""
    return BlockRedactor().redact_block(block, line_base)


class RedactingStream(io.RawIOBase):
    """Reads ``source`` and returns its bytes with secrets redacted, whole lines at a time.

    Nothing is added or dropped besides the redactions themselves: a final line without a newline
    stays without one. ``on_redaction`` receives each :class:`Redaction` as it is found.
    """

    def __init__(
        self,
        source: ByteStream,
        on_redaction: Callable[[Redaction], None],
        chunk_bytes: int = 1 << 20,
        max_pending: int = MAX_PENDING_BYTES,
    ) -> None:
        self._source = source
        self._on_redaction = on_redaction
        self._chunk = chunk_bytes
        self._max_pending = max_pending
        self._redactor = BlockRedactor()
        self._pending = b""
        self._ready = b""
        self._lines = 0
        self._eof = False
        self._failure: BaseException | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (fewer when a block ends first; empty only at the end)."""
        while not self._eof and (not self._ready or size < 0):
            self._fill()
        if self._failure is not None and not self._ready:
            failure, self._failure = self._failure, None
            raise failure
        if size < 0 or size >= len(self._ready):
            out, self._ready = self._ready, b""
        else:
            out, self._ready = self._ready[:size], self._ready[size:]
        return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _fill(self) -> None:
        try:
            data = self._source.read(self._chunk)
        except Exception as exc:  # a truncated source: pass on what was read, then its error
            self._failure = exc
            data = b""
        if not data:
            self._eof = True
            if self._pending:
                self._emit(self._pending)
                self._pending = b""
            return
        buf = self._pending + data if self._pending else data
        cut = buf.rfind(b"\n") + 1
        if cut == 0 and len(buf) > self._max_pending:
            cut = token_boundary(buf)
        if cut == 0:
            self._pending = buf
            return
        self._pending = buf[cut:]
        self._emit(buf[:cut])

    def _emit(self, block: bytes) -> None:
        redacted, found = self._redactor.redact_block(block, self._lines)
        self._lines += block.count(b"\n")
        for redaction in found:
            self._on_redaction(redaction)
        self._ready = self._ready + redacted if self._ready else redacted


_TOKEN_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_.-~%:@")


def token_boundary(buf: bytes) -> int:
    """Where to cut an over-long line so no token is split (just after its last separator byte)."""
    for at in range(len(buf) - 1, max(-1, len(buf) - 65536), -1):
        if buf[at] not in _TOKEN_BYTES:
            return at + 1
    return len(buf)
