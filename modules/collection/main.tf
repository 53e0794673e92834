data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  role_name_prefix = coalesce(var.iam_role.name_prefix, var.name)
  account_id       = data.aws_caller_identity.current.account_id
  partition        = data.aws_partition.current.partition
  region           = data.aws_region.current.name

  document_names = {
    collect        = "${var.name}-collect"
    run_collector  = "${var.name}-run-collector"
    packet_capture = "${var.name}-packet-capture"
  }

  # collect.yaml names the Command document it runs by this token; the deployed name
  # depends on var.name, so it is filled in here.
  run_collector_token = "@RUN_COLLECTOR_DOCUMENT_NAME@"
  collect_content = replace(
    file("${var.documents_dir}/collect.yaml"),
    local.run_collector_token,
    local.document_names.run_collector,
  )

  instance_arn = "arn:${local.partition}:ec2:${local.region}:${local.account_id}:instance/*"
}

resource "aws_ssm_document" "run_collector" {
  name            = local.document_names.run_collector
  document_type   = "Command"
  document_format = "YAML"
  content         = file("${var.documents_dir}/run-collector.yaml")
  tags            = var.tags
}

resource "aws_ssm_document" "packet_capture" {
  name            = local.document_names.packet_capture
  document_type   = "Command"
  document_format = "YAML"
  content         = file("${var.documents_dir}/packet-capture.yaml")
  tags            = var.tags
}

resource "aws_ssm_document" "collect" {
  name            = local.document_names.collect
  document_type   = "Automation"
  document_format = "YAML"
  content         = local.collect_content
  tags            = var.tags

  lifecycle {
    precondition {
      condition     = strcontains(local.collect_content, local.document_names.run_collector)
      error_message = "collect.yaml must run the collector Command document through the ${local.run_collector_token} token."
    }
  }

  depends_on = [aws_ssm_document.run_collector]
}

data "aws_iam_policy_document" "automation_trust" {
  statement {
    sid     = "SsmAutomationOfThisAccountOnly"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ssm.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:automation-execution/*"]
    }
  }
}

data "aws_iam_policy_document" "automation" {
  statement {
    sid       = "RunOnlyTheCollectorDocument"
    effect    = "Allow"
    actions   = ["ssm:SendCommand"]
    resources = [aws_ssm_document.run_collector.arn]
  }

  # SendCommand is authorized on the document and on each target instance: one statement per
  # EKS node tag key (any one of them is enough).
  dynamic "statement" {
    for_each = var.eks_node_tag_keys
    content {
      sid       = "SendOnlyToEksNodesByTagKey${statement.key}"
      effect    = "Allow"
      actions   = ["ssm:SendCommand"]
      resources = [local.instance_arn]

      condition {
        test     = "StringLike"
        variable = "ssm:resourceTag/${statement.value}"
        values   = ["*"]
      }
    }
  }

  # The PrepareUpload step presigns the node's PUT under this role: the node itself needs no S3
  # or KMS permission, and the URL can write this one prefix only.
  statement {
    sid       = "SignBundleUploads"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arn}/uploads/*"]
  }

  statement {
    sid       = "EncryptUploadsThroughS3"
    effect    = "Allow"
    actions   = ["kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  # ExplainFailure reads the steps of its own execution.
  statement {
    sid       = "ReadOwnAutomationSteps"
    effect    = "Allow"
    actions   = ["ssm:DescribeAutomationStepExecutions"]
    resources = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:automation-execution/*"]
  }

  # ssm:DescribeInstanceInformation, ssm:GetCommandInvocation, ssm:ListCommandInvocations and
  # ssm:ListCommands have no resource-level permissions: Resource "*" is the only form IAM accepts.
  statement {
    sid    = "FollowCommandsAndCheckNodesOnline"
    effect = "Allow"
    actions = [
      "ssm:DescribeInstanceInformation",
      "ssm:GetCommandInvocation",
      "ssm:ListCommandInvocations",
      "ssm:ListCommands",
    ]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [local.region]
    }
  }
}

resource "aws_iam_role" "automation" {
  name                 = "${local.role_name_prefix}-automation"
  path                 = var.iam_role.path
  permissions_boundary = var.iam_role.permissions_boundary
  description          = "Assumed by SSM Automation (${local.document_names.collect}) to run the node collector."
  assume_role_policy   = data.aws_iam_policy_document.automation_trust.json
  tags                 = var.tags
}

resource "aws_iam_role_policy" "automation" {
  name   = "run-collector-on-eks-nodes"
  role   = aws_iam_role.automation.id
  policy = data.aws_iam_policy_document.automation.json
}
