//! Authorization of a verified caller: each operation's permission (reference arm-rbac
//! §3.7–3.8, Azure's "permissions for calling data operations"), asked of the role
//! assignments through [`DataActionCheck`].
//!
//! Container operations check *actions* (`…/blobServices/containers/read|write|delete`),
//! which is why the Storage Blob Data roles list them among their `actions`; blob operations
//! check *data actions* (`…/containers/blobs/read|write|delete`), which no control-plane
//! role grants: a subscription Owner may list and create containers over OAuth, but reads
//! no blob without a data role (403 `AuthorizationPermissionMismatch`).

use axum::http::StatusCode;
use azlite_authz::{DataActionCheck, Decision};
use azlite_types::ResourceId;

use crate::BlobError;
use crate::auth::Caller;
use crate::operation::Operation;

const PREFIX: &str = "Microsoft.Storage/storageAccounts/blobServices";

/// One permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    /// A control-plane action.
    Action(String),
    /// A data action.
    DataAction(String),
}

/// Proof that the caller was authorized for the request's operation.
#[derive(Debug)]
pub struct Authorized(());

/// The permission an operation needs.
pub fn permission(operation: &Operation) -> Permission {
    use Operation as O;
    let action = |what: &str| Permission::Action(format!("{PREFIX}/{what}"));
    let data = |what: &str| Permission::DataAction(format!("{PREFIX}/containers/blobs/{what}"));
    match operation {
        O::ListContainers | O::GetContainerProperties(_) | O::GetContainerMetadata(_) => {
            action("containers/read")
        }
        O::CreateContainer(_) | O::SetContainerMetadata(_) | O::LeaseContainer(_) => {
            action("containers/write")
        }
        O::DeleteContainer(_) => action("containers/delete"),
        O::GetServiceProperties => action("read"),
        O::SetServiceProperties => action("write"),
        O::GetUserDelegationKey => action("generateUserDelegationKey/action"),
        O::GetAccountInformation
        | O::ListBlobs(_)
        | O::GetBlob(..)
        | O::GetBlobProperties(..)
        | O::GetBlobMetadata(..)
        | O::GetBlockList(..) => data("read"),
        O::PutBlob(..)
        | O::CreateAppendBlob(..)
        | O::CopyBlob(..)
        | O::PutBlock(..)
        | O::PutBlockList(..)
        | O::AppendBlock(..)
        | O::SetBlobProperties(..)
        | O::SetBlobMetadata(..)
        | O::LeaseBlob(..) => data("write"),
        O::DeleteBlob(..) => data("delete"),
    }
}

/// The ARM scope of an operation: the container (`…/blobServices/default/containers/c`)
/// when it names one, else the account.
pub fn scope(account: &ResourceId, operation: &Operation) -> ResourceId {
    match operation.container() {
        Some(container) => format!("{account}/blobServices/default/containers/{container}")
            .parse()
            .unwrap_or_else(|_| account.clone()),
        None => account.clone(),
    }
}

/// 403 `AuthorizationPermissionMismatch`.
pub fn permission_mismatch() -> BlobError {
    BlobError::new(
        StatusCode::FORBIDDEN,
        "AuthorizationPermissionMismatch",
        "This request is not authorized to perform this operation using this permission.",
    )
}

/// Checks `permission` for `caller` at `scope`.
pub fn authorize(
    rbac: &dyn DataActionCheck,
    caller: &Caller,
    scope: &ResourceId,
    permission: &Permission,
) -> Result<Authorized, BlobError> {
    let decision = match permission {
        Permission::Action(action) => rbac.check_control_action(caller.object_id, scope, action),
        Permission::DataAction(action) => rbac.check_data_action(caller.object_id, scope, action),
    };
    match decision {
        Decision::Allow(_) => Ok(Authorized(())),
        Decision::Deny { reason } => {
            tracing::debug!(principal = %caller.object_id, ?permission, %scope, ?reason, "Blob request denied");
            Err(permission_mismatch())
        }
    }
}

/// Authorization granted without role assignments (a public container's anonymous read,
/// later a verified Shared Key or SAS).
pub(crate) fn granted() -> Authorized {
    Authorized(())
}
