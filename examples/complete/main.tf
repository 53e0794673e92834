provider "aws" {
  region = var.region
}

module "eksdiag" {
  source = "../.."

  name = var.name

  # Built by `make package` (ARCH=arm64 by default).
  lambda_package      = { filename = var.lambda_package_path }
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
