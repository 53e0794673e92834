"""Structure of the SSM documents, their sync with ssm/build.py, and the scripts they carry."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from eksdiag.capture import parameters as p

REPO = Path(__file__).resolve().parents[2]
SSM = REPO / "ssm"
DOCUMENTS = SSM / "documents"
SCRIPTS = SSM / "scripts"
COMMAND_DOCUMENTS = ("run-collector.yaml", "packet-capture.yaml")
MAX_COMMAND_DOCUMENT_BYTES = 64 * 1024


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load((DOCUMENTS / name).read_text())


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ssm_build", SSM / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_documents_are_in_sync_with_build_py() -> None:
    proc = subprocess.run(
        [sys.executable, str(SSM / "build.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_build_refuses_a_script_that_ssm_would_interpolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = _build_module()
    (tmp_path / "bad.sh").write_text('echo "{{ UploadUrl }}"\n')
    monkeypatch.setattr(build, "SCRIPTS", tmp_path)
    with pytest.raises(ValueError, match="parameter reference"):
        build._program(["bad.sh"], "bad.sh")


@pytest.mark.parametrize("name", COMMAND_DOCUMENTS)
def test_command_document_shape(name: str) -> None:
    document = _load(name)
    assert document["schemaVersion"] == "2.2"
    (step,) = document["mainSteps"]
    assert step["action"] == "aws:runShellScript"
    assert step["precondition"] == {"StringEquals": ["platformType", "Linux"]}
    assert 0 < int(step["inputs"]["timeoutSeconds"]) <= 3600
    assert len((DOCUMENTS / name).read_bytes()) < MAX_COMMAND_DOCUMENT_BYTES


@pytest.mark.parametrize("name", COMMAND_DOCUMENTS)
def test_command_parameters_arrive_only_as_environment_variables(name: str) -> None:
    document = _load(name)
    for parameter, spec in document["parameters"].items():
        assert spec["type"] == "String", parameter
        assert spec["interpolationType"] == "ENV_VAR", parameter
        assert spec["allowedPattern"].startswith("^") and spec["allowedPattern"].endswith("$"), parameter
    (program,) = document["mainSteps"][0]["inputs"]["runCommand"]
    assert "{{" not in program and "}}" not in program, "no parameter text is substituted into shell source"
    assert "eval" not in re.findall(r"\b\w+\b", program)
    assert "sh -c" not in program and "bash -c" not in program


@pytest.mark.parametrize(
    ("name", "scripts"),
    [
        ("run-collector.yaml", ["upload.sh", "collect-node-diagnostics.sh", "run-collector.sh"]),
        ("packet-capture.yaml", ["upload.sh", "packet-capture.sh"]),
    ],
)
def test_command_document_embeds_the_scripts_verbatim(name: str, scripts: list[str]) -> None:
    (program,) = _load(name)["mainSteps"][0]["inputs"]["runCommand"]
    for script in scripts:
        text = (SCRIPTS / script).read_text().rstrip("\n")
        block = f"<<'EKSDIAG_END_OF_FILE'\n{text}\nEKSDIAG_END_OF_FILE\n"
        assert block in program, script


def test_packet_capture_parameters_match_the_contract() -> None:
    parameters = _load("packet-capture.yaml")["parameters"]
    assert list(parameters) == [
        "Interface",
        "DurationSeconds",
        "Filter",
        "PodNamespace",
        "PodName",
        "MaxPackets",
        "UploadUrl",
        "SummaryUploadUrl",
        "SseKmsKeyId",
    ]
    assert parameters["Filter"]["allowedPattern"] == p.BPF_FILTER
    assert parameters["Filter"]["maxChars"] == p.FILTER_MAX_CHARS
    assert parameters["DurationSeconds"]["allowedPattern"] == p.DURATION_SECONDS
    for url in ("UploadUrl", "SummaryUploadUrl"):
        assert parameters[url]["allowedPattern"] == p.S3_PRESIGNED_PUT_URL
        assert "default" not in parameters[url]


def test_run_collector_parameters_match_the_contract() -> None:
    parameters = _load("run-collector.yaml")["parameters"]
    assert list(parameters) == ["UploadUrl", "SseKmsKeyId"]
    assert "default" not in parameters["UploadUrl"]


def test_collect_automation_shape() -> None:
    document = _load("collect.yaml")
    assert document["schemaVersion"] == "0.3"
    assert document["assumeRole"] == "{{ AutomationAssumeRole }}"
    parameters = document["parameters"]
    # What the collect tool passes (eksdiag.tools.nodelog._automation.collect_parameters): no URL,
    # because StartAutomationExecution caps parameter values at 512 characters.
    assert list(parameters) == [
        "InstanceId",
        "BundleId",
        "Bucket",
        "KmsKeyId",
        "UploadExpiresSeconds",
        "AutomationAssumeRole",
    ]
    assert parameters["InstanceId"]["allowedPattern"] == p.INSTANCE_ID
    assert parameters["BundleId"]["allowedPattern"] == p.BUNDLE_ID
    assert parameters["KmsKeyId"]["allowedPattern"] == p.KMS_KEY_ARN
    steps = {step["name"]: step for step in document["mainSteps"]}
    assert list(steps) == ["PrepareUpload", "CheckManagedInstance", "RunCollector", "ExplainFailure"]
    run = steps["RunCollector"]
    assert run["action"] == "aws:runCommand"
    assert run["inputs"]["InstanceIds"] == ["{{ InstanceId }}"]
    assert run["inputs"]["DocumentName"] == "@RUN_COLLECTOR_DOCUMENT_NAME@"
    assert run["inputs"]["Parameters"] == {
        "UploadUrl": "{{ PrepareUpload.UploadUrl }}",
        "SseKmsKeyId": "{{ KmsKeyId }}",
    }
    assert run["timeoutSeconds"] > int(_load("run-collector.yaml")["mainSteps"][0]["inputs"]["timeoutSeconds"])
    assert run["onFailure"] == "step:ExplainFailure" and run["isEnd"] is True
    assert steps["ExplainFailure"]["isEnd"] is True
    for name in ("PrepareUpload", "CheckManagedInstance"):
        assert steps[name]["onFailure"] == "Abort"
        assert steps[name]["inputs"]["Runtime"].startswith("python3.")
    assert "RunCollector.Output" in document["outputs"]
    assert not any("UploadUrl" in output for output in document["outputs"]), "the URL is a bearer token"


def test_collector_document_placeholder_appears_once_for_terraform_to_replace() -> None:
    build = _build_module()
    text = (DOCUMENTS / "collect.yaml").read_text()
    assert build.RUN_COLLECTOR_PLACEHOLDER == "@RUN_COLLECTOR_DOCUMENT_NAME@"  # modules/collection/main.tf
    assert text.count(build.RUN_COLLECTOR_PLACEHOLDER) == 1


@pytest.mark.parametrize("source", ["prepare_upload.py", "check_instance.py", "explain_failure.py"])
def test_automation_scripts_are_embedded_verbatim(source: str) -> None:
    scripts = [
        step["inputs"]["Script"] for step in _load("collect.yaml")["mainSteps"] if step["action"] == "aws:executeScript"
    ]
    assert (SSM / "automation" / source).read_text() in scripts
    assert all("{{" not in script for script in scripts)


# --------------------------------------------------------------------------- shell scripts

SHELL_SCRIPTS = sorted(path.name for path in SCRIPTS.glob("*.sh"))


@pytest.mark.parametrize("script", SHELL_SCRIPTS)
def test_script_is_shellcheck_clean_posix_sh(script: str) -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck not installed (apt-get install shellcheck)")
    proc = subprocess.run(
        ["shellcheck", "--shell=sh", "--external-sources", "--severity=style", script],
        cwd=SCRIPTS,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("name", COMMAND_DOCUMENTS)
@pytest.mark.parametrize("shell", ["dash", "bash", "sh"])
def test_document_program_parses_in_every_shell(name: str, shell: str, tmp_path: Path) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} not installed")
    (program,) = _load(name)["mainSteps"][0]["inputs"]["runCommand"]
    path = tmp_path / "_script.sh"
    path.write_text(program)
    proc = subprocess.run([shell, "-n", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_document_program_fails_clearly_on_an_agent_without_env_var_interpolation(tmp_path: Path) -> None:
    (program,) = _load("packet-capture.yaml")["mainSteps"][0]["inputs"]["runCommand"]
    path = tmp_path / "_script.sh"
    path.write_text(program)
    proc = subprocess.run(["sh", str(path)], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "SSM Agent 3.3.2746.0 or later is required" in proc.stderr


@pytest.mark.parametrize("script", SHELL_SCRIPTS)
def test_scripts_never_evaluate_parameter_text(script: str) -> None:
    words = re.findall(r"\b\w+\b", (SCRIPTS / script).read_text())
    assert "eval" not in words
    text = (SCRIPTS / script).read_text()
    assert "sh -c" not in text and "bash -c" not in text
