#!/usr/bin/env bash
# Offline Terraform checks of the module: fmt, validate (root and every example), terraform test.
# The AWS provider comes from a local filesystem mirror (TF_PROVIDER_MIRROR, default
# /opt/tf-plugins); nothing is downloaded. Skips with a message when terraform or the mirror is
# missing, unless REQUIRE_TERRAFORM=1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mirror=${TF_PROVIDER_MIRROR:-/opt/tf-plugins}

skip() {
  if [[ ${REQUIRE_TERRAFORM:-0} == 1 ]]; then
    echo "terraform checks: $1" >&2
    exit 1
  fi
  echo "SKIP terraform checks: $1"
  exit 0
}

command -v terraform >/dev/null || skip "terraform is not on PATH"
[[ -d $mirror/registry.terraform.io/hashicorp/aws ]] || skip "no hashicorp/aws provider in the mirror $mirror"

if [[ $mirror == /opt/tf-plugins ]]; then
  TF_CLI_CONFIG_FILE=$root/tests/terraform/terraformrc
else
  TF_CLI_CONFIG_FILE=$(mktemp)
  trap 'rm -f "$TF_CLI_CONFIG_FILE"' EXIT
  sed "s|/opt/tf-plugins|$mirror|" "$root/tests/terraform/terraformrc" >"$TF_CLI_CONFIG_FILE"
fi
export TF_CLI_CONFIG_FILE TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

echo "== terraform fmt -check -recursive"
terraform -chdir="$root" fmt -check -recursive

for dir in . examples/complete examples/existing-resources examples/local; do
  echo "== terraform validate $dir"
  terraform -chdir="$root/$dir" init -backend=false -input=false -no-color >/dev/null
  terraform -chdir="$root/$dir" validate -no-color
done

echo "== terraform test"
terraform -chdir="$root" init -backend=false -input=false -no-color -test-directory=tests/terraform >/dev/null
terraform -chdir="$root" test -no-color -test-directory=tests/terraform
