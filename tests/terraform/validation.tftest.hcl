# Every variable validation rejects a bad value at plan time, before anything is created.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  lambda_package    = { filename = "tests/terraform/fixtures/package-standin.txt" }
  tool_schema_dir   = "tests/terraform/fixtures/schemas/gateway"
  ssm_documents_dir = "tests/terraform/fixtures/ssm/documents"
}

run "rejects_name_with_underscore" {
  command = plan

  variables {
    name = "eks_diag"
  }

  expect_failures = [var.name]
}

run "rejects_name_too_long" {
  command = plan

  variables {
    name = "a-very-long-name-prefix-that-breaks"
  }

  expect_failures = [var.name]
}

run "rejects_region_not_a_region" {
  command = plan

  variables {
    allowed_regions = ["us-east-1", "moon-base"]
  }

  expect_failures = [var.allowed_regions]
}

run "rejects_no_eks_node_tag_key" {
  command = plan

  variables {
    eks_node_tag_keys = []
  }

  expect_failures = [var.eks_node_tag_keys]
}

run "rejects_eks_node_tag_key_pattern" {
  command = plan

  variables {
    eks_node_tag_keys = ["eks:cluster-name", "kubernetes.io/cluster/*"]
  }

  expect_failures = [var.eks_node_tag_keys]
}

run "accepts_both_eks_node_tag_kinds" {
  command = plan

  variables {
    eks_node_tag_keys = ["eks:cluster-name", "kubernetes.io/cluster/prod-1"]
  }
}

