################################################################################
# General
################################################################################

variable "name" {
  description = "Name prefix of every resource (functions, roles, documents, table, gateway). Lowercase letters, digits and single hyphens, 3 to 24 characters."
  type        = string
  default     = "eksdiag"

  # 24 keeps every derived name within its service's limit, for the longest region name
  # (us-isof-south-1, 15 characters, in botocore's endpoints.json): IAM role
  # <name>-<region>-automation <= 64 (iam roleNameType), Lambda <name>-findings <= 64, default bucket
  # <name>-<account>-<region> <= 63, default Cognito domain <name>-<account> <= 63 (DomainType),
  # SQS <name>-indexer-failures <= 80. tests/terraform/names.tftest.hcl plans the longest case.
  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name)) && length(var.name) >= 3 && length(var.name) <= 24
    error_message = "name must be 3 to 24 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen."
  }

  validation {
    # The default Cognito domain prefix is <name>-<account id>; Cognito refuses these words in it.
    condition     = !var.create_cognito || var.cognito_domain_prefix != null || length(regexall("aws|amazon|cognito", var.name)) == 0
    error_message = "name must not contain aws, amazon or cognito while it makes the default Cognito domain prefix (<name>-<account id>): Cognito refuses those words in a domain. Set cognito_domain_prefix, or choose another name."
  }

  validation {
    # The default bucket name is <name>-<account id>-<region>; S3 reserves these prefixes.
    condition     = var.bucket_name != null || !anytrue([for p in ["sthree-", "amzn-s3-demo-"] : startswith("${var.name}-", p)])
    error_message = "name must not start with sthree or amzn-s3-demo while it makes the default bucket name (<name>-<account id>-<region>): S3 reserves those prefixes. Set bucket_name, or choose another name."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags (at most 50). Keys 1 to 128 characters, not starting with aws:, values at most 256; with the gateway on, only the characters AgentCore accepts (letters, digits, spaces and _ . : / = + - @)."
  type        = map(string)
  default     = {}

  # IAM, Lambda, KMS, S3, Cognito: keys 1-128, values 0-256, 50 tags (iam tagKeyType/tagValueType,
  # tagListType); aws: is reserved for AWS's own tags.
  validation {
    condition     = length(var.tags) <= 50 && alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "tags: at most 50, keys 1 to 128 characters, values at most 256 characters."
  }

  validation {
    condition     = !anytrue([for k in keys(var.tags) : startswith(lower(k), "aws:")])
    error_message = "tags: keys starting with aws: are reserved for AWS and refused by every service."
  }

  validation {
    condition     = alltrue([for k, v in var.tags : can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]+$", k)) && can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]*$", v))])
    error_message = "tags: keys and values may hold letters, digits, spaces and _ . : / = + - @ only."
  }

  validation {
    # AWS::BedrockAgentCore::Gateway TagsMap: ASCII letters and digits only (cfn-lint schema, botocore
    # bedrock-agentcore-control TagKey/TagValue pattern [a-zA-Z0-9\s._:/=+@-]*).
    condition     = !var.create_gateway || alltrue([for k, v in var.tags : can(regex("^[a-zA-Z0-9\\s._:/=+@-]*$", "${k}${v}"))])
    error_message = "tags: the AgentCore gateway accepts only ASCII letters, digits, spaces and _ . : / = + - @ in tag keys and values."
  }
}

