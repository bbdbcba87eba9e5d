output "arn" {
  value = aws_iam_role.task.arn
}
