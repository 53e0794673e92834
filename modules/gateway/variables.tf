variable "create" {
  description = "Create the AgentCore gateway, its execution role and its targets."
  type        = bool
  default     = true
}

variable "name" {
  description = "Gateway name (letters, digits and single hyphens)."
  type        = string
}

variable "iam_role" {
  description = "IAM role naming and guardrails: role names are <name_prefix>-<purpose> (name_prefix null means name; the root module adds the region, since role names are global to the account), created under path, with permissions_boundary when not null."
  type = object({
    name_prefix          = optional(string)
    path                 = optional(string, "/")
    permissions_boundary = optional(string)
  })
  default  = {}
  nullable = false
}

variable "description" {
  description = "Gateway description shown in the console."
  type        = string
  default     = "EKS node diagnostics tools"
}

variable "instructions" {
  description = "MCP instructions the gateway gives clients at initialize (at most 2048 characters); null for none."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "Customer managed KMS key the gateway encrypts its data at rest with (KmsKeyArn); the execution role may use it through AgentCore. Null keeps AgentCore's own key."
  type        = string
  default     = null
}

variable "exception_level" {
  description = "Set to DEBUG to return the underlying error text to MCP clients; null keeps errors generic."
  type        = string
  default     = null
}

variable "supported_versions" {
  description = "MCP protocol versions the gateway accepts (cannot be extended after creation)."
  type        = list(string)
}

variable "search_type" {
  description = "SEMANTIC adds the x_amz_bedrock_agentcore_search tool; null leaves it off (only settable at creation)."
  type        = string
  default     = null
}

variable "discovery_url" {
  description = "OpenID discovery URL of the token issuer."
  type        = string
}

variable "allowed_client_ids" {
  description = "Client ids (client_id claim) the gateway accepts."
  type        = list(string)
}

variable "allowed_scopes" {
  description = "Scopes a token must carry; empty checks none (clients that send one scope per token keep working)."
  type        = list(string)
  default     = []
}

variable "targets" {
  description = "One Lambda target per tool group: group => { name, description, function_arn }; tools are read from <schema_dir>/<group>.cfn.json."
  type = map(object({
    name         = string
    description  = string
    function_arn = string
  }))
}

variable "schema_dir" {
  description = "Directory of the generated gateway tool schemas in CloudFormation casing (<group>.cfn.json: [{Name, Description, InputSchema[, OutputSchema]}]), used as they are."
  type        = string
}

variable "max_tool_name_length" {
  description = "Longest allowed <target>___<tool> name; LLM clients cap tool names at 64 characters."
  type        = number
  default     = 64
}

variable "tags" {
  description = "Tags for the gateway and its role."
  type        = map(string)
  default     = {}
}

variable "resource_schemas" {
  description = "CloudFormation resource schemas (JSON) of AWS::BedrockAgentCore::Gateway (gateway), ::GatewayTarget (target), ::PolicyEngine (policy_engine) and ::Policy (policy) for Cloud Control. A null attribute, or null for all, means the copies shipped in resource-schemas/; the provider then never calls cloudformation:DescribeType."
  type = object({
    gateway       = optional(string)
    target        = optional(string)
    policy_engine = optional(string)
    policy        = optional(string)
  })
  default  = {}
  nullable = false
}
