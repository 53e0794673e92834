# Renders the gateway's Cedar policies from tool_scopes.json (generated from
# handlers/eksdiag/schemas/scopes.json by scripts/scope_table.py). No resources: the gateway module
# creates the policies, and tests/authz renders this module alone and evaluates its output with a
# Cedar engine.
#
# Request shape (AgentCore Policy documentation): the principal is AgentCore::OAuthUser, every JWT
# claim is a string tag on it (an array claim becomes its JSON text), the action is
# AgentCore::Action::"<target>___<tool>", the resource AgentCore::Gateway::"<gateway ARN>". A policy
# naming actions must name the gateway by ARN. Reading a missing tag is an error that denies, so
# every getTag is guarded by hasTag.

locals {
  policies = jsondecode(file("${path.module}/tool_scopes.json")).policies

  # Cedar string literals: the identifier holds no quote or backslash (validated); in a `like`
  # pattern `*` is the wildcard, so a literal one is escaped.
  identifier         = var.resource_server_identifier
  identifier_pattern = replace(var.resource_server_identifier, "*", "\\*")

  actions = {
    for required, policy in local.policies : required => sort(flatten([
      for group, tools in policy.tools : [for tool in tools : "${var.target_names[group]}___${tool}"]
      if contains(keys(var.target_names), group)
    ]))
  }

  # A granted scope must be a whole scope-token of the claim, never a substring: the claim equals
  # it, starts or ends with it next to a space, holds it between spaces (space-separated string,
  # RFC 6749 and 9068, as Cognito issues `scope`), or holds it as a quoted element of the JSON text
  # an array claim becomes (as Okta issues `scp`). Scope-tokens cannot contain `"`.
  claim_tests = {
    for required, policy in local.policies : required => [
      for claim in ["scope", "scp"] : {
        claim = claim
        tests = flatten([for scope in policy.granted_by : [
          "principal.getTag(\"${claim}\") == \"${local.identifier}/${scope}\"",
          "principal.getTag(\"${claim}\") like \"${local.identifier_pattern}/${scope} *\"",
          "principal.getTag(\"${claim}\") like \"* ${local.identifier_pattern}/${scope}\"",
          "principal.getTag(\"${claim}\") like \"* ${local.identifier_pattern}/${scope} *\"",
          "principal.getTag(\"${claim}\") like \"*\\\"${local.identifier_pattern}/${scope}\\\"*\"",
        ]])
      }
    ]
  }

  statements = {
    for required, actions in local.actions : required => templatefile("${path.module}/tool_scopes.cedar.tftpl", {
      actions     = actions
      gateway_arn = var.gateway_arn
      claim_tests = local.claim_tests[required]
    }) if length(actions) > 0
  }
}
