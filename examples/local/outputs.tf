output "bucket_name" {
  description = "Bundle bucket."
  value       = module.eksdiag.bucket_name
}

output "kms_key_arn" {
  description = "Created KMS key."
  value       = module.eksdiag.kms_key_arn
}

output "table_name" {
  description = "Job table."
  value       = module.eksdiag.table_name
}

output "function_names" {
  description = "Function names by group."
  value       = module.eksdiag.function_names
}

output "function_role_arns" {
  description = "Execution roles by group."
  value       = module.eksdiag.function_role_arns
}

output "document_names" {
  description = "SSM documents."
  value       = module.eksdiag.document_names
}

output "automation_role_arn" {
  description = "Automation role."
  value       = module.eksdiag.automation_role_arn
}

output "indexer_failure_queue_arn" {
  description = "Indexer failure queue."
  value       = module.eksdiag.indexer_failure_queue_arn
}

output "client_id" {
  description = "App client id."
  value       = module.eksdiag.client_id
}

output "token_endpoint" {
  description = "Token endpoint."
  value       = module.eksdiag.token_endpoint
}
