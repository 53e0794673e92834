"""Copy the CloudFormation resource schemas the gateway module hands to Cloud Control.

`aws_cloudcontrolapi_resource` needs the resource type's schema at plan time to validate
`desired_state` and to know which properties force a replacement. Given none, the AWS provider calls
`cloudformation:DescribeType` during plan, and a failing call is retried by the SDK for minutes per
resource (measured with provider 5.100: 12 retries in 240 s, still retrying). The module therefore
ships the schemas of `AWS::BedrockAgentCore::Gateway`, `::GatewayTarget`, `::PolicyEngine` and
`::Policy` and passes them itself.

The source is the copy of AWS's published resource schemas that cfn-lint carries
(`cfnlint/data/schemas/providers/<region>.json` maps a type to `resources/<hash>.json`), as AWS
publishes it for us-east-1. Run `python scripts/gateway_resource_schemas.py` to refresh
`modules/gateway/resource-schemas/`, `--check` to fail when the shipped copies differ from the
installed cfn-lint's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cfnlint

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "modules" / "gateway" / "resource-schemas"
TYPES = {
    "gateway": "AWS::BedrockAgentCore::Gateway",
    "target": "AWS::BedrockAgentCore::GatewayTarget",
    "policy_engine": "AWS::BedrockAgentCore::PolicyEngine",
    "policy": "AWS::BedrockAgentCore::Policy",
}
REGION = "us-east-1"


def cfnlint_schema(type_name: str, region: str = REGION) -> dict[str, object]:
    """The resource schema of type_name as cfn-lint ships it for region."""
    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    providers = json.loads((schemas / "providers" / f"{region}.json").read_text())
    if type_name not in providers:
        raise LookupError(f"{type_name} is not in cfn-lint's {region} schemas")
    schema: dict[str, object] = json.loads((schemas / "resources" / f"{providers[type_name]}.json").read_text())
    return schema


def render(type_name: str) -> str:
    return json.dumps(cfnlint_schema(type_name), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the shipped schemas differ")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    stale = []
    for label, type_name in TYPES.items():
        path = args.out / f"{label}.json"
        text = render(type_name)
        if path.exists() and path.read_text() == text:
            continue
        if args.check:
            stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print(
            "out of date with cfn-lint's copy (run: python scripts/gateway_resource_schemas.py): " + ", ".join(stale),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
