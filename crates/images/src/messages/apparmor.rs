//! Messages of CRIU's `apparmor.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `aa_policy` (apparmor.proto).
    AaPolicy = "aa_policy" {
        name(1, "name"): required string [];
        blob(2, "blob"): required bytes [];
    }
}

criu_message! {
    /// `aa_namespace` (apparmor.proto).
    AaNamespace = "aa_namespace" {
        name(1, "name"): required string [];
        policies(2, "policies"): repeated message AaPolicy [];
        namespaces(3, "namespaces"): repeated message AaNamespace [];
    }
}

criu_message! {
    /// `apparmor_entry` (apparmor.proto).
    ApparmorEntry = "apparmor_entry" {
        namespaces(1, "namespaces"): repeated message AaNamespace [];
    }
}
