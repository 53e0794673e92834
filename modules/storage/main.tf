locals {
  # Where every object class lives; the lifecycle, the notification filter and the function
  # policies all key off these prefixes.
  prefixes = {
    uploads  = "uploads/"
    bundles  = "bundles/"
    captures = "captures/"
  }
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Access logging needs a second bucket the caller owns; enable it there (server access logs or CloudTrail data events).
  #checkov:skip=CKV_AWS_144:Cross-region replication is a data-residency choice for the caller; bundles are re-collectable diagnostics.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "noncurrent-versions"
    status = "Enabled"

    # The whole bucket.
    filter {
      prefix = ""
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "uploads"
    status = "Enabled"

    filter {
      prefix = local.prefixes.uploads
    }

    expiration {
      days = var.uploads_expiration_days
    }
  }

  rule {
    id     = "bundles"
    status = "Enabled"

    filter {
      prefix = local.prefixes.bundles
    }

    expiration {
      days = var.bundles_expiration_days
    }
  }

  rule {
    id     = "captures"
    status = "Enabled"

    filter {
      prefix = local.prefixes.captures
    }

    expiration {
      days = var.captures_expiration_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "this" {
  # s3:* in a Deny is the documented way to refuse every plain-HTTP request; no Allow here.
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # A put without encryption headers gets the bucket default (SSE-KMS with this key and the
  # bucket key), so it is never stored unencrypted. What can go wrong is a put that asks for
  # something else: SSE-S3, DSSE, or another KMS key. Those are refused. The node's presigned PUT
  # carries "x-amz-server-side-encryption: aws:kms" and this key's ARN, so it passes.
  statement {
    sid       = "DenyPutsWithOtherEncryption"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["false"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }

  # "x-amz-server-side-encryption: aws:kms" without a key id makes S3 use the AWS managed key
  # aws/s3, not the bucket default: refused too, so every SSE-KMS put names this key.
  statement {
    sid       = "DenyKmsPutsWithoutTheKeyId"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }

    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = ["true"]
    }
  }

  statement {
    sid       = "DenyPutsWithAnotherKmsKey"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = ["false"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [var.kms_key_arn]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.this.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# The one notification configuration of this bucket (S3 keeps a single one per bucket).
resource "aws_s3_bucket_notification" "this" {
  bucket = aws_s3_bucket.this.id

  lambda_function {
    id                  = "index-uploaded-bundles"
    lambda_function_arn = var.indexer_function_arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = local.prefixes.uploads
    filter_suffix       = ".tar.gz"
  }
}
