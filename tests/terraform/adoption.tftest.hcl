# What organisations adopting the module require of it, checked in each submodule: IAM role names
# that carry the region (two regions, one name), role path and permissions boundary, reserved
# concurrency, the user pool's deletion protection, the gateway encrypted with the module key, and a
# key policy that cannot lock its deployer out. test_tftest_plan.py checks the root wires them.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  name                  = "eksdiag"
  iam_role              = { name_prefix = "eksdiag-us-east-1", path = "/platform/eksdiag/", permissions_boundary = "arn:aws:iam::111122223333:policy/platform-boundary" }
  package               = { filename = "tests/terraform/fixtures/package-standin.txt" }
  runtime               = "python3.12"
  architecture          = "arm64"
  memory_size           = 1024
  timeout               = 60
  log_retention_in_days = 30
  log_level             = "INFO"
  kms_key_arn           = "arn:aws:kms:us-east-1:111122223333:key/0b9b9cde-1111-2222-3333-444455556666"
  bucket_name           = "eksdiag-111122223333-us-east-1"
  bucket_arn            = "arn:aws:s3:::eksdiag-111122223333-us-east-1"
  table_name            = "eksdiag-jobs"
  table_arn             = "arn:aws:dynamodb:us-east-1:111122223333:table/eksdiag-jobs"
  collect_document      = { name = "eksdiag-collect", arn = "arn:aws:ssm:us-east-1:111122223333:document/eksdiag-collect" }
  capture_document      = { name = "eksdiag-packet-capture", arn = "arn:aws:ssm:us-east-1:111122223333:document/eksdiag-packet-capture" }
  automation_role_arn   = "arn:aws:iam::111122223333:role/eksdiag-automation"
  allowed_regions       = ["us-east-1"]
  eks_node_tag_keys     = ["eks:cluster-name"]
  presign_put_seconds   = 900
  presign_get_seconds   = 900
  metrics_namespace     = "EksDiag"
  documents_dir         = "tests/terraform/fixtures/ssm/documents"

  # gateway
  supported_versions = ["2025-06-18"]
  discovery_url      = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123/.well-known/openid-configuration"
  allowed_client_ids = ["client"]
  schema_dir         = "tests/terraform/fixtures/schemas/gateway"
  targets = {
    nodelog = { name = "nodelog", description = "n", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-nodelog" }
  }

  # indexer
  ephemeral_storage_size = 1024

  # auth
  domain_prefix              = "eksdiag-111122223333"
  resource_server_identifier = "eksdiag"
  scopes                     = { read = "Read", collect = "Collect" }
  client_scopes              = ["read"]
}

run "tool_roles_carry_the_prefix_path_and_boundary" {
  command = plan

  module {
    source = "./modules/tools"
  }

  variables {
    reserved_concurrent_executions = 10
  }

  assert {
    condition     = toset([for r in aws_iam_role.this : r.name]) == toset(["eksdiag-us-east-1-nodelog", "eksdiag-us-east-1-findings", "eksdiag-us-east-1-capture", "eksdiag-us-east-1-runbooks"])
    error_message = "Tool roles are <name_prefix>-<group>."
  }

  assert {
    condition     = alltrue([for r in aws_iam_role.this : r.path == "/platform/eksdiag/" && r.permissions_boundary == "arn:aws:iam::111122223333:policy/platform-boundary"])
    error_message = "Every tool role gets the path and the permissions boundary."
  }

  assert {
    condition     = alltrue([for f in aws_lambda_function.this : f.reserved_concurrent_executions == 10 && startswith(f.function_name, "eksdiag-")])
    error_message = "Reserved concurrency reaches every tool function; function names (regional) keep <name>-<group>."
  }
}

run "tool_roles_without_guardrails" {
  command = plan

  module {
    source = "./modules/tools"
  }

  variables {
    iam_role = {}
  }

  assert {
    condition     = alltrue([for g, r in aws_iam_role.this : r.name == "eksdiag-${g}" && r.path == "/" && r.permissions_boundary == null])
    error_message = "Used on its own, the submodule names roles <name>-<group> under / with no boundary."
  }
}

run "indexer_role_and_concurrency" {
  command = plan

  module {
    source = "./modules/indexer"
  }

  variables {
    reserved_concurrent_executions = 4
  }

  assert {
    condition     = aws_iam_role.this.name == "eksdiag-us-east-1-indexer" && aws_iam_role.this.path == "/platform/eksdiag/" && aws_iam_role.this.permissions_boundary == "arn:aws:iam::111122223333:policy/platform-boundary"
    error_message = "The indexer role carries the prefix, path and boundary."
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 4
    error_message = "Reserved concurrency reaches the indexer."
  }
}

