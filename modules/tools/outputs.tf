output "function_names" {
  description = "Tool function names by group (nodelog, findings, capture, runbooks)."
  value       = { for g, f in aws_lambda_function.this : g => f.function_name }
}

output "function_arns" {
  description = "Tool function ARNs by group."
  value       = { for g, f in aws_lambda_function.this : g => f.arn }
}

output "role_arns" {
  description = "Execution role ARNs by group."
  value       = { for g, r in aws_iam_role.this : g => r.arn }
}

output "log_group_names" {
  description = "Log group names by group."
  value       = { for g, l in aws_cloudwatch_log_group.this : g => l.name }
}
