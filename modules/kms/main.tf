data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account    = "arn:${local.partition}:iam::${local.account_id}:root"

  administrators = length(var.administrator_arns) > 0 ? var.administrator_arns : [local.account]

  # KMS refuses CreateKey when the new policy would not let the caller call PutKeyPolicy (the
  # lockout safety check). The caller is an IAM user, the root, or a role's session
  # (arn:aws:sts::<account>:assumed-role/<role>/<session>, which names the role without its path).
  caller_arn  = data.aws_caller_identity.current.arn
  caller_role = try(regex("^arn:[^:]+:sts::[0-9]{12}:assumed-role/([^/]+)/", local.caller_arn)[0], null)
  caller_administers = (
    contains(local.administrators, local.account)
    || contains(local.administrators, local.caller_arn)
    || anytrue([
      for a in local.administrators : local.caller_role != null
      && startswith(a, "arn:${local.partition}:iam::${local.account_id}:role/")
      && element(split("/", a), length(split("/", a)) - 1) == local.caller_role
    ])
  )
}

data "aws_iam_policy_document" "this" {
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" is the key itself; the writes are key administration for the account's IAM admins.
  #checkov:skip=CKV_AWS_109:Same: PutKeyPolicy and grants on this key only; grants are limited to AWS services by kms:GrantIsForAWSResource.
  #checkov:skip=CKV_AWS_356:In a key policy "*" can only mean this key; there is no narrower resource to name.
  count = var.create ? 1 : 0

  # Administration only, listed one by one: no kms:* and no usage rights.
  statement {
    sid    = "KeyAdministration"
    effect = "Allow"
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListGrants",
      "kms:ListKeyRotations",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:RevokeGrant",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    resources = ["*"] # in a key policy "*" means this key

    principals {
      type        = "AWS"
      identifiers = local.administrators
    }
  }

  # Usage is delegated to IAM in this account: the function roles' own policies name this key.
  statement {
    sid    = "UseThroughIamPoliciesOfThisAccount"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.account]
    }
  }

  # DynamoDB and Lambda (environment variables) use grants created on the caller's behalf.
  statement {
    sid       = "GrantsForAwsServicesOnly"
    effect    = "Allow"
    actions   = ["kms:CreateGrant"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.account]
    }

    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }

  # Only actions that carry an encryption context: kms:DescribeKey has none, so under this condition
  # it could never be granted.
  statement {
    sid    = "CloudWatchLogsForThisAccountsLogGroups"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }
}

resource "aws_kms_key" "this" {
  count = var.create ? 1 : 0

  description             = "${var.name}: EKS node diagnostics bundles, job table, logs"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.this[0].json
  tags                    = var.tags

  lifecycle {
    precondition {
      condition     = local.caller_administers
      error_message = "kms_administrator_arns leaves out the principal running terraform (${local.caller_arn}) and the account root (${local.account}): KMS would refuse to create a key whose policy locks its creator out of PutKeyPolicy. Add your role or user ARN, or ${local.account} (administration through IAM), to kms_administrator_arns, or leave it empty."
    }
  }
}

resource "aws_kms_alias" "this" {
  count = var.create ? 1 : 0

  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this[0].key_id
}
