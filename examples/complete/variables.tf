variable "region" {
  description = "Region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name prefix of every resource."
  type        = string
  default     = "eksdiag"
}

variable "lambda_package_path" {
  description = "Path of the package `make package` built."
  type        = string
  default     = "../../dist/lambda-arm64.zip"
}
