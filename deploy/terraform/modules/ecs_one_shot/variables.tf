variable "name" {
  type = string
}

variable "region" {
  type = string
}

variable "cluster_name" {
  type = string
}

variable "execution_role_arn" {
  type = string
}

variable "container_image" {
  type = string
}

variable "command" {
  description = "evpnd arguments (the entrypoint adds -c CONFIG), e.g. [\"keygen\"]."
  type        = list(string)
}

variable "cpu" {
  type = number
}

variable "memory" {
  type = number
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

variable "ssm_prefix" {
  type = string
}

variable "kms_key_arn" {
  type = string
}

variable "log_retention_days" {
  type = number
}

variable "config_json" {
  description = "Contents of keygen-config.json, handed to the task as EVPN_KEYGEN_CONFIG."
  type        = string
}

variable "config_sha256" {
  description = "SHA-256 of keygen-config.json: a change runs the task again."
  type        = string
}

variable "environment" {
  type = map(string)
}
