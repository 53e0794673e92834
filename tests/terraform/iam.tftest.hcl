# Least privilege, checked on the policy documents each module builds.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  name                  = "eksdiag"
  package               = { filename = "tests/terraform/fixtures/package-standin.txt" }
  runtime               = "python3.12"
  architecture          = "arm64"
  memory_size           = 1024
  timeout               = 60
  log_retention_in_days = 30
  log_level             = "INFO"
  kms_key_arn           = "arn:aws:kms:us-east-1:111122223333:key/0b9b9cde-1111-2222-3333-444455556666"
  bucket_name           = "eksdiag-111122223333-us-east-1"
  bucket_arn            = "arn:aws:s3:::eksdiag-111122223333-us-east-1"
  table_name            = "eksdiag-jobs"
  table_arn             = "arn:aws:dynamodb:us-east-1:111122223333:table/eksdiag-jobs"
  collect_document      = { name = "eksdiag-collect", arn = "arn:aws:ssm:us-east-1:111122223333:document/eksdiag-collect" }
  capture_document      = { name = "eksdiag-packet-capture", arn = "arn:aws:ssm:us-east-1:111122223333:document/eksdiag-packet-capture" }
  automation_role_arn   = "arn:aws:iam::111122223333:role/eksdiag-automation"
  allowed_regions       = ["us-east-1", "eu-west-1"]
  eks_node_tag_keys     = ["eks:cluster-name", "kubernetes.io/cluster/prod"]
  presign_put_seconds   = 900
  presign_get_seconds   = 900
  metrics_namespace     = "EksDiag"

  # APIs without resource-level permissions: the only actions allowed on Resource "*".
  star_resource_actions = [
    "ec2:DescribeInstances",
    "ssm:DescribeAutomationExecutions",
    "ssm:DescribeInstanceInformation",
    "ssm:GetCommandInvocation",
    "ssm:ListCommandInvocations",
    "ssm:ListCommands",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
  ]
}