run "rejects_kms_key_arn_not_an_arn" {
  command = plan

  variables {
    create_kms_key = false
    kms_key_arn    = "alias/mine"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_kms_deletion_window_too_short" {
  command = plan

  variables {
    kms_deletion_window_in_days = 3
  }

  expect_failures = [var.kms_deletion_window_in_days]
}

run "rejects_bucket_name_uppercase" {
  command = plan

  variables {
    bucket_name = "My_Bucket"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_noncurrent_expiration_zero" {
  command = plan

  variables {
    noncurrent_version_expiration_days = 0
  }

  expect_failures = [var.noncurrent_version_expiration_days]
}

run "rejects_uploads_expiration_zero" {
  command = plan

  variables {
    uploads_expiration_days = 0
  }

  expect_failures = [var.uploads_expiration_days]
}

run "rejects_bundles_expiration_zero" {
  command = plan

  variables {
    bundles_expiration_days = 0
  }

  expect_failures = [var.bundles_expiration_days]
}

run "rejects_captures_expiration_zero" {
  command = plan

  variables {
    captures_expiration_days = 0
  }

  expect_failures = [var.captures_expiration_days]
}

run "rejects_cognito_domain_prefix_invalid" {
  command = plan

  variables {
    cognito_domain_prefix = "-Bad.Prefix"
  }

  expect_failures = [var.cognito_domain_prefix]
}

run "rejects_resource_server_identifier_with_space" {
  command = plan

  variables {
    oauth_resource_server_identifier = "eks diag"
  }

  expect_failures = [var.oauth_resource_server_identifier]
}

run "rejects_unknown_oauth_scope" {
  command = plan

  variables {
    oauth_client_scopes = ["read", "admin"]
  }

  expect_failures = [var.oauth_client_scopes]
}

run "rejects_token_validity_below_five_minutes" {
  command = plan

  variables {
    access_token_validity_minutes = 2
  }

  expect_failures = [var.access_token_validity_minutes]
}

run "rejects_token_validity_above_one_day" {
  command = plan

  variables {
    access_token_validity_minutes = 1441
  }

  expect_failures = [var.access_token_validity_minutes]
}

run "rejects_discovery_url_not_openid_configuration" {
  command = plan

  variables {
    create_cognito         = false
    jwt_discovery_url      = "https://issuer.example.com/"
    jwt_allowed_client_ids = ["x"]
  }

  expect_failures = [var.jwt_discovery_url]
}

run "rejects_gateway_name_with_underscore" {
  command = plan

  variables {
    gateway_name = "eks_diag"
  }

  expect_failures = [var.gateway_name]
}

run "rejects_gateway_instructions_too_long" {
  command = plan

  variables {
    gateway_instructions = format("%-2049s", "x")
  }

  expect_failures = [var.gateway_instructions]
}

run "rejects_gateway_exception_level_not_debug" {
  command = plan

  variables {
    gateway_exception_level = "INFO"
  }

  expect_failures = [var.gateway_exception_level]
}

run "rejects_gateway_supported_version_malformed" {
  command = plan

  variables {
    gateway_supported_versions = ["latest"]
  }

  expect_failures = [var.gateway_supported_versions]
}

run "rejects_target_name_with_underscore" {
  command = plan

  variables {
    gateway_target_names = { nodelog = "node_log", findings = "findings", capture = "capture", runbooks = "runbooks" }
  }

  expect_failures = [var.gateway_target_names]
}

run "rejects_target_names_missing_a_group" {
  command = plan

  variables {
    gateway_target_names = { nodelog = "nodelog", findings = "findings", capture = "capture" }
  }

  expect_failures = [var.gateway_target_names]
}

run "rejects_package_both_file_and_s3" {
  command = plan

  variables {
    lambda_package = { filename = "tests/terraform/fixtures/package-standin.txt", s3_bucket = "b", s3_key = "k" }
  }

  expect_failures = [var.lambda_package]
}

run "rejects_package_file_with_half_an_s3_object" {
  command = plan

  variables {
    lambda_package = { filename = "tests/terraform/fixtures/package-standin.txt", s3_bucket = "b" }
  }

  expect_failures = [var.lambda_package]
}

run "rejects_package_neither_file_nor_s3" {
  command = plan

  variables {
    lambda_package = { s3_bucket = "b" }
  }

  expect_failures = [var.lambda_package]
}

run "rejects_runtime_unsupported" {
  command = plan

  variables {
    lambda_runtime = "python3.9"
  }

  expect_failures = [var.lambda_runtime]
}

run "rejects_architecture_unsupported" {
  command = plan

  variables {
    lambda_architecture = "ppc64le"
  }

  expect_failures = [var.lambda_architecture]
}

run "rejects_powertools_layer_version_fractional" {
  command = plan

  variables {
    powertools_layer_version = 2.5
  }

  expect_failures = [var.powertools_layer_version]
}

run "rejects_tool_memory_below_minimum" {
  command = plan

  variables {
    tool_memory_size = 64
  }

  expect_failures = [var.tool_memory_size]
}

run "rejects_tool_timeout_above_lambda_maximum" {
  command = plan

  variables {
    tool_timeout = 901
  }

  expect_failures = [var.tool_timeout]
}

run "rejects_indexer_memory_above_maximum" {
  command = plan

  variables {
    indexer_memory_size = 20480
  }

  expect_failures = [var.indexer_memory_size]
}

run "rejects_indexer_ephemeral_storage_below_minimum" {
  command = plan

  variables {
    indexer_ephemeral_storage_size = 256
  }

  expect_failures = [var.indexer_ephemeral_storage_size]
}

run "rejects_indexer_timeout_zero" {
  command = plan

  variables {
    indexer_timeout = 0
  }

  expect_failures = [var.indexer_timeout]
}

run "rejects_indexer_retries_above_two" {
  command = plan

  variables {
    indexer_maximum_retry_attempts = 3
  }

  expect_failures = [var.indexer_maximum_retry_attempts]
}

run "rejects_tracing_mode_unknown" {
  command = plan

  variables {
    lambda_tracing_mode = "Sampled"
  }

  expect_failures = [var.lambda_tracing_mode]
}

run "rejects_log_retention_not_a_cloudwatch_value" {
  command = plan

  variables {
    log_retention_in_days = 13
  }

  expect_failures = [var.log_retention_in_days]
}

run "rejects_log_level_unknown" {
  command = plan

  variables {
    log_level = "TRACE"
  }

  expect_failures = [var.log_level]
}

run "rejects_presign_put_too_long" {
  command = plan

  variables {
    presign_put_seconds = 7200
  }

  expect_failures = [var.presign_put_seconds]
}

run "rejects_presign_get_over_fifteen_minutes" {
  command = plan

  variables {
    presign_get_seconds = 901
  }

  expect_failures = [var.presign_get_seconds]
}

run "rejects_metrics_namespace_reserved" {
  command = plan

  variables {
    metrics_namespace = "AWS/Lambda"
  }

  expect_failures = [var.metrics_namespace]
}

# ---------------------------------------------------------------------------------------------------
# Bad inputs that used to reach apply (issue 10), each refused at plan.
# ---------------------------------------------------------------------------------------------------

run "rejects_gateway_name_over_48_characters" {
  command = plan

  variables {
    gateway_name = "a123456789b123456789c123456789d123456789e12345678"
  }

  expect_failures = [var.gateway_name]
}

run "accepts_gateway_name_of_48_characters" {
  command = plan

  variables {
    gateway_name = "a123456789b123456789c123456789d123456789e1234567"
  }
}

run "rejects_empty_gateway_instructions" {
  command = plan

  variables {
    gateway_instructions = ""
  }

  expect_failures = [var.gateway_instructions]
}

run "accepts_no_gateway_instructions" {
  command = plan

  variables {
    gateway_instructions = null
  }
}

run "rejects_resource_server_identifier_as_url" {
  command = plan

  variables {
    oauth_resource_server_identifier = "https://eksdiag.example.com"
  }

  expect_failures = [var.oauth_resource_server_identifier]
}

run "rejects_bucket_name_in_ip_form" {
  command = plan

  variables {
    bucket_name = "192.168.5.4"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_bucket_name_with_two_dots" {
  command = plan

  variables {
    bucket_name = "my..bucket"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_bucket_name_with_a_dot" {
  command = plan

  variables {
    bucket_name = "diag.example.com"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_bucket_name_with_xn_prefix" {
  command = plan

  variables {
    bucket_name = "xn--diagnostics"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_bucket_name_with_s3alias_suffix" {
  command = plan

  variables {
    bucket_name = "diagnostics-s3alias"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_bucket_name_with_object_lambda_suffix" {
  command = plan

  variables {
    bucket_name = "diagnostics--ol-s3"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_cognito_domain_prefix_with_reserved_word" {
  command = plan

  variables {
    cognito_domain_prefix = "eks-amazon-diag"
  }

  expect_failures = [var.cognito_domain_prefix]
}

run "rejects_name_that_makes_a_reserved_cognito_domain" {
  command = plan

  variables {
    name = "aws-diag"
  }

  expect_failures = [var.name]
}

run "accepts_reserved_word_in_name_with_an_explicit_domain_prefix" {
  command = plan

  variables {
    name                  = "aws-diag"
    cognito_domain_prefix = "platform-diag"
  }
}

run "rejects_name_that_makes_a_reserved_bucket_name" {
  command = plan

  variables {
    name = "sthree-diag"
  }

  expect_failures = [var.name]
}

run "rejects_kms_key_id_that_is_not_a_uuid" {
  command = plan

  variables {
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:us-east-1:111122223333:key/my-key"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_kms_alias_arn" {
  command = plan

  variables {
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:us-east-1:111122223333:alias/eksdiag"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_kms_key_in_another_region" {
  command = plan

  variables {
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
  }

  expect_failures = [var.kms_key_arn]
}

run "accepts_multi_region_kms_key" {
  command = plan

  variables {
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:us-east-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef"
  }
}

run "rejects_kms_key_arn_with_create_kms_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_kms_administrator_that_is_not_an_arn" {
  command = plan

  variables {
    kms_administrator_arns = ["platform-admins"]
  }

  expect_failures = [var.kms_administrator_arns]
}

run "rejects_tag_key_with_aws_prefix" {
  command = plan

  variables {
    tags = { "aws:cost-center" = "ops" }
  }

  expect_failures = [var.tags]
}

run "rejects_tag_value_over_256_characters" {
  command = plan

  variables {
    tags = { Owner = format("%-257s", "x") }
  }

  expect_failures = [var.tags]
}

run "rejects_tag_characters_the_gateway_refuses" {
  command = plan

  variables {
    tags = { Owner = "équipe-plateforme" }
  }

  expect_failures = [var.tags]
}

run "accepts_any_letter_in_tags_without_the_gateway" {
  command = plan

  variables {
    create_gateway = false
    tags           = { Owner = "équipe-plateforme" }
  }
}

run "rejects_duplicate_gateway_target_names" {
  command = plan

  variables {
    gateway_target_names = { nodelog = "node", findings = "node", capture = "capture", runbooks = "runbooks" }
  }

  expect_failures = [var.gateway_target_names]
}

run "rejects_unknown_mcp_version" {
  command = plan

  variables {
    gateway_supported_versions = ["2025-06-18", "2024-11-05"]
  }

  expect_failures = [var.gateway_supported_versions]
}

run "accepts_every_mcp_version_agentcore_lists" {
  command = plan

  variables {
    gateway_supported_versions = ["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"]
  }
}

run "rejects_malformed_gateway_allowed_scope" {
  command = plan

  variables {
    gateway_allowed_scopes = ["eksdiag/read collect"]
  }

  expect_failures = [var.gateway_allowed_scopes]
}

run "rejects_gateway_allowed_scope_the_pool_never_issues" {
  command = plan

  variables {
    gateway_allowed_scopes = ["eksdiag/admin"]
  }

  expect_failures = [var.gateway_allowed_scopes]
}

run "rejects_allowed_regions_without_the_deployment_region" {
  command = plan

  variables {
    allowed_regions = ["eu-west-1"]
  }

  expect_failures = [var.allowed_regions]
}

run "accepts_allowed_regions_with_the_deployment_region" {
  command = plan

  variables {
    allowed_regions = ["eu-west-1", "us-east-1", "eusc-de-east-1"]
  }
}

run "rejects_token_endpoint_not_https" {
  command = plan

  variables {
    create_cognito         = false
    jwt_discovery_url      = "https://login.example.com/.well-known/openid-configuration"
    jwt_allowed_client_ids = ["agent"]
    oauth_token_endpoint   = "login.example.com/oauth2/token"
  }

  expect_failures = [var.oauth_token_endpoint]
}

run "rejects_jwt_inputs_with_create_cognito" {
  command = plan

  variables {
    jwt_discovery_url      = "https://login.example.com/.well-known/openid-configuration"
    jwt_allowed_client_ids = ["agent"]
    oauth_token_endpoint   = "https://login.example.com/oauth2/token"
  }

  expect_failures = [var.jwt_discovery_url, var.jwt_allowed_client_ids, var.oauth_token_endpoint]
}

run "rejects_cognito_domain_prefix_without_cognito" {
  command = plan

  variables {
    create_cognito         = false
    jwt_discovery_url      = "https://login.example.com/.well-known/openid-configuration"
    jwt_allowed_client_ids = ["agent"]
    cognito_domain_prefix  = "platform-diag"
  }

  expect_failures = [var.cognito_domain_prefix]
}

run "rejects_role_path_without_slashes" {
  command = plan

  variables {
    iam_role_path = "platform"
  }

  expect_failures = [var.iam_role_path]
}

run "rejects_permissions_boundary_not_a_policy_arn" {
  command = plan

  variables {
    iam_role_permissions_boundary = "arn:aws:iam::111122223333:role/boundary"
  }

  expect_failures = [var.iam_role_permissions_boundary]
}

run "rejects_reserved_concurrency_below_minus_one" {
  command = plan

  variables {
    tool_reserved_concurrent_executions    = -2
    indexer_reserved_concurrent_executions = 1.5
  }

  expect_failures = [var.tool_reserved_concurrent_executions, var.indexer_reserved_concurrent_executions]
}
