################################################################################
# Gateway and OAuth: what an MCP client or the AWS DevOps Agent console asks for
################################################################################

output "gateway_url" {
  description = "MCP endpoint URL of the AgentCore gateway (null when create_gateway is false)."
  value       = module.gateway.gateway_url
}

output "gateway_id" {
  description = "Identifier of the AgentCore gateway (null when create_gateway is false)."
  value       = module.gateway.gateway_id
}

output "gateway_arn" {
  description = "ARN of the AgentCore gateway (null when create_gateway is false)."
  value       = module.gateway.gateway_arn
}

output "gateway_role_arn" {
  description = "Execution role of the gateway: invokes the tool functions, and uses the module key through AgentCore only."
  value       = module.gateway.role_arn
}

output "tool_names" {
  description = "Tool names as MCP clients see them (<target>___<tool>)."
  value       = module.gateway.tool_names
}

output "gateway_policy_engine_arn" {
  description = "AgentCore Policy engine enforcing the scope table at the gateway (null when create_gateway or create_gateway_policy_engine is false)."
  value       = module.gateway.policy_engine_arn
}

output "token_endpoint" {
  description = "OAuth2 token endpoint for the client_credentials grant."
  value       = module.auth.token_endpoint
}

output "oauth_discovery_url" {
  description = "OpenID discovery URL the gateway trusts."
  value       = module.auth.discovery_url
}

output "oauth_scopes" {
  description = "OAuth scopes by name (read, collect), as full strings to request at the token endpoint."
  value       = module.auth.scopes
}

output "client_id" {
  description = "Client id of the created app client (null when bringing your own issuer)."
  value       = module.auth.client_id
}

output "client_secret" {
  description = "Client secret of the created app client (null when bringing your own issuer)."
  value       = module.auth.client_secret
  sensitive   = true
}

output "user_pool_id" {
  description = "Id of the created Cognito user pool (null when bringing your own issuer)."
  value       = module.auth.user_pool_id
}

################################################################################
# Data
################################################################################

output "bucket_name" {
  description = "Name of the bundle bucket (uploads/, bundles/, captures/)."
  value       = module.storage.bucket_name
}

output "bucket_arn" {
  description = "ARN of the bundle bucket."
  value       = module.storage.bucket_arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key protecting the bucket, table, queue, log groups, function environments and the gateway."
  value       = module.kms.key_arn
}

output "table_name" {
  description = "Name of the DynamoDB job table."
  value       = module.jobs.table_name
}

output "table_arn" {
  description = "ARN of the DynamoDB job table."
  value       = module.jobs.table_arn
}

################################################################################
# Functions and collection
################################################################################

output "function_names" {
  description = "Function names by group: nodelog, findings, capture, runbooks and indexer."
  value       = merge(module.tools.function_names, { indexer = module.indexer.function_name })
}

output "function_arns" {
  description = "Function ARNs by group: nodelog, findings, capture, runbooks and indexer."
  value       = merge(module.tools.function_arns, { indexer = module.indexer.function_arn })
}

output "function_role_arns" {
  description = "Execution role ARNs by group: nodelog, findings, capture, runbooks and indexer."
  value       = merge(module.tools.role_arns, { indexer = module.indexer.role_arn })
}

output "indexer_failure_queue_arn" {
  description = "SQS queue receiving upload events the indexer failed on (alarm on its depth)."
  value       = module.indexer.failure_queue_arn
}

output "document_names" {
  description = "SSM document names: collect (Automation), run_collector and packet_capture (Command)."
  value       = module.collection.document_names
}

output "automation_role_arn" {
  description = "Role the collect Automation assumes."
  value       = module.collection.automation_role_arn
}
