output "key_arn" {
  description = "ARN of the KMS key protecting the bucket, table, queue and log groups."
  value       = var.create ? aws_kms_key.this[0].arn : var.key_arn
}

output "alias_name" {
  description = "Alias of the created key, or null when bringing your own."
  value       = var.create ? aws_kms_alias.this[0].name : null
}
