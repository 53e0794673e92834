################################################################################
# General
################################################################################

variable "name" {
  description = "Name prefix of every resource (functions, roles, documents, table, gateway). Lowercase letters, digits and single hyphens, 3 to 24 characters."
  type        = string
  default     = "eksdiag"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name)) && length(var.name) >= 3 && length(var.name) <= 24
    error_message = "name must be 3 to 24 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}

variable "allowed_regions" {
  description = "Regions the tools may inspect nodes in (ALLOWED_REGIONS). Empty means the region the module is deployed in. The SSM documents exist in the deployment region only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.allowed_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r))])
    error_message = "allowed_regions must hold region names such as us-east-1 or ap-southeast-2."
  }
}

variable "eks_node_tag_keys" {
  description = "Tag keys that mark an instance as an EKS node: the capture and automation roles may send commands only to instances carrying one of them (any value). Managed node groups set eks:cluster-name; self-managed and Karpenter nodes carry kubernetes.io/cluster/<cluster>, which IAM can only match as a whole key, so list one such key per cluster (a key cannot be a prefix or pattern)."
  type        = list(string)
  default     = ["eks:cluster-name"]

  validation {
    condition     = length(var.eks_node_tag_keys) > 0 && alltrue([for k in var.eks_node_tag_keys : length(k) > 0 && length(k) <= 128])
    error_message = "eks_node_tag_keys must hold at least one tag key of 1 to 128 characters."
  }

  validation {
    # EC2 tag keys: letters, digits, spaces and _ . : / = + - @. A "*" or "?" would be taken
    # literally in the ssm:resourceTag/<key> condition key and match no instance at all.
    condition     = alltrue([for k in var.eks_node_tag_keys : can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]+$", k))])
    error_message = "eks_node_tag_keys must be literal EC2 tag keys (letters, digits, spaces, _ . : / = + - @, no * or ?); list kubernetes.io/cluster/<cluster> once per cluster, since IAM cannot match a tag key by prefix."
  }
}

################################################################################
# KMS
################################################################################

variable "create_kms_key" {
  description = "Create a customer managed KMS key with rotation. Set to false and pass kms_key_arn to use your own."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of your own KMS key (when create_kms_key is false). Its policy must let this account's IAM policies use it and let CloudWatch Logs encrypt the Lambda log groups."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }

  validation {
    condition     = var.create_kms_key || var.kms_key_arn != null
    error_message = "Set kms_key_arn when create_kms_key is false."
  }
}

variable "kms_deletion_window_in_days" {
  description = "Days KMS waits before deleting the created key after destroy (7 to 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30
    error_message = "kms_deletion_window_in_days must be between 7 and 30."
  }
}

variable "kms_administrator_arns" {
  description = "IAM principals allowed to administer the created key (never to use it). Empty delegates administration to this account's IAM policies."
  type        = list(string)
  default     = []
}

################################################################################
# Storage and job table
################################################################################

variable "bucket_name" {
  description = "Name of the bundle bucket. Null means <name>-<account id>-<region>."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "bucket_force_destroy" {
  description = "Let terraform destroy delete the bucket while it still holds bundles."
  type        = bool
  default     = false
}

variable "noncurrent_version_expiration_days" {
  description = "Days overwritten or deleted object versions are kept."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "uploads_expiration_days" {
  description = "Days raw uploaded archives (uploads/) are kept after the indexer extracted them."
  type        = number
  default     = 7

  validation {
    condition     = var.uploads_expiration_days >= 1
    error_message = "uploads_expiration_days must be at least 1."
  }
}

variable "bundles_expiration_days" {
  description = "Days indexed bundles (bundles/: index and extracted files) are kept."
  type        = number
  default     = 90

  validation {
    condition     = var.bundles_expiration_days >= 1
    error_message = "bundles_expiration_days must be at least 1."
  }
}

variable "captures_expiration_days" {
  description = "Days packet captures and their summaries (captures/) are kept."
  type        = number
  default     = 30

  validation {
    condition     = var.captures_expiration_days >= 1
    error_message = "captures_expiration_days must be at least 1."
  }
}

variable "table_point_in_time_recovery" {
  description = "Keep point-in-time recovery backups of the job table."
  type        = bool
  default     = true
}

variable "table_deletion_protection" {
  description = "Protect the job table from deletion (terraform destroy fails while on)."
  type        = bool
  default     = false
}

################################################################################
# Cognito (OAuth2 client credentials)
################################################################################

variable "create_cognito" {
  description = "Create a Cognito user pool, resource server, domain and client-credentials app client. Set to false and pass jwt_discovery_url and jwt_allowed_client_ids to use your own issuer."
  type        = bool
  default     = true
}

variable "cognito_domain_prefix" {
  description = "Prefix of the Cognito hosted domain (<prefix>.auth.<region>.amazoncognito.com). Null means <name>-<account id>."
  type        = string
  default     = null

  validation {
    condition     = var.cognito_domain_prefix == null || can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.cognito_domain_prefix))
    error_message = "cognito_domain_prefix must be 1 to 63 lowercase letters, digits and hyphens, not starting or ending with a hyphen."
  }
}

