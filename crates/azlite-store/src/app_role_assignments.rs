//! App role assignments as stored, and the [`AppRoleAssignmentStore`] trait.
//!
//! An app role assignment grants a principal (a service principal: an application's or a
//! managed identity's) one app role that a *resource* service principal defines, as
//! Microsoft Graph's `appRoleAssignment` does: Microsoft Graph's own principal defines
//! `Application.Read.All`, `Directory.Read.All`, ... The token service reads a principal's
//! assignments when it issues an app-only token for the resource, and puts the role values
//! in the `roles` claim.
//!
//! Writes go through a [`crate::WriteBatch`] (`app_role_assignments`, and
//! [`crate::Deletion::AppRoleAssignment`]). Deleting a service principal, by
//! [`crate::Deletion::ServicePrincipal`], [`crate::Deletion::Application`] (its home
//! principal), an ARM deletion of a managed identity or
//! [`crate::DirectoryStore::delete_service_principal`], deletes in the same transaction the
//! assignments it holds and those granted on it.

use async_trait::async_trait;
use azlite_types::{ObjectId, TenantId, UnixTime};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreResult;

/// One app role held by one principal on one resource service principal.
///
/// The id is unique, and so is (principal, resource, app role): a second identical
/// assignment is a [`crate::StoreError::Conflict`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRoleAssignment {
    /// Graph's key of the assignment (base64url text).
    pub id: String,
    /// The tenant of both principals.
    pub tenant_id: TenantId,
    /// The principal granted the role (`principalId`).
    pub principal_id: ObjectId,
    /// `ServicePrincipal`, `User` or `Group` (`principalType`).
    pub principal_type: String,
    /// The resource service principal that defines the role (`resourceId`).
    pub resource_id: ObjectId,
    /// The app role's id among the resource's `appRoles` (`appRoleId`).
    pub app_role_id: Uuid,
    /// When it was granted (`createdDateTime`).
    pub created_at: UnixTime,
}

/// App role assignments, read by principal and by resource.
#[async_trait]
pub trait AppRoleAssignmentStore: Send + Sync {
    /// An assignment by its id (exact).
    async fn get_app_role_assignment(&self, id: &str) -> StoreResult<Option<AppRoleAssignment>>;
    /// The assignments `principal` holds, on every resource, in the order granted.
    async fn list_app_role_assignments_for_principal(
        &self,
        principal: ObjectId,
    ) -> StoreResult<Vec<AppRoleAssignment>>;
    /// The assignments granted on the resource service principal `resource`, in the order granted.
    async fn list_app_role_assignments_for_resource(
        &self,
        resource: ObjectId,
    ) -> StoreResult<Vec<AppRoleAssignment>>;
}
