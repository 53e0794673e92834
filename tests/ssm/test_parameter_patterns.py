"""Every SSM document parameter pattern against hostile and legitimate values.

Patterns are evaluated twice: with ``re.search`` (the ``^...$`` semantics of Java and Python,
where ``$`` also matches before one final line break) and with full-match semantics. The single
trailing newline that ``$`` lets through is harmless by construction (values arrive as environment
variables, never as shell text) and the node scripts refuse it themselves: tested below.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.config import Config
from eksdiag.capture import parameters as p
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = REPO / "ssm" / "documents"
SCRIPTS = REPO / "ssm" / "scripts"

KEY = "uploads/i-0123456789abcdef0/b-20260101T000000Z-1a2b.tar.gz"
KMS_ARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def presigned_put(
    key: str = KEY, region: str = "us-west-2", style: str = "virtual", sse: bool = True, expires: int = 900
) -> str:
    """A real SigV4 presigned PUT URL (fake credentials with a session token, like a Lambda role)."""
    session = boto3.session.Session(
        aws_access_key_id="ASIAEXAMPLEEXAMPLE12",
        aws_secret_access_key="x" * 40,
        aws_session_token="IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + "A" * 900 + "==",
        region_name=region,
    )
    client = session.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": style}))
    params = {"Bucket": "eksdiag-111122223333-us-west-2", "Key": key}
    if sse:
        params |= {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_ARN}
    return client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires)


def search(pattern: str, value: str) -> bool:
    return re.search(pattern, value) is not None


HOSTILE_COMMON = [
    "x\nreboot",
    "x\rreboot",
    "x;reboot",
    "x && reboot",
    "x | sh",
    "$(reboot)",
    "${IFS}reboot",
    "`reboot`",
    "x > /etc/passwd",
    "x < /etc/shadow",
    "x # comment",
    "x' ; reboot; '",
    'x" ; reboot; "',
    "x\\nreboot",
    "x\x00y",
    "x\ty",
]


# --------------------------------------------------------------------------- BPF filter

LEGIT_FILTERS = [
    "",
    "tcp and (port 80 or port 443)",
    "udp port 53",
    "host 10.0.0.1 and not port 22",
    "tcp port 443 and host 192.168.1.5",
    "net 10.0.0.0/8 and not net 10.100.0.0/16",
    "src net 192.168.0.0/16 and dst port 53",
    "portrange 30000-32767",
    "ip6 and host fd00::10",
    "ether host 02:42:ac:11:00:02",
    "tcp[13] = 4",
    "icmp[icmptype] = icmp-echo",
    "vlan and (udp or tcp)",
    "not (port 22 or port 10250)",
    "arp or icmp",
    "greater 1000 and tcp",
    "ip proto 17",
    "tcp dst port 0x1bb",
]

HOSTILE_FILTERS = [
    *("udp port 53" + suffix for suffix in ("\ntouch /tmp/pwned", "; touch /tmp/pwned", " $(id)", " `id`")),
    *HOSTILE_COMMON,
    "tcp[tcpflags] & tcp-rst != 0",
    "port 53 || port 80",
    "-w /tmp/x",
    "port 53 -w /etc/cron.d/x",
    "-z /bin/sh",
    "udp port 53 -Z root",
    "'udp port 53'",
    "foo",
    "!tcp",
    "tcp" + " and tcp" * 64,
    "port " + "1" * 11,
    "host " + "a" * 300,
]


@pytest.mark.parametrize("value", LEGIT_FILTERS)
def test_filter_pattern_accepts_legitimate_bpf(value: str) -> None:
    assert search(p.BPF_FILTER, value)
    assert p.matches(p.BPF_FILTER, value)
    assert len(value) <= p.FILTER_MAX_CHARS


@pytest.mark.parametrize("value", HOSTILE_FILTERS)
def test_filter_pattern_refuses_hostile_values(value: str) -> None:
    assert not p.matches(p.BPF_FILTER, value)
    assert not search(p.BPF_FILTER, value) or value.endswith("\n")


def test_filter_pattern_refuses_options_that_would_write_files() -> None:
    """tcpdump options (-w, -z, -Z, -r, -F) cannot be smuggled in: '-' never starts a token."""
    for option in ("-w", "-z", "-Z", "-r", "-F", "-C", "-G", "-V", "--relinquish-privileges"):
        assert not search(p.BPF_FILTER, f"udp port 53 {option} x")


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=80), st.sampled_from(list(";$`<>|&#\\'\"\n\r*?{}~^")))
def test_filter_pattern_never_admits_a_shell_metacharacter(prefix: str, bad: str) -> None:
    for value in (prefix + bad, bad + prefix, f"udp port 53 {bad}{prefix}"):
        assert not p.matches(p.BPF_FILTER, value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["tcp", "udp", "port", "53", "10.0.0.1", "(", ")", "and", "1:2::3"]), max_size=200))
def test_filter_pattern_is_fast_on_long_near_misses(tokens: list[str]) -> None:
    """Tokens must be separated, so a backtracking engine has one way to split: no blow-up."""
    value = "".join(tokens) + ";"
    assert not search(p.BPF_FILTER, value)


def _capture_script_filter_check(value: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SSM_Filter": value,
        "SSM_UploadUrl": "https://127.0.0.1:1/x?X-Amz-Signature=1",
        "SSM_SummaryUploadUrl": "https://127.0.0.1:1/y?X-Amz-Signature=1",
        "SSM_DurationSeconds": "1",
        "SSM_MaxPackets": "1",
        "EKSDIAG_TMPDIR": str(tmp_path),
    }
    return subprocess.run(
        ["sh", str(SCRIPTS / "packet-capture.sh")], env=env, capture_output=True, text=True, timeout=30, check=False
    )


@pytest.mark.parametrize(
    "value",
    # (an environment variable cannot hold NUL, so that value cannot reach the script at all)
    [v for v in HOSTILE_FILTERS + HOSTILE_COMMON if "\x00" not in v and re.search(r"[^A-Za-z0-9 ().:/_=!\[\]-]", v)],
)
def test_capture_script_refuses_filters_with_forbidden_characters(value: str, tmp_path: Path) -> None:
    proc = _capture_script_filter_check(value, tmp_path)
    assert proc.returncode == 1
    assert "Filter has characters outside the BPF whitelist" in proc.stderr


def test_capture_script_refuses_the_trailing_newline_the_pattern_lets_through(tmp_path: Path) -> None:
    proc = _capture_script_filter_check("udp port 53\n", tmp_path)
    assert "Filter has characters outside the BPF whitelist" in proc.stderr


# --------------------------------------------------------------------------- upload URL


LEGIT_URLS = {
    "virtual-hosted": presigned_put(),
    "path-style": presigned_put(style="path"),
    "us-east-1": presigned_put(region="us-east-1"),
    "no-sse": presigned_put(region="eu-central-1", sse=False),
    "china": presigned_put(region="cn-north-1"),
}

HOSTILE_URLS = [
    presigned_put().replace("https://", "http://"),
    "https://evil.example.com/x?X-Amz-Signature=0123456789abcdef",
    "https://s3.amazonaws.com.evil.example/x?X-Amz-Signature=0123456789abcdef",
    "https://bucket.s3.amazonaws.com/key",
    "https://bucket.s3.amazonaws.com/key?short",
    "file:///etc/passwd",
    presigned_put() + "'; reboot; '",
    presigned_put() + "\nreboot",
    presigned_put() + " -o /etc/cron.d/x",
    presigned_put() + "$(id)",
    "https://user@bucket.s3.amazonaws.com/key?X-Amz-Signature=0123456789abcdef",
    "https://bucket.s3.amazonaws.com/" + "a" * 2000 + "?X-Amz-Signature=0123456789abcdef",
]


@pytest.mark.parametrize("url", LEGIT_URLS.values(), ids=LEGIT_URLS.keys())
def test_upload_url_pattern_accepts_real_presigned_urls(url: str) -> None:
    assert p.matches(p.S3_PRESIGNED_PUT_URL, url), url


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_upload_url_pattern_refuses_non_s3_and_hostile_urls(url: str) -> None:
    assert not p.matches(p.S3_PRESIGNED_PUT_URL, url)


# --------------------------------------------------------------------------- the other parameters

CASES = {
    "INSTANCE_ID": (
        ["i-0123456789abcdef0", "i-01234567"],
        ["i-0123", "i-0123456789ABCDEF0", "i-0123456789abcdef01", "mi-0123456789abcdef0", "", "i-01234567 "],
    ),
    "BUNDLE_ID": (
        ["b-20260101120000-1a2b3c4d"],
        ["b-2026010112000-1a2b3c4d", "b-20260101120000-1A2B3C4D", "../b-20260101120000-1a2b3c4d", "b-x"],
    ),
    "S3_BUCKET": (
        ["eksdiag-111122223333-us-west-2", "a.b.c"],
        ["Eksdiag", "ab", "-bucket", "bucket-", "a/b", "a" * 64],
    ),
    "KMS_KEY_ARN": (
        [KMS_ARN, "arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"],
        ["", "1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-west-2:111122223333:alias/x"],
    ),
    "UPLOAD_EXPIRES_SECONDS": (
        [str(p.COLLECT_UPLOAD_EXPIRES_SECONDS), "3000", "3599", "3600"],
        ["60", "900", str(p.COLLECT_UPLOAD_EXPIRES_SECONDS - 1), "3601", "9000", "0900", "0", ""],
    ),
    "SSE_KMS_KEY_ID": (
        [KMS_ARN, "", "1234abcd-12ab-34cd-56ef-1234567890ab", "mrk-1234abcd12ab34cd56ef1234567890ab"],
        ["alias/aws/s3", "arn:aws:kms:us-west-2:111122223333:alias/x", KMS_ARN + " -H x"],
    ),
    "AUTOMATION_ASSUME_ROLE": (
        ["", "arn:aws:iam::111122223333:role/eksdiag-automation", "arn:aws-cn:iam::111122223333:role/a/b"],
        ["arn:aws:iam::111122223333:user/x", "arn:aws:iam::1111:role/x", "role/x"],
    ),
    "INTERFACE": (["", "eth0", "eni8f1d0c2e7a4", "ens5", "vlan.100"], ["eth0 -w /tmp/x", "a" * 16, "../x"]),
    "DURATION_SECONDS": (["1", "30", "99", "120", "300"], ["0", "301", "1000", "-1", "01", "1.5", ""]),
    "MAX_PACKETS": (["1", "10000", "99999", "100000"], ["0", "100001", "1e5", "", "-5"]),
    "KUBERNETES_NAME": (
        ["", "default", "kube-system", "coredns-6b9575c64c-4x2lm", "web.v1"],
        ["Default", "-x", "x-", "a_b", "a" * 254],
    ),
}


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [(name, v, True) for name, (good, _bad) in CASES.items() for v in good]
    + [(name, v, False) for name, (_good, bad) in CASES.items() for v in bad]
    + [(name, v, False) for name in CASES for v in HOSTILE_COMMON],
)
def test_parameter_pattern(name: str, value: str, accepted: bool) -> None:
    assert p.matches(getattr(p, name), value) is accepted


def test_every_document_parameter_has_a_tested_pattern() -> None:
    tested = {getattr(p, name) for name in CASES} | {p.BPF_FILTER, p.S3_PRESIGNED_PUT_URL}
    for path in DOCUMENTS.glob("*.yaml"):
        document = yaml.safe_load(path.read_text())
        for name, spec in document["parameters"].items():
            assert spec.get("allowedPattern") in tested, f"{path.name}: {name}"


#: The document parameter each pattern constant is written into.
DOCUMENT_PARAMETER = {
    "BPF_FILTER": "Filter",
    "S3_PRESIGNED_PUT_URL": "UploadUrl",
    "INSTANCE_ID": "InstanceId",
    "BUNDLE_ID": "BundleId",
    "S3_BUCKET": "Bucket",
    "KMS_KEY_ARN": "KmsKeyId",
    "UPLOAD_EXPIRES_SECONDS": "UploadExpiresSeconds",
    "SSE_KMS_KEY_ID": "SseKmsKeyId",
    "AUTOMATION_ASSUME_ROLE": "AutomationAssumeRole",
    "INTERFACE": "Interface",
    "DURATION_SECONDS": "DurationSeconds",
    "MAX_PACKETS": "MaxPackets",
    "KUBERNETES_NAME": "PodName",
}


def corpus() -> list[tuple[str, str, bool]]:
    """``(document parameter, value, accepted)`` for every legitimate and hostile value above: what the
    documents must decide wherever they are evaluated (tests/contracts runs it under RE2 and Go)."""
    cases = [("Filter", v, True) for v in LEGIT_FILTERS] + [("Filter", v, False) for v in HOSTILE_FILTERS]
    cases += [("UploadUrl", v, True) for v in LEGIT_URLS.values()] + [("UploadUrl", v, False) for v in HOSTILE_URLS]
    for name, (good, bad) in CASES.items():
        parameter = DOCUMENT_PARAMETER[name]
        cases += [(parameter, v, True) for v in good] + [(parameter, v, False) for v in [*bad, *HOSTILE_COMMON]]
    return cases


def _node_accepts_url(url: str) -> bool:
    script = f'. "{SCRIPTS / "upload.sh"}"; valid_upload_url "$1"'
    return subprocess.run(["sh", "-c", script, "sh", url], check=False).returncode == 0


def test_the_node_script_and_the_document_bound_the_url_alike() -> None:
    """upload.sh checks the URL again on the node: the same length limit as the documents' maxChars."""
    base = presigned_put()
    longest = base + "&x=" + "a" * (p.UPLOAD_URL_MAX_CHARS - len(base) - 3)
    assert len(longest) == p.UPLOAD_URL_MAX_CHARS
    assert p.matches(p.S3_PRESIGNED_PUT_URL, longest) and _node_accepts_url(longest)
    assert not _node_accepts_url(longest + "a")
    for name in ("run-collector.yaml", "packet-capture.yaml"):
        parameters = yaml.safe_load((DOCUMENTS / name).read_text())["parameters"]
        assert {spec.get("maxChars") for n, spec in parameters.items() if n.endswith("UploadUrl")} == {
            p.UPLOAD_URL_MAX_CHARS
        }


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 200_000), st.integers(0, 200_000), st.integers(0, 250_000))
def test_integer_range_pattern_matches_exactly_the_range(a: int, b: int, n: int) -> None:
    low, high = min(a, b), max(a, b)
    pattern = p.integer_range_pattern(low, high)
    for value in (n, low, high, low - 1, high + 1):
        assert p.matches(pattern, str(value)) is (low <= value <= high), (pattern, value)
    assert not p.matches(pattern, f"0{low}") and not p.matches(pattern, f"{low}\n") and not p.matches(pattern, "")
