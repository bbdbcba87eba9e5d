variable "environment" {
  description = "Environment name; selects properties.<environment>.json."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.environment))
    error_message = "environment: lowercase letters, digits and dashes."
  }
}

variable "container_image" {
  description = "evpn image built from deploy/docker/Dockerfile (e.g. an ECR URI with tag)."
  type        = string
}

variable "vpc_id" {
  description = "VPC for the NLB and the tasks."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets for the NLB and the Fargate tasks (the tasks need a route to the internet: they are the VPN's egress)."
  type        = list(string)
}

variable "admin_cidrs" {
  description = "CIDRs allowed to reach the management API (TLS listener). Required, no default: the API must never face the whole internet (civetweb CVE-2025-55763)."
  type        = list(string)

  validation {
    condition     = length(var.admin_cidrs) > 0 && alltrue([for c in var.admin_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c)])
    error_message = "admin_cidrs: one or more valid CIDRs, and not 0.0.0.0/0 or ::/0."
  }
}

variable "api_certificate_arn" {
  description = "ACM certificate for the API's TLS listener."
  type        = string
}

variable "stream_certificate_arn" {
  description = "ACM certificate for the stream's TLS listener (WireGuard over WebSocket); empty: api_certificate_arn (both serve the same host name)."
  type        = string
  default     = ""
}

variable "vpn_endpoint_host" {
  description = "Host name written into client configs; empty: the NLB's DNS name."
  type        = string
  default     = ""
}

variable "desired_count" {
  description = "Number of evpnd tasks (they share the SSM store); null: the properties file's desired_count."
  type        = number
  default     = null
}
