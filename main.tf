data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  allowed_regions = length(var.allowed_regions) > 0 ? var.allowed_regions : [local.region]
  bucket_name     = coalesce(var.bucket_name, "${var.name}-${local.account_id}-${local.region}")
  domain_prefix   = coalesce(var.cognito_domain_prefix, "${var.name}-${local.account_id}")

  # No lambda_package: the zip shipped in this module for the architecture (scripts/package.py,
  # `make package`), so a registry consumer needs no build step.
  shipped_package = "${path.module}/packages/lambda-${var.lambda_architecture}.zip"
  package_file    = var.lambda_package == null ? local.shipped_package : var.lambda_package.filename
  package = (
    var.lambda_package == null
    ? { filename = local.shipped_package, s3_bucket = null, s3_key = null, s3_object_version = null, source_code_hash = filebase64sha256(local.shipped_package) }
    : merge(var.lambda_package, {
      source_code_hash = (
        var.lambda_package.filename != null
        ? filebase64sha256(var.lambda_package.filename)
        : var.lambda_package.source_code_hash
      )
    })
  )
  # What scripts/package.py recorded about a zip (architecture, python) in the manifest.json
  # beside it; null for an S3 object or a zip without one. lambda_runtime and lambda_architecture
  # are validated against it (the given package's record must not depend on lambda_architecture,
  # whose validation reads it).
  given_package_file = var.lambda_package == null ? null : var.lambda_package.filename
  given_manifest     = local.given_package_file == null ? null : "${dirname(local.given_package_file)}/manifest.json"
  given_package_build = (
    local.given_manifest == null ? null : (
      fileexists(local.given_manifest)
      ? one([for p in jsondecode(file(local.given_manifest)).packages : p if p.file == basename(local.given_package_file)])
      : null
    )
  )
  shipped_package_build = one([
    for p in jsondecode(file("${path.module}/packages/manifest.json")).packages : p if p.file == basename(local.shipped_package)
  ])
  package_build = var.lambda_package == null ? local.shipped_package_build : local.given_package_build

  # IAM role names are global to the account: the region keeps one name usable in several regions.
  iam_role = {
    name_prefix          = "${var.name}-${local.region}"
    path                 = var.iam_role_path
    permissions_boundary = var.iam_role_permissions_boundary
  }
  powertools_layer_arn = coalesce(
    var.powertools_layer_arn,
    "arn:${data.aws_partition.current.partition}:lambda:${local.region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-${replace(var.lambda_runtime, ".", "")}-${var.lambda_architecture}:${var.powertools_layer_version}",
  )
  layers = var.attach_powertools_layer ? [local.powertools_layer_arn] : []

  oauth_scopes = {
    read    = "Read findings, bundles, captures and runbooks"
    collect = "Start log collection and packet captures on EKS nodes"
  }
}

module "kms" {
  source = "./modules/kms"

  create                  = var.create_kms_key
  key_arn                 = var.kms_key_arn
  name                    = var.name
  deletion_window_in_days = var.kms_deletion_window_in_days
  administrator_arns      = var.kms_administrator_arns
  tags                    = var.tags
}

module "storage" {
  source = "./modules/storage"

  bucket_name                        = local.bucket_name
  kms_key_arn                        = module.kms.key_arn
  force_destroy                      = var.bucket_force_destroy
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  uploads_expiration_days            = var.uploads_expiration_days
  bundles_expiration_days            = var.bundles_expiration_days
  captures_expiration_days           = var.captures_expiration_days
  indexer_function_arn               = module.indexer.function_arn
  tags                               = var.tags
}

module "jobs" {
  source = "./modules/jobs"

  table_name             = "${var.name}-jobs"
  kms_key_arn            = module.kms.key_arn
  point_in_time_recovery = var.table_point_in_time_recovery
  deletion_protection    = var.table_deletion_protection
  tags                   = var.tags
}

module "collection" {
  source = "./modules/collection"

  name              = var.name
  iam_role          = local.iam_role
  documents_dir     = coalesce(var.ssm_documents_dir, "${path.module}/ssm/documents")
  bucket_arn        = module.storage.bucket_arn
  kms_key_arn       = module.kms.key_arn
  eks_node_tag_keys = var.eks_node_tag_keys
  tags              = var.tags
}

module "indexer" {
  source = "./modules/indexer"

