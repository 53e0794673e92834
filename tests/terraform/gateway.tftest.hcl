# The AgentCore gateway and its targets, created through Cloud Control.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  name               = "eksdiag"
  iam_role           = { name_prefix = "eksdiag-us-east-1" }
  kms_key_arn        = "arn:aws:kms:us-east-1:111122223333:key/0b9b9cde-1111-2222-3333-444455556666"
  supported_versions = ["2025-03-26", "2025-06-18"]
  discovery_url      = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123/.well-known/openid-configuration"
  allowed_client_ids = ["4example0client0id0abcdefg"]
  schema_dir         = "tests/terraform/fixtures/schemas/gateway"
  targets = {
    nodelog  = { name = "nodelog", description = "Collection tools", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-nodelog" }
    findings = { name = "findings", description = "Analysis tools", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-findings" }
    capture  = { name = "capture", description = "Capture tools", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-capture" }
    runbooks = { name = "runbooks", description = "Runbooks", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-runbooks" }
  }
}

run "gateway_authorizes_cognito_clients_not_audience" {
  module {
    source = "./modules/gateway"
  }

  assert {
    condition     = jsondecode(aws_cloudcontrolapi_resource.gateway[0].desired_state).AuthorizerType == "CUSTOM_JWT"
    error_message = "The gateway must use the CUSTOM_JWT authorizer."
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudcontrolapi_resource.gateway[0].desired_state).AuthorizerConfiguration) == jsonencode({
      CustomJWTAuthorizer = {
        DiscoveryUrl   = var.discovery_url
        AllowedClients = var.allowed_client_ids
      }
    })
    error_message = "Cognito access tokens carry no aud: the authorizer checks the discovery URL and client ids only."
  }

  assert {
    condition     = jsondecode(aws_cloudcontrolapi_resource.gateway[0].desired_state).ProtocolType == "MCP" && jsondecode(aws_cloudcontrolapi_resource.gateway[0].desired_state).RoleArn == aws_iam_role.this[0].arn
    error_message = "An MCP gateway running with its execution role."
  }

  assert {
    condition     = output.gateway_url == "https://eksdiag-abcdefghij.gateway.bedrock-agentcore.us-east-1.amazonaws.com/mcp" && output.gateway_id == "eksdiag-abcdefghij"
    error_message = "URL and id come from the Cloud Control properties."
  }
}

run "gateway_checks_scopes_when_asked" {
  command = plan

  module {
    source = "./modules/gateway"
  }

  variables {
    allowed_scopes = ["eksdiag/read"]
  }

  assert {
    condition     = jsondecode(aws_cloudcontrolapi_resource.gateway[0].desired_state).AuthorizerConfiguration.CustomJWTAuthorizer.AllowedScopes == ["eksdiag/read"]
    error_message = "allowed_scopes must reach the authorizer."
  }
}

run "one_lambda_target_per_tool_group" {
  module {
    source = "./modules/gateway"
  }

  assert {
    condition     = toset(keys(aws_cloudcontrolapi_resource.target)) == toset(["nodelog", "findings", "capture", "runbooks"])
    error_message = "One target per tool group."
  }

  assert {
    condition = alltrue([
      for g, t in aws_cloudcontrolapi_resource.target :
      jsondecode(t.desired_state).TargetConfiguration.Mcp.Lambda.LambdaArn == var.targets[g].function_arn
      && jsondecode(t.desired_state).GatewayIdentifier == "eksdiag-abcdefghij"
      && jsonencode(jsondecode(t.desired_state).CredentialProviderConfigurations) == jsonencode([{ CredentialProviderType = "GATEWAY_IAM_ROLE" }])
    ])
    error_message = "Each target points at its group's function on this gateway, with the gateway's IAM role."
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudcontrolapi_resource.target["nodelog"].desired_state).TargetConfiguration.Mcp.Lambda.ToolSchema.InlinePayload) == jsonencode([
      {
        Name        = "collect"
        Description = "Start collecting a diagnostics bundle from an EKS node."
        InputSchema = {
          Type = "object"
          Properties = {
            instanceId = { Type = "string", Description = "EC2 instance id, pattern ^i-[0-9a-f]{8,17}$" }
            region     = { Type = "string", Description = "Region of the instance" }
          }
          Required = ["instanceId"]
        }
        OutputSchema = {
          Type = "object"
          Properties = {
            bundleId = { Type = "string" }
            items    = { Type = "array", Items = { Type = "object", Properties = { type = { Type = "string" } } } }
          }
        }
      },
      {
        Name        = "status"
        Description = "Progress of a collection."
        InputSchema = { Type = "object", Properties = { bundleId = { Type = "string" } }, Required = ["bundleId"] }
      },
    ])
    error_message = "The nodelog target's inline tools must equal handlers' schema file, in CloudFormation casing (property names kept as they are)."
  }

  assert {
    condition = alltrue([
      for g in keys(var.targets) :
      [for t in jsondecode(aws_cloudcontrolapi_resource.target[g].desired_state).TargetConfiguration.Mcp.Lambda.ToolSchema.InlinePayload : t.Name]
      == [for t in jsondecode(file("${var.schema_dir}/${g}.cfn.json")) : t.Name]
    ])
    error_message = "Every target carries exactly the tools of its schema file, in order."
  }

  assert {
    condition     = toset(output.tool_names) == toset(["nodelog___collect", "nodelog___status", "findings___errors", "capture___tcpdump_capture", "runbooks___list_sops"])
    error_message = "tool_names lists <target>___<tool>."
  }
}

run "rejects_tool_names_over_the_client_limit" {
  command = plan

  module {
    source = "./modules/gateway"
  }

  variables {
    max_tool_name_length = 20
  }

  expect_failures = [aws_cloudcontrolapi_resource.target]
}

run "schemas_of_any_depth_reach_the_target_as_written" {
  command = plan

  module {
    source = "./modules/gateway"
  }

  variables {
    schema_dir = "tests/terraform/fixtures/schemas/deep"
    # The fixture's tool has no scope; the policy engine's warning about it is not under test here.
    create_policy_engine = false
    targets = {
      nodelog = { name = "nodelog", description = "Collection tools", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-nodelog" }
    }
  }

  assert {
    condition     = jsonencode(output.tool_definitions.nodelog) == jsonencode(jsondecode(file("tests/terraform/fixtures/schemas/deep/nodelog.cfn.json")))
    error_message = "Eight levels of nesting reach the target unchanged: the module converts nothing."
  }

  assert {
    condition     = output.tool_definitions.nodelog[0].InputSchema.Properties.a.Items.Items.Items.Items.Items.Items.Items.Type == "string"
    error_message = "The deepest level keeps its CloudFormation casing."
  }
}

run "nothing_without_create" {
  command = plan

  module {
    source = "./modules/gateway"
  }

  variables {
    create     = false
    schema_dir = "tests/terraform/fixtures/does-not-exist"
  }

  assert {
    condition     = length(aws_cloudcontrolapi_resource.gateway) == 0 && length(aws_cloudcontrolapi_resource.target) == 0 && length(aws_iam_role.this) == 0
    error_message = "create = false creates nothing and reads no schema file."
  }
}
