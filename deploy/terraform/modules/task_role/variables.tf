variable "name" {
  description = "Prefix of the role's name: NAME-task."
  type        = string
}

variable "region" {
  type = string
}

variable "ssm_prefix" {
  description = "Store prefix, e.g. /ephem-vpn: the role reaches only {prefix}/*."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the SecureString parameters."
  type        = string
}

variable "ssm_actions" {
  description = "SSM actions allowed on {prefix}/* (no wildcards)."
  type        = list(string)
}
