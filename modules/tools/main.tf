data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  role_name_prefix = coalesce(var.iam_role.name_prefix, var.name)
  account_id       = data.aws_caller_identity.current.account_id
  partition        = data.aws_partition.current.partition
  region           = data.aws_region.current.name

  # One Lambda per privilege group; each routes by the tool name the gateway passes.
  groups = {
    nodelog  = "Collection: collect, status, history, batch_collect, batch_status, cluster_health"
    findings = "Analysis of indexed bundles, read only"
    capture  = "Packet capture on EKS nodes and its analysis"
    runbooks = "Standard operating procedures, read only"
  }

  function_names = { for g in keys(local.groups) : g => "${var.name}-${g}" }

  objects = {
    bundles  = "${var.bucket_arn}/bundles/*"
    captures = "${var.bucket_arn}/captures/*"
  }
  # The job table has no secondary index: item and query actions take the table ARN alone.
  table_resources = [var.table_arn]

  automation_executions = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:automation-execution/*"
  instance_arns         = [for r in var.allowed_regions : "arn:${local.partition}:ec2:${r}:${local.account_id}:instance/*"]
  in_allowed_regions = [{
    test     = "StringEquals"
    variable = "aws:RequestedRegion"
    values   = var.allowed_regions
  }]
  via_dynamodb = [{
    test     = "StringEquals"
    variable = "kms:ViaService"
    values   = ["dynamodb.${local.region}.amazonaws.com"]
  }]
  # GetObject and HeadObject answer 404 for a missing key only to a caller that may list the bucket,
  # and 403 otherwise. The grant cannot be narrowed with s3:prefix: those requests carry no prefix,
  # so a conditioned ListBucket never applies to them. It reveals key names of this bucket only.
  tell_missing_from_forbidden = {
    sid        = "TellMissingObjectsFromForbiddenOnes"
    actions    = ["s3:ListBucket"]
    resources  = [var.bucket_arn]
    conditions = []
  }

  via_s3_and_dynamodb = [{
    test     = "StringEquals"
    variable = "kms:ViaService"
    values   = ["s3.${local.region}.amazonaws.com", "dynamodb.${local.region}.amazonaws.com"]
  }]

  common_statements = {
    for g in keys(local.groups) : g => concat(
      [
        {
          sid        = "WriteOwnLogGroup"
          actions    = ["logs:CreateLogStream", "logs:PutLogEvents"]
          resources  = ["${aws_cloudwatch_log_group.this[g].arn}:*"]
          conditions = []
        },
      ],
      var.tracing_mode == "Active" ? [
        {
          # X-Ray has no resource-level permissions for these two actions.
          sid        = "SendTraces"
          actions    = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
          resources  = ["*"]
          conditions = []
        },
      ] : [],
    )
  }

  group_statements = {
    nodelog = [
      {
        # StartAutomationExecution is authorized on the document it runs and on the execution it
        # creates: the Service Authorization Reference marks both resource types required.
        sid        = "StartOnlyTheCollectAutomation"
        actions    = ["ssm:StartAutomationExecution"]
        resources  = [var.collect_document.arn, local.automation_executions]
        conditions = []
      },
      {
        sid        = "FollowAutomations"
        actions    = ["ssm:GetAutomationExecution"]
        resources  = [local.automation_executions]
        conditions = []
      },
      {
        sid       = "PassOnlyTheAutomationRoleToSsm"
        actions   = ["iam:PassRole"]
        resources = [var.automation_role_arn]
        conditions = [{
          test     = "StringEquals"
          variable = "iam:PassedToService"
          values   = ["ssm.amazonaws.com"]
        }]
      },
      {
        sid        = "TrackJobsAndIdempotency"
        actions    = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
        resources  = local.table_resources
        conditions = []
      },
      {
        # The upload URL for the node is signed by the collect Automation (its role), not here.
        sid        = "EncryptJobsThroughDynamoDB"
        actions    = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
        resources  = [var.kms_key_arn]
        conditions = local.via_dynamodb
      },
      {
        sid        = "ReadEksClusters"
        actions    = ["eks:DescribeCluster", "eks:ListNodegroups"]
        resources  = [for r in var.allowed_regions : "arn:${local.partition}:eks:${r}:${local.account_id}:cluster/*"]
        conditions = []
      },
      {
        sid        = "ReadEksNodeGroups"
        actions    = ["eks:DescribeNodegroup"]
        resources  = [for r in var.allowed_regions : "arn:${local.partition}:eks:${r}:${local.account_id}:nodegroup/*/*/*"]
        conditions = []
      },
      {
        # No resource-level permissions exist for these Describe APIs: ec2:DescribeInstances,
        # ssm:DescribeAutomationExecutions, ssm:DescribeInstanceInformation.
        sid = "DescribeNodesAndExecutions"
        actions = [
          "ec2:DescribeInstances",
          "ssm:DescribeAutomationExecutions",
          "ssm:DescribeInstanceInformation",
        ]
        resources  = ["*"]
        conditions = local.in_allowed_regions
      },
    ]

    findings = [
      {
        sid        = "ReadBundlesAndCaptures"
        actions    = ["s3:GetObject"]
        resources  = [local.objects.bundles, local.objects.captures]
        conditions = []
      },
      local.tell_missing_from_forbidden,
      {
        sid        = "ReadJobs"
        actions    = ["dynamodb:GetItem", "dynamodb:Query"]
        resources  = local.table_resources
        conditions = []
      },
      {
        sid        = "DecryptThroughS3AndDynamoDB"
        actions    = ["kms:Decrypt"]
        resources  = [var.kms_key_arn]
        conditions = local.via_s3_and_dynamodb
      },
    ]

    capture = concat(
      [
        {
          sid        = "SendOnlyThePacketCaptureDocument"
          actions    = ["ssm:SendCommand"]
          resources  = [var.capture_document.arn]
          conditions = []
        },
      ],
      [
        for i, key in var.eks_node_tag_keys : {
          sid       = "SendOnlyToEksNodesByTagKey${i}"
          actions   = ["ssm:SendCommand"]
          resources = local.instance_arns
          conditions = [{
            test     = "StringLike"
            variable = "ssm:resourceTag/${key}"
            values   = ["*"]
          }]
        }
      ],
      [
        {
          sid        = "SignCaptureUploads"
          actions    = ["s3:PutObject"]
          resources  = [local.objects.captures]
          conditions = []
        },
        {
          sid        = "ReadCaptures"
          actions    = ["s3:GetObject"]
          resources  = [local.objects.captures]
          conditions = []
        },
        local.tell_missing_from_forbidden,
        {
          sid        = "TrackCaptures"
          actions    = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
          resources  = local.table_resources
          conditions = []
        },
        {
          sid        = "EncryptThroughS3AndDynamoDB"
          actions    = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
          resources  = [var.kms_key_arn]
          conditions = local.via_s3_and_dynamodb
        },
        {
          # ec2:DescribeInstances, ssm:DescribeInstanceInformation and ssm:GetCommandInvocation
          # have no resource-level permissions.
          sid        = "DescribeNodesAndFollowCommands"
          actions    = ["ec2:DescribeInstances", "ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation"]
          resources  = ["*"]
          conditions = local.in_allowed_regions
        },
      ],
    )

    runbooks = [
      {
        sid        = "ReadBundlesAndCaptures"
        actions    = ["s3:GetObject"]
        resources  = [local.objects.bundles, local.objects.captures]
        conditions = []
      },
      local.tell_missing_from_forbidden,
      {
        sid        = "ReadJobs"
        actions    = ["dynamodb:GetItem", "dynamodb:Query"]
        resources  = local.table_resources
        conditions = []
      },
      {
        sid        = "DecryptThroughS3AndDynamoDB"
        actions    = ["kms:Decrypt"]
        resources  = [var.kms_key_arn]
        conditions = local.via_s3_and_dynamodb
      },
    ]
  }

  environment = merge(
    {
      BUCKET_NAME                  = var.bucket_name
      TABLE_NAME                   = var.table_name
      KMS_KEY_ARN                  = var.kms_key_arn
      COLLECT_DOCUMENT_NAME        = var.collect_document.name
      CAPTURE_DOCUMENT_NAME        = var.capture_document.name
      AUTOMATION_ROLE_ARN          = var.automation_role_arn
      ALLOWED_REGIONS              = join(",", var.allowed_regions)
      PRESIGN_PUT_SECONDS          = tostring(var.presign_put_seconds)
      PRESIGN_GET_SECONDS          = tostring(var.presign_get_seconds)
      POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
      LOG_LEVEL                    = var.log_level
    },
    var.environment,
  )
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
  for_each = local.groups

  dynamic "statement" {
    for_each = concat(local.common_statements[each.key], local.group_statements[each.key])
    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = local.groups

  name                 = "${local.role_name_prefix}-${each.key}"
  path                 = var.iam_role.path
  permissions_boundary = var.iam_role.permissions_boundary
  description          = "${each.value} (${local.function_names[each.key]})"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = local.groups

  name   = "${each.key}-tools"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.this[each.key].json
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice (log_retention_in_days); diagnostics logs rarely need a year.
  for_each = local.groups

  name              = "/aws/lambda/${local.function_names[each.key]}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously by the gateway; a dead-letter queue only applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:Calls only AWS APIs (SSM, S3, DynamoDB, EKS, EC2); no VPC resource to reach, and a VPC would need NAT or endpoints.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile the caller owns; the package is built reproducibly and its hash is pinned.
  for_each = local.groups

  function_name                  = local.function_names[each.key]
  description                    = each.value
  role                           = aws_iam_role.this[each.key].arn
  handler                        = "eksdiag.lambda_entry.${each.key}.handler"
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

  environment {
    variables = merge(local.environment, { POWERTOOLS_SERVICE_NAME = local.function_names[each.key] })
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}
