"""The Cloud Control resource schemas the gateway module ships are AWS's, as cfn-lint carries them."""

from __future__ import annotations

import json
from pathlib import Path

from .tf_support import ROOT, load_script

schemas = load_script("gateway_resource_schemas")


def test_shipped_schemas_are_cfn_lints_copies() -> None:
    assert schemas.main(["--check"]) == 0, "run: python scripts/gateway_resource_schemas.py"


def test_check_fails_when_a_shipped_schema_drifts(tmp_path: Path) -> None:
    assert schemas.main(["--out", str(tmp_path)]) == 0
    drifted = json.loads((tmp_path / "target.json").read_text())
    drifted["createOnlyProperties"] = []
    (tmp_path / "target.json").write_text(json.dumps(drifted))
    assert schemas.main(["--check", "--out", str(tmp_path)]) == 1


def test_shipped_schemas_name_their_types_and_what_forces_replacement() -> None:
    gateway = json.loads((ROOT / "modules/gateway/resource-schemas/gateway.json").read_text())
    target = json.loads((ROOT / "modules/gateway/resource-schemas/target.json").read_text())
    assert gateway["typeName"] == "AWS::BedrockAgentCore::Gateway"
    assert target["typeName"] == "AWS::BedrockAgentCore::GatewayTarget"
    assert target["createOnlyProperties"] == ["/properties/GatewayIdentifier"]
    assert "KmsKeyArn" in gateway["properties"]