variable "allowed_regions" {
  description = "Regions the tools may inspect nodes in (ALLOWED_REGIONS). Empty means the region the module is deployed in; otherwise the list must include it (the SSM documents, and the tools' default region, are the deployment region's)."
  type        = list(string)
  default     = []

  validation {
    # Every region in botocore's endpoints.json, e.g. us-east-1, us-gov-west-1, eusc-de-east-1.
    condition     = alltrue([for r in var.allowed_regions : can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$", r))])
    error_message = "allowed_regions must hold region names such as us-east-1 or ap-southeast-2."
  }

  validation {
    condition     = length(var.allowed_regions) == 0 || contains(var.allowed_regions, data.aws_region.current.name)
    error_message = "allowed_regions must include the region the module is deployed in (${data.aws_region.current.name}): the collect and capture documents exist there only, and the tools default to it."
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
  description = "ARN of your own KMS key (only with create_kms_key = false), in the deployment region: arn:<partition>:kms:<region>:<account>:key/<key id> with a key id (UUID or mrk-), not an alias. Its policy must let this account's IAM policies use it and let CloudWatch Logs encrypt the Lambda log groups."
  type        = string
  default     = null

  # botocore bedrock-agentcore-control KmsKeyArn: key/[a-zA-Z0-9-]{36}; a key id is a UUID, or mrk-
  # and 32 hex digits for a multi-Region key (both 36 characters).
  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN with its key id (arn:aws:kms:<region>:<account>:key/<uuid or mrk-...>), not an alias or a bare key id."
  }

  validation {
    condition     = var.kms_key_arn == null || try(split(":", var.kms_key_arn)[3], "") == data.aws_region.current.name
    error_message = "kms_key_arn must be a key in the deployment region (${data.aws_region.current.name}): S3, DynamoDB, SQS, CloudWatch Logs and Lambda use keys of their own region only."
  }

  validation {
    condition     = var.create_kms_key || var.kms_key_arn != null
    error_message = "Set kms_key_arn when create_kms_key is false."
  }

  validation {
    condition     = !var.create_kms_key || var.kms_key_arn == null
    error_message = "kms_key_arn is set while create_kms_key is true, which would ignore it: set create_kms_key = false to use your key, or remove kms_key_arn."
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
  description = "IAM principals (account root, role or user ARNs) allowed to administer the created key (never to use it). Empty delegates administration to this account's IAM policies. When set, the principal running terraform must be one of them, or the account root must be: KMS refuses a key policy that would lock its creator out."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.kms_administrator_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+)$", a))])
    error_message = "kms_administrator_arns must hold IAM principal ARNs: arn:aws:iam::<account>:root, :role/<name> or :user/<name>."
  }
}

################################################################################
# Storage and job table
################################################################################

variable "bucket_name" {
  description = "Name of the bundle bucket. Null means <name>-<account id>-<region>. 3 to 63 lowercase letters, digits and hyphens: no dots, since nodes and tools reach the bucket over virtual-hosted HTTPS, whose wildcard certificate does not cover dotted names."
  type        = string
  default     = null

  # S3 bucket naming rules (general purpose buckets). Dots are legal for S3 but break
  # https://<bucket>.s3.<region>.amazonaws.com (the *.s3 certificate matches one label), which is
  # how presigned URLs reach it; with no dots, IP-address forms and ".." are excluded too.
  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit. Dots are refused: virtual-hosted HTTPS to a dotted bucket fails certificate checks."
  }

  validation {
    condition     = var.bucket_name == null ? true : !anytrue([for p in ["xn--", "sthree-", "amzn-s3-demo-"] : startswith(var.bucket_name, p)])
    error_message = "bucket_name must not start with xn--, sthree- or amzn-s3-demo-: S3 reserves those prefixes."
  }

  validation {
    condition     = var.bucket_name == null ? true : !anytrue([for x in ["-s3alias", "--ol-s3", "--x-s3", "--table-s3"] : endswith(var.bucket_name, x)])
    error_message = "bucket_name must not end with -s3alias, --ol-s3, --x-s3 or --table-s3: S3 reserves those suffixes for access point aliases, Object Lambda, directory and table buckets."
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
  description = "Prefix of the Cognito hosted domain (<prefix>.auth.<region>.amazoncognito.com), only with create_cognito. Null means <name>-<account id>. Lowercase letters, digits and hyphens, without the words aws, amazon or cognito."
  type        = string
  default     = null

  # cognito-idp DomainType.
  validation {
    condition     = var.cognito_domain_prefix == null || can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.cognito_domain_prefix))
    error_message = "cognito_domain_prefix must be 1 to 63 lowercase letters, digits and hyphens, not starting or ending with a hyphen."
  }

  validation {
    condition     = var.cognito_domain_prefix == null || length(regexall("aws|amazon|cognito", coalesce(var.cognito_domain_prefix, "-"))) == 0
    error_message = "cognito_domain_prefix must not contain aws, amazon or cognito: Cognito reserves those words in domain prefixes."
  }

  validation {
    condition     = var.create_cognito || var.cognito_domain_prefix == null
    error_message = "cognito_domain_prefix is set while create_cognito is false, which would ignore it: remove it, or set create_cognito = true."
  }
}

