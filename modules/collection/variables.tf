variable "name" {
  description = "Name prefix for the SSM documents and the automation role."
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

variable "documents_dir" {
  description = "Directory holding collect.yaml, run-collector.yaml and packet-capture.yaml."
  type        = string
}

variable "bucket_arn" {
  description = "Bundle bucket ARN: the collect Automation signs the node's upload URL for uploads/ in it."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the bucket (the signed upload uses SSE-KMS under it)."
  type        = string
}

variable "eks_node_tag_keys" {
  description = "Tag keys that mark an instance as an EKS node; commands run only on instances carrying one of them."
  type        = list(string)
}

variable "tags" {
  description = "Tags for the documents and the role."
  type        = map(string)
  default     = {}
}
