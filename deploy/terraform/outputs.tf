output "nlb_dns_name" {
  description = "DNS name of the network load balancer."
  value       = aws_lb.this.dns_name
}

output "vpn_endpoint" {
  description = "host:port that client configs connect to."
  value       = local.vpn_endpoint
}

output "api_url" {
  description = "Management API URL for `evpnctl setup` (reachable from admin_cidrs only)."
  value       = "https://${local.vpn_host}:${local.api_tls_port}"
}

output "stream_url" {
  description = "WebSocket URL of the stream fallback (evpnctl connect --stream-url; its default is wss://ENDPOINT-HOST/wg)."
  value       = "wss://${local.vpn_host}${local.stream_tls_port == 443 ? "" : ":${local.stream_tls_port}"}/wg"
}

output "master_key_parameter" {
  description = "SSM parameter holding the master API key: aws ssm get-parameter --with-decryption --name ..."
  value       = aws_ssm_parameter.master_key.name
}

output "master_api_key" {
  description = "The master API key (sensitive: terraform output -raw master_api_key)."
  value       = random_password.master_key.result
  sensitive   = true
}

output "cluster_name" {
  value = module.ecs_cluster.cluster_name
}

output "service_name" {
  value = module.ecs.service_name
}

output "log_group_name" {
  value = module.ecs.log_group_name
}

output "keygen_task_definition_arn" {
  value = module.ecs_one_shot.task_definition_arn
}

output "ssm_prefix" {
  value = local.ssm_prefix
}
