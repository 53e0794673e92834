# The root module with every piece created, and with each create_* toggle off.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  lambda_package    = { filename = "tests/terraform/fixtures/package-standin.txt" }
  tool_schema_dir   = "tests/terraform/fixtures/schemas/gateway"
  ssm_documents_dir = "tests/terraform/fixtures/ssm/documents"
}

run "defaults_plan" {
  command = plan

  assert {
    condition     = module.tools.function_names == { nodelog = "eksdiag-nodelog", findings = "eksdiag-findings", capture = "eksdiag-capture", runbooks = "eksdiag-runbooks" }
    error_message = "One tool function per group, named <name>-<group>."
  }

  assert {
    condition     = output.document_names == { collect = "eksdiag-collect", run_collector = "eksdiag-run-collector", packet_capture = "eksdiag-packet-capture" }
    error_message = "Document names must be <name>-collect, <name>-run-collector, <name>-packet-capture."
  }

  assert {
    condition     = output.bucket_name == "eksdiag-111122223333-us-east-1"
    error_message = "Default bucket name must be <name>-<account>-<region>."
  }

  assert {
    condition     = output.table_name == "eksdiag-jobs"
    error_message = "Job table must be <name>-jobs."
  }

  assert {
    condition     = output.oauth_scopes == { read = "eksdiag/read", collect = "eksdiag/collect" }
    error_message = "Scopes must be <identifier>/read and <identifier>/collect."
  }

  assert {
    condition     = sort(output.tool_names) == sort(["nodelog___collect", "nodelog___status", "findings___errors", "capture___tcpdump_capture", "runbooks___list_sops"])
    error_message = "Tool names must be <target>___<tool> for every tool of every schema file."
  }
}

run "defaults_apply" {
  assert {
    condition     = output.oauth_discovery_url == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123/.well-known/openid-configuration"
    error_message = "The gateway must trust the created user pool's discovery URL."
  }

  assert {
    condition     = output.gateway_url == "https://eksdiag-abcdefghij.gateway.bedrock-agentcore.us-east-1.amazonaws.com/mcp"
    error_message = "gateway_url must come from the gateway's Cloud Control properties."
  }

  assert {
    condition     = output.gateway_id == "eksdiag-abcdefghij"
    error_message = "gateway_id must be the gateway identifier."
  }

  assert {
    condition     = output.client_id == "4example0client0id0abcdefg" && output.client_secret == "not-a-secret"
    error_message = "client_id and client_secret must be the created app client's."
  }

  assert {
    condition     = output.token_endpoint == "https://eksdiag-111122223333.auth.us-east-1.amazoncognito.com/oauth2/token"
    error_message = "token_endpoint must be the created domain's /oauth2/token."
  }

  assert {
    condition     = output.kms_key_arn == "arn:aws:kms:us-east-1:111122223333:key/0b9b9cde-1111-2222-3333-444455556666"
    error_message = "kms_key_arn must be the created key."
  }

  assert {
    condition     = toset(keys(output.function_arns)) == toset(["nodelog", "findings", "capture", "runbooks", "indexer"])
    error_message = "function_arns must cover every tool group and the indexer."
  }

  assert {
    condition     = output.indexer_failure_queue_arn == "arn:aws:sqs:us-east-1:111122223333:eksdiag-indexer-failures"
    error_message = "The indexer failure queue must be exposed."
  }
}

run "custom_name_prefixes_everything" {
  command = plan

  variables {
    name = "diag-prod"
  }

  assert {
    condition     = output.function_names.indexer == "diag-prod-indexer" && output.table_name == "diag-prod-jobs"
    error_message = "name must prefix functions and the table."
  }
}

run "own_kms_key" {
  variables {
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:us-east-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
  }

  assert {
    condition     = output.kms_key_arn == "arn:aws:kms:us-east-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    error_message = "With create_kms_key off, the given key must be used everywhere."
  }

  assert {
    condition     = module.kms.alias_name == null
    error_message = "No alias is created for a key brought by the caller."
  }
}

run "own_kms_key_requires_arn" {
  command = plan

  variables {
    create_kms_key = false
  }

  expect_failures = [var.kms_key_arn]
}

