output "discovery_url" {
  description = "OpenID discovery URL the gateway's JWT authorizer trusts."
  value       = local.discovery_url
}

output "allowed_client_ids" {
  description = "Client ids the gateway accepts (Cognito access tokens carry client_id, not aud)."
  value       = var.create ? [aws_cognito_user_pool_client.this[0].id] : var.allowed_client_ids
}

output "client_id" {
  description = "Id of the created app client, or null when bringing your own issuer."
  value       = var.create ? aws_cognito_user_pool_client.this[0].id : null
}

output "client_secret" {
  description = "Secret of the created app client, or null when bringing your own issuer."
  value       = var.create ? aws_cognito_user_pool_client.this[0].client_secret : null
  sensitive   = true
}

output "token_endpoint" {
  description = "OAuth2 token endpoint (client_credentials grant)."
  value       = local.token_endpoint
}

output "scopes" {
  description = "Full scope strings by scope name, as they appear in tokens."
  value       = { for s in keys(var.scopes) : s => "${var.resource_server_identifier}/${s}" }
}

output "user_pool_id" {
  description = "Id of the created user pool, or null when bringing your own issuer."
  value       = var.create ? aws_cognito_user_pool.this[0].id : null
}

output "user_pool_arn" {
  description = "ARN of the created user pool, or null when bringing your own issuer."
  value       = var.create ? aws_cognito_user_pool.this[0].arn : null
}
