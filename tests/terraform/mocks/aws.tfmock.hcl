# Shared mock values for the offline terraform tests. Computed attributes the module parses
# (policy JSON, Cloud Control properties) are pinned to realistic values; everything else is
# left to the mock provider.

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "111122223333"
    arn        = "arn:aws:sts::111122223333:assumed-role/platform-deployer/terraform"
  }
}

mock_data "aws_region" {
  defaults = {
    name = "us-east-1"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition = "aws"
  }
}

# The provider validates policy arguments as JSON even under mocks.
mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}

mock_resource "aws_kms_key" {
  defaults = {
    arn    = "arn:aws:kms:us-east-1:111122223333:key/0b9b9cde-1111-2222-3333-444455556666"
    key_id = "0b9b9cde-1111-2222-3333-444455556666"
  }
}

mock_resource "aws_s3_bucket" {
  defaults = {
    arn = "arn:aws:s3:::eksdiag-111122223333-us-east-1"
  }
}

mock_resource "aws_dynamodb_table" {
  defaults = {
    arn = "arn:aws:dynamodb:us-east-1:111122223333:table/eksdiag-jobs"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::111122223333:role/eksdiag-mock"
  }
}

mock_resource "aws_lambda_function" {
  defaults = {
    arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-mock"
  }
}

mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:us-east-1:111122223333:eksdiag-indexer-failures"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/eksdiag-mock"
  }
}

mock_resource "aws_ssm_document" {
  defaults = {
    arn = "arn:aws:ssm:us-east-1:111122223333:document/eksdiag-mock"
  }
}

mock_resource "aws_cognito_user_pool" {
  defaults = {
    id  = "us-east-1_AbCdEf123"
    arn = "arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_AbCdEf123"
  }
}

mock_resource "aws_cognito_user_pool_client" {
  defaults = {
    id            = "4example0client0id0abcdefg"
    client_secret = "not-a-secret"
  }
}

# Cloud Control returns the resource's properties as a JSON string. All computed attributes are
# pinned at plan time: mock values that change between plan and apply break the apply runs.
mock_resource "aws_cloudcontrolapi_resource" {
  override_during = plan
  defaults = {
    id         = "eksdiag-abcdefghij"
    schema     = "{}"
    properties = "{\"GatewayIdentifier\":\"eksdiag-abcdefghij\",\"GatewayArn\":\"arn:aws:bedrock-agentcore:us-east-1:111122223333:gateway/eksdiag-abcdefghij\",\"GatewayUrl\":\"https://eksdiag-abcdefghij.gateway.bedrock-agentcore.us-east-1.amazonaws.com/mcp\"}"
  }
}
