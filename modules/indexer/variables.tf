variable "name" {
  description = "Name prefix: the function is <name>-indexer."
  type        = string
}

variable "iam_role" {
  description = "IAM role naming and guardrails: role names are <name_prefix>-<purpose> (name_prefix null means name; the root module adds the region, since role names are global to the account), created under path, with permissions_boundary when not null."
  type = object({
    name_prefix          = optional(string)
    path                 = optional(string, "/")
    permissions_boundary = optional(string)
  })
  default  = {}
  nullable = false
}

variable "package" {
  description = "Lambda deployment package, as in the tools module."
  type = object({
    filename          = optional(string)
    s3_bucket         = optional(string)
    s3_key            = optional(string)
    s3_object_version = optional(string)
    source_code_hash  = optional(string)
  })
}

variable "runtime" {
  description = "Lambda Python runtime."
  type        = string
}

variable "architecture" {
  description = "Lambda instruction set architecture (arm64 or x86_64)."
  type        = string
}

variable "layers" {
  description = "Layer ARNs (the Powertools layer)."
  type        = list(string)
  default     = []
}

variable "memory_size" {
  description = "Memory of the indexer, in MB. It streams bundles, so memory stays flat as they grow."
  type        = number
}

variable "ephemeral_storage_size" {
  description = "Size of /tmp for the indexer, in MB."
  type        = number
}

variable "timeout" {
  description = "Timeout of the indexer, in seconds."
  type        = number
}

variable "maximum_retry_attempts" {
  description = "Retries of a failed S3 event before it goes to the failure queue (0 to 2)."
  type        = number
  default     = 2
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency of the indexer; -1 leaves it unreserved."
  type        = number
  default     = -1
}

variable "tracing_mode" {
  description = "X-Ray tracing mode: Active or PassThrough."
  type        = string
  default     = "Active"
}

variable "log_retention_in_days" {
  description = "Retention of the indexer's log group."
  type        = number
}

variable "log_level" {
  description = "LOG_LEVEL of the indexer."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the bucket, table, queue, log group and environment variables."
  type        = string
}

variable "bucket_name" {
  description = "Bundle bucket name."
  type        = string
}

variable "bucket_arn" {
  description = "Bundle bucket ARN; only this bucket may invoke the indexer."
  type        = string
}

variable "table_name" {
  description = "Job table name."
  type        = string
}

variable "table_arn" {
  description = "Job table ARN."
  type        = string
}

variable "metrics_namespace" {
  description = "POWERTOOLS_METRICS_NAMESPACE."
  type        = string
}

variable "failure_queue_retention_seconds" {
  description = "How long failed S3 events stay in the failure queue."
  type        = number
  default     = 1209600
}

variable "environment" {
  description = "Extra environment variables for the indexer."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