run "tool_roles" {
  command = plan

  module {
    source = "./modules/tools"
  }

  override_resource {
    target          = aws_cloudwatch_log_group.this
    override_during = plan
    values = {
      arn = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/eksdiag-tool"
    }
  }

  assert {
    condition = alltrue(flatten([
      for d in values(data.aws_iam_policy_document.this) : [for s in d.statement : [for a in s.actions : !strcontains(a, "*")]]
    ]))
    error_message = "No tool role may hold a wildcard action."
  }

  assert {
    condition = alltrue(flatten([
      for d in values(data.aws_iam_policy_document.this) : [
        for s in d.statement : [for a in s.actions : contains(var.star_resource_actions, a)] if contains(tolist(s.resources), "*")
      ]
    ]))
    error_message = "Resource \"*\" is allowed only for APIs without resource-level permissions."
  }

  assert {
    condition = [
      for g, d in data.aws_iam_policy_document.this : g if anytrue([for s in d.statement : contains(tolist(s.actions), "ssm:StartAutomationExecution")])
    ] == ["nodelog"]
    error_message = "Only the nodelog role may start the Automation."
  }

  assert {
    condition = [
      for g, d in data.aws_iam_policy_document.this : g if anytrue([for s in d.statement : contains(tolist(s.actions), "iam:PassRole")])
    ] == ["nodelog"]
    error_message = "Only the nodelog role may pass the automation role."
  }

  assert {
    condition = [
      for g, d in data.aws_iam_policy_document.this : g if anytrue([for s in d.statement : contains(tolist(s.actions), "ssm:SendCommand")])
    ] == ["capture"]
    error_message = "Only the capture role may send commands."
  }

  # The Service Authorization Reference requires both resource types for StartAutomationExecution:
  # the document it runs and the execution it creates (tests/contracts checks every action this way).
  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.this["nodelog"].statement : tolist(s.resources) if contains(tolist(s.actions), "ssm:StartAutomationExecution")
      ])) == toset([
      "arn:aws:ssm:us-east-1:111122223333:document/eksdiag-collect",
      "arn:aws:ssm:us-east-1:111122223333:automation-execution/*",
    ])
    error_message = "nodelog may start the collect Automation document (and the execution it creates) and nothing else."
  }

  assert {
    condition = alltrue([
      for g in ["findings", "capture", "runbooks"] : anytrue([
        for s in data.aws_iam_policy_document.this[g].statement : toset(s.actions) == toset(["s3:ListBucket"]) && toset(s.resources) == toset([var.bucket_arn]) && length(s.condition) == 0
      ])
    ])
    error_message = "Every role that reads objects may list the bucket, unconditioned, so that a missing key is a 404 and not a 403."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.this["capture"].statement : (
        toset(s.resources) == toset(["arn:aws:ssm:us-east-1:111122223333:document/eksdiag-packet-capture"])
        || (alltrue([for r in s.resources : can(regex("^arn:aws:ec2:[a-z0-9-]+:111122223333:instance/\\*$", r))]) && length(s.condition) == 1)
      ) if contains(tolist(s.actions), "ssm:SendCommand")
    ])
    error_message = "capture may send only the packet-capture document, and only to instances under a tag condition."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.this["capture"].statement : [for c in s.condition : c.variable] if contains(tolist(s.actions), "ssm:SendCommand")
    ])) == toset(["ssm:resourceTag/eks:cluster-name", "ssm:resourceTag/kubernetes.io/cluster/prod"])
    error_message = "capture's SendCommand must be bound to each EKS node tag key."
  }

  assert {
    condition = alltrue(flatten([
      for g in ["findings", "runbooks"] : [
        for s in data.aws_iam_policy_document.this[g].statement : [
          for a in s.actions : can(regex("^(s3:GetObject|s3:ListBucket|dynamodb:GetItem|dynamodb:Query|kms:Decrypt|logs:CreateLogStream|logs:PutLogEvents|xray:Put.*)$", a))
        ]
      ]
    ]))
    error_message = "findings and runbooks roles may only read (and write their own logs and traces)."
  }

  assert {
    condition = alltrue(flatten([
      for g in ["findings", "runbooks"] : [
        for s in data.aws_iam_policy_document.this[g].statement : [
          for r in s.resources : endswith(r, "/bundles/*") || endswith(r, "/captures/*")
        ] if contains(tolist(s.actions), "s3:GetObject")
      ]
    ]))
    error_message = "findings and runbooks may read bundles/ and captures/ only."
  }

  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.this["nodelog"].statement : tolist(s.actions)])) == toset([
      "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
      "ec2:DescribeInstances", "ssm:DescribeInstanceInformation",
      "ssm:StartAutomationExecution", "ssm:GetAutomationExecution", "ssm:DescribeAutomationExecutions",
      "iam:PassRole", "eks:DescribeCluster", "eks:ListNodegroups", "eks:DescribeNodegroup",
      "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem",
      "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey",
    ])
    error_message = "nodelog holds exactly what the nodelog tools call (no eks:ListClusters or other extras)."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.this["nodelog"].statement : (
        toset(s.resources) == toset([var.automation_role_arn])
        && anytrue([for c in s.condition : c.test == "StringEquals" && c.variable == "iam:PassedToService" && toset(c.values) == toset(["ssm.amazonaws.com"])])
      ) if contains(tolist(s.actions), "iam:PassRole")
    ])
    error_message = "nodelog may pass only the automation role, and only to SSM."
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.this["capture"].statement : [for r in s.resources : r == "${var.bucket_arn}/captures/*"] if contains(tolist(s.actions), "s3:PutObject")
      ])) && anytrue([
      for s in data.aws_iam_policy_document.this["capture"].statement : contains(tolist(s.actions), "kms:GenerateDataKey") && toset(s.resources) == toset([var.kms_key_arn])
    ])
    error_message = "capture signs upload URLs for captures/ only, with SSE-KMS under the module's key."
  }

  assert {
    condition     = aws_lambda_function.this["nodelog"].handler == "eksdiag.lambda_entry.nodelog.handler" && aws_lambda_function.this["capture"].handler == "eksdiag.lambda_entry.capture.handler"
    error_message = "Each group's function runs eksdiag.lambda_entry.<group>.handler."
  }

  assert {
    condition     = aws_lambda_function.this["findings"].environment[0].variables["ALLOWED_REGIONS"] == "us-east-1,eu-west-1" && aws_lambda_function.this["findings"].environment[0].variables["PRESIGN_GET_SECONDS"] == "900"
    error_message = "The functions get the environment contract (ALLOWED_REGIONS as a comma list, presign lifetimes)."
  }

  assert {
    condition     = alltrue([for f in values(aws_lambda_function.this) : toset(f.architectures) == toset(["arm64"]) && f.kms_key_arn == var.kms_key_arn])
    error_message = "Functions use the chosen architecture and encrypt their environment with the module's key."
  }

  assert {
    condition     = alltrue([for l in values(aws_cloudwatch_log_group.this) : l.retention_in_days == 30 && l.kms_key_id == var.kms_key_arn])
    error_message = "Log groups have retention and KMS encryption."
  }
}