run "automation_role" {
  command = plan

  module {
    source = "./modules/collection"
  }

  assert {
    condition     = aws_iam_role.automation.name == "eksdiag-us-east-1-automation" && aws_iam_role.automation.path == "/platform/eksdiag/" && aws_iam_role.automation.permissions_boundary == "arn:aws:iam::111122223333:policy/platform-boundary"
    error_message = "The automation role carries the prefix, path and boundary."
  }
}

run "gateway_role_and_key" {
  module {
    source = "./modules/gateway"
  }

  assert {
    condition     = aws_iam_role.this[0].name == "eksdiag-us-east-1-gateway" && aws_iam_role.this[0].path == "/platform/eksdiag/" && aws_iam_role.this[0].permissions_boundary == "arn:aws:iam::111122223333:policy/platform-boundary"
    error_message = "The gateway role carries the prefix, path and boundary."
  }

  assert {
    condition     = jsondecode(aws_cloudcontrolapi_resource.gateway[0].desired_state).KmsKeyArn == var.kms_key_arn
    error_message = "The gateway is encrypted with the given key (KmsKeyArn)."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.this[0].statement :
      toset(s.actions) == toset(["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"])
      && toset(s.resources) == toset([var.kms_key_arn])
      && anytrue([for c in s.condition : c.variable == "kms:ViaService" && toset(c.values) == toset(["bedrock-agentcore.us-east-1.amazonaws.com"])])
    ])
    error_message = "The gateway role may use the key, through AgentCore only."
  }

  assert {
    condition     = aws_cloudcontrolapi_resource.gateway[0].schema == file("modules/gateway/resource-schemas/gateway.json") && aws_cloudcontrolapi_resource.target["nodelog"].schema == file("modules/gateway/resource-schemas/target.json")
    error_message = "Cloud Control gets the shipped resource schemas, so plan never calls cloudformation:DescribeType."
  }
}

run "gateway_without_a_customer_key" {
  module {
    source = "./modules/gateway"
  }

  variables {
    kms_key_arn      = null
    resource_schemas = null
  }

  assert {
    condition     = !can(jsondecode(aws_cloudcontrolapi_resource.gateway[0].desired_state).KmsKeyArn)
    error_message = "Without a key the gateway keeps AgentCore's own, and the role gets no KMS statement."
  }

  assert {
    condition     = aws_cloudcontrolapi_resource.gateway[0].schema == file("modules/gateway/resource-schemas/gateway.json")
    error_message = "resource_schemas = null means the shipped copies."
  }
}

run "user_pool_protected_from_deletion_by_default" {
  command = plan

  module {
    source = "./modules/auth"
  }

  assert {
    condition     = aws_cognito_user_pool.this[0].deletion_protection == "ACTIVE"
    error_message = "The user pool is protected by default: losing it invalidates every client secret."
  }
}

run "user_pool_deletion_protection_off" {
  command = plan

  module {
    source = "./modules/auth"
  }

  variables {
    deletion_protection = false
  }

  assert {
    condition     = aws_cognito_user_pool.this[0].deletion_protection == "INACTIVE"
    error_message = "deletion_protection = false turns it off."
  }
}

# KMS lockout: the mock caller is arn:aws:sts::111122223333:assumed-role/platform-deployer/terraform.

run "key_refuses_administrators_that_lock_out_the_deployer" {
  command = plan

  module {
    source = "./modules/kms"
  }

  variables {
    administrator_arns = ["arn:aws:iam::111122223333:role/security-admins"]
  }

  expect_failures = [aws_kms_key.this]
}

run "key_accepts_the_deployer_role_under_any_path" {
  command = plan

  module {
    source = "./modules/kms"
  }

  variables {
    administrator_arns = ["arn:aws:iam::111122223333:role/security-admins", "arn:aws:iam::111122223333:role/platform/platform-deployer"]
  }
}

run "key_accepts_the_account_root_as_administrator" {
  command = plan

  module {
    source = "./modules/kms"
  }

  variables {
    administrator_arns = ["arn:aws:iam::111122223333:root"]
  }
}

run "key_refuses_a_role_of_the_same_name_in_another_account" {
  command = plan

  module {
    source = "./modules/kms"
  }

  variables {
    administrator_arns = ["arn:aws:iam::444455556666:role/platform-deployer"]
  }

  expect_failures = [aws_kms_key.this]
}

run "key_accepts_an_iam_user_deployer" {
  command = plan

  module {
    source = "./modules/kms"
  }

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "111122223333", arn = "arn:aws:iam::111122223333:user/ci/terraform" }
  }

  variables {
    administrator_arns = ["arn:aws:iam::111122223333:user/ci/terraform"]
  }
}
