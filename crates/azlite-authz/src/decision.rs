//! The outcome of a check. The allow side carries an [`Authorized`] proof that only
//! [`crate::AssignmentIndex::check`] can produce, so an operation that takes one as an
//! argument cannot be reached on an unauthorized path (house style rule 6).

use std::borrow::Cow;
use std::fmt;

use azlite_types::{ObjectId, Scope};

use crate::{Action, RoleAssignmentId, RoleDefinitionId};

/// Proof that `principal` may perform `action` at `scope`, and which assignment said so.
///
/// Fields are private and there is no public constructor. It borrows from the index and the
/// check's arguments; [`Authorized::into_owned`] detaches it when it must outlive them (for
/// example across an `.await` after the index's lock is released).
#[derive(Debug, Clone)]
#[must_use = "an authorization proof exists to be handed to the operation it authorizes"]
pub struct Authorized<'a> {
    pub(crate) principal: ObjectId,
    pub(crate) scope: Cow<'a, Scope>,
    pub(crate) action: Cow<'a, Action>,
    pub(crate) role_name: Cow<'a, str>,
    pub(crate) role_definition_id: RoleDefinitionId,
    pub(crate) assignment_id: RoleAssignmentId,
    pub(crate) assignment_scope: Cow<'a, Scope>,
}

impl Authorized<'_> {
    /// The principal that was checked.
    pub fn principal(&self) -> ObjectId {
        self.principal
    }

    /// The scope the operation targets.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The operation that was authorized.
    pub fn action(&self) -> &Action {
        &self.action
    }

    /// The display name of the role that granted the operation.
    pub fn role_name(&self) -> &str {
        &self.role_name
    }

    /// The id of the role that granted the operation.
    pub fn role_definition_id(&self) -> RoleDefinitionId {
        self.role_definition_id
    }

    /// The assignment that granted the operation: the one at the most specific scope.
    pub fn assignment_id(&self) -> RoleAssignmentId {
        self.assignment_id
    }

    /// The scope of that assignment: the target scope or one of its ancestors.
    pub fn assignment_scope(&self) -> &Scope {
        &self.assignment_scope
    }

    /// Whether this proof covers `action` at `scope`, for an operation that wants to be sure
    /// it was handed the right proof.
    pub fn covers(&self, scope: &Scope, action: &Action) -> bool {
        *self.scope == *scope && *self.action == *action
    }

    /// The same proof, owning its data.
    pub fn into_owned(self) -> Authorized<'static> {
        Authorized {
            principal: self.principal,
            scope: Cow::Owned(self.scope.into_owned()),
            action: Cow::Owned(self.action.into_owned()),
            role_name: Cow::Owned(self.role_name.into_owned()),
            role_definition_id: self.role_definition_id,
            assignment_id: self.assignment_id,
            assignment_scope: Cow::Owned(self.assignment_scope.into_owned()),
        }
    }
}

/// Why a check denied. Both map to ARM's 403 `AuthorizationFailed`; the distinction is for
/// logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DenyReason {
    /// The principal has no role assignment at the scope or any of its ancestors.
    #[error("the principal has no role assignment at or above the scope")]
    NoAssignment,
    /// Assignments apply at the scope, but none of their roles grants the operation.
    #[error("none of the {assignments} role assignments at or above the scope grants the action")]
    NotGranted {
        /// How many assignments were considered.
        assignments: usize,
    },
}

/// The answer of [`crate::AssignmentIndex::check`].
#[derive(Debug, Clone)]
#[must_use = "a decision that is not looked at authorizes nothing"]
pub enum Decision<'a> {
    /// Allowed, with the proof.
    Allow(Authorized<'a>),
    /// Denied.
    Deny {
        /// Why.
        reason: DenyReason,
    },
}

impl<'a> Decision<'a> {
    /// Whether the operation is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow(_))
    }

    /// The proof, or the reason for the denial: `let proof = index.check(…).into_result()?;`.
    pub fn into_result(self) -> Result<Authorized<'a>, DenyReason> {
        match self {
            Self::Allow(proof) => Ok(proof),
            Self::Deny { reason } => Err(reason),
        }
    }
}

impl fmt::Display for Decision<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Allow(proof) => write!(
                f,
                "allowed by '{}' assigned at '{}'",
                proof.role_name(),
                proof.assignment_scope()
            ),
            Self::Deny { reason } => write!(f, "denied: {reason}"),
        }
    }
}
