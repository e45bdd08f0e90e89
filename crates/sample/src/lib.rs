//! `hrs-sample`: sample fetches, converters, ACLs, conditions, log-format and variables.
