variable "endpoint" {
  description = "URL of the local emulator, e.g. http://127.0.0.1:5000."
  type        = string
}

variable "name" {
  description = "Name prefix of every resource."
  type        = string
  default     = "eksdiag"
}

variable "ssm_documents_dir" {
  description = "SSM documents to deploy; null means the project's ssm/documents."
  type        = string
  default     = null
}

variable "tool_schema_dir" {
  description = "Gateway schema directory; unused here since the gateway is off."
  type        = string
  default     = null
}
