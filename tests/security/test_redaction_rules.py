"""Redaction rules, one line at a time and block by block: every kind is replaced, benign node lines are
not, line numbers never move, and the cheap triggers cover every rule and every detector."""

from __future__ import annotations

import re

import pytest
import re2
from eksdiag.engine.redact import RULES, TRIGGERS, BlockRedactor, RedactingStream, redact_block, redact_line
from eksdiag.engine.redact_detectors import DETECTOR_TRIGGERS, _plugins
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.corpus import ALNUM, B64, UPPER32, _Secrets

S = _Secrets(__import__("random").Random(7))
KEY_ID = "AKIA" + S.text(UPPER32, 16)
SECRET_KEY = S.text(B64, 40)
TOKEN = "IQoJb3JpZ2luX2VjE" + S.text(B64, 200)
PASSWORD = S.text(ALNUM, 16)
JWT = S.jwt({"sub": "x", "exp": 1})
SA = S.jwt({"iss": "https://kubernetes.default.svc", "kubernetes.io": {"namespace": "default"}})

#: (kind redacted, line, the secret in it): the issue's 8 kinds and the other formats nodes carry.
CASES = [
    ("aws-access-key-id", f"aws configure set aws_access_key_id {KEY_ID}", KEY_ID),
    ("aws-secret-access-key", f"aws_secret_access_key = {SECRET_KEY}", SECRET_KEY),
    ("aws-secret-access-key", f'{{"SecretAccessKey": "{SECRET_KEY}"}}', SECRET_KEY),
    ("aws-session-token", f"export AWS_SESSION_TOKEN={TOKEN}", TOKEN),
    ("aws-session-token", f"token blob {TOKEN} end", TOKEN),
    ("jwt", f'I0306 auth.go:1] "call" id_token {JWT}', JWT),
    ("kubernetes-service-account-token", f"Authorization token={SA}", SA),
    ("bearer-token", f"curl -H 'Authorization: Bearer {PASSWORD}x.y' https://x", PASSWORD),
    ("bearer-token", f"Authorization: Basic {PASSWORD}==", PASSWORD),
    ("private-key", f'{{"key": "-----BEGIN PRIVATE KEY-----\\nMII{PASSWORD}\\n-----END PRIVATE KEY-----"}}', PASSWORD),
    ("password-in-command-line", f"/opt/app --password={PASSWORD} --port 80", PASSWORD),
    ("password-in-command-line", f"/opt/app --db-password '{PASSWORD}'", PASSWORD),
    ("password-in-command-line", f"/opt/app --client-secret {PASSWORD} -v", PASSWORD),
    ("password-in-command-line", f"mysql -u root -p{PASSWORD} -h db", PASSWORD),
    ("password-in-command-line", f"mysqldump -h db -p {PASSWORD} app", PASSWORD),
    ("password-in-command-line", f"sshpass -p {PASSWORD} ssh host", PASSWORD),
    ("password-in-command-line", f"redis-cli -h cache -a {PASSWORD} ping", PASSWORD),
    ("secret-in-environment", f"PASSWORD={PASSWORD} ./run.sh", PASSWORD),
    ("secret-in-environment", f'"MYSQL_ROOT_PASSWORD={PASSWORD}",', PASSWORD),
    ("secret-in-environment", f"API_KEY={PASSWORD}", PASSWORD),
    ("secret-value", f'{{"client_secret": "{PASSWORD}", "user": "x"}}', PASSWORD),
    ("secret-value", f"  password: {PASSWORD}", PASSWORD),
    ("url-credentials", f"fetch https://deploy:{PASSWORD}@artifacts.internal/x.rpm", PASSWORD),
    ("connection-string", f"app --db postgres://app:{PASSWORD}@db:5432/app", PASSWORD),
    ("connection-string", f"mysql://root:{PASSWORD}@10.0.0.5/app", PASSWORD),
    ("connection-string", f"MONGO=mongodb+srv://svc:{PASSWORD}@c0.example.mongodb.net/db", PASSWORD),
    ("secret-in-environment", f'Server=tcp:db,1433;User Id=sa;Password={PASSWORD};"', PASSWORD),
    ("github-token", "clone https://ghp_" + PASSWORD * 2 + "abcd@github.com/o/r", "ghp_" + PASSWORD * 2 + "abcd"),
    ("github-token", "github_pat_" + PASSWORD * 4, "github_pat_" + PASSWORD * 4),
    ("gitlab-token", "glab login --hostname x glpat-" + PASSWORD + "abcd", "glpat-" + PASSWORD + "abcd"),
    ("slack-token", "notify xoxb-1234567890-" + PASSWORD, "xoxb-1234567890-" + PASSWORD),
    ("slack-webhook", "POST https://hooks.slack.com/services/T0/B0/" + PASSWORD, PASSWORD),
    ("detect-secrets:stripe-access-key", "stripe sk_live_" + PASSWORD + "abcdefgh", "sk_live_" + PASSWORD + "abcdefgh"),
    ("detect-secrets:sendgrid-api-key", "mail SG." + S.text(ALNUM, 22) + "." + S.text(ALNUM, 43), "SG."),
]


