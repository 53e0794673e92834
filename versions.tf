terraform {
  # 1.7 brings mock_provider for the module's own offline tests; the module itself needs 1.6.
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100 is the last 5.x; the AgentCore gateway is created through Cloud Control, which both
      # majors have, so no aws_bedrockagentcore_* resource (6.17+) is needed.
      version = ">= 5.100, < 7"
    }
  }
}
