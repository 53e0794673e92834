output "statements" {
  description = "Cedar policy statement per required scope (read, collect): one permit for the tools that need it."
  value       = local.statements
}

output "actions" {
  description = "Tool names (<target>___<tool>) per required scope; empty lists are not rendered."
  value       = local.actions
}

output "granted_by" {
  description = "Token scopes (<identifier>/<scope>) that grant each required scope."
  value       = { for required, policy in local.policies : required => [for s in policy.granted_by : "${var.resource_server_identifier}/${s}"] }
}
