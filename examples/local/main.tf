# The module against a local AWS emulator (moto_server): everything but the AgentCore gateway,
# which no emulator has. Used by tests/terraform/test_emulator_twin.py.

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
    cloudcontrolapi = var.endpoint
    cognitoidp      = var.endpoint
    dynamodb        = var.endpoint
    iam             = var.endpoint
    kms             = var.endpoint
    lambda          = var.endpoint
    logs            = var.endpoint
    s3              = var.endpoint
    sqs             = var.endpoint
    ssm             = var.endpoint
    sts             = var.endpoint
  }
}

module "eksdiag" {
  source = "../.."

  name              = var.name
  ssm_documents_dir = var.ssm_documents_dir
  tool_schema_dir   = var.tool_schema_dir

  # No lambda_package: the package shipped in the module, as a registry consumer gets it.

  create_gateway              = false
  attach_powertools_layer     = false
  bucket_force_destroy        = true
  cognito_deletion_protection = false
  kms_deletion_window_in_days = 7
}
