provider "aws" {
  region = var.region
}

module "eksdiag" {
  source = "../.."

  name = var.name

  # No lambda_package: the module's own package for this architecture (packages/lambda-arm64.zip).
  lambda_architecture = "arm64"

  allowed_regions   = [var.region]
  eks_node_tag_keys = ["eks:cluster-name"]

  gateway_exception_level = "DEBUG"
  log_retention_in_days   = 90

  tags = {
    Project = "eks-node-diagnostics"
    Owner   = "platform"
  }
}
