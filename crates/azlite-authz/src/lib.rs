//! Azure RBAC, evaluated in memory: role definitions (every built-in role of reference §3.7
//! and custom roles), role assignments, scope inheritance and wildcard action matching
//! (`shared/reference/arm-rbac-protocol.md` §3).
//!
//! Architecture Invariant: this crate does no I/O. It holds role definitions and an index of
//! role assignments and answers checks; loading and persisting assignments is the caller's
//! job, through the store.
//!
//! The flow: build an [`AssignmentIndex`] over a [`RoleCatalog`] (built-ins preloaded, custom
//! roles added with [`AssignmentIndex::put_custom_role`]), [`AssignmentIndex::insert`] the
//! assignments, then [`AssignmentIndex::check`] a principal, a [`Scope`](azlite_types::Scope)
//! and an [`Action`]. An allowed check yields an [`Authorized`] proof that operations can
//! require as an argument.
//!
//! The rules implemented (reference §3.3): permissions are the union over the assignments at
//! the scope and its ancestors; `notActions` narrow only the permission block they sit in
//! (Contributor plus User Access Administrator may write role assignments); control-plane
//! operations are granted only by `actions` and data-plane ones only by `dataActions` (Owner
//! cannot read blobs); scopes and actions compare case-insensitively.

mod action;
mod assignment;
mod builtin;
mod catalog;
mod data_action;
mod decision;
mod error;
mod ids;
mod role;

pub use action::{Action, ActionKind, ActionPattern};
pub use assignment::{Assignment, AssignmentIndex, Inserted, SCAN_LIMIT};
pub use builtin::{builtin_role, builtin_roles};
pub use catalog::RoleCatalog;
pub use data_action::DataActionCheck;
pub use decision::{Authorized, Decision, DenyReason};
pub use error::AuthzError;
pub use ids::{RoleAssignmentId, RoleDefinitionId};
pub use role::{CompiledRole, Permission, RoleDefinition, RoleType};