run "indexer_role" {
  command = plan

  module {
    source = "./modules/indexer"
  }

  override_resource {
    target          = aws_cloudwatch_log_group.this
    override_during = plan
    values = {
      arn = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/eksdiag-indexer"
    }
  }

  override_resource {
    target          = aws_sqs_queue.failures
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:111122223333:eksdiag-indexer-failures"
    }
  }

  variables {
    memory_size            = 2048
    ephemeral_storage_size = 2048
    timeout                = 900
  }

  assert {
    condition     = alltrue(flatten([for s in data.aws_iam_policy_document.this.statement : [for a in s.actions : !strcontains(a, "*")]]))
    error_message = "The indexer role may not hold a wildcard action."
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.this.statement : [for a in s.actions : contains(var.star_resource_actions, a)] if contains(tolist(s.resources), "*")
    ]))
    error_message = "Resource \"*\" only for APIs without resource-level permissions."
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.this.statement : [for r in s.resources : endswith(r, "/bundles/*")] if contains(tolist(s.actions), "s3:PutObject")
    ]))
    error_message = "The indexer writes under bundles/ only."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.this.statement : toset(s.actions) == toset(["s3:ListBucket"]) && toset(s.resources) == toset([var.bucket_arn]) && length(s.condition) == 0
    ])
    error_message = "The indexer may list the bucket, so that a removed upload reads as 404 (done), not 403 (retried)."
  }

  assert {
    condition     = aws_lambda_permission.s3.source_arn == var.bucket_arn && aws_lambda_permission.s3.source_account == "111122223333" && aws_lambda_permission.s3.principal == "s3.amazonaws.com"
    error_message = "S3 may invoke the indexer only for this bucket and account."
  }

  assert {
    condition     = aws_lambda_function.this.memory_size == 2048 && aws_lambda_function.this.ephemeral_storage[0].size == 2048 && aws_lambda_function.this.handler == "eksdiag.lambda_entry.indexer.handler"
    error_message = "Memory, ephemeral storage and handler come from the variables and the contract."
  }

  assert {
    condition     = aws_sqs_queue.failures.kms_master_key_id == var.kms_key_arn
    error_message = "The failure queue is encrypted with the module's key."
  }

  assert {
    condition     = length(aws_lambda_function_event_invoke_config.this.destination_config[0].on_failure) == 1 && aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 2
    error_message = "Failed events go to the on-failure destination after the retries."
  }
}