variable "oauth_resource_server_identifier" {
  description = "Identifier of the OAuth resource server; scopes read <identifier>/read and <identifier>/collect."
  type        = string
  default     = "eksdiag"

  validation {
    condition     = can(regex("^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,256}$", var.oauth_resource_server_identifier))
    error_message = "oauth_resource_server_identifier must be 1 to 256 printable characters without spaces, quotes or backslashes."
  }
}

variable "oauth_client_scopes" {
  description = "Scopes the created app client may request: read (analysis tools) and collect (collection and capture). AWS DevOps Agent sends one scope per token request."
  type        = list(string)
  default     = ["read", "collect"]

  validation {
    condition     = length(var.oauth_client_scopes) > 0 && alltrue([for s in var.oauth_client_scopes : contains(["read", "collect"], s)])
    error_message = "oauth_client_scopes must be a non-empty subset of [\"read\", \"collect\"]."
  }
}

variable "access_token_validity_minutes" {
  description = "Lifetime of the app client's access tokens, in minutes (5 to 1440). Clients should cache tokens: Cognito bills client-credentials token requests."
  type        = number
  default     = 60

  validation {
    condition     = var.access_token_validity_minutes >= 5 && var.access_token_validity_minutes <= 1440
    error_message = "access_token_validity_minutes must be between 5 and 1440 (one day)."
  }
}

variable "jwt_discovery_url" {
  description = "OpenID discovery URL of your own token issuer (when create_cognito is false)."
  type        = string
  default     = null

  validation {
    condition     = var.jwt_discovery_url == null || can(regex("^https://.+/\\.well-known/openid-configuration$", var.jwt_discovery_url))
    error_message = "jwt_discovery_url must be an https URL ending in /.well-known/openid-configuration."
  }

  validation {
    condition     = var.create_cognito || var.jwt_discovery_url != null
    error_message = "Set jwt_discovery_url when create_cognito is false."
  }
}

variable "jwt_allowed_client_ids" {
  description = "Client ids the gateway accepts from your own issuer (when create_cognito is false)."
  type        = list(string)
  default     = []

  validation {
    condition     = var.create_cognito || length(var.jwt_allowed_client_ids) > 0
    error_message = "Set jwt_allowed_client_ids when create_cognito is false: the gateway checks the client_id claim."
  }
}

variable "oauth_token_endpoint" {
  description = "Token endpoint of your own issuer, passed to the token_endpoint output (when create_cognito is false)."
  type        = string
  default     = null
}

################################################################################
# Gateway
################################################################################

variable "create_gateway" {
  description = "Create the AgentCore gateway with one Lambda target per tool group. Off, the functions are deployed without a gateway (for emulators, or to attach them to a gateway you own)."
  type        = bool
  default     = true
}

variable "gateway_name" {
  description = "Name of the gateway. Null means <name>."
  type        = string
  default     = null

  validation {
    condition     = var.gateway_name == null || can(regex("^([0-9a-zA-Z][-]?){1,100}$", var.gateway_name))
    error_message = "gateway_name must be letters and digits, optionally separated by single hyphens, at most 100 of them (no underscores)."
  }
}

variable "gateway_instructions" {
  description = "Instructions the gateway gives MCP clients at initialize (at most 2048 characters)."
  type        = string
  default     = "Diagnose Amazon EKS worker nodes from their OS-level evidence. Start with nodelog___collect for an instance, poll nodelog___status, then use findings___errors, findings___search and findings___read; cite finding ids."

  validation {
    condition     = var.gateway_instructions == null || length(coalesce(var.gateway_instructions, " ")) <= 2048
    error_message = "gateway_instructions must be at most 2048 characters."
  }
}

variable "gateway_exception_level" {
  description = "DEBUG returns underlying error text (such as Lambda access denied) to MCP clients; null keeps errors generic."
  type        = string
  default     = null

  validation {
    condition     = var.gateway_exception_level == null || var.gateway_exception_level == "DEBUG"
    error_message = "gateway_exception_level must be null or DEBUG."
  }
}

