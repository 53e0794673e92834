variable "create" {
  description = "Create the Cognito user pool, resource server, domain and app client. Set to false and pass discovery_url and allowed_client_ids to bring your own issuer."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix for the user pool and app client."
  type        = string
}

variable "domain_prefix" {
  description = "Cognito hosted domain prefix: the token endpoint becomes https://<prefix>.auth.<region>.amazoncognito.com/oauth2/token."
  type        = string
  default     = null
}

variable "resource_server_identifier" {
  description = "Resource server identifier; scopes appear in tokens as <identifier>/<scope>."
  type        = string
}

variable "scopes" {
  description = "Scope names and descriptions of the resource server."
  type        = map(string)
}

variable "client_scopes" {
  description = "Scope names (keys of scopes) the app client may request."
  type        = list(string)
}

variable "access_token_validity_minutes" {
  description = "Lifetime of access tokens issued to the app client, in minutes."
  type        = number
  default     = 60
}

variable "deletion_protection" {
  description = "Refuse deleting the user pool (DeletionProtection ACTIVE) while true."
  type        = bool
  default     = true
}

variable "discovery_url" {
  description = "OpenID discovery URL of your own issuer (used when create is false)."
  type        = string
  default     = null
}

variable "allowed_client_ids" {
  description = "Client ids the gateway accepts, for your own issuer (used when create is false)."
  type        = list(string)
  default     = []
}

variable "token_endpoint" {
  description = "Token endpoint of your own issuer, passed through to the outputs (used when create is false)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for the user pool."
  type        = map(string)
  default     = {}
}
