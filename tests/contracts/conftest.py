"""Fixtures of the contract suite: the module as Terraform renders it, offline.

``rendered`` runs ``tests/contracts/terraform/render.tftest.hcl`` once per session with
``terraform test -json -verbose`` (mock provider, ``command = apply``, so every value is known) and
returns each run's resources as the state holds them. The provider mirror and its CLI configuration
are the Terraform tests' (``terraform_env``); the working directory lives in pytest's cache so that
``terraform init`` links the provider once, not on every session.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.terraform.conftest import terraform_env  # noqa: F401 - the fixture, shared
from tests.terraform.tf_support import ROOT
from tests.tools.conftest import aws_env, clock, ec2, fake  # noqa: F401 - moto and the SSM fake, shared

from .support import Rendered, cache_dir

TEST_DIRECTORY = "tests/contracts/terraform"


def _terraform(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["terraform", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def _walk(module: dict[str, Any]) -> list[dict[str, Any]]:
    resources = list(module.get("resources", []))
    for child in module.get("child_modules", []):
        resources.extend(_walk(child))
    return resources


@pytest.fixture(scope="session")
def rendered(request: pytest.FixtureRequest, terraform_env: dict[str, str]) -> dict[str, Rendered]:  # noqa: F811
    """Run name -> the module's resources after ``apply`` on the mock provider."""
    import os

    data_dir = cache_dir(request, "terraform-contracts")
    env = {**os.environ, **terraform_env, "TF_DATA_DIR": str(data_dir)}
    init = _terraform(["init", "-backend=false", "-input=false", "-no-color", f"-test-directory={TEST_DIRECTORY}"], env)
    assert init.returncode == 0, init.stderr or init.stdout
    test = _terraform(["test", "-no-color", "-json", "-verbose", f"-test-directory={TEST_DIRECTORY}"], env)
    runs: dict[str, Rendered] = {}
    problems: list[str] = []
    for line in test.stdout.splitlines():
        message = json.loads(line)
        kind = message.get("type")
        if kind == "test_state":
            state = message["test_state"]
            runs[message["@testrun"]] = Rendered(message["@testrun"], _walk(state.get("root_module", {})))
        elif kind == "diagnostic" and message.get("@level") == "error":
            diagnostic = message.get("diagnostic", {})
            problems.append(f"{message.get('@testrun', '')}: {diagnostic.get('summary')}: {diagnostic.get('detail')}")
        elif kind == "test_run" and message["test_run"].get("status") in ("fail", "error"):
            problems.append(f"run {message['test_run']['run']} {message['test_run']['status']}")
    assert test.returncode == 0 and not problems, "\n".join(problems) or test.stderr
    return runs
