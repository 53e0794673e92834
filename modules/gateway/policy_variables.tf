# Inputs of the per-tool authorization (policy.tf), kept apart from variables.tf.

variable "create_policy_engine" {
  description = "Create an AgentCore Policy engine with one Cedar permit per scope (read, collect) and attach it to the gateway, so each token may call only the tools its scopes grant, checked before any Lambda runs. Off: any token of an allowed client may call every tool."
  type        = bool
  default     = true
}

variable "policy_engine_mode" {
  description = "ENFORCE refuses calls the policies do not permit; LOG_ONLY only records the decisions (to trial the policies on live traffic)."
  type        = string
  default     = "ENFORCE"

  validation {
    condition     = contains(["ENFORCE", "LOG_ONLY"], var.policy_engine_mode)
    error_message = "policy_engine_mode must be ENFORCE or LOG_ONLY."
  }
}

variable "resource_server_identifier" {
  description = "OAuth resource server identifier; the policies look for the scopes <identifier>/read and <identifier>/collect in the token's scope (or scp) claim."
  type        = string
  default     = "eksdiag"

  validation {
    condition     = can(regex("^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,256}$", var.resource_server_identifier))
    error_message = "resource_server_identifier must be 1 to 256 printable characters without spaces, quotes or backslashes (an OAuth scope-token)."
  }
}