run "automation_role" {
  command = plan

  module {
    source = "./modules/collection"
  }

  override_resource {
    target          = aws_ssm_document.run_collector
    override_during = plan
    values = {
      arn = "arn:aws:ssm:us-east-1:111122223333:document/eksdiag-run-collector"
    }
  }

  variables {
    documents_dir = "tests/terraform/fixtures/ssm/documents"
  }

  assert {
    condition     = alltrue(flatten([for s in data.aws_iam_policy_document.automation.statement : [for a in s.actions : !strcontains(a, "*")]]))
    error_message = "The automation role may not hold a wildcard action."
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.automation.statement : [for a in s.actions : contains(var.star_resource_actions, a)] if contains(tolist(s.resources), "*")
    ]))
    error_message = "Resource \"*\" only for APIs without resource-level permissions."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.automation_trust.statement : anytrue([
        for c in s.condition : c.variable == "aws:SourceAccount" && toset(c.values) == toset(["111122223333"])
      ])
    ])
    error_message = "The automation role trusts SSM only on behalf of this account (aws:SourceAccount)."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.automation_trust.statement : anytrue([
        for c in s.condition : c.test == "ArnLike" && c.variable == "aws:SourceArn" && toset(c.values) == toset(["arn:aws:ssm:us-east-1:111122223333:automation-execution/*"])
      ])
    ])
    error_message = "The automation role trusts only this account's Automation executions in this region (aws:SourceArn)."
  }

  # Every call the collect document makes under this role (tests/terraform/test_emulator_twin.py
  # derives the same list from ssm/documents/collect.yaml and checks the deployed role).
  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.automation.statement : tolist(s.actions)])) == toset([
      "s3:PutObject", "kms:GenerateDataKey", "ssm:SendCommand",
      "ssm:DescribeInstanceInformation", "ssm:ListCommands", "ssm:ListCommandInvocations", "ssm:GetCommandInvocation",
      "ssm:DescribeAutomationStepExecutions",
    ])
    error_message = "The automation role holds exactly what collect.yaml calls."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.automation.statement : toset(s.actions) == toset(["kms:GenerateDataKey"]) && toset(s.resources) == toset([var.kms_key_arn])
    ])
    error_message = "The automation role may generate data keys under the bucket key only (for the presigned SSE-KMS PUT)."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.automation.statement : (
        toset(s.resources) == toset(["arn:aws:ssm:us-east-1:111122223333:document/eksdiag-run-collector"])
        || (toset(s.resources) == toset(["arn:aws:ec2:us-east-1:111122223333:instance/*"]) && length(s.condition) == 1)
      ) if contains(tolist(s.actions), "ssm:SendCommand")
    ])
    error_message = "The automation role may send only the run-collector document, and only to instances under a tag condition."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.automation.statement : [for c in s.condition : c.variable] if contains(tolist(s.actions), "ssm:SendCommand")
    ])) == toset(["ssm:resourceTag/eks:cluster-name", "ssm:resourceTag/kubernetes.io/cluster/prod"])
    error_message = "The automation role may send commands only to tagged EKS nodes."
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.automation.statement : [for r in s.resources : r == "${var.bucket_arn}/uploads/*"] if contains(tolist(s.actions), "s3:PutObject")
    ]))
    error_message = "The automation role signs uploads under uploads/ only."
  }

  assert {
    condition     = aws_ssm_document.collect.document_type == "Automation" && aws_ssm_document.run_collector.document_type == "Command" && aws_ssm_document.packet_capture.document_type == "Command"
    error_message = "collect is an Automation document, the others Command documents."
  }

  assert {
    condition     = strcontains(aws_ssm_document.collect.content, "DocumentName: \"eksdiag-run-collector\"") && !strcontains(aws_ssm_document.collect.content, "@RUN_COLLECTOR_DOCUMENT_NAME@")
    error_message = "collect runs the deployed run-collector document by name."
  }
}

run "gateway_role" {
  command = plan

  module {
    source = "./modules/gateway"
  }

  variables {
    # Without a customer managed key; gateway.tftest.hcl covers the key statement.
    kms_key_arn        = null
    supported_versions = ["2025-06-18"]
    discovery_url      = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123/.well-known/openid-configuration"
    allowed_client_ids = ["client"]
    schema_dir         = "tests/terraform/fixtures/schemas/gateway"
    targets = {
      nodelog  = { name = "nodelog", description = "n", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-nodelog" }
      findings = { name = "findings", description = "f", function_arn = "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-findings" }
    }
  }

  assert {
    condition = flatten([for s in data.aws_iam_policy_document.this[0].statement : tolist(s.actions)]) == ["lambda:InvokeFunction"] && toset(flatten([for s in data.aws_iam_policy_document.this[0].statement : tolist(s.resources)])) == toset([
      "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-nodelog",
      "arn:aws:lambda:us-east-1:111122223333:function:eksdiag-findings",
    ])
    error_message = "The gateway role may invoke the tool functions and nothing else."
  }

  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.assume[0].statement : [for c in s.condition : c.variable]])) == toset(["aws:SourceAccount", "aws:SourceArn"])
    error_message = "The gateway role trusts AgentCore only for this account's gateways."
  }
}

run "key_policy" {
  command = plan

  module {
    source = "./modules/kms"
  }

  assert {
    condition     = alltrue(flatten([for s in data.aws_iam_policy_document.this[0].statement : [for a in s.actions : !strcontains(a, "*")]]))
    error_message = "The key policy lists actions one by one: no kms:*."
  }

  assert {
    condition     = aws_kms_key.this[0].enable_key_rotation == true
    error_message = "The key rotates."
  }
}