run "own_issuer" {
  variables {
    create_cognito         = false
    jwt_discovery_url      = "https://login.example.com/realms/ops/.well-known/openid-configuration"
    jwt_allowed_client_ids = ["devops-agent"]
    oauth_token_endpoint   = "https://login.example.com/realms/ops/protocol/openid-connect/token"
  }

  assert {
    condition     = output.client_id == null && output.user_pool_id == null
    error_message = "No Cognito pieces are created when bringing your own issuer."
  }

  assert {
    condition     = output.oauth_discovery_url == "https://login.example.com/realms/ops/.well-known/openid-configuration"
    error_message = "The gateway must trust the given issuer."
  }

  assert {
    condition     = output.token_endpoint == "https://login.example.com/realms/ops/protocol/openid-connect/token"
    error_message = "token_endpoint must pass the given endpoint through."
  }
}

run "own_issuer_requires_discovery_url_and_clients" {
  command = plan

  variables {
    create_cognito = false
  }

  expect_failures = [var.jwt_discovery_url, var.jwt_allowed_client_ids]
}

run "without_gateway" {
  variables {
    create_gateway = false
  }

  assert {
    condition     = output.gateway_url == null && output.gateway_id == null && output.gateway_role_arn == null
    error_message = "No gateway outputs without a gateway."
  }

  assert {
    condition     = length(output.tool_names) == 0
    error_message = "No tools are published without a gateway."
  }

  assert {
    condition     = length(output.function_names) == 5
    error_message = "The functions are still deployed without a gateway."
  }
}

run "without_gateway_needs_no_schema_files" {
  command = plan

  variables {
    create_gateway  = false
    tool_schema_dir = "tests/terraform/fixtures/does-not-exist"
  }

  assert {
    condition     = output.gateway_url == null
    error_message = "Schema files are only read for the gateway."
  }
}

run "package_from_s3" {
  command = plan

  variables {
    lambda_package = {
      s3_bucket        = "artifacts-111122223333"
      s3_key           = "eksdiag/lambda-arm64.zip"
      source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    }
  }

  assert {
    condition     = output.function_names.nodelog == "eksdiag-nodelog"
    error_message = "An S3 package must plan."
  }
}

# ---------------------------------------------------------------------------------------------------
# A registry consumer: no lambda_package, no build step. (test_tftest_plan.py checks which file each
# function gets from the real provider's plan.)
# ---------------------------------------------------------------------------------------------------

run "without_a_package_applies_the_one_shipped_in_the_module" {
  variables {
    lambda_package = null
  }

  assert {
    condition     = length(output.function_arns) == 5
    error_message = "With no lambda_package the module plans and applies."
  }
}

run "without_a_package_on_x86_64_plans" {
  command = plan

  variables {
    lambda_package      = null
    lambda_architecture = "x86_64"
  }
}

run "rejects_a_runtime_the_shipped_package_was_not_built_for" {
  command = plan

  variables {
    lambda_package = null
    lambda_runtime = "python3.13"
  }

  expect_failures = [var.lambda_runtime]
}

run "rejects_an_architecture_the_given_package_was_not_built_for" {
  command = plan

  variables {
    lambda_package      = { filename = "tests/terraform/fixtures/package-x86_64/lambda-x86_64.zip" }
    lambda_architecture = "arm64"
  }

  expect_failures = [var.lambda_architecture]
}

run "rejects_a_runtime_the_given_package_was_not_built_for" {
  command = plan

  variables {
    lambda_package      = { filename = "tests/terraform/fixtures/package-x86_64/lambda-x86_64.zip" }
    lambda_architecture = "x86_64"
    lambda_runtime      = "python3.13"
  }

  expect_failures = [var.lambda_runtime]
}

run "accepts_a_given_package_that_matches_its_manifest" {
  command = plan

  variables {
    lambda_package      = { filename = "tests/terraform/fixtures/package-x86_64/lambda-x86_64.zip" }
    lambda_architecture = "x86_64"
  }
}

run "null_gateway_resource_schemas_plan" {
  command = plan

  variables {
    gateway_resource_schemas = null
  }

  assert {
    condition     = output.gateway_url != null
    error_message = "gateway_resource_schemas = null means the shipped schemas, not an error."
  }
}
