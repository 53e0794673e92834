"""Fixtures of the authorization tests: the gateway's Cedar policies rendered by the Terraform module."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POLICY_MODULE = ROOT / "modules" / "gateway" / "policy"

Render = Callable[[str, Mapping[str, str], str], dict[str, str]]


@pytest.fixture(scope="session")
def render_policies(tmp_path_factory: pytest.TempPathFactory) -> Render:
    """Render the gateway's policies exactly as the gateway module does: by applying its policy
    submodule (no provider, no resource) and reading the statements from `terraform output`."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    cache: dict[str, dict[str, str]] = {}
    env = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1", "PATH": "/usr/local/bin:/usr/bin:/bin"}

    def render(identifier: str, target_names: Mapping[str, str], gateway_arn: str) -> dict[str, str]:
        key = json.dumps([identifier, dict(target_names), gateway_arn], sort_keys=True)
        if key in cache:
            return cache[key]
        work = tmp_path_factory.mktemp("render")
        config = {
            "module": {
                "policy": {
                    "source": str(POLICY_MODULE),
                    "gateway_arn": gateway_arn,
                    "resource_server_identifier": identifier,
                    "target_names": dict(target_names),
                }
            },
            "output": {"statements": {"value": "${module.policy.statements}"}},
        }
        (work / "main.tf.json").write_text(json.dumps(config))
        for command in (["init", "-backend=false"], ["apply", "-auto-approve"]):
            subprocess.run(
                ["terraform", f"-chdir={work}", *command, "-no-color"], env=env, check=True, capture_output=True
            )
        out = subprocess.run(
            ["terraform", f"-chdir={work}", "output", "-json", "statements"], env=env, check=True, capture_output=True
        )
        cache[key] = json.loads(out.stdout)
        return cache[key]

    return render
