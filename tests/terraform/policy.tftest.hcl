# Per-tool authorization at the gateway: the AgentCore Policy engine, its Cedar policies rendered
# from the scope table, the gateway's PolicyEngineConfiguration, the role's evaluation permissions
# and the toggle. tests/authz evaluates the same rendered policies with a Cedar engine.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  name               = "eksdiag"
  supported_versions = ["2025-06-18"]
  discovery_url      = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123/.well-known/openid-configuration"
  allowed_client_ids = ["4example0client0id0abcdefg"]
  schema_dir         = "handlers/eksdiag/schemas/gateway"
  targets = {
    nodelog  = { name = "nodelog", description = "Collection tools", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-nodelog" }
    findings = { name = "findings", description = "Analysis tools", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-findings" }
    capture  = { name = "capture", description = "Capture tools", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-capture" }
    runbooks = { name = "runbooks", description = "Runbooks", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-runbooks" }
  }
}

run "policy_engine_enforces_the_scope_table_by_default" {
  module {
    source = "./modules/gateway"
  }

  # Cloud Control identifies a policy engine by its ARN.
  override_resource {
    target          = aws_cloudcontrolapi_resource.policy_engine
    override_during = plan
    values = {
      id         = "arn:aws:bedrock-agentcore:us-east-1:111122223333:policy-engine/eksdiag-a1b2c3d4e5"
      schema     = "{}"
      properties = "{\"PolicyEngineId\":\"eksdiag-a1b2c3d4e5\"}"
    }
  }

  assert {
    condition     = jsondecode(aws_cloudcontrolapi_resource.policy_engine[0].desired_state).Name == "eksdiag"
    error_message = "One policy engine named after the gateway."
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudcontrolapi_resource.gateway[0].desired_state).PolicyEngineConfiguration) == jsonencode({
      Arn  = "arn:aws:bedrock-agentcore:us-east-1:111122223333:policy-engine/eksdiag-a1b2c3d4e5"
      Mode = "ENFORCE"
    })
    error_message = "The gateway must be attached to the policy engine in ENFORCE mode."
  }

  assert {
    condition     = toset(keys(aws_cloudcontrolapi_resource.policy)) == toset(["read", "collect"])
    error_message = "One policy per scope a tool may need."
  }

  # Property names and patterns of AWS::BedrockAgentCore::Policy and ::PolicyEngine (cfn-lint's
  # CloudFormation schemas): Name ^[A-Za-z][A-Za-z0-9_]*$ (at most 48), PolicyEngineId
  # ^[A-Za-z][A-Za-z0-9_]*-[a-z0-9_]{10}$, ValidationMode FAIL_ON_ANY_FINDINGS or IGNORE_ALL_FINDINGS.
  assert {
    condition = alltrue([
      for p in aws_cloudcontrolapi_resource.policy : (
        toset(keys(jsondecode(p.desired_state))) == toset(["PolicyEngineId", "Name", "Description", "Definition", "ValidationMode"])
        && can(regex("^[A-Za-z][A-Za-z0-9_]{0,47}$", jsondecode(p.desired_state).Name))
        && can(regex("^[A-Za-z][A-Za-z0-9_]*-[a-z0-9_]{10}$", jsondecode(p.desired_state).PolicyEngineId))
        && keys(jsondecode(p.desired_state).Definition) == ["Cedar"]
      )
    ]) && toset(keys(jsondecode(aws_cloudcontrolapi_resource.policy_engine[0].desired_state))) == toset(["Name", "Description"])
    error_message = "Policies and the engine use the CloudFormation property names and patterns."
  }

  assert {
    condition = alltrue([
      for scope, p in aws_cloudcontrolapi_resource.policy : (
        jsondecode(p.desired_state).PolicyEngineId == "eksdiag-a1b2c3d4e5"
        && jsondecode(p.desired_state).Name == "${scope}_tools"
        && jsondecode(p.desired_state).ValidationMode == "FAIL_ON_ANY_FINDINGS"
        && jsondecode(p.desired_state).Definition.Cedar.Statement == output.policy_statements[scope]
      )
    ])
    error_message = "Each policy carries its rendered Cedar statement, in the engine, with strict validation."
  }

  assert {
    condition = alltrue([
      for s in values(output.policy_statements) :
      strcontains(s, "resource == AgentCore::Gateway::\"arn:aws:bedrock-agentcore:us-east-1:111122223333:gateway/eksdiag-abcdefghij\"")
    ])
    error_message = "The policies name the gateway by the ARN Cloud Control reports."
  }

  assert {
    condition = (
      strcontains(output.policy_statements.collect, "AgentCore::Action::\"nodelog___collect\"")
      && strcontains(output.policy_statements.collect, "AgentCore::Action::\"nodelog___batch_collect\"")
      && strcontains(output.policy_statements.collect, "AgentCore::Action::\"capture___tcpdump_capture\"")
      && strcontains(output.policy_statements.read, "nodelog___collect\"") == false
      && strcontains(output.policy_statements.read, "tcpdump_capture") == false
      && strcontains(output.policy_statements.read, "AgentCore::Action::\"findings___errors\"")
    )
    error_message = "Collection and capture tools are permitted by the collect policy only."
  }

  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.policy_engine[0].statement : tolist(s.actions)])) == toset(["bedrock-agentcore:GetPolicyEngine", "bedrock-agentcore:AuthorizeAction", "bedrock-agentcore:PartiallyAuthorizeActions"])
    error_message = "The gateway role may read the engine and evaluate calls and listings, nothing else."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.policy_engine[0].statement : alltrue([
        for r in s.resources : contains([
          "arn:aws:bedrock-agentcore:us-east-1:111122223333:policy-engine/eksdiag-a1b2c3d4e5",
          "arn:aws:bedrock-agentcore:us-east-1:111122223333:gateway/eksdiag-??????????",
        ], r)
      ])
    ])
    error_message = "Policy evaluation is allowed on this engine and this gateway only."
  }

  assert {
    condition     = aws_iam_role_policy.policy_engine[0].role == aws_iam_role.this[0].id
    error_message = "The evaluation permissions belong to the gateway's execution role."
  }
}

