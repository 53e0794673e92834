variable "bucket_name" {
  description = "Name of the bundle bucket."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS default encryption; puts naming another key or algorithm are denied."
  type        = string
}

variable "force_destroy" {
  description = "Let terraform destroy delete a bucket that still holds objects (all versions)."
  type        = bool
  default     = false
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten or deleted object versions are removed."
  type        = number
  default     = 30
}

variable "uploads_expiration_days" {
  description = "Days raw uploads (uploads/) are kept; the indexer has extracted them into bundles/ by then."
  type        = number
  default     = 7
}

variable "bundles_expiration_days" {
  description = "Days indexed bundles (bundles/) are kept."
  type        = number
  default     = 90
}

variable "captures_expiration_days" {
  description = "Days packet captures (captures/) are kept."
  type        = number
  default     = 30
}

variable "indexer_function_arn" {
  description = "ARN of the indexer Lambda notified on uploads/*.tar.gz. Pass it from the indexer module's output, which waits for the S3 invoke permission."
  type        = string
}

variable "tags" {
  description = "Tags for the bucket."
  type        = map(string)
  default     = {}
}