  name                           = var.name
  iam_role                       = local.iam_role
  package                        = local.package
  runtime                        = var.lambda_runtime
  architecture                   = var.lambda_architecture
  layers                         = local.layers
  memory_size                    = var.indexer_memory_size
  ephemeral_storage_size         = var.indexer_ephemeral_storage_size
  timeout                        = var.indexer_timeout
  maximum_retry_attempts         = var.indexer_maximum_retry_attempts
  reserved_concurrent_executions = var.indexer_reserved_concurrent_executions
  tracing_mode                   = var.lambda_tracing_mode
  log_retention_in_days          = var.log_retention_in_days
  log_level                      = var.log_level
  kms_key_arn                    = module.kms.key_arn
  bucket_name                    = local.bucket_name
  bucket_arn                     = "arn:${data.aws_partition.current.partition}:s3:::${local.bucket_name}"
  table_name                     = module.jobs.table_name
  table_arn                      = module.jobs.table_arn
  metrics_namespace              = var.metrics_namespace
  tags                           = var.tags
}

module "tools" {
  source = "./modules/tools"

  name                           = var.name
  iam_role                       = local.iam_role
  package                        = local.package
  runtime                        = var.lambda_runtime
  architecture                   = var.lambda_architecture
  layers                         = local.layers
  memory_size                    = var.tool_memory_size
  timeout                        = var.tool_timeout
  reserved_concurrent_executions = var.tool_reserved_concurrent_executions
  tracing_mode                   = var.lambda_tracing_mode
  log_retention_in_days          = var.log_retention_in_days
  log_level                      = var.log_level
  kms_key_arn                    = module.kms.key_arn
  bucket_name                    = module.storage.bucket_name
  bucket_arn                     = module.storage.bucket_arn
  table_name                     = module.jobs.table_name
  table_arn                      = module.jobs.table_arn
  collect_document               = { name = module.collection.document_names.collect, arn = module.collection.document_arns.collect }
  capture_document               = { name = module.collection.document_names.packet_capture, arn = module.collection.document_arns.packet_capture }
  automation_role_arn            = module.collection.automation_role_arn
  allowed_regions                = local.allowed_regions
  eks_node_tag_keys              = var.eks_node_tag_keys
  presign_put_seconds            = var.presign_put_seconds
  presign_get_seconds            = var.presign_get_seconds
  metrics_namespace              = var.metrics_namespace
  tags                           = var.tags
}

module "auth" {
  source = "./modules/auth"

  create                        = var.create_cognito
  name                          = var.name
  domain_prefix                 = local.domain_prefix
  resource_server_identifier    = var.oauth_resource_server_identifier
  scopes                        = local.oauth_scopes
  client_scopes                 = var.oauth_client_scopes
  access_token_validity_minutes = var.access_token_validity_minutes
  deletion_protection           = var.cognito_deletion_protection
  discovery_url                 = var.jwt_discovery_url
  allowed_client_ids            = var.jwt_allowed_client_ids
  token_endpoint                = var.oauth_token_endpoint
  tags                          = var.tags
}

module "gateway" {
  source = "./modules/gateway"

  create             = var.create_gateway
  name               = coalesce(var.gateway_name, var.name)
  iam_role           = local.iam_role
  kms_key_arn        = module.kms.key_arn
  instructions       = var.gateway_instructions
  exception_level    = var.gateway_exception_level
  supported_versions = var.gateway_supported_versions
  search_type        = var.gateway_semantic_search ? "SEMANTIC" : null
  discovery_url      = module.auth.discovery_url
  allowed_client_ids = module.auth.allowed_client_ids
  allowed_scopes     = var.gateway_allowed_scopes
  resource_schemas   = var.gateway_resource_schemas
  schema_dir         = coalesce(var.tool_schema_dir, "${path.module}/handlers/eksdiag/schemas/gateway")

  # Per-tool authorization: the scope table as Cedar policies in an AgentCore Policy engine.
  create_policy_engine       = var.create_gateway_policy_engine
  policy_engine_mode         = var.gateway_policy_engine_mode
  resource_server_identifier = var.oauth_resource_server_identifier

  targets = {
    for group, function_arn in module.tools.function_arns : group => {
      name         = var.gateway_target_names[group]
      description  = "EKS node diagnostics: ${group} tools"
      function_arn = function_arn
    }
  }
  tags = var.tags
}