variable "oauth_resource_server_identifier" {
  description = "Identifier of the OAuth resource server (also its name); scopes read <identifier>/read and <identifier>/collect. 1 to 256 letters, digits and _ + = , . @ -: a URL form is refused, since Cognito's resource-server name pattern has no : or /."
  type        = string
  default     = "eksdiag"

  # The module names the resource server after its identifier, so both cognito-idp patterns apply:
  # ResourceServerIdentifierType [\x21\x23-\x5B\x5D-\x7E]+ and ResourceServerNameType [\w\s+=,.@-]+,
  # each 1 to 256 characters.
  validation {
    condition     = can(regex("^[A-Za-z0-9_+=,.@-]{1,256}$", var.oauth_resource_server_identifier))
    error_message = "oauth_resource_server_identifier must be 1 to 256 letters, digits and _ + = , . @ - (Cognito's resource-server name pattern): no spaces, and no URL such as https://api.example.com."
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
  description = "OpenID discovery URL of your own token issuer (only with create_cognito = false)."
  type        = string
  default     = null

  validation {
    condition     = var.jwt_discovery_url == null || can(regex("^https://[^\\s?#]+/\\.well-known/openid-configuration$", var.jwt_discovery_url))
    error_message = "jwt_discovery_url must be an https URL ending in /.well-known/openid-configuration."
  }

  validation {
    condition     = var.create_cognito || var.jwt_discovery_url != null
    error_message = "Set jwt_discovery_url when create_cognito is false."
  }

  validation {
    condition     = !var.create_cognito || var.jwt_discovery_url == null
    error_message = "jwt_discovery_url is set while create_cognito is true, which would ignore it: set create_cognito = false to trust your issuer, or remove it."
  }
}

variable "jwt_allowed_client_ids" {
  description = "Client ids the gateway accepts from your own issuer (only with create_cognito = false)."
  type        = list(string)
  default     = []

  validation {
    condition     = var.create_cognito || length(var.jwt_allowed_client_ids) > 0
    error_message = "Set jwt_allowed_client_ids when create_cognito is false: the gateway checks the client_id claim."
  }

  validation {
    condition     = !var.create_cognito || length(var.jwt_allowed_client_ids) == 0
    error_message = "jwt_allowed_client_ids is set while create_cognito is true, which would ignore it: set create_cognito = false to trust your issuer, or remove it."
  }

  validation {
    # bedrock-agentcore-control ClientIdType: 1 to 256 characters.
    condition     = alltrue([for c in var.jwt_allowed_client_ids : length(c) >= 1 && length(c) <= 256])
    error_message = "jwt_allowed_client_ids must hold client ids of 1 to 256 characters."
  }
}

variable "oauth_token_endpoint" {
  description = "Token endpoint (https URL) of your own issuer, passed to the token_endpoint output (only with create_cognito = false)."
  type        = string
  default     = null

  validation {
    condition     = var.oauth_token_endpoint == null || can(regex("^https://[^/\\s?#]+(/[^\\s#]*)?$", var.oauth_token_endpoint))
    error_message = "oauth_token_endpoint must be an https URL, such as https://login.example.com/oauth2/token."
  }

  validation {
    condition     = !var.create_cognito || var.oauth_token_endpoint == null
    error_message = "oauth_token_endpoint is set while create_cognito is true, which would ignore it (the token_endpoint output is the created domain's): set create_cognito = false, or remove it."
  }
}

variable "cognito_deletion_protection" {
  description = "Protect the created user pool from deletion (DeletionProtection ACTIVE): terraform destroy fails until this is turned off. Losing the pool invalidates every client id and secret handed to agents."
  type        = bool
  default     = true
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
  description = "Name of the gateway: 1 to 48 letters and digits, optionally separated by single hyphens. Null means <name>."
  type        = string
  default     = null

  # AWS::BedrockAgentCore::Gateway Name and bedrock-agentcore-control GatewayName:
  # ([0-9a-zA-Z][-]?){1,48}; the gateway ARN and id take it whole, so 48 characters in all.
  validation {
    condition     = var.gateway_name == null || (can(regex("^([0-9a-zA-Z][-]?){1,48}$", var.gateway_name)) && length(coalesce(var.gateway_name, "-")) <= 48)
    error_message = "gateway_name must be 1 to 48 characters: letters and digits, optionally separated by single hyphens (no underscores)."
  }
}

variable "gateway_instructions" {
  description = "Instructions the gateway gives MCP clients at initialize (1 to 2048 characters); null for none."
  type        = string
  default     = "Diagnose Amazon EKS worker nodes from their OS-level evidence. Start with nodelog___collect for an instance, poll nodelog___status, then use findings___errors, findings___search and findings___read; cite finding ids."

  # bedrock-agentcore-control McpInstructions: min 1, max 2048.
  validation {
    condition     = var.gateway_instructions == null || (length(coalesce(var.gateway_instructions, " ")) <= 2048 && try(length(var.gateway_instructions), 0) >= 1)
    error_message = "gateway_instructions must be 1 to 2048 characters, or null for none."
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
  description = "MCP protocol versions the gateway accepts: any of 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28."
  type        = list(string)
  default     = ["2025-03-26", "2025-06-18"]

  # botocore's McpVersion is a free string and the CloudFormation schema only gives the default
  # (2025-03-26); the versions AgentCore Gateway supports are listed in the AgentCore developer
  # guide ("Use an AgentCore gateway"). An unknown one fails CreateGateway.
  validation {
    condition = (
      length(var.gateway_supported_versions) > 0
      && length(distinct(var.gateway_supported_versions)) == length(var.gateway_supported_versions)
      && alltrue([for v in var.gateway_supported_versions : contains(["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"], v)])
    )
    error_message = "gateway_supported_versions must list, once each, MCP versions AgentCore Gateway supports: 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28."
  }
}

variable "gateway_semantic_search" {
  description = "Enable the gateway's semantic tool search (x_amz_bedrock_agentcore_search). Only settable when the gateway is created."
  type        = bool
  default     = false
}

variable "gateway_allowed_scopes" {
  description = "Scopes every token must carry (full strings, <identifier>/<scope>). Empty checks only the client id, which keeps single-scope clients working. With create_cognito, only the created scopes (<oauth_resource_server_identifier>/read and /collect) can ever be in a token."
  type        = list(string)
  default     = []

  # AWS::BedrockAgentCore::Gateway CustomJWTAuthorizer AllowedScopes items and bedrock-agentcore-control
  # AllowedScopeType: 1 to 255 characters of [\x21\x23-\x5B\x5D-\x7E].
  validation {
    condition     = alltrue([for s in var.gateway_allowed_scopes : can(regex("^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,255}$", s))])
    error_message = "gateway_allowed_scopes must hold scopes of 1 to 255 printable ASCII characters, without spaces, quotes or backslashes."
  }

  validation {
    condition     = !var.create_cognito || alltrue([for s in var.gateway_allowed_scopes : contains(["${var.oauth_resource_server_identifier}/read", "${var.oauth_resource_server_identifier}/collect"], s)])
    error_message = "gateway_allowed_scopes must name scopes the created user pool issues (${var.oauth_resource_server_identifier}/read, ${var.oauth_resource_server_identifier}/collect): a token can never carry another, so every call would be refused."
  }
}

variable "gateway_target_names" {
  description = "Target name per tool group, each distinct; MCP clients see tools as <target>___<tool>, which must stay within 64 characters."
  type        = map(string)
  default = {
    nodelog  = "nodelog"
    findings = "findings"
    capture  = "capture"
    runbooks = "runbooks"
  }

  # bedrock-agentcore-control TargetName: ([0-9a-zA-Z][-]?){1,100}.
  validation {
    condition = (
      sort(keys(var.gateway_target_names)) == sort(["nodelog", "findings", "capture", "runbooks"])
      && alltrue([for n in values(var.gateway_target_names) : can(regex("^([0-9a-zA-Z][-]?){1,100}$", n))])
    )
    error_message = "gateway_target_names must map exactly nodelog, findings, capture and runbooks to names of letters, digits and single hyphens (no underscores)."
  }

  validation {
    condition     = length(distinct(values(var.gateway_target_names))) == length(var.gateway_target_names)
    error_message = "gateway_target_names must be distinct: target names are unique within a gateway, and the tool prefix <target>___ must tell the groups apart."
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
  description = "Deployment package of every function. Null means the package shipped in this module for lambda_architecture (packages/lambda-<arch>.zip, built by scripts/package.py for python3.12): no build step. Otherwise a local zip in filename (a manifest.json beside it, as `make package` writes, is checked against lambda_runtime and lambda_architecture), or an S3 object in s3_bucket/s3_key (with s3_object_version and source_code_hash to make changes visible)."
  type = object({
    filename          = optional(string)
    s3_bucket         = optional(string)
    s3_key            = optional(string)
    s3_object_version = optional(string)
    source_code_hash  = optional(string)
  })
  default = null

  validation {
    condition = var.lambda_package == null || (
      (try(var.lambda_package.filename, null) != null && try(var.lambda_package.s3_bucket, null) == null && try(var.lambda_package.s3_key, null) == null)
      || (try(var.lambda_package.filename, null) == null && try(var.lambda_package.s3_bucket, null) != null && try(var.lambda_package.s3_key, null) != null)
    )
    error_message = "lambda_package must set either filename, or s3_bucket and s3_key, not both (or be null for the package shipped in the module)."
  }
}

variable "lambda_runtime" {
  description = "Python runtime of every function; it must be the one the package's wheels were built for (the shipped packages: python3.12)."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.12 or python3.13."
  }

  validation {
    condition     = local.package_build == null || try("python${local.package_build.python}", "") == var.lambda_runtime
    error_message = "lambda_runtime is ${var.lambda_runtime}, but ${coalesce(local.package_file, "the package")} holds extension modules built for python${try(local.package_build.python, "?")} (its manifest.json says so) and would fail at import on the first call. Set lambda_runtime = \"python${try(local.package_build.python, "?")}\", or build a package for ${var.lambda_runtime}: python scripts/package.py --arch ${var.lambda_architecture} --python-version ${trimprefix(var.lambda_runtime, "python")} --out dist, then lambda_package = { filename = \"dist/lambda-${var.lambda_architecture}.zip\" }."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of every function (arm64 or x86_64); it must be the one the package was built for. With lambda_package null, the shipped package of this architecture is used."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }

  validation {
    condition     = local.given_package_build == null || try(local.given_package_build.architecture, "") == var.lambda_architecture
    error_message = "lambda_architecture is ${var.lambda_architecture}, but ${coalesce(try(var.lambda_package.filename, null), "the package")} was built for ${try(local.given_package_build.architecture, "?")} (its manifest.json says so): its native wheels would fail at import. Set lambda_architecture = \"${try(local.given_package_build.architecture, "?")}\", or pass the package built for ${var.lambda_architecture} (python scripts/package.py --arch ${var.lambda_architecture}), or leave lambda_package unset to use the one shipped for it."
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

variable "tool_reserved_concurrent_executions" {
  description = "Reserved concurrency of each tool function: caps what one agent can run at once and keeps account capacity for them. -1 leaves them unreserved; 0 stops them."
  type        = number
  default     = -1

  validation {
    condition     = var.tool_reserved_concurrent_executions >= -1 && floor(var.tool_reserved_concurrent_executions) == var.tool_reserved_concurrent_executions
    error_message = "tool_reserved_concurrent_executions must be a whole number, -1 (unreserved) or more."
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

variable "indexer_reserved_concurrent_executions" {
  description = "Reserved concurrency of the indexer: bounds how many bundles are indexed at once (S3 events beyond it are retried by Lambda's async queue). -1 leaves it unreserved; 0 stops indexing."
  type        = number
  default     = -1

  validation {
    condition     = var.indexer_reserved_concurrent_executions >= -1 && floor(var.indexer_reserved_concurrent_executions) == var.indexer_reserved_concurrent_executions
    error_message = "indexer_reserved_concurrent_executions must be a whole number, -1 (unreserved) or more."
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
# IAM roles
################################################################################

variable "iam_role_path" {
  description = "Path of every IAM role the module creates (its ARN becomes arn:aws:iam::<account>:role<path><name>). Role names are <name>-<region>-<purpose>, so one name deploys to several regions of an account."
  type        = string
  default     = "/"

  # iam pathType: / or /segments/ of printable ASCII, 1 to 512 characters.
  validation {
    condition     = length(var.iam_role_path) <= 512 && can(regex("^/([\\x21-\\x7E]+/)?$", var.iam_role_path))
    error_message = "iam_role_path must be / or start and end with / (such as /platform/eksdiag/), at most 512 printable characters."
  }
}

variable "iam_role_permissions_boundary" {
  description = "ARN of the managed policy set as permissions boundary of every IAM role the module creates (organisations often require one). Null sets none."
  type        = string
  default     = null

  validation {
    condition     = var.iam_role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.iam_role_permissions_boundary))
    error_message = "iam_role_permissions_boundary must be a managed policy ARN (arn:aws:iam::<account>:policy/<name> or arn:aws:iam::aws:policy/<name>)."
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
