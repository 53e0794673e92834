terraform {
  # 1.9: variable validations may refer to other variables (create_* toggles and their
  # bring-your-own inputs are checked together, at plan, with a clear message).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100 is the last 5.x; the AgentCore gateway is created through Cloud Control, which both
      # majors have, so no aws_bedrockagentcore_* resource (6.17+) is needed.
      version = ">= 5.100, < 7"
    }
  }
}
