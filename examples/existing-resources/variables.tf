variable "region" {
  description = "Region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name prefix of every resource."
  type        = string
  default     = "eksdiag"
}

variable "kms_key_arn" {
  description = "ARN of your KMS key."
  type        = string
}

variable "jwt_discovery_url" {
  description = "OpenID discovery URL of your issuer (https://.../.well-known/openid-configuration)."
  type        = string
}

variable "jwt_allowed_client_ids" {
  description = "Client ids the gateway accepts."
  type        = list(string)
}

variable "oauth_token_endpoint" {
  description = "Token endpoint of your issuer, for the outputs."
  type        = string
  default     = null
}

variable "cluster_name" {
  description = "EKS cluster whose self-managed nodes are tagged kubernetes.io/cluster/<name>."
  type        = string
}
