variable "name" {
  type = string
}

variable "region" {
  type = string
}

variable "cluster_id" {
  type = string
}

variable "execution_role_arn" {
  type = string
}

variable "container_image" {
  type = string
}

variable "cpu" {
  type = number
}

variable "memory" {
  type = number
}

variable "desired_count" {
  description = "Tasks to run; several share the SSM store (scale-out behind the UDP NLB)."
  type        = number
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "assign_public_ip" {
  type = bool
}

variable "wg_port" {
  type = number
}

variable "api_port" {
  type = number
}

variable "stream_port" {
  description = "TCP port of evpnd's stream listener (WireGuard over WebSocket)."
  type        = number
}

variable "stream_target_group_arn" {
  description = "NLB target group of the stream listener."
  type        = string
}

variable "nlb_security_group_id" {
  type = string
}

variable "wg_target_group_arn" {
  type = string
}

variable "api_target_group_arn" {
  type = string
}

variable "ssm_prefix" {
  description = "Store prefix, e.g. /ephem-vpn: the task role reaches only {prefix}/*."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the SecureString parameters."
  type        = string
}

variable "log_retention_days" {
  type = number
}

variable "environment" {
  description = "Container environment (the variables etc/evpn.yaml reads)."
  type        = map(string)
}