run "log_only_mode_records_without_refusing" {
  command = plan

  module {
    source = "./modules/gateway"
  }

  variables {
    policy_engine_mode = "LOG_ONLY"
  }

  assert {
    condition     = jsondecode(aws_cloudcontrolapi_resource.gateway[0].desired_state).PolicyEngineConfiguration.Mode == "LOG_ONLY"
    error_message = "policy_engine_mode must reach the gateway."
  }
}

run "identifier_and_target_names_shape_the_policies" {
  module {
    source = "./modules/gateway"
  }

  variables {
    name                       = "Diag-Prod"
    tags                       = { Owner = "platform" }
    resource_server_identifier = "https://api.example.com/diag"
    targets = {
      nodelog  = { name = "node-logs", description = "Collection tools", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-nodelog" }
      findings = { name = "findings", description = "Analysis tools", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-findings" }
    }
  }

  assert {
    condition = (
      strcontains(output.policy_statements.collect, "AgentCore::Action::\"node-logs___collect\"")
      && strcontains(output.policy_statements.collect, "== \"https://api.example.com/diag/collect\"")
      && strcontains(output.policy_statements.collect, "capture___") == false
    )
    error_message = "Actions use the target names and only the targets deployed; scopes use the identifier."
  }

  assert {
    condition     = jsondecode(aws_cloudcontrolapi_resource.policy_engine[0].desired_state).Name == "Diag_Prod"
    error_message = "Policy engine names allow no hyphen."
  }

  assert {
    condition     = jsondecode(aws_cloudcontrolapi_resource.policy_engine[0].desired_state).Tags == [{ Key = "Owner", Value = "platform" }]
    error_message = "Policy engine tags are a list of Key/Value pairs."
  }

  assert {
    condition     = contains(data.aws_iam_policy_document.policy_engine[0].statement[1].resources, "arn:aws:bedrock-agentcore:us-east-1:111122223333:gateway/diag-prod-??????????")
    error_message = "Gateway ids are the lowercased name and a 10-character suffix."
  }
}

run "turned_off_leaves_the_gateway_unattached" {
  command = plan

  module {
    source = "./modules/gateway"
  }

  variables {
    create_policy_engine = false
  }

  assert {
    condition = (
      length(aws_cloudcontrolapi_resource.policy_engine) == 0
      && length(aws_cloudcontrolapi_resource.policy) == 0
      && length(aws_iam_role_policy.policy_engine) == 0
      && can(jsondecode(aws_cloudcontrolapi_resource.gateway[0].desired_state).PolicyEngineConfiguration) == false
      && output.policy_engine_arn == null
    )
    error_message = "create_policy_engine = false creates no engine, no policy, no permission, and attaches nothing."
  }
}

run "rejects_an_unknown_mode" {
  command = plan

  module {
    source = "./modules/gateway"
  }

  variables {
    policy_engine_mode = "AUDIT"
  }

  expect_failures = [var.policy_engine_mode]
}

run "rejects_an_identifier_cedar_cannot_quote" {
  command = plan

  module {
    source = "./modules/gateway"
  }

  variables {
    resource_server_identifier = "eks\"diag"
  }

  expect_failures = [var.resource_server_identifier]
}

run "root_module_enforces_by_default" {
  command = plan

  variables {
    lambda_package    = { filename = "tests/terraform/fixtures/package-standin.txt" }
    tool_schema_dir   = "tests/terraform/fixtures/schemas/gateway"
    ssm_documents_dir = "tests/terraform/fixtures/ssm/documents"
  }

  assert {
    condition     = length(module.gateway.policy_statements) == 2 && output.gateway_policy_engine_arn != null
    error_message = "The root module creates the policy engine and both policies by default."
  }
}

run "root_module_toggle" {
  command = plan

  variables {
    lambda_package               = { filename = "tests/terraform/fixtures/package-standin.txt" }
    tool_schema_dir              = "tests/terraform/fixtures/schemas/gateway"
    ssm_documents_dir            = "tests/terraform/fixtures/ssm/documents"
    create_gateway_policy_engine = false
  }

  assert {
    condition     = output.gateway_policy_engine_arn == null && length(module.gateway.policy_statements) == 0
    error_message = "create_gateway_policy_engine = false turns per-tool authorization off."
  }
}

run "root_module_rejects_an_unknown_mode" {
  command = plan

  variables {
    lambda_package             = { filename = "tests/terraform/fixtures/package-standin.txt" }
    tool_schema_dir            = "tests/terraform/fixtures/schemas/gateway"
    ssm_documents_dir          = "tests/terraform/fixtures/ssm/documents"
    gateway_policy_engine_mode = "OFF"
  }

  expect_failures = [var.gateway_policy_engine_mode]
}
