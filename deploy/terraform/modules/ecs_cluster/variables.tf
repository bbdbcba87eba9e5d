variable "name" {
  description = "Cluster name (also the prefix of the execution role's name)."
  type        = string
}
