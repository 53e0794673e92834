output "policy_engine_arn" {
  description = "ARN of the AgentCore Policy engine attached to the gateway, or null when per-tool authorization is off."
  value       = local.policy_engine_arn
}

output "policy_statements" {
  description = "The Cedar policies the engine holds, by the scope a tool needs (read, collect)."
  value       = local.create_policy_engine ? module.tool_policies.statements : {}
}
