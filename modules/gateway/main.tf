data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  targets = var.create ? var.targets : {}

  # The project's generated gateway schemas, one file per tool group.
  tools = { for g in keys(local.targets) : g => jsondecode(file("${var.schema_dir}/${g}.json")) }

  qualified_tool_names = flatten([for g, t in local.targets : [for tool in local.tools[g] : "${t.name}___${tool.name}"]])
}

# The schema files use the AgentCore API's lowercase keywords (type, description, properties,
# required, items); Cloud Control takes the CloudFormation casing (Type, Description, ...). The
# tree is flattened level by level into path => node maps, then rebuilt bottom-up with the new
# keys. Six levels below a tool's schema root are supported; the precondition on the targets
# refuses deeper schemas rather than truncating them.
locals {
  level0 = merge(flatten([for g in keys(local.targets) : [
    for i, tool in local.tools[g] : {
      for part, schema in { in = tool.inputSchema, out = try(tool.outputSchema, null) } :
      "${g}/${i}/${part}" => schema if schema != null
    }
  ]])...)
  level1 = merge(
    { for path, n in local.level0 : "${path}/i" => n.items if can(n.items) },
    merge([for path, n in local.level0 : { for k, c in try(n.properties, {}) : "${path}/p/${k}" => c }]...),
  )
  level2 = merge(
    { for path, n in local.level1 : "${path}/i" => n.items if can(n.items) },
    merge([for path, n in local.level1 : { for k, c in try(n.properties, {}) : "${path}/p/${k}" => c }]...),
  )
  level3 = merge(
    { for path, n in local.level2 : "${path}/i" => n.items if can(n.items) },
    merge([for path, n in local.level2 : { for k, c in try(n.properties, {}) : "${path}/p/${k}" => c }]...),
  )
  level4 = merge(
    { for path, n in local.level3 : "${path}/i" => n.items if can(n.items) },
    merge([for path, n in local.level3 : { for k, c in try(n.properties, {}) : "${path}/p/${k}" => c }]...),
  )
  level5 = merge(
    { for path, n in local.level4 : "${path}/i" => n.items if can(n.items) },
    merge([for path, n in local.level4 : { for k, c in try(n.properties, {}) : "${path}/p/${k}" => c }]...),
  )
  level6 = merge(
    { for path, n in local.level5 : "${path}/i" => n.items if can(n.items) },
    merge([for path, n in local.level5 : { for k, c in try(n.properties, {}) : "${path}/p/${k}" => c }]...),
  )

  cased6 = { for path, n in local.level6 : path => { for k, v in {
    Type        = n.type
    Description = try(n.description, null)
    Required    = try(n.required, null)
  } : k => v if v != null } }
  cased5 = { for path, n in local.level5 : path => { for k, v in {
    Type        = n.type
    Description = try(n.description, null)
    Required    = try(n.required, null)
    Items       = can(n.items) ? local.cased6["${path}/i"] : null
    Properties  = can(n.properties) ? { for name in keys(n.properties) : name => local.cased6["${path}/p/${name}"] } : null
  } : k => v if v != null } }
  cased4 = { for path, n in local.level4 : path => { for k, v in {
    Type        = n.type
    Description = try(n.description, null)
    Required    = try(n.required, null)
    Items       = can(n.items) ? local.cased5["${path}/i"] : null
    Properties  = can(n.properties) ? { for name in keys(n.properties) : name => local.cased5["${path}/p/${name}"] } : null
  } : k => v if v != null } }
  cased3 = { for path, n in local.level3 : path => { for k, v in {
    Type        = n.type
    Description = try(n.description, null)
    Required    = try(n.required, null)
    Items       = can(n.items) ? local.cased4["${path}/i"] : null
    Properties  = can(n.properties) ? { for name in keys(n.properties) : name => local.cased4["${path}/p/${name}"] } : null
  } : k => v if v != null } }
  cased2 = { for path, n in local.level2 : path => { for k, v in {
    Type        = n.type
    Description = try(n.description, null)
    Required    = try(n.required, null)
    Items       = can(n.items) ? local.cased3["${path}/i"] : null
    Properties  = can(n.properties) ? { for name in keys(n.properties) : name => local.cased3["${path}/p/${name}"] } : null
  } : k => v if v != null } }
  cased1 = { for path, n in local.level1 : path => { for k, v in {
    Type        = n.type
    Description = try(n.description, null)
    Required    = try(n.required, null)
    Items       = can(n.items) ? local.cased2["${path}/i"] : null
    Properties  = can(n.properties) ? { for name in keys(n.properties) : name => local.cased2["${path}/p/${name}"] } : null
  } : k => v if v != null } }
  cased0 = { for path, n in local.level0 : path => { for k, v in {
    Type        = n.type
    Description = try(n.description, null)
    Required    = try(n.required, null)
    Items       = can(n.items) ? local.cased1["${path}/i"] : null
    Properties  = can(n.properties) ? { for name in keys(n.properties) : name => local.cased1["${path}/p/${name}"] } : null
  } : k => v if v != null } }
  too_deep = [for path, n in local.level6 : path if can(n.items) || can(n.properties)]

  tool_definitions = {
    for g in keys(local.targets) : g => [
      for i, tool in local.tools[g] : { for k, v in {
        Name         = tool.name
        Description  = tool.description
        InputSchema  = local.cased0["${g}/${i}/in"]
        OutputSchema = can(tool.outputSchema) ? local.cased0["${g}/${i}/out"] : null
      } : k => v if v != null }
    ]
  }
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
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name               = "${var.name}-gateway"
  description        = "Execution role of the ${var.name} AgentCore gateway: invokes the tool functions"
  assume_role_policy = data.aws_iam_policy_document.assume[0].json
  tags               = var.tags
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
  schema    = var.resource_schemas.gateway
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
    Tags           = length(var.tags) > 0 ? var.tags : null
    # Per-tool authorization (policy.tf).
    PolicyEngineConfiguration = local.create_policy_engine ? { Arn = local.policy_engine_arn, Mode = var.policy_engine_mode } : null
  } : k => v if v != null })

  depends_on = [aws_iam_role_policy.this, aws_iam_role_policy.policy_engine]
}

resource "aws_cloudcontrolapi_resource" "target" {
  for_each = local.targets

  type_name = "AWS::BedrockAgentCore::GatewayTarget"
  schema    = var.resource_schemas.target
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
      condition     = length(local.too_deep) == 0
      error_message = "Tool schemas nest deeper than the six levels the gateway module converts: ${join(", ", local.too_deep)}."
    }
    precondition {
      condition     = alltrue([for n in local.qualified_tool_names : length(n) <= var.max_tool_name_length])
      error_message = "Tool names <target>___<tool> longer than ${var.max_tool_name_length} characters: ${join(", ", [for n in local.qualified_tool_names : n if length(n) > var.max_tool_name_length])}."
    }
  }
}
