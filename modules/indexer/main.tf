data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  role_name_prefix = coalesce(var.iam_role.name_prefix, var.name)
  function_name    = "${var.name}-indexer"
  account_id       = data.aws_caller_identity.current.account_id
  region           = data.aws_region.current.name
}

# Events the indexer could not handle after its retries land here, with the error, so none is lost.
resource "aws_sqs_queue" "failures" {
  name                      = "${local.function_name}-failures"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = var.failure_queue_retention_seconds
  tags                      = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "LambdaService"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "WriteOwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid       = "ReadUploadedBundles"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arn}/uploads/*"]
  }

  # GetObject answers 404 for a missing key only to a caller that may list the bucket (403
  # otherwise): a re-delivered event for an expired upload must read as "gone", not as a fault. An
  # s3:prefix condition cannot narrow it: GetObject requests carry no prefix.
  statement {
    sid       = "TellMissingUploadsFromForbiddenOnes"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
  }

  statement {
    sid       = "WriteIndexesAndExtractedFiles"
    effect    = "Allow"
    actions   = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    resources = ["${var.bucket_arn}/bundles/*"]
  }

  # A failed or abandoned indexing leaves partial files; the indexer removes them (it lists the
  # bundle's prefix with the ListBucket above).
  statement {
    sid       = "RemovePartialBundleFiles"
    effect    = "Allow"
    actions   = ["s3:DeleteObject"]
    resources = ["${var.bucket_arn}/bundles/*"]
  }

  statement {
    sid       = "RecordIndexingState"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
    resources = [var.table_arn] # the table has no secondary index
  }

  statement {
    sid       = "EncryptThroughS3AndDynamoDB"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "dynamodb.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "SendFailedEventsToQueue"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }

  statement {
    sid       = "EncryptFailureMessages"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${local.region}.amazonaws.com"]
    }
  }

  dynamic "statement" {
    for_each = var.tracing_mode == "Active" ? [1] : []
    content {
      # X-Ray has no resource-level permissions for these two actions.
      sid       = "SendTraces"
      effect    = "Allow"
      actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = "${local.role_name_prefix}-indexer"
  path                 = var.iam_role.path
  permissions_boundary = var.iam_role.permissions_boundary
  description          = "Indexer of uploaded bundles (${local.function_name})"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "index-bundles"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice (log_retention_in_days); diagnostics logs rarely need a year.
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:S3 invokes asynchronously and failures go to the on-failure destination (encrypted SQS) below, which also records the error.
  #checkov:skip=CKV_AWS_117:Reads and writes S3 and DynamoDB only; no VPC resource to reach.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile the caller owns; the package is built reproducibly and its hash is pinned.
  function_name                  = local.function_name
  description                    = "Streams uploaded bundles, extracts and indexes them in one pass"
  role                           = aws_iam_role.this.arn
  handler                        = "eksdiag.lambda_entry.indexer.handler"
  runtime                        = var.runtime
  architectures                  = [var.architecture]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  layers                         = var.layers
  kms_key_arn                    = var.kms_key_arn

  filename          = var.package.filename
  s3_bucket         = var.package.s3_bucket
  s3_key            = var.package.s3_key
  s3_object_version = var.package.s3_object_version
  source_code_hash  = var.package.source_code_hash

  ephemeral_storage {
    size = var.ephemeral_storage_size
  }

  environment {
    variables = merge(
      {
        BUCKET_NAME                  = var.bucket_name
        TABLE_NAME                   = var.table_name
        KMS_KEY_ARN                  = var.kms_key_arn
        POWERTOOLS_SERVICE_NAME      = local.function_name
        POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
        LOG_LEVEL                    = var.log_level
      },
      var.environment,
    )
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name          = aws_lambda_function.this.function_name
  maximum_retry_attempts = var.maximum_retry_attempts

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures.arn
    }
  }
}

resource "aws_lambda_permission" "s3" {
  statement_id   = "AllowBundleBucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = var.bucket_arn
  source_account = local.account_id
}