@pytest.mark.parametrize(("kind", "line", "secret"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_kind_of_secret_is_replaced_by_its_kind(kind: str, line: str, secret: str) -> None:
    redacted, kinds = redact_line(line.encode())
    assert secret.encode() not in redacted
    assert kind in kinds and f"[REDACTED:{kind}]".encode() in redacted
    assert b"\n" not in redacted


BENIGN = [
    "/usr/bin/kubelet --config /etc/kubernetes/kubelet/config.json --kubeconfig /var/lib/kubelet/kubeconfig "
    "--image-credential-provider-config /etc/eks/image-credential-provider/config.json --node-ip=192.168.1.10",
    '"AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token",',
    '"AWS_ROLE_ARN=arn:aws:iam::123456789012:role/aws-node",',
    '"AWS_VPC_K8S_CNI_LOGLEVEL=DEBUG",',
    'E0306 kubelet.go:1] "Unable to authenticate the request" err="invalid bearer token"',
    "image sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 pulled",
    '{"level":"info","msg":"Using IMDS token for metadata"}',
    'time="x" level=info msg="ImageCreate event labels:{key:\\"io.cri-containerd.image\\" value:\\"managed\\"}"',
    '"tokenExpirationSeconds": 3607,',
    "PWD=/root",
    "--anonymous-auth=false --authorization-mode=Webhook --tls-private-key-file=/etc/kubelet/kubelet.key",
    "ENABLE_TOKEN_AUTH=true",
]


@pytest.mark.parametrize("line", BENIGN)
def test_benign_node_lines_are_left_alone(line: str) -> None:
    assert redact_line(line.encode()) == (line.encode(), [])


def test_a_pem_block_split_across_blocks_is_replaced_line_by_line_with_exact_line_numbers() -> None:
    body = [S.text(B64, 64) for _ in range(4)]
    lines = ["before", "-----BEGIN OPENSSH PRIVATE KEY-----", *body, "-----END OPENSSH PRIVATE KEY-----", "after"]
    first, second = ("\n".join(lines[:4]) + "\n").encode(), ("\n".join(lines[4:]) + "\n").encode()
    redactor = BlockRedactor()
    out1, found1 = redactor.redact_block(first, 0)
    out2, found2 = redactor.redact_block(second, 4)
    out = (out1 + out2).decode().split("\n")
    assert len(out) == len(lines) + 1
    assert out[0] == "before" and out[1] == lines[1] and out[6] == lines[6] and out[7] == "after"
    assert all(line == "[REDACTED:private-key]" for line in out[2:6])
    assert [r.line for r in found1 + found2] == [3, 4, 5, 6]
    assert not any(b in (out1 + out2).decode() for b in body)


def test_a_begin_marker_without_end_stops_after_the_cap() -> None:
    block = ("-----BEGIN RSA PRIVATE KEY-----\n" + "x\n" * 250).encode()
    out, found = redact_block(block, 0)
    assert len(found) == 200 and out.count(b"\n") == block.count(b"\n")
    assert out.endswith(b"x\n" * 50)


line_text = st.text(alphabet=st.characters(blacklist_characters="\n", codec="utf-8"), max_size=80)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(line_text, st.sampled_from([c[1] for c in CASES])), max_size=30), st.booleans())
def test_redaction_never_adds_or_removes_a_newline(lines: list[str], final_newline: bool) -> None:
    block = "\n".join(lines).encode() + (b"\n" if final_newline and lines else b"")
    out, found = redact_block(block, 10)
    assert out.count(b"\n") == block.count(b"\n")
    for before, after in zip(block.split(b"\n"), out.split(b"\n"), strict=True):
        if before != after:
            assert b"[REDACTED:" in after
    assert all(11 <= r.line <= 11 + block.count(b"\n") for r in found)


class _Chunks:
    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data, self.sizes = data, sizes

    def read(self, size: int = -1) -> bytes:
        n = self.sizes.pop(0) if self.sizes else size
        out, self.data = self.data[:n], self.data[n:]
        return out


@settings(max_examples=100)
@given(st.lists(st.sampled_from([c[1] for c in CASES] + BENIGN), min_size=1, max_size=20), st.data())
def test_the_stream_gives_the_same_bytes_and_lines_as_whole_blocks(lines: list[str], data: st.DataObject) -> None:
    text = "\n".join(lines).encode()  # no final newline: it must stay that way
    sizes = data.draw(st.lists(st.integers(1, 300), max_size=40))
    found: list[object] = []
    stream = RedactingStream(_Chunks(text, sizes), found.append, chunk_bytes=64)
    out = b"".join(iter(lambda: stream.read(data.draw(st.integers(1, 500))), b""))
    expected, expected_found = redact_block(text, 0)
    assert out == expected and found == expected_found


def _rule_patterns() -> list[tuple[str, str]]:
    ours = [(rule.kind, rule.pattern) for rule in RULES]
    theirs = []
    for (_, name, _), (plugin, _) in zip(DETECTOR_TRIGGERS, _plugins(), strict=True):
        for regex in getattr(plugin, "denylist", ()):
            pattern = regex.pattern.replace("(?:(?<=\\W)|(?<=^))", "")  # lookbehind: a prefix condition
            theirs.append((f"{name}", pattern if (regex.flags & re.IGNORECASE) == 0 else "(?i)" + pattern))
    return ours + theirs


@pytest.mark.parametrize(("owner", "pattern"), _rule_patterns(), ids=[p[0] for p in _rule_patterns()])
def test_every_string_a_rule_or_detector_matches_contains_a_trigger(owner: str, pattern: str) -> None:
    trigger = re2.compile("|".join(f"(?:{t})" for t in TRIGGERS))

    @settings(
        max_examples=25, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
    )
    @given(st.from_regex(re.compile(pattern), fullmatch=False))
    def check(text: str) -> None:
        line = text.split("\n")[0] if "\n" not in pattern else text
        if re.search(pattern, line):
            assert trigger.search(line), f"{owner}: no trigger in {line!r}"

    check()
