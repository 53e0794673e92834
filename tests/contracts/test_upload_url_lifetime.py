"""Upload URLs outlive the worst case their documents allow.

Rule: S3 refuses a presigned request made after ``X-Amz-Date`` + ``X-Amz-Expires`` (SigV4 query
authentication; the AWS CLI and SDK presign documentation), and a URL signed with temporary
credentials dies with them sooner. The node may start its last upload as late as:

- collect: the Automation steps between signing (PrepareUpload) and the command (their
  ``timeoutSeconds``), then the command's delivery timeout (``TimeoutSeconds``: how long SSM waits for
  the agent to take it), then the run-collector document's execution timeout;
- capture: SendCommand's ``TimeoutSeconds``, then the packet-capture document's execution timeout.

The worst case is read from the documents and from the requests the tools actually make, and the
lifetime from the URLs actually signed, so shortening an expiry or lengthening a timeout fails here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tests.tools.ssm_fake import Clock, SsmFake, call, launch_ssm_node, managed_tags

from .support import tool_context

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ROOT / "ssm" / "documents"
RULE = "a SigV4 presigned URL is refused after X-Amz-Date + X-Amz-Expires"


def _document(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DOCUMENTS / name).read_text())
    return document


def _execution_timeout(command_document: dict[str, Any]) -> int:
    """The longest a Command document runs: its steps' timeoutSeconds (each must state one)."""
    total = 0
    for step in command_document["mainSteps"]:
        assert "timeoutSeconds" in step["inputs"], f"step {step['name']} has no timeoutSeconds: unbounded"
        total += int(step["inputs"]["timeoutSeconds"])
    return total


def collect_worst_case() -> tuple[int, str]:
    """Seconds from PrepareUpload's signature to the latest start of the node's upload, and why."""
    steps = _document("collect.yaml")["mainSteps"]
    names = [s["name"] for s in steps]
    sign = names.index("PrepareUpload")
    run = next(i for i, s in enumerate(steps) if "{{ PrepareUpload.UploadUrl }}" in str(s.get("inputs")))
    parts = []
    for step in steps[sign + 1 : run]:
        assert "timeoutSeconds" in step, f"collect.yaml step {step['name']} has no timeoutSeconds: unbounded"
        parts.append((f"{step['name']} timeoutSeconds", int(step["timeoutSeconds"])))
    command = steps[run]
    assert command["action"] == "aws:runCommand" and "TimeoutSeconds" in command["inputs"]
    parts.append((f"{command['name']} TimeoutSeconds (delivery)", int(command["inputs"]["TimeoutSeconds"])))
    parts.append(("run-collector.yaml execution timeout", _execution_timeout(_document("run-collector.yaml"))))
    return sum(v for _n, v in parts), " + ".join(f"{n} {v}" for n, v in parts)


def _expires(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0])


def _prepare_upload() -> Any:
    steps = _document("collect.yaml")["mainSteps"]
    script = next(s for s in steps if s["name"] == "PrepareUpload")["inputs"]["Script"]
    spec = importlib.util.spec_from_loader("collect_prepare_upload", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    exec(compile(script, "collect.yaml:PrepareUpload", "exec"), module.__dict__)
    return module


CONFIGURED = ["60", "900"]  # the module's shortest presign_put_seconds and its default


@pytest.mark.parametrize("configured", CONFIGURED)
def test_the_collect_upload_url_outlives_the_worst_case(
    aws_env: dict[str, Any], fake: SsmFake, clock: Clock, ec2: Any, configured: str
) -> None:
    ctx = tool_context(aws_env, fake=fake, clock=clock, env={"PRESIGN_PUT_SECONDS": configured})
    node = launch_ssm_node(ec2, fake, managed_tags("prod"))
    call(ctx, "nodelog", "collect", {"instanceId": node})
    parameters = {k: v[0] for k, v in fake.start_requests[-1]["Parameters"].items()}
    url = _prepare_upload().handler(parameters, None)["UploadUrl"]  # as the Automation signs it
    worst, why = collect_worst_case()
    assert _expires(url) >= worst, (
        f"collect URL lives {_expires(url)} s; the node may upload {worst} s later ({why}) [rule: {RULE}]"
    )


def test_the_collect_document_default_outlives_the_worst_case() -> None:
    worst, why = collect_worst_case()
    default = int(_document("collect.yaml")["parameters"]["UploadExpiresSeconds"]["default"])
    assert default >= worst, (
        f"UploadExpiresSeconds defaults to {default} s; worst case {worst} s ({why}) [rule: {RULE}]"
    )


@pytest.mark.parametrize("configured", CONFIGURED)
def test_capture_upload_urls_outlive_the_worst_case(
    aws_env: dict[str, Any], fake: SsmFake, clock: Clock, ec2: Any, configured: str
) -> None:
    ctx = tool_context(aws_env, fake=fake, clock=clock, env={"PRESIGN_PUT_SECONDS": configured})
    node = launch_ssm_node(ec2, fake, managed_tags("prod"))
    call(ctx, "capture", "tcpdump_capture", {"instanceId": node, "durationSeconds": 300})
    request = fake.send_requests[-1]
    delivery = int(request["TimeoutSeconds"])
    execution = _execution_timeout(_document("packet-capture.yaml"))
    for name in ("UploadUrl", "SummaryUploadUrl"):
        lifetime = _expires(request["Parameters"][name][0])
        assert lifetime >= delivery + execution, (
            f"capture {name} lives {lifetime} s; the node may upload {delivery + execution} s later "
            f"(SendCommand TimeoutSeconds {delivery} + packet-capture.yaml execution timeout {execution}) "
            f"[rule: {RULE}]"
        )


def test_no_lifetime_exceeds_what_sigv4_and_the_documents_allow() -> None:
    """The collect document refuses lifetimes above an hour (the Automation role's session)."""
    from eksdiag.capture import parameters as p

    assert p.matches(p.UPLOAD_EXPIRES_SECONDS, "3600") and not p.matches(p.UPLOAD_EXPIRES_SECONDS, "3601")


def test_the_ssm_readme_states_the_lifetimes_the_code_signs_with() -> None:
    from eksdiag.capture import parameters as p

    readme = (ROOT / "ssm" / "README.md").read_text()
    for figure in (
        f"`CheckManagedInstance` {p.SCRIPT_STEP_TIMEOUT} s",
        f"delivery wait {p.COLLECT_DELIVERY_TIMEOUT} s",
        f"execution timeout {p.RUN_COLLECTOR_TIMEOUT} s",
        f"{p.COLLECT_UPLOAD_EXPIRES_SECONDS} s (`UploadExpiresSeconds`",
        f"delivery wait {p.CAPTURE_DELIVERY_TIMEOUT} s",
        f"execution timeout {p.PACKET_CAPTURE_TIMEOUT} s",
        f"| {p.CAPTURE_UPLOAD_EXPIRES_SECONDS} s |",
        f"adds {p.SCHEDULING_SLACK_SECONDS} s",
        f"up to {p.MAX_UPLOAD_EXPIRES_SECONDS} s",
        f"maxChars` (the upload URLs: {p.UPLOAD_URL_MAX_CHARS}",
    ):
        assert figure in readme, figure
