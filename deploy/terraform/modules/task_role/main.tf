# A Fargate task role that reaches the SSM store under {prefix}/* with the
# given actions and its one KMS key, nothing else. Used by the evpnd
# service (reads, writes, deletes users) and the keygen one-shot (reads and
# writes the server keys, never deletes).

data "aws_caller_identity" "current" {}

locals {
  # SSM parameter ARNs carry the name without its leading "/".
  parameter_arn = "arn:aws:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:parameter${var.ssm_prefix}"
}

data "aws_iam_policy_document" "assume_ecs_tasks" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "StoreUnderPrefix"
    actions   = var.ssm_actions
    resources = ["${local.parameter_arn}/*"]
  }

  # GetParametersByPath is authorised on the path itself.
  statement {
    sid       = "ListPrefix"
    actions   = ["ssm:GetParametersByPath"]
    resources = [local.parameter_arn]
  }

  statement {
    sid       = "SecureStringKey"
    actions   = ["kms:Decrypt", "kms:Encrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs_tasks.json
}

resource "aws_iam_role_policy" "task" {
  name   = "${var.name}-store"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}
