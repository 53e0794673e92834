data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  role_name_prefix = coalesce(var.iam_role.name_prefix, var.name)
  account_id       = data.aws_caller_identity.current.account_id
  partition        = data.aws_partition.current.partition
  region           = data.aws_region.current.name

  targets = var.create ? var.targets : {}

  # Tool definitions already in CloudFormation casing (Name, InputSchema, Type, Properties, ...),
  # written by `make schemas` next to the API-cased <group>.json: read as they are, any depth.
  tool_definitions = { for g in keys(local.targets) : g => jsondecode(file("${var.schema_dir}/${g}.cfn.json")) }

  # Cloud Control's resource schemas, passed so that plan never calls cloudformation:DescribeType
  # (the provider retries a failing call for minutes). See scripts/gateway_resource_schemas.py.
  resource_schemas = {
    for type, given in var.resource_schemas : type => coalesce(given, file("${path.module}/resource-schemas/${type}.json"))
  }

  qualified_tool_names = flatten([for g, t in local.targets : [for tool in local.tool_definitions[g] : "${t.name}___${tool.Name}"]])
}

data "aws_iam_policy_document" "assume" {
  count = var.create ? 1 : 0

  statement {
    sid     = "AgentCoreGatewaysOfThisAccount"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["bedrock-agentcore.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:bedrock-agentcore:${local.region}:${local.account_id}:gateway/*"]
    }
  }
}

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  statement {
    sid       = "InvokeOnlyTheToolFunctions"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [for t in values(local.targets) : t.function_arn] # targets invoke unqualified ARNs
  }

  # A gateway encrypted with a customer managed key needs its service role to use the key through
  # AgentCore (AgentCore developer guide, "Encrypt your AgentCore gateway with a customer-managed
  # KMS key").
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseTheGatewayKeyThroughAgentCore"
      effect    = "Allow"
      actions   = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["bedrock-agentcore.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name                 = "${local.role_name_prefix}-gateway"
  path                 = var.iam_role.path
  permissions_boundary = var.iam_role.permissions_boundary
  description          = "Execution role of the ${var.name} AgentCore gateway: invokes the tool functions"
  assume_role_policy   = data.aws_iam_policy_document.assume[0].json
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "invoke-tool-functions"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.this[0].json
}

resource "aws_cloudcontrolapi_resource" "gateway" {
  count = var.create ? 1 : 0

  type_name = "AWS::BedrockAgentCore::Gateway"
  schema    = local.resource_schemas.gateway
  desired_state = jsonencode({ for k, v in {
    Name           = var.name
    Description    = var.description
    ProtocolType   = "MCP"
    RoleArn        = aws_iam_role.this[0].arn
    AuthorizerType = "CUSTOM_JWT"
    AuthorizerConfiguration = {
      # Cognito access tokens carry client_id and no aud: check the client, not the audience.
      CustomJWTAuthorizer = { for k, v in {
        DiscoveryUrl   = var.discovery_url
        AllowedClients = var.allowed_client_ids
        AllowedScopes  = length(var.allowed_scopes) > 0 ? var.allowed_scopes : null
      } : k => v if v != null }
    }
    ProtocolConfiguration = {
      Mcp = { for k, v in {
        SupportedVersions = var.supported_versions
        Instructions      = var.instructions
        SearchType        = var.search_type
      } : k => v if v != null }
    }
    ExceptionLevel = var.exception_level
    KmsKeyArn      = var.kms_key_arn
    Tags           = length(var.tags) > 0 ? var.tags : null
    # Per-tool authorization (policy.tf).
    PolicyEngineConfiguration = local.create_policy_engine ? { Arn = local.policy_engine_arn, Mode = var.policy_engine_mode } : null
  } : k => v if v != null })

  depends_on = [aws_iam_role_policy.this, aws_iam_role_policy.policy_engine]
}

resource "aws_cloudcontrolapi_resource" "target" {
  for_each = local.targets

  type_name = "AWS::BedrockAgentCore::GatewayTarget"
  schema    = local.resource_schemas.target
  desired_state = jsonencode({
    GatewayIdentifier = aws_cloudcontrolapi_resource.gateway[0].id
    Name              = each.value.name
    Description       = each.value.description
    TargetConfiguration = {
      Mcp = {
        Lambda = {
          LambdaArn  = each.value.function_arn
          ToolSchema = { InlinePayload = local.tool_definitions[each.key] }
        }
      }
    }
    CredentialProviderConfigurations = [{ CredentialProviderType = "GATEWAY_IAM_ROLE" }]
  })

  lifecycle {
    precondition {
      condition     = alltrue([for n in local.qualified_tool_names : length(n) <= var.max_tool_name_length])
      error_message = "Tool names <target>___<tool> longer than ${var.max_tool_name_length} characters: ${join(", ", [for n in local.qualified_tool_names : n if length(n) > var.max_tool_name_length])}."
    }
  }
}
