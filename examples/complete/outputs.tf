output "gateway_url" {
  description = "MCP endpoint to register in the MCP client or the DevOps Agent console."
  value       = module.eksdiag.gateway_url
}

output "token_endpoint" {
  description = "OAuth2 token endpoint (client_credentials)."
  value       = module.eksdiag.token_endpoint
}

output "oauth_scopes" {
  description = "Scopes to request; clients that send a single scope should request the read or the collect one."
  value       = module.eksdiag.oauth_scopes
}

output "client_id" {
  description = "App client id."
  value       = module.eksdiag.client_id
}

output "client_secret" {
  description = "App client secret."
  value       = module.eksdiag.client_secret
  sensitive   = true
}

output "bucket_name" {
  description = "Bundle bucket."
  value       = module.eksdiag.bucket_name
}

output "function_names" {
  description = "Function names by group."
  value       = module.eksdiag.function_names
}
