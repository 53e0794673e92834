"""Build the SSM documents in ssm/documents/ from ssm/scripts/, ssm/automation/ and the parameter patterns.

    python ssm/build.py          # rewrite the documents
    python ssm/build.py --check  # exit 1 when a committed document is out of date

The documents are self-contained YAML (Terraform uploads them with file()). The Command documents
carry the node scripts verbatim in quoted here-documents, so what runs on the node is readable in
the SSM console. Parameters reach the scripts only as environment variables (interpolationType
ENV_VAR, SSM Agent 3.3.2746.0 or later): no parameter text is ever substituted into shell source.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml
from eksdiag.capture import parameters as p

ROOT = Path(__file__).resolve().parent
SCRIPTS = ROOT / "scripts"
AUTOMATION = ROOT / "automation"
DOCUMENTS = ROOT / "documents"

HEREDOC_END = "EKSDIAG_END_OF_FILE"
RUN_COLLECTOR_PLACEHOLDER = "@RUN_COLLECTOR_DOCUMENT_NAME@"
"""collect.yaml names the run-collector document by this text; Terraform replaces it with the real name."""

AGENT_CHECK = (
    'if [ -z "${SSM_UploadUrl+set}" ]; then\n'
    "  echo 'EKSDIAG_ERROR: parameters did not arrive as SSM_* environment variables:"
    " SSM Agent 3.3.2746.0 or later is required' >&2\n"
    "  exit 1\n"
    "fi\n"
)


# Time limits (seconds) come from eksdiag.capture.parameters, by which the tools also sign upload
# URLs: the collector's own budget (EKSDIAG_TOTAL_SECONDS) plus one upload (curl --max-time) fit in
# the run-collector timeout, and the Automation's RunCollector step waits for the agent to take the
# command and for that whole timeout. A capture is at most its longest duration plus two uploads.


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _param(
    description: str, pattern: str, default: str | None = None, max_chars: int | None = None, env: bool = True
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "String", "description": description}
    if default is not None:
        out["default"] = default
    out["allowedPattern"] = pattern
    if max_chars is not None:
        out["maxChars"] = max_chars
    if env:
        out["interpolationType"] = "ENV_VAR"
    return out


def _upload_url(what: str, env: bool = True) -> dict[str, Any]:
    return _param(
        f"Presigned HTTPS PUT URL of the S3 object that receives {what} (signed for a few minutes).",
        p.S3_PRESIGNED_PUT_URL,
        max_chars=p.UPLOAD_URL_MAX_CHARS,
        env=env,
    )


def _kms_key(env: bool = True) -> dict[str, Any]:
    return _param(
        "KMS key id or ARN the presigned URL was signed with (sent as the SSE-KMS headers); "
        "empty when the URL was signed without SSE headers.",
        p.SSE_KMS_KEY_ID,
        default="",
        env=env,
    )


def _program(scripts: list[str], entry: str) -> str:
    """Shell program that writes the scripts into a private directory and runs the entry script."""
    lines = [
        "set -eu",
        "umask 077",
        AGENT_CHECK.rstrip("\n"),
        "EKSDIAG_SCRIPTS=$(mktemp -d -p /var/tmp)",
        "trap 'rm -rf \"$EKSDIAG_SCRIPTS\"' EXIT",
    ]
    for name in scripts:
        text = (SCRIPTS / name).read_text()
        if any(line == HEREDOC_END for line in text.splitlines()):
            raise ValueError(f"{name} contains the here-document terminator {HEREDOC_END}")
        if "{{" in text or "}}" in text:
            raise ValueError(f"{name} contains '{{{{' or '}}}}', which SSM would read as a parameter reference")
        lines.append(f"cat >\"$EKSDIAG_SCRIPTS/{name}\" <<'{HEREDOC_END}'")
        lines.append(text.rstrip("\n"))
        lines.append(HEREDOC_END)
    lines.append(f'sh "$EKSDIAG_SCRIPTS/{entry}"')
    return "\n".join(lines) + "\n"


def _run_shell_step(name: str, program: str, timeout_seconds: int) -> dict[str, Any]:
    return {
        "action": "aws:runShellScript",
        "name": name,
        "precondition": {"StringEquals": ["platformType", "Linux"]},
        "inputs": {"timeoutSeconds": str(timeout_seconds), "runCommand": [program]},
    }


def run_collector_document() -> dict[str, Any]:
    return {
        "schemaVersion": "2.2",
        "description": (
            "Collect an EKS worker node's diagnostic bundle (eks-log-collector.sh when present, plus\n"
            "iptables counters, routes, conntrack, nft, sysctls, dmesg) and upload it with curl to a\n"
            "presigned S3 URL. The node needs no S3 or KMS permission. Nothing is installed; all\n"
            "temporary files are removed. Prints the bundle name, size and sha256.\n"
        ),
        "parameters": {"UploadUrl": _upload_url("the bundle (.tar.gz)"), "SseKmsKeyId": _kms_key()},
        "mainSteps": [
            _run_shell_step(
                "CollectAndUpload",
                _program(["upload.sh", "collect-node-diagnostics.sh", "run-collector.sh"], "run-collector.sh"),
                p.RUN_COLLECTOR_TIMEOUT,
            )
        ],
    }


def packet_capture_document() -> dict[str, Any]:
    return {
        "schemaVersion": "2.2",
        "description": (
            "Capture packets with tcpdump on a node interface or inside a pod's network namespace,\n"
            "bounded by DurationSeconds and MaxPackets, and upload the pcap and a text summary with\n"
            "curl to two presigned S3 URLs. The filter is passed to tcpdump as arguments, never\n"
            "through a shell. tcpdump must already be installed: nothing is installed.\n"
        ),
        "parameters": {
            "Interface": _param(
                "Interface to capture on; empty means 'any' on the node, 'eth0' inside a pod.",
                p.INTERFACE,
                default="",
            ),
            "DurationSeconds": _param("Capture duration in seconds (1 to 300).", p.DURATION_SECONDS, default="30"),
            "Filter": _param(
                "BPF filter from a whitelist of tcpdump keywords, numbers, addresses, [offsets], "
                "= != ! and parentheses, tokens separated by spaces; empty captures everything.",
                p.BPF_FILTER,
                default="",
                max_chars=p.FILTER_MAX_CHARS,
            ),
            "PodNamespace": _param("Namespace of the pod to capture in (with PodName).", p.KUBERNETES_NAME, default=""),
            "PodName": _param(
                "Pod whose network namespace to capture in (resolved with crictl); empty for the node.",
                p.KUBERNETES_NAME,
                default="",
            ),
            "MaxPackets": _param("Stop after this many packets (1 to 100000).", p.MAX_PACKETS, default="10000"),
            "UploadUrl": _upload_url("the capture (capture.pcap)"),
            "SummaryUploadUrl": _upload_url("the text summary (summary.txt)"),
            "SseKmsKeyId": _kms_key(),
        },
        "mainSteps": [
            _run_shell_step(
                "CaptureAndUpload",
                _program(["upload.sh", "packet-capture.sh"], "packet-capture.sh"),
                p.PACKET_CAPTURE_TIMEOUT,
            )
        ],
    }


def _script_step(name: str, source: str, payload: dict[str, str], outputs: list[dict[str, str]]) -> dict[str, Any]:
    step: dict[str, Any] = {
        "name": name,
        "action": "aws:executeScript",
        "timeoutSeconds": p.SCRIPT_STEP_TIMEOUT,
        "onFailure": "Abort",
        "inputs": {
            "Runtime": "python3.11",
            "Handler": "handler",
            "InputPayload": payload,
            "Script": (AUTOMATION / source).read_text(),
        },
    }
    if outputs:
        step["outputs"] = outputs
    return step


def collect_document() -> dict[str, Any]:
    prepare = _script_step(
        "PrepareUpload",
        "prepare_upload.py",
        {
            "InstanceId": "{{ InstanceId }}",
            "BundleId": "{{ BundleId }}",
            "Bucket": "{{ Bucket }}",
            "KmsKeyId": "{{ KmsKeyId }}",
            "UploadExpiresSeconds": "{{ UploadExpiresSeconds }}",
        },
        [
            {"Name": "UploadUrl", "Selector": "$.Payload.UploadUrl", "Type": "String"},
            {"Name": "BundleKey", "Selector": "$.Payload.BundleKey", "Type": "String"},
        ],
    )
    check = _script_step(
        "CheckManagedInstance",
        "check_instance.py",
        {"InstanceId": "{{ InstanceId }}"},
        [
            {"Name": "PingStatus", "Selector": "$.Payload.PingStatus", "Type": "String"},
            {"Name": "AgentVersion", "Selector": "$.Payload.AgentVersion", "Type": "String"},
        ],
    )
    run = {
        "name": "RunCollector",
        "action": "aws:runCommand",
        "timeoutSeconds": p.COLLECT_DELIVERY_TIMEOUT + p.RUN_COLLECTOR_TIMEOUT + p.SCHEDULING_SLACK_SECONDS,
        "onFailure": "step:ExplainFailure",
        "isEnd": True,
        "inputs": {
            "DocumentName": RUN_COLLECTOR_PLACEHOLDER,
            "InstanceIds": ["{{ InstanceId }}"],
            "TimeoutSeconds": p.COLLECT_DELIVERY_TIMEOUT,
            "Parameters": {"UploadUrl": "{{ PrepareUpload.UploadUrl }}", "SseKmsKeyId": "{{ KmsKeyId }}"},
        },
    }
    explain = _script_step(
        "ExplainFailure",
        "explain_failure.py",
        {"InstanceId": "{{ InstanceId }}", "ExecutionId": "{{ automation:EXECUTION_ID }}"},
        [],
    )
    explain["isEnd"] = True
    return {
        "schemaVersion": "0.3",
        "description": (
            "Collect an EKS worker node's diagnostic bundle into s3://<Bucket>/uploads/<InstanceId>/<BundleId>.tar.gz.\n"
            "Presigns that one PUT (SSE-KMS) under this Automation's role, checks that the node is an\n"
            "online, SSM-managed Linux instance, runs the collector Command document on it with a\n"
            "timeout, and fails with a clear reason otherwise. The node needs no S3 or KMS permission.\n"
        ),
        "assumeRole": "{{ AutomationAssumeRole }}",
        "parameters": {
            "InstanceId": {
                "type": "String",
                "description": "EC2 instance id of the EKS worker node.",
                "allowedPattern": p.INSTANCE_ID,
            },
            "BundleId": {
                "type": "String",
                "description": "Bundle id issued by the collect tool (b-<yyyymmddHHMMSS>-<8 hex>).",
                "allowedPattern": p.BUNDLE_ID,
            },
            "Bucket": {
                "type": "String",
                "description": "Bundle bucket (in the KMS key's region).",
                "allowedPattern": p.S3_BUCKET,
            },
            "KmsKeyId": {
                "type": "String",
                "description": "ARN of the bucket's KMS key; the upload is signed with SSE-KMS under it.",
                "allowedPattern": p.KMS_KEY_ARN,
            },
            "UploadExpiresSeconds": {
                "type": "String",
                "description": (
                    f"Lifetime of the presigned upload URL in seconds ({p.COLLECT_UPLOAD_EXPIRES_SECONDS} to "
                    f"{p.MAX_UPLOAD_EXPIRES_SECONDS}): at least the latest the node may upload, after "
                    "CheckManagedInstance, the wait for its agent and the collector's execution timeout."
                ),
                "default": str(p.COLLECT_UPLOAD_EXPIRES_SECONDS),
                "allowedPattern": p.UPLOAD_EXPIRES_SECONDS,
            },
            "AutomationAssumeRole": {
                "type": "String",
                "description": "IAM role Automation assumes to run this runbook.",
                "default": "",
                "allowedPattern": p.AUTOMATION_ASSUME_ROLE,
            },
        },
        "mainSteps": [prepare, check, run, explain],
        "outputs": [
            "PrepareUpload.BundleKey",
            "CheckManagedInstance.AgentVersion",
            "RunCollector.CommandId",
            "RunCollector.Output",
        ],
    }


HEADER = "# Generated by ssm/build.py from ssm/scripts/ and ssm/automation/: edit those, then run it.\n"


def render(document: dict[str, Any]) -> str:
    return HEADER + yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=False)


def documents() -> dict[str, str]:
    return {
        "collect.yaml": render(collect_document()),
        "run-collector.yaml": render(run_collector_document()),
        "packet-capture.yaml": render(packet_capture_document()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail when a document is out of date")
    args = parser.parse_args(argv)
    stale = []
    for name, text in documents().items():
        path = DOCUMENTS / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            DOCUMENTS.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)} (run python ssm/build.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
