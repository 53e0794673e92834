# Per-tool authorization at the gateway: an AgentCore Policy engine in ENFORCE mode holding one
# Cedar permit per scope (policy/ renders them from the project's scope table). Default deny: a call
# no permit matches is refused before the Lambda runs, and tools/list shows each token only the
# tools it may call. See docs/authorization.md.

locals {
  create_policy_engine = var.create && var.create_policy_engine

  # Policy engine names: letters, digits and underscores, starting with a letter, at most 48.
  policy_engine_name = substr(replace(can(regex("^[A-Za-z]", var.name)) ? var.name : "gw-${var.name}", "-", "_"), 0, 48)
  # Cloud Control identifies a policy engine by its ARN; the id is the ARN's resource name.
  policy_engine_arn = local.create_policy_engine ? aws_cloudcontrolapi_resource.policy_engine[0].id : null
  policy_engine_id  = local.create_policy_engine ? element(split("/", local.policy_engine_arn), 1) : null

  policy_gateway_arn = var.create ? jsondecode(aws_cloudcontrolapi_resource.gateway[0].properties).GatewayArn : ""
  # The role must allow policy evaluation before the gateway exists (AgentCore checks it when the
  # engine is attached), so the gateway is matched by its id: the lowercased name and 10 characters.
  gateway_arn_pattern = "arn:${local.partition}:bedrock-agentcore:${local.region}:${local.account_id}:gateway/${lower(var.name)}-??????????"

  scoped_tool_names = flatten(values(module.tool_policies.actions))
  unscoped_tools    = [for n in local.qualified_tool_names : n if !contains(local.scoped_tool_names, n)]
}

module "tool_policies" {
  source = "./policy"

  gateway_arn                = local.policy_gateway_arn
  resource_server_identifier = var.resource_server_identifier
  target_names               = { for g, t in local.targets : g => t.name }
}

data "aws_iam_policy_document" "policy_engine" {
  count = local.create_policy_engine ? 1 : 0

  statement {
    sid       = "ReadThePolicyEngine"
    effect    = "Allow"
    actions   = ["bedrock-agentcore:GetPolicyEngine"]
    resources = [local.policy_engine_arn]
  }

  statement {
    sid       = "EvaluateToolCallsAndListings"
    effect    = "Allow"
    actions   = ["bedrock-agentcore:AuthorizeAction", "bedrock-agentcore:PartiallyAuthorizeActions"]
    resources = [local.policy_engine_arn, local.gateway_arn_pattern]
  }
}

resource "aws_iam_role_policy" "policy_engine" {
  count = local.create_policy_engine ? 1 : 0

  name   = "evaluate-tool-policies"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.policy_engine[0].json
}

resource "aws_cloudcontrolapi_resource" "policy_engine" {
  count = local.create_policy_engine ? 1 : 0

  type_name = "AWS::BedrockAgentCore::PolicyEngine"
  schema    = local.resource_schemas.policy_engine
  desired_state = jsonencode({ for k, v in {
    Name        = local.policy_engine_name
    Description = "Which OAuth scope may call which tool of the ${var.name} gateway"
    Tags        = length(var.tags) > 0 ? [for key, value in var.tags : { Key = key, Value = value }] : null
  } : k => v if v != null })
}

# A tool the scope table does not know matches no permit: every token is refused it. A warning,
# not an error, so that a deployment with extra tools (tool_schema_dir) can add its own policies to
# the engine (output policy_engine_arn).
check "every_tool_has_a_scope" {
  assert {
    condition     = !local.create_policy_engine || length(local.unscoped_tools) == 0
    error_message = "No scope in modules/gateway/policy/tool_scopes.json for ${join(", ", local.unscoped_tools)}: every token will be refused these tools. Add them to handlers/eksdiag/schemas/scopes.json and run scripts/scope_table.py, or add your own policies to the engine."
  }
}

resource "aws_cloudcontrolapi_resource" "policy" {
  # One permit per scope a tool may need (read, collect); keys are known at plan time.
  for_each = local.create_policy_engine ? { for scope, actions in module.tool_policies.actions : scope => actions if length(actions) > 0 } : {}

  type_name = "AWS::BedrockAgentCore::Policy"
  schema    = local.resource_schemas.policy
  desired_state = jsonencode({
    PolicyEngineId = local.policy_engine_id
    Name           = "${each.key}_tools"
    Description    = "Tools that need the ${each.key} scope, for tokens with one of: ${join(", ", module.tool_policies.granted_by[each.key])}"
    Definition     = { Cedar = { Statement = module.tool_policies.statements[each.key] } }
    # Schema checks always run; this adds the analyzer (overly permissive, restrictive, ineffective).
    ValidationMode = "FAIL_ON_ANY_FINDINGS"
  })

  lifecycle {
    precondition {
      condition     = length(module.tool_policies.statements[each.key]) <= 10000
      error_message = "The Cedar policy for the ${each.key} scope exceeds AgentCore's 10,000 characters; shorten oauth_resource_server_identifier or the target names."
    }
  }

  # AgentCore validates a policy against the schema it builds from the gateway's tools, so the
  # targets (and their tools) must exist first.
  depends_on = [aws_cloudcontrolapi_resource.target]
}
