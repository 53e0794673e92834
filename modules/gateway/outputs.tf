locals {
  gateway_properties = var.create ? jsondecode(aws_cloudcontrolapi_resource.gateway[0].properties) : {}
}

output "gateway_id" {
  description = "Gateway identifier, or null when the gateway is not created."
  value       = var.create ? aws_cloudcontrolapi_resource.gateway[0].id : null
}

output "gateway_url" {
  description = "MCP endpoint URL of the gateway, or null when the gateway is not created."
  value       = try(local.gateway_properties.GatewayUrl, null)
}

output "gateway_arn" {
  description = "Gateway ARN, or null when the gateway is not created."
  value       = try(local.gateway_properties.GatewayArn, null)
}

output "role_arn" {
  description = "Execution role of the gateway, or null when the gateway is not created."
  value       = var.create ? aws_iam_role.this[0].arn : null
}

output "target_ids" {
  description = "Cloud Control identifiers (<gateway>|<target>) of the targets by tool group."
  value       = { for g, t in aws_cloudcontrolapi_resource.target : g => t.id }
}

output "tool_names" {
  description = "Tool names as MCP clients see them: <target>___<tool>."
  value       = local.qualified_tool_names
}

output "tool_definitions" {
  description = "Inline tool definitions sent to each target, by tool group (CloudFormation casing)."
  value       = local.tool_definitions
}
