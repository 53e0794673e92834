data "aws_region" "current" {}

# A pool with no users: it exists to issue client-credentials tokens to machine clients.
resource "aws_cognito_user_pool" "this" {
  count = var.create ? 1 : 0

  name                = var.name
  deletion_protection = var.deletion_protection ? "ACTIVE" : "INACTIVE"

  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 14
    require_lowercase                = true
    require_numbers                  = true
    require_symbols                  = true
    require_uppercase                = true
    temporary_password_validity_days = 1
  }

  tags = var.tags
}

resource "aws_cognito_resource_server" "this" {
  count = var.create ? 1 : 0

  user_pool_id = aws_cognito_user_pool.this[0].id
  identifier   = var.resource_server_identifier
  name         = var.resource_server_identifier

  dynamic "scope" {
    for_each = var.scopes
    content {
      scope_name        = scope.key
      scope_description = scope.value
    }
  }
}

resource "aws_cognito_user_pool_domain" "this" {
  count = var.create ? 1 : 0

  domain       = var.domain_prefix
  user_pool_id = aws_cognito_user_pool.this[0].id
}

resource "aws_cognito_user_pool_client" "this" {
  count = var.create ? 1 : 0

  name                                 = "${var.name}-agent"
  user_pool_id                         = aws_cognito_user_pool.this[0].id
  generate_secret                      = true
  allowed_oauth_flows                  = ["client_credentials"]
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_scopes                 = [for s in var.client_scopes : "${var.resource_server_identifier}/${s}"]
  supported_identity_providers         = ["COGNITO"]
  explicit_auth_flows                  = ["ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors        = "ENABLED"
  enable_token_revocation              = true
  access_token_validity                = var.access_token_validity_minutes

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }

  # The scopes must exist before a client can be granted them.
  depends_on = [aws_cognito_resource_server.this]
}

locals {
  region = data.aws_region.current.name

  discovery_url = (
    var.create
    ? "https://cognito-idp.${local.region}.amazonaws.com/${aws_cognito_user_pool.this[0].id}/.well-known/openid-configuration"
    : var.discovery_url
  )
  token_endpoint = (
    var.create
    ? "https://${aws_cognito_user_pool_domain.this[0].domain}.auth.${local.region}.amazoncognito.com/oauth2/token"
    : var.token_endpoint
  )
}
