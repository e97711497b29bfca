//! Authorization of a secrets operation (reference §1.6): by the vault's access policies,
//! or, when the vault has `enableRbacAuthorization`, by the data actions of the caller's
//! role assignments at the secret, the vault or above.
//!
//! The check returns a [`Permitted`] that every operation takes, so an operation cannot run
//! unauthorized.

use axum::http::StatusCode;
use azlite_authz::{DataActionCheck, Decision};
use azlite_types::ResourceId;

use crate::KeyVaultError;
use crate::auth::Caller;
use crate::operation::Operation;
use crate::vault::Vault;

/// A secret permission of access policies, with the RBAC data action that stands for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretPermission {
    /// `get`: read a value (and a deleted secret's properties).
    Get,
    /// `list`: list secrets, versions and deleted secrets.
    List,
    /// `set`: create versions, update attributes.
    Set,
    /// `delete`.
    Delete,
    /// `recover`.
    Recover,
    /// `purge`.
    Purge,
}

impl SecretPermission {
    /// The access-policy word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::List => "list",
            Self::Set => "set",
            Self::Delete => "delete",
            Self::Recover => "recover",
            Self::Purge => "purge",
        }
    }
}

/// What an operation needs: its access-policy permission and its RBAC data action
/// (reference §1.2; for the deleted-secret reads, which the reference leaves open, the
/// metadata action, as they return no value).
pub fn required(operation: &Operation) -> (SecretPermission, &'static str) {
    use Operation as O;
    use SecretPermission as P;
    match operation {
        O::GetSecret(..) => (P::Get, "Microsoft.KeyVault/vaults/secrets/getSecret/action"),
        O::SetSecret(_) => (P::Set, "Microsoft.KeyVault/vaults/secrets/setSecret/action"),
        O::UpdateSecret(..) => (P::Set, "Microsoft.KeyVault/vaults/secrets/update/action"),
        O::GetSecrets | O::GetSecretVersions(_) | O::GetDeletedSecrets => (
            P::List,
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ),
        O::GetDeletedSecret(_) => (
            P::Get,
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ),
        O::DeleteSecret(_) => (P::Delete, "Microsoft.KeyVault/vaults/secrets/delete"),
        O::RecoverDeletedSecret(_) => (
            P::Recover,
            "Microsoft.KeyVault/vaults/secrets/recover/action",
        ),
        O::PurgeDeletedSecret(_) => (P::Purge, "Microsoft.KeyVault/vaults/secrets/purge/action"),
    }
}

/// Proof that the caller may perform an operation on a vault.
#[derive(Debug)]
pub struct Permitted {
    permission: SecretPermission,
}

impl Permitted {
    /// The permission that was checked.
    pub fn permission(&self) -> SecretPermission {
        self.permission
    }
}

/// The name of the secret an operation addresses, if one.
fn secret_name(operation: &Operation) -> Option<&str> {
    use Operation as O;
    match operation {
        O::GetSecret(n, _)
        | O::UpdateSecret(n, _)
        | O::SetSecret(n)
        | O::GetSecretVersions(n)
        | O::DeleteSecret(n)
        | O::GetDeletedSecret(n)
        | O::PurgeDeletedSecret(n)
        | O::RecoverDeletedSecret(n) => Some(n),
        O::GetSecrets | O::GetDeletedSecrets => None,
    }
}

/// Checks that `caller` may perform `operation` on `vault`.
pub fn authorize(
    vault: &Vault,
    caller: &Caller,
    operation: &Operation,
    rbac: &dyn DataActionCheck,
) -> Result<Permitted, KeyVaultError> {
    let (permission, action) = required(operation);
    // Only an answer of 403 names the vault: not built for the requests that pass.
    let vault_label = || format!("{};location={}", vault.name, vault.location);
    if vault.rbac {
        // A role assigned at a secret's own scope counts for that secret, as in Azure.
        let scope: ResourceId = secret_name(operation)
            .and_then(|name| format!("{}/secrets/{name}", vault.id).parse().ok())
            .unwrap_or_else(|| vault.id.clone());
        return match rbac.check_data_action(caller.object_id, &scope, action) {
            Decision::Allow(_) => Ok(Permitted { permission }),
            Decision::Deny { .. } => Err(KeyVaultError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!(
                    "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: {}\r\nAction: '{action}'\r\nResource: '{}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: {}\r\n",
                    caller.describe(),
                    scope.as_str().to_ascii_lowercase(),
                    vault_label(),
                ),
            )
            .with_inner("ForbiddenByRbac")),
        };
    }
    let granted = vault.access_policies.iter().any(|policy| {
        policy.object_id == caller.object_id
            && policy.tenant_id.is_none_or(|t| t == vault.tenant_id)
            && policy
                .application_id
                .as_deref()
                .is_none_or(|app| Some(app) == caller.app_id())
            && policy.secrets.iter().any(|p| {
                p.eq_ignore_ascii_case(permission.as_str()) || p.eq_ignore_ascii_case("all")
            })
    });
    if granted {
        Ok(Permitted { permission })
    } else {
        Err(KeyVaultError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "The user, group or application '{}' does not have secrets {} permission on key vault '{}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
                caller.describe(),
                permission.as_str(),
                vault_label(),
            ),
        )
        .with_inner("AccessDenied"))
    }
}
