"""Paths and helpers shared by the Terraform tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
MIRROR = Path(os.environ.get("TF_PROVIDER_MIRROR", "/opt/tf-plugins"))
REGION = "us-east-1"
GATEWAY_GROUPS = ("nodelog", "findings", "capture", "runbooks")
SSM_DOCUMENTS = ("collect.yaml", "run-collector.yaml", "packet-capture.yaml")


def tool_schema_dir() -> Path:
    """The project's generated gateway schemas, or the test fixtures while they do not exist yet."""
    real = ROOT / "handlers" / "eksdiag" / "schemas" / "gateway"
    if all((real / f"{g}.json").is_file() for g in GATEWAY_GROUPS):
        return real
    return FIXTURES / "schemas" / "gateway"


def ssm_documents_dir() -> Path:
    """The project's SSM documents, or the test fixtures while they do not exist yet."""
    real = ROOT / "ssm" / "documents"
    if all((real / name).is_file() for name in SSM_DOCUMENTS):
        return real
    return FIXTURES / "ssm" / "documents"


def copy_root_module(source: Path, destination: Path) -> Path:
    """Copy a root configuration (an example) to destination with its relative module sources made
    absolute, so that terraform state and .terraform stay out of the work tree."""
    destination.mkdir(parents=True, exist_ok=True)
    for tf in source.glob("*.tf"):
        text = re.sub(
            r'source(\s*)= "(\.\.?/[^"]*)"',
            lambda m: f'source{m.group(1)}= "{(source / m.group(2)).resolve()}"',
            tf.read_text(),
        )
        (destination / tf.name).write_text(text)
    return destination
