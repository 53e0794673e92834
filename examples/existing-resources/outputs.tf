output "gateway_url" {
  description = "MCP endpoint to register in the MCP client."
  value       = module.eksdiag.gateway_url
}

output "bucket_name" {
  description = "Bundle bucket, encrypted with your key."
  value       = module.eksdiag.bucket_name
}
