output "document_names" {
  description = "SSM document names: collect (Automation), run_collector and packet_capture (Command)."
  value = {
    collect        = aws_ssm_document.collect.name
    run_collector  = aws_ssm_document.run_collector.name
    packet_capture = aws_ssm_document.packet_capture.name
  }
}

output "document_arns" {
  description = "SSM document ARNs by the same keys as document_names."
  value = {
    collect        = aws_ssm_document.collect.arn
    run_collector  = aws_ssm_document.run_collector.arn
    packet_capture = aws_ssm_document.packet_capture.arn
  }
}

output "automation_role_arn" {
  description = "Role the collect Automation assumes (AutomationAssumeRole)."
  value       = aws_iam_role.automation.arn
}

output "automation_role_name" {
  description = "Name of the automation role."
  value       = aws_iam_role.automation.name
}
