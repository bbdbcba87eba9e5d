# A one-shot task (`evpnd keygen`): an ECS service kept at desired_count 0
# so its task definition is managed like the others, and a run of the task
# whenever the SHA-256 of keygen-config.json changes. keygen is idempotent
# (regenerate_keys: false changes nothing), so a re-run is always safe.

locals {
  container_name = "keygen"
  environment = merge(var.environment, {
    EVPN_KEYGEN_CONFIG        = var.config_json
    EVPN_KEYGEN_CONFIG_SHA256 = var.config_sha256
  })
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
}

# keygen reads and writes the server key records; it never deletes.
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
  ]
}

resource "aws_security_group" "task" {
  name        = "${var.name}-task"
  description = "evpn keygen one-shot: outbound only (SSM, KMS)"
  vpc_id      = var.vpc_id

  egress {
    description = "SSM and KMS endpoints"
    protocol    = "tcp"
    from_port   = 443
    to_port     = 443
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = module.task_role.arn

  container_definitions = jsonencode([
    {
      name        = local.container_name
      image       = var.container_image
      essential   = true
      user        = "10001:10001"
      command     = var.command
      environment = [for k in sort(keys(local.environment)) : { name = k, value = local.environment[k] }]
      linuxParameters = {
        capabilities = { add = [], drop = ["ALL"] }
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
  name            = var.name
  cluster         = var.cluster_name
  task_definition = aws_ecs_task_definition.this.arn
  desired_count   = 0
  launch_type     = "FARGATE"

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.task.id]
    assign_public_ip = var.assign_public_ip
  }
}

# Runs the task once per keygen-config.json content and fails the apply if
# keygen fails. Needs the AWS CLI where terraform runs.
resource "terraform_data" "run" {
  triggers_replace = {
    config_sha256 = var.config_sha256
  }

  provisioner "local-exec" {
    interpreter = ["/bin/bash", "-c"]
    command = <<-EOT
      set -euo pipefail
      net="awsvpcConfiguration={subnets=[$SUBNETS],securityGroups=[$SG],assignPublicIp=$PUBLIC_IP}"
      task=$(aws ecs run-task --region "$REGION" --cluster "$CLUSTER" \
        --launch-type FARGATE --task-definition "$TASK_DEF" \
        --network-configuration "$net" --started-by "keygen-$${CONFIG_SHA256:0:16}" \
        --query 'tasks[0].taskArn' --output text)
      aws ecs wait tasks-stopped --region "$REGION" --cluster "$CLUSTER" --tasks "$task"
      code=$(aws ecs describe-tasks --region "$REGION" --cluster "$CLUSTER" --tasks "$task" \
        --query 'tasks[0].containers[0].exitCode' --output text)
      if [ "$code" != 0 ]; then
        echo "keygen task $task failed (exit $code): see log group $LOG_GROUP" >&2
        exit 1
      fi
    EOT
    environment = {
      REGION        = var.region
      CLUSTER       = var.cluster_name
      TASK_DEF      = aws_ecs_task_definition.this.arn
      SUBNETS       = join(",", var.subnet_ids)
      SG            = aws_security_group.task.id
      PUBLIC_IP     = var.assign_public_ip ? "ENABLED" : "DISABLED"
      CONFIG_SHA256 = var.config_sha256
      LOG_GROUP     = aws_cloudwatch_log_group.this.name
    }
  }

  depends_on = [module.task_role, aws_ecs_service.this]
}
