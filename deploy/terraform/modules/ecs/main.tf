# The evpnd service: task definition, least-privilege task role, security
# group, CloudWatch logs, and the Fargate service behind the root NLB.

locals {
  container_name = "evpnd"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
}

# ---- task role: SSM under {prefix}/* and the one KMS key, nothing else
module "task_role" {
  source      = "../task_role"
  name        = var.name
  region      = var.region
  ssm_prefix  = var.ssm_prefix
  kms_key_arn = var.kms_key_arn
  ssm_actions = [
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:PutParameter",
    "ssm:DeleteParameter",
    "ssm:DeleteParameters",
  ]
}

# ---- network: only the NLB reaches the tasks

resource "aws_security_group" "task" {
  name        = "${var.name}-task"
  description = "evpnd tasks: WireGuard, its stream and the API from the NLB only"
  vpc_id      = var.vpc_id

  ingress {
    description     = "WireGuard via the NLB"
    protocol        = "udp"
    from_port       = var.wg_port
    to_port         = var.wg_port
    security_groups = [var.nlb_security_group_id]
  }

  ingress {
    description     = "WireGuard over WebSocket via the NLB (TLS ends there)"
    protocol        = "tcp"
    from_port       = var.stream_port
    to_port         = var.stream_port
    security_groups = [var.nlb_security_group_id]
  }

  ingress {
    description     = "API and health checks via the NLB"
    protocol        = "tcp"
    from_port       = var.api_port
    to_port         = var.api_port
    security_groups = [var.nlb_security_group_id]
  }

  # The tasks are the VPN's egress: clients' traffic leaves from here.
  egress {
    description = "VPN egress, SSM, KMS"
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }
}

# ---- task definition and service

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = module.task_role.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name      = local.container_name
      image     = var.container_image
      essential = true
      user      = "10001:10001"
      portMappings = [
        { containerPort = var.wg_port, protocol = "udp" },
        { containerPort = var.api_port, protocol = "tcp" },
        { containerPort = var.stream_port, protocol = "tcp" },
      ]
      environment = [for k in sort(keys(var.environment)) : { name = k, value = var.environment[k] }]
      # No TUN, no NET_ADMIN: the slirp egress needs no capability at all.
      linuxParameters = {
        capabilities       = { add = [], drop = ["ALL"] }
        initProcessEnabled = true
      }
      healthCheck = {
        command     = ["CMD-SHELL", "curl -fsS http://127.0.0.1:${var.api_port}/health || exit 1"]
        interval    = 30
        timeout     = 5
        retries     = 3
        startPeriod = 15
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this.name
          awslogs-region        = var.region
          awslogs-stream-prefix = local.container_name
        }
      }
    }
  ])
}

resource "aws_ecs_service" "this" {
  name                               = var.name
  cluster                            = var.cluster_id
  task_definition                    = aws_ecs_task_definition.this.arn
  desired_count                      = var.desired_count
  launch_type                        = "FARGATE"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 60
  enable_execute_command             = false

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.task.id]
    assign_public_ip = var.assign_public_ip
  }

  load_balancer {
    target_group_arn = var.wg_target_group_arn
    container_name   = local.container_name
    container_port   = var.wg_port
  }

  load_balancer {
    target_group_arn = var.stream_target_group_arn
    container_name   = local.container_name
    container_port   = var.stream_port
  }

  load_balancer {
    target_group_arn = var.api_target_group_arn
    container_name   = local.container_name
    container_port   = var.api_port
  }
}
