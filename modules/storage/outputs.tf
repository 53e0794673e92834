output "bucket_name" {
  description = "Name of the bundle bucket."
  value       = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  description = "ARN of the bundle bucket."
  value       = aws_s3_bucket.this.arn
}

output "prefixes" {
  description = "Key prefixes by object class: uploads/, bundles/, captures/."
  value       = local.prefixes
}
