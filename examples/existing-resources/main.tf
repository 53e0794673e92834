provider "aws" {
  region = var.region
}

module "eksdiag" {
  source = "../.."

  name = var.name

  # Your own KMS key: its policy must let this account's IAM policies use it and let
  # CloudWatch Logs (logs.<region>.amazonaws.com) encrypt the function log groups.
  create_kms_key = false
  kms_key_arn    = var.kms_key_arn

  # Your own OAuth2 issuer: the gateway accepts tokens whose client_id is listed.
  create_cognito         = false
  jwt_discovery_url      = var.jwt_discovery_url
  jwt_allowed_client_ids = var.jwt_allowed_client_ids
  oauth_token_endpoint   = var.oauth_token_endpoint

  # Self-managed nodes carry kubernetes.io/cluster/<name> rather than eks:cluster-name.
  eks_node_tag_keys = ["eks:cluster-name", "kubernetes.io/cluster/${var.cluster_name}"]
}
