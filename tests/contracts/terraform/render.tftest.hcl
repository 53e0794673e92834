# The module rendered offline for the contract suite (tests/contracts): each run applies the root
# module against the mock provider, and tests/contracts/conftest.py reads the resulting state
# (`terraform test -json -verbose`). What AWS would receive (Cloud Control desired_state, IAM
# statements, names) is then checked against AWS's own specifications in Python.
#
# Runs: the default inputs; edge inputs at the limits AWS accepts (the module's validations must
# accept them too); bring-your-own key and issuer. Keep the runs few: each one is an apply.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  lambda_package = { filename = "tests/terraform/fixtures/package-standin.txt" }
}

# Cloud Control identifies a policy engine by its ARN (the shared mock gives every Cloud Control
# resource the gateway's id), and policies by their id.
override_resource {
  target          = module.gateway.aws_cloudcontrolapi_resource.policy_engine
  override_during = plan
  values = {
    id         = "arn:aws:bedrock-agentcore:us-east-1:111122223333:policy-engine/eksdiag-a1b2c3d4e5"
    schema     = "{}"
    properties = "{\"PolicyEngineId\":\"eksdiag-a1b2c3d4e5\"}"
  }
}

run "defaults" {
  command = apply
}

run "edges" {
  command = apply

  variables {
    # 24 characters: the longest name the module accepts.
    name                    = "eksdiag-edge-0123456789a"
    gateway_name            = "Gw-0123456789-0123456789-0123456789-0123456789ab"
    gateway_instructions    = join("", [for i in range(128) : "Diagnose nodes. "]) # 2048 characters
    gateway_semantic_search = true
    gateway_exception_level = "DEBUG"
    gateway_allowed_scopes  = ["eksdiag-edge.example/read", "eksdiag-edge.example/collect"]
    gateway_target_names = {
      nodelog  = "nodelog-012345678901234567890123456789012345678"
      findings = "findings-012345678901234567890123456789012"
      capture  = "capture-01234567890123456789012345678901234567"
      runbooks = "runbooks-0123456789012345678901234567890123456789012"
    }
    oauth_resource_server_identifier = "eksdiag-edge.example"
    cognito_domain_prefix            = "eksdiag-edge-0123456789-0123456789-0123456789-0123456789-012345"
    bucket_name                      = "eksdiag-edge-01234567890123456789012345678901234567890123456789"
    allowed_regions                  = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1"]
    eks_node_tag_keys = [
      "eks:cluster-name",
      "kubernetes.io/cluster/prod-01234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234",
      "karpenter.sh/nodepool",
    ]
    kms_administrator_arns = [
      "arn:aws:iam::111122223333:role/platform-admin",
      "arn:aws:iam::111122223333:role/path/to/break-glass",
      # The mock caller (assumed-role/platform-deployer): KMS refuses a key policy that locks out its creator.
      "arn:aws:iam::111122223333:role/platform-deployer",
    ]
    lambda_tracing_mode = "Active"
    log_level           = "DEBUG"
    tags = merge(
      { for i in range(40) : format("team:tag-%02d", i) => format("value %02d", i) },
      {
        "team:k-0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890" = join("", [for i in range(256) : "v"])
        "cost center"                                                                                                                      = "plat/eks @ops+diag=1"
      },
    )
  }
}

run "existing_key_and_issuer" {
  command = apply

  variables {
    create_kms_key         = false
    kms_key_arn            = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    create_cognito         = false
    jwt_discovery_url      = "https://login.example.com/realms/platform/.well-known/openid-configuration"
    jwt_allowed_client_ids = ["eksdiag-agent", "0oa1b2c3d4e5f6g7h8i9"]
    oauth_token_endpoint   = "https://login.example.com/realms/platform/protocol/openid-connect/token"
  }
}
