//! The POSIX ACL model of Azure Data Lake Storage Gen1 (reference: dataplane-protocol.md
//! §4.6), shared with Gen2 (adls-gen2.md): permission bits and modes ([`Perm`], [`Mode`]),
//! ACL specs ([`spec`]), the ACL state of one item and its changes ([`Acl`]), the access
//! check and what an operation needs ([`check`]), and what a new item starts with
//! ([`inherit`]).
//!
//! Architecture Invariant: this crate is pure (no I/O, no clock, no knowledge of WebHDFS or
//! of the store): a wire format parses into these types and a file tree stores them.

mod acl;
pub mod check;
pub mod inherit;
mod perm;
pub mod spec;

pub use acl::{Acl, Entries};
pub use check::{Caller, permitted};
pub use perm::{Mode, Perm};
pub use spec::{AclEntry, AclScope, AclTag, EntryKey};

/// Why an ACL or a permission given by a client is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    /// Not `rwx` notation or an octal mode.
    #[error("invalid permission: {0:?}")]
    InvalidPermission(String),
    /// A malformed ACL spec.
    #[error("invalid ACL spec: {0:?}")]
    InvalidAclSpec(String),
    /// The user, group and other entries are required.
    #[error("invalid ACL: the user, group and other entries are required")]
    MissingBaseEntries,
    /// Files have no default ACL.
    #[error("invalid ACL: only directories may have a default ACL")]
    DefaultAclOnFile,
}
