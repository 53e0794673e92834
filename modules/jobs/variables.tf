variable "table_name" {
  description = "Name of the DynamoDB job table."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key encrypting the table."
  type        = string
}

variable "point_in_time_recovery" {
  description = "Keep point-in-time recovery backups of the job table."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse DeleteTable while true (terraform destroy fails until it is turned off)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the table."
  type        = map(string)
  default     = {}
}
