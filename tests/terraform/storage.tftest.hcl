# The bundle bucket: encryption, public access, TLS, lifecycle and the indexer notification.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  bucket_name          = "eksdiag-111122223333-us-east-1"
  kms_key_arn          = "arn:aws:kms:us-east-1:111122223333:key/0b9b9cde-1111-2222-3333-444455556666"
  indexer_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-indexer"
}

run "bucket" {
  module {
    source = "./modules/storage"
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.this.statement : s.effect == "Deny" && contains(tolist(s.actions), "s3:*") && anytrue([
        for c in s.condition : c.test == "Bool" && c.variable == "aws:SecureTransport" && toset(c.values) == toset(["false"])
      ])
    ])
    error_message = "The bucket policy must deny every request made without TLS."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.this.statement : s.effect == "Deny" && toset(s.actions) == toset(["s3:PutObject"]) && anytrue([
        for c in s.condition : c.test == "StringNotEquals" && c.variable == "s3:x-amz-server-side-encryption" && toset(c.values) == toset(["aws:kms"])
      ])
    ])
    error_message = "The bucket policy must deny puts asking for another encryption than SSE-KMS."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.this.statement : s.effect == "Deny" && anytrue([
        for c in s.condition : c.test == "StringNotEquals" && c.variable == "s3:x-amz-server-side-encryption-aws-kms-key-id" && toset(c.values) == toset([var.kms_key_arn])
      ])
    ])
    error_message = "The bucket policy must deny puts naming another KMS key."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.this.statement : s.effect == "Deny" && toset(s.actions) == toset(["s3:PutObject"]) && anytrue([
        for c in s.condition : c.test == "StringEquals" && c.variable == "s3:x-amz-server-side-encryption" && toset(c.values) == toset(["aws:kms"])
        ]) && anytrue([
        for c in s.condition : c.test == "Null" && c.variable == "s3:x-amz-server-side-encryption-aws-kms-key-id" && toset(c.values) == toset(["true"])
      ])
    ])
    error_message = "The bucket policy must deny SSE-KMS puts that name no key (S3 would use aws/s3, not the module's key)."
  }

  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.this.statement : s.effect == "Deny"])
    error_message = "The bucket policy grants nothing; access comes from the function roles."
  }

  assert {
    condition = alltrue([
      for r in aws_s3_bucket_server_side_encryption_configuration.this.rule :
      r.bucket_key_enabled && one(r.apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" && one(r.apply_server_side_encryption_by_default).kms_master_key_id == var.kms_key_arn
    ])
    error_message = "Default encryption must be SSE-KMS with the module's key and the bucket key."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this.block_public_acls && aws_s3_bucket_public_access_block.this.block_public_policy
      && aws_s3_bucket_public_access_block.this.ignore_public_acls && aws_s3_bucket_public_access_block.this.restrict_public_buckets
    )
    error_message = "All public access must be blocked."
  }

  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Enabled"
    error_message = "Versioning must be on."
  }

  assert {
    condition = (
      { for r in aws_s3_bucket_lifecycle_configuration.this.rule : r.id => one(r.filter).prefix if r.id != "noncurrent-versions" }
      == { uploads = "uploads/", bundles = "bundles/", captures = "captures/" }
    )
    error_message = "Lifecycle rules must cover noncurrent versions and uploads/, bundles/, captures/."
  }

  assert {
    condition     = anytrue([for r in aws_s3_bucket_lifecycle_configuration.this.rule : try(one(r.noncurrent_version_expiration).noncurrent_days == 30, false)])
    error_message = "Noncurrent versions must expire."
  }

  assert {
    condition = (
      length(aws_s3_bucket_notification.this.lambda_function) == 1
      && one(aws_s3_bucket_notification.this.lambda_function).lambda_function_arn == var.indexer_function_arn
      && one(aws_s3_bucket_notification.this.lambda_function).filter_prefix == "uploads/"
      && one(aws_s3_bucket_notification.this.lambda_function).filter_suffix == ".tar.gz"
      && toset(one(aws_s3_bucket_notification.this.lambda_function).events) == toset(["s3:ObjectCreated:*"])
    )
    error_message = "One notification: ObjectCreated on uploads/*.tar.gz to the indexer."
  }
}
