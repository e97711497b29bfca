//! The one error type of this crate. Each variant is something the caller (the ARM role
//! definition and role assignment handlers) maps to its own ARM error code; the `Display`
//! text is written to be shown to the client.

use azlite_types::Scope;

use crate::{RoleAssignmentId, RoleDefinitionId};

/// Why a role definition, a role assignment or an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthzError {
    /// An entry of `actions`/`notActions`/`dataActions`/`notDataActions` is not a valid
    /// operation pattern.
    #[error("the action '{pattern}' is invalid: {reason}")]
    InvalidActionPattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A role definition id is neither a GUID nor `…/roleDefinitions/{guid}`.
    #[error("'{0}' is not a valid role definition id")]
    InvalidRoleDefinitionId(String),
    /// A role assignment id is neither a GUID nor `…/roleAssignments/{guid}`.
    #[error("'{0}' is not a valid role assignment id")]
    InvalidRoleAssignmentId(String),
    /// No built-in or custom role has this id (ARM: `RoleDefinitionDoesNotExist`).
    #[error("the role definition '{0}' does not exist")]
    RoleDefinitionNotFound(RoleDefinitionId),
    /// Built-in roles cannot be created, changed or deleted.
    #[error("the role definition '{0}' is a built-in role and cannot be changed")]
    BuiltInRoleIsReadOnly(RoleDefinitionId),
    /// Only definitions whose type is `CustomRole` can be added.
    #[error("the role definition '{0}' must have the type 'CustomRole'")]
    NotACustomRole(RoleDefinitionId),
    /// Another role already has this name; role names are unique in a tenant.
    #[error("a role definition named '{0}' already exists")]
    RoleNameExists(String),
    /// A custom role definition must list at least one assignable scope.
    #[error("the role definition '{0}' must have at least one assignable scope")]
    NoAssignableScopes(RoleDefinitionId),
    /// A custom role cannot be deleted while assignments refer to it.
    #[error("the role definition '{0}' cannot be deleted while role assignments use it")]
    RoleDefinitionHasAssignments(RoleDefinitionId),
    /// The id names something that is not an RBAC scope, such as a bare provider namespace
    /// (`/subscriptions/{s}/providers/Microsoft.Compute`).
    #[error("'{0}' is not a scope role assignments can be made at")]
    InvalidScope(Scope),
    /// The scope is outside every assignable scope of the role.
    #[error("the role definition '{role}' is not assignable at the scope '{scope}'")]
    NotAssignableAtScope {
        /// The role.
        role: RoleDefinitionId,
        /// The requested scope.
        scope: Scope,
    },
    /// Another assignment already gives this principal this role at this scope (ARM: 409
    /// `RoleAssignmentExists`, reference §3.6).
    #[error("The role assignment already exists.")]
    AssignmentExists {
        /// The assignment that already exists.
        existing: RoleAssignmentId,
    },
    /// An assignment with this id exists with another principal, role or scope; assignments
    /// cannot be changed in place.
    #[error("the role assignment '{0}' already exists with a different principal, role or scope")]
    AssignmentIdConflict(RoleAssignmentId),
}
