variable "gateway_arn" {
  description = "ARN of the gateway the policies authorize (the Cedar resource AgentCore::Gateway::\"<arn>\")."
  type        = string
}

variable "resource_server_identifier" {
  description = "OAuth resource server identifier: tokens carry scopes as <identifier>/<scope>. Must not hold spaces, double quotes or backslashes."
  type        = string

  validation {
    condition     = can(regex("^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,256}$", var.resource_server_identifier))
    error_message = "resource_server_identifier must be 1 to 256 printable characters without spaces, quotes or backslashes (an OAuth scope-token)."
  }
}

variable "target_names" {
  description = "Gateway target name per tool group: the Cedar action of a tool is <target>___<tool>. Groups left out get no permit."
  type        = map(string)
}
