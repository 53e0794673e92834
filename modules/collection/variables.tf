variable "name" {
  description = "Name prefix for the SSM documents and the automation role."
  type        = string
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
