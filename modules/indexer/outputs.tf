output "function_name" {
  description = "Name of the indexer function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the indexer function, available once S3 may invoke it (wire the bucket notification to this)."
  value       = aws_lambda_function.this.arn
  depends_on  = [aws_lambda_permission.s3]
}

output "role_arn" {
  description = "Execution role ARN of the indexer."
  value       = aws_iam_role.this.arn
}

output "failure_queue_arn" {
  description = "ARN of the SQS queue receiving S3 events the indexer failed on."
  value       = aws_sqs_queue.failures.arn
}

output "failure_queue_url" {
  description = "URL of the failure queue."
  value       = aws_sqs_queue.failures.url
}

output "log_group_name" {
  description = "Log group of the indexer."
  value       = aws_cloudwatch_log_group.this.name
}
