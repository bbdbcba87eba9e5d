terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

provider "aws" {
  region = local.region

  default_tags {
    tags = local.tags
  }
}

# ---- secrets: the master API key as an SSM SecureString under the prefix

resource "aws_kms_key" "ssm" {
  description             = "${local.name}: SecureString parameters under ${local.ssm_prefix}"
  enable_key_rotation     = true
  deletion_window_in_days = 7
}

resource "aws_kms_alias" "ssm" {
  name          = "alias/${local.name}-ssm"
  target_key_id = aws_kms_key.ssm.key_id
}

resource "random_password" "master_key" {
  length  = 64
  special = false
}

resource "aws_ssm_parameter" "master_key" {
  name        = "${local.ssm_prefix}/master-api-key"
  description = "evpn master API key (admin bearer token)"
  type        = "SecureString"
  key_id      = aws_kms_key.ssm.arn
  value       = random_password.master_key.result
}

# ---- network load balancer: UDP for WireGuard, TLS for the API, TLS for
# WireGuard over WebSocket (the stream fallback where UDP is blocked)

resource "aws_security_group" "nlb" {
  name        = "${local.name}-nlb"
  description = "evpn NLB: WireGuard (UDP and the TLS stream) from anywhere, the API only from admin_cidrs"
  vpc_id      = var.vpc_id

  ingress {
    description = "WireGuard"
    protocol    = "udp"
    from_port   = local.wg_port
    to_port     = local.wg_port
    cidr_blocks = ["0.0.0.0/0"]
  }

  # The stream is WireGuard too: each user's key opens only that user's
  # tunnel, and the tunnel inside is WireGuard's own encryption.
  ingress {
    description = "WireGuard over TLS WebSocket (UDP blocked)"
    protocol    = "tcp"
    from_port   = local.stream_tls_port
    to_port     = local.stream_tls_port
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "management API (TLS), admins only"
    protocol    = "tcp"
    from_port   = local.api_tls_port
    to_port     = local.api_tls_port
    cidr_blocks = var.admin_cidrs
  }

  egress {
    description = "to the tasks"
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = [data.aws_vpc.this.cidr_block]
  }
}

data "aws_vpc" "this" {
  id = var.vpc_id
}

resource "aws_lb" "this" {
  name               = local.name
  load_balancer_type = "network"
  internal           = false
  subnets            = var.subnet_ids
  security_groups    = [aws_security_group.nlb.id]
}

resource "aws_lb_target_group" "wg" {
  name        = "${local.name}-wg"
  port        = local.wg_port
  protocol    = "UDP"
  target_type = "ip"
  vpc_id      = var.vpc_id

  # UDP cannot be probed: a task is healthy when its API says so.
  health_check {
    protocol = "HTTP"
    port     = tostring(local.api_port)
    path     = "/health"
  }
}

resource "aws_lb_target_group" "api" {
  name        = "${local.name}-api"
  port        = local.api_port
  protocol    = "TCP"
  target_type = "ip"
  vpc_id      = var.vpc_id

  # The API throttles failed logins per client address, so it must see the
  # admin's address, not an NLB node's: off by default for TCP ip targets.
  # The task security group references the NLB's, which AWS honours with
  # preservation on; IPv4 clients keep their address (IPv6 clients of an
  # IPv4 task still show the NLB's). No proxy protocol: evpnd cannot read it.
  preserve_client_ip = true

  health_check {
    protocol = "HTTP"
    port     = tostring(local.api_port)
    path     = "/health"
  }
}

resource "aws_lb_target_group" "stream" {
  name        = "${local.name}-stream"
  port        = local.stream_port
  protocol    = "TCP"
  target_type = "ip"
  vpc_id      = var.vpc_id

  # A wrong key is throttled per client address, like the API's logins.
  preserve_client_ip = true

  health_check {
    protocol = "HTTP"
    port     = tostring(local.api_port)
    path     = "/health"
  }
}

resource "aws_lb_listener" "wg" {
  load_balancer_arn = aws_lb.this.arn
  port              = local.wg_port
  protocol          = "UDP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.wg.arn
  }
}

resource "aws_lb_listener" "api" {
  load_balancer_arn = aws_lb.this.arn
  port              = local.api_tls_port
  protocol          = "TLS"
  certificate_arn   = var.api_certificate_arn
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }
}

# evpnd has no TLS of its own (Debian's civetweb 1.15 cannot use OpenSSL
# 3): the NLB ends it and forwards the WebSocket stream in clear inside the
# VPC. The NLB's TCP idle timeout (350 s) is far above evpnd's pings (30 s).
resource "aws_lb_listener" "stream" {
  load_balancer_arn = aws_lb.this.arn
  port              = local.stream_tls_port
  protocol          = "TLS"
  certificate_arn   = local.stream_certificate_arn
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.stream.arn
  }

  lifecycle {
    precondition {
      condition     = local.stream_tls_port != local.api_tls_port
      error_message = "properties: stream_tls_port and api_tls_port must differ (one NLB listener per port)."
    }
  }
}

# ---- ECS

module "ecs_cluster" {
  source = "./modules/ecs_cluster"

  name = local.name
}

module "ecs" {
  source = "./modules/ecs"

  name                    = local.name
  region                  = local.region
  cluster_id              = module.ecs_cluster.cluster_id
  execution_role_arn      = module.ecs_cluster.execution_role_arn
  container_image         = var.container_image
  cpu                     = local.properties.cpu
  memory                  = local.properties.memory
  desired_count           = local.desired_count
  vpc_id                  = var.vpc_id
  subnet_ids              = var.subnet_ids
  assign_public_ip        = local.properties.assign_public_ip
  wg_port                 = local.wg_port
  api_port                = local.api_port
  stream_port             = local.stream_port
  nlb_security_group_id   = aws_security_group.nlb.id
  wg_target_group_arn     = aws_lb_target_group.wg.arn
  api_target_group_arn    = aws_lb_target_group.api.arn
  stream_target_group_arn = aws_lb_target_group.stream.arn
  ssm_prefix              = local.ssm_prefix
  kms_key_arn             = aws_kms_key.ssm.arn
  log_retention_days      = local.properties.log_retention_days
  environment             = local.container_environment

  # The server key pair exists before the first task starts.
  depends_on = [module.ecs_one_shot, aws_lb_listener.wg, aws_lb_listener.api, aws_lb_listener.stream]
}

module "ecs_one_shot" {
  source = "./modules/ecs_one_shot"

  name               = "${local.name}-keygen"
  region             = local.region
  cluster_name       = module.ecs_cluster.cluster_name
  execution_role_arn = module.ecs_cluster.execution_role_arn
  container_image    = var.container_image
  command            = ["keygen"]
  cpu                = 256
  memory             = 512
  vpc_id             = var.vpc_id
  subnet_ids         = var.subnet_ids
  assign_public_ip   = local.properties.assign_public_ip
  ssm_prefix         = local.ssm_prefix
  kms_key_arn        = aws_kms_key.ssm.arn
  log_retention_days = local.properties.log_retention_days
  config_json        = local.keygen_config_json
  config_sha256      = local.keygen_config_sha256
  environment        = local.container_environment
}
