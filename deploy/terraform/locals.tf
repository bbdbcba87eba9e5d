locals {
  # Per-environment values live in properties.<env>.json, not in variables,
  # so an environment is one reviewed file.
  properties = jsondecode(file("${path.module}/properties.${var.environment}.json"))

  # The keygen one-shot runs again whenever this file's hash changes.
  keygen_config_json   = file("${path.module}/keygen-config.json")
  keygen_config        = jsondecode(local.keygen_config_json)
  keygen_config_sha256 = sha256(local.keygen_config_json)

  name         = "${local.properties.name_prefix}-${var.environment}"
  region       = local.properties.region
  ssm_prefix   = local.keygen_config.ssm_prefix
  wg_port      = local.properties.wg_port
  api_port     = local.properties.api_port
  api_tls_port = local.properties.api_tls_port
  # WireGuard over a TLS WebSocket (where UDP is blocked): the NLB ends TLS
  # on stream_tls_port and forwards to evpnd's stream listener.
  stream_port            = local.properties.stream_port
  stream_tls_port        = local.properties.stream_tls_port
  stream_certificate_arn = var.stream_certificate_arn != "" ? var.stream_certificate_arn : var.api_certificate_arn
  desired_count          = coalesce(var.desired_count, local.properties.desired_count)
  vpn_host               = var.vpn_endpoint_host != "" ? var.vpn_endpoint_host : aws_lb.this.dns_name
  vpn_endpoint           = "${local.vpn_host}:${local.wg_port}"

  tags = merge(local.properties.tags, { environment = var.environment })

  # The variables etc/evpn.yaml reads, shared by the service and the keygen one-shot.
  container_environment = {
    EVPN_STORE     = "ssm"
    EVPN_EGRESS    = local.properties.egress
    SSM_PREFIX     = local.ssm_prefix
    AWS_REGION     = local.region
    SSM_KMS_KEY_ID = aws_kms_key.ssm.arn
    VPN_ENDPOINT   = local.vpn_endpoint
    WG_PORT        = tostring(local.wg_port)
    API_HOST       = "0.0.0.0"
    API_PORT       = tostring(local.api_port)
    EVPN_POOL      = local.properties.pool
    EVPN_LOG_LEVEL = local.properties.log_level
    # etc/evpn.yaml's transport stream.listen (empty there: off)
    EVPN_STREAM_LISTEN = "0.0.0.0:${local.stream_port}"
  }
}