variable "gateway_supported_versions" {
  description = "MCP protocol versions the gateway accepts. They cannot be extended after creation."
  type        = list(string)
  default     = ["2025-03-26", "2025-06-18"]

  validation {
    condition     = length(var.gateway_supported_versions) > 0 && alltrue([for v in var.gateway_supported_versions : can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", v))])
    error_message = "gateway_supported_versions must hold MCP protocol versions such as 2025-06-18."
  }
}

variable "gateway_semantic_search" {
  description = "Enable the gateway's semantic tool search (x_amz_bedrock_agentcore_search). Only settable when the gateway is created."
  type        = bool
  default     = false
}

variable "gateway_allowed_scopes" {
  description = "Scopes every token must carry (full strings, <identifier>/<scope>). Empty checks only the client id, which keeps single-scope clients working."
  type        = list(string)
  default     = []
}

variable "gateway_target_names" {
  description = "Target name per tool group; MCP clients see tools as <target>___<tool>, which must stay within 64 characters."
  type        = map(string)
  default = {
    nodelog  = "nodelog"
    findings = "findings"
    capture  = "capture"
    runbooks = "runbooks"
  }

  validation {
    condition = (
      sort(keys(var.gateway_target_names)) == sort(["nodelog", "findings", "capture", "runbooks"])
      && alltrue([for n in values(var.gateway_target_names) : can(regex("^([0-9a-zA-Z][-]?){1,100}$", n))])
    )
    error_message = "gateway_target_names must map exactly nodelog, findings, capture and runbooks to names of letters, digits and single hyphens (no underscores)."
  }
}

variable "gateway_resource_schemas" {
  description = "CloudFormation resource schemas (JSON strings) of AWS::BedrockAgentCore::Gateway (gateway), ::GatewayTarget (target), ::PolicyEngine (policy_engine) and ::Policy (policy) that Cloud Control validates desired_state against at plan. Null, or a null attribute, means the copies shipped in modules/gateway/resource-schemas, so plan never calls cloudformation:DescribeType; pass the output of `aws cloudformation describe-type --type RESOURCE --type-name <type> --query Schema` to use AWS's current one."
  type = object({
    gateway       = optional(string)
    target        = optional(string)
    policy_engine = optional(string)
    policy        = optional(string)
  })
  default  = {}
  nullable = false
}

variable "tool_schema_dir" {
  description = "Directory of the generated gateway tool schemas, one <group>.cfn.json (CloudFormation casing, written by `make schemas`) per tool group. Null means the schemas shipped in this module (handlers/eksdiag/schemas/gateway)."
  type        = string
  default     = null
}

################################################################################
# Gateway authorization (per tool, by OAuth scope)
################################################################################

variable "create_gateway_policy_engine" {
  description = "Enforce the scope table at the gateway: an AgentCore Policy engine with Cedar policies lets a token with <identifier>/read call only the analysis, status and runbook tools, and <identifier>/collect also the collection and capture tools, refused before any Lambda runs. Off: every token of an allowed client may call every tool."
  type        = bool
  default     = true
}

variable "gateway_policy_engine_mode" {
  description = "ENFORCE refuses tool calls the scope table does not allow; LOG_ONLY only records the decisions (to trial the policies on live traffic before enforcing them)."
  type        = string
  default     = "ENFORCE"

  validation {
    condition     = contains(["ENFORCE", "LOG_ONLY"], var.gateway_policy_engine_mode)
    error_message = "gateway_policy_engine_mode must be ENFORCE or LOG_ONLY."
  }
}

################################################################################
# Lambda functions
################################################################################

variable "lambda_package" {
  description = "Deployment package built by `make package` (dist/lambda-<arch>.zip): a local file path in filename, or an S3 object in s3_bucket/s3_key (with s3_object_version and source_code_hash to make changes visible)."
  type = object({
    filename          = optional(string)
    s3_bucket         = optional(string)
    s3_key            = optional(string)
    s3_object_version = optional(string)
    source_code_hash  = optional(string)
  })

  validation {
    condition = (
      (var.lambda_package.filename != null && var.lambda_package.s3_bucket == null && var.lambda_package.s3_key == null)
      || (var.lambda_package.filename == null && var.lambda_package.s3_bucket != null && var.lambda_package.s3_key != null)
    )
    error_message = "lambda_package must set either filename, or s3_bucket and s3_key, not both."
  }
}

variable "lambda_runtime" {
  description = "Python runtime of every function; the package's wheels are built for it."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.12 or python3.13."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of every function; must match the package (make package ARCH=arm64|x86_64)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "powertools_layer_arn" {
  description = "Powertools for AWS Lambda (Python) v3 layer ARN. Null means the public layer for the runtime and architecture at powertools_layer_version; the current version is in the SSM parameter /aws/service/powertools/python/<arch>/<python3.x>/latest."
  type        = string
  default     = null
}

variable "powertools_layer_version" {
  description = "Version of the public Powertools layer used when powertools_layer_arn is null."
  type        = number
  default     = 38

  validation {
    condition     = var.powertools_layer_version >= 1 && floor(var.powertools_layer_version) == var.powertools_layer_version
    error_message = "powertools_layer_version must be a positive whole number."
  }
}

variable "attach_powertools_layer" {
  description = "Attach the Powertools layer. Turn off only when the package bundles Powertools itself (or for emulators without layers)."
  type        = bool
  default     = true
}

variable "tool_memory_size" {
  description = "Memory of each tool function, in MB (128 to 10240)."
  type        = number
  default     = 1024

  validation {
    condition     = var.tool_memory_size >= 128 && var.tool_memory_size <= 10240
    error_message = "tool_memory_size must be between 128 and 10240 MB."
  }
}

variable "tool_timeout" {
  description = "Timeout of each tool function, in seconds (1 to 900). Gateways wait far less than 15 minutes: tools start work and return, the agent polls."
  type        = number
  default     = 60

  validation {
    condition     = var.tool_timeout >= 1 && var.tool_timeout <= 900
    error_message = "tool_timeout must be between 1 and 900 seconds."
  }
}

variable "indexer_memory_size" {
  description = "Memory of the indexer, in MB (128 to 10240). It streams bundles, so memory need not grow with bundle size; more memory also means more CPU."
  type        = number
  default     = 2048

  validation {
    condition     = var.indexer_memory_size >= 128 && var.indexer_memory_size <= 10240
    error_message = "indexer_memory_size must be between 128 and 10240 MB."
  }
}

variable "indexer_ephemeral_storage_size" {
  description = "Size of the indexer's /tmp, in MB (512 to 10240)."
  type        = number
  default     = 1024

  validation {
    condition     = var.indexer_ephemeral_storage_size >= 512 && var.indexer_ephemeral_storage_size <= 10240
    error_message = "indexer_ephemeral_storage_size must be between 512 and 10240 MB."
  }
}

variable "indexer_timeout" {
  description = "Timeout of the indexer, in seconds (1 to 900)."
  type        = number
  default     = 900

  validation {
    condition     = var.indexer_timeout >= 1 && var.indexer_timeout <= 900
    error_message = "indexer_timeout must be between 1 and 900 seconds."
  }
}

variable "indexer_maximum_retry_attempts" {
  description = "Retries of a failed upload event before it is sent to the failure queue (0 to 2)."
  type        = number
  default     = 2

  validation {
    condition     = var.indexer_maximum_retry_attempts >= 0 && var.indexer_maximum_retry_attempts <= 2
    error_message = "indexer_maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "lambda_tracing_mode" {
  description = "X-Ray tracing of every function: Active or PassThrough."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.lambda_tracing_mode)
    error_message = "lambda_tracing_mode must be Active or PassThrough."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the functions' log groups, in days (a CloudWatch Logs retention value)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of every function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }
}

variable "presign_put_seconds" {
  description = "Lifetime of the presigned URL a node uploads its bundle with, in seconds (60 to 3600)."
  type        = number
  default     = 900

  validation {
    condition     = var.presign_put_seconds >= 60 && var.presign_put_seconds <= 3600
    error_message = "presign_put_seconds must be between 60 and 3600."
  }
}

variable "presign_get_seconds" {
  description = "Lifetime of presigned download URLs handed to agents, in seconds (60 to 900)."
  type        = number
  default     = 900

  validation {
    condition     = var.presign_get_seconds >= 60 && var.presign_get_seconds <= 900
    error_message = "presign_get_seconds must be between 60 and 900."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch metrics namespace of the tool metrics (POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
  default     = "EksDiag"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1 to 255 characters of letters, digits and . _ / # : -, and not start with AWS/."
  }
}

################################################################################
# SSM
################################################################################

variable "ssm_documents_dir" {
  description = "Directory of the SSM documents (collect.yaml, run-collector.yaml, packet-capture.yaml). Null means the documents shipped in this module (ssm/documents)."
  type        = string
  default     = null
}
