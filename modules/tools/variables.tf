variable "name" {
  description = "Name prefix: functions are named <name>-<group>."
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
  description = "Lambda deployment package: a local zip (filename) or an S3 object (s3_bucket, s3_key, s3_object_version), and its base64 SHA-256 (source_code_hash)."
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
  description = "Lambda instruction set architecture (arm64 or x86_64); must match the package's wheels."
  type        = string
}

variable "layers" {
  description = "Layer ARNs attached to every tool function (the Powertools layer)."
  type        = list(string)
  default     = []
}

variable "memory_size" {
  description = "Memory of each tool function, in MB."
  type        = number
}

variable "timeout" {
  description = "Timeout of each tool function, in seconds."
  type        = number
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency per tool function; -1 leaves them unreserved."
  type        = number
  default     = -1
}

variable "tracing_mode" {
  description = "X-Ray tracing mode: Active or PassThrough."
  type        = string
  default     = "Active"
}

variable "log_retention_in_days" {
  description = "Retention of the functions' log groups."
  type        = number
}

variable "log_level" {
  description = "LOG_LEVEL of the functions."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the bucket, table, log groups and environment variables."
  type        = string
}

variable "bucket_name" {
  description = "Bundle bucket name."
  type        = string
}

variable "bucket_arn" {
  description = "Bundle bucket ARN."
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

variable "collect_document" {
  description = "Name and ARN of the collect Automation document."
  type        = object({ name = string, arn = string })
}

variable "capture_document" {
  description = "Name and ARN of the packet-capture Command document."
  type        = object({ name = string, arn = string })
}

variable "automation_role_arn" {
  description = "Role the collect Automation assumes; only the nodelog function may pass it."
  type        = string
}

variable "allowed_regions" {
  description = "Regions the tools may act in (ALLOWED_REGIONS)."
  type        = list(string)
}

variable "eks_node_tag_keys" {
  description = "Tag keys that mark an instance as an EKS node; the capture command goes only to instances with one of them."
  type        = list(string)
}

variable "presign_put_seconds" {
  description = "Lifetime of presigned upload URLs."
  type        = number
}

variable "presign_get_seconds" {
  description = "Lifetime of presigned download URLs."
  type        = number
}

variable "metrics_namespace" {
  description = "POWERTOOLS_METRICS_NAMESPACE."
  type        = string
}

variable "environment" {
  description = "Extra environment variables for every tool function."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
