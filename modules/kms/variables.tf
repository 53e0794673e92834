variable "create" {
  description = "Create a customer managed key. Set to false and pass key_arn to bring your own key."
  type        = bool
  default     = true
}

variable "key_arn" {
  description = "ARN of an existing KMS key used when create is false. Its policy must let this account's IAM policies use it, and let CloudWatch Logs use it for the Lambda log groups."
  type        = string
  default     = null
}

variable "name" {
  description = "Name prefix: the alias becomes alias/<name>."
  type        = string
}

variable "deletion_window_in_days" {
  description = "Days KMS waits before deleting the key after destroy (7 to 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "administrator_arns" {
  description = "IAM principals allowed to administer the key (never to use it). Empty means the account itself, so that IAM policies decide. When set, it must include the principal that runs terraform (its role, whatever the path) or the account root, or KMS refuses the key."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}
