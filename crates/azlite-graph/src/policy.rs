//! Who may do what in the directory, decided once per request. The checks return proofs
//! ([`DirectoryRead`], [`DirectoryWrite`]) that the operations take as arguments, so an
//! operation cannot run unauthorized, and that carry the tenant the operation acts in.
//!
//! Policy, as Entra grants an app-only token (every token azlite issues is one): a principal
//! may do what the Microsoft Graph application permissions in its token's `roles` claim
//! allow, and nothing else; a managed identity, or an app made by `az ad sp
//! create-for-rbac`, has none until someone grants it one (an app role assignment). The
//! permissions each operation accepts are Graph's ([`Permission`]). azlite's directory
//! administrators (the owner service principal, named by the composition root) hold every
//! permission, as a Global Administrator does. Everyone else gets 403
//! `Authorization_RequestDenied`, before anything is looked up (so a refusal says nothing
//! about whether the object exists).

use azlite_types::TenantId;
use azlite_types::app_roles::{
    APP_ROLE_ASSIGNMENT_READ_WRITE_ALL, APPLICATION_READ_ALL, APPLICATION_READ_WRITE_ALL,
    DIRECTORY_READ_ALL, DIRECTORY_READ_WRITE_ALL,
};

use crate::{Caller, Graph, GraphError};

/// What an operation needs, and the Graph application permissions that give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permission {
    /// Read applications and service principals (and their app role assignments).
    ReadApplications,
    /// Create and delete applications, service principals and passwords.
    WriteApplications,
    /// `directoryObjects/getByIds`: any directory object.
    ReadDirectory,
    /// Grant and revoke app role assignments.
    WriteAppRoleAssignments,
}

impl Permission {
    /// The `roles` values that give this permission (Graph's permissions reference for each
    /// operation, least privileged first).
    fn granted_by(self) -> &'static [&'static str] {
        match self {
            Self::ReadApplications => &[
                APPLICATION_READ_ALL,
                APPLICATION_READ_WRITE_ALL,
                DIRECTORY_READ_ALL,
                DIRECTORY_READ_WRITE_ALL,
                APP_ROLE_ASSIGNMENT_READ_WRITE_ALL,
            ],
            Self::WriteApplications => &[APPLICATION_READ_WRITE_ALL, DIRECTORY_READ_WRITE_ALL],
            Self::ReadDirectory => &[DIRECTORY_READ_ALL, DIRECTORY_READ_WRITE_ALL],
            Self::WriteAppRoleAssignments => &[
                APP_ROLE_ASSIGNMENT_READ_WRITE_ALL,
                APPLICATION_READ_WRITE_ALL,
                DIRECTORY_READ_WRITE_ALL,
            ],
        }
    }
}

/// Proof that the caller may read the directory of [`DirectoryRead::tenant`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct DirectoryRead {
    tenant: TenantId,
}

impl DirectoryRead {
    /// The tenant whose objects the caller sees.
    pub(crate) fn tenant(&self) -> TenantId {
        self.tenant
    }
}

/// Proof that the caller may change the directory of [`DirectoryWrite::tenant`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct DirectoryWrite {
    tenant: TenantId,
}

impl DirectoryWrite {
    /// The tenant the caller changes.
    pub(crate) fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The read proof a writer also holds (writes answer with what they wrote).
    pub(crate) fn read(&self) -> DirectoryRead {
        DirectoryRead {
            tenant: self.tenant,
        }
    }
}

impl Graph {
    /// Whether `caller` holds `permission`.
    fn holds(&self, caller: &Caller, permission: Permission) -> bool {
        self.is_administrator(caller.object_id)
            || caller
                .roles
                .iter()
                .any(|role| permission.granted_by().contains(&role.as_str()))
    }

    /// A read that needs `permission`.
    pub(crate) fn authorize_read(
        &self,
        caller: &Caller,
        permission: Permission,
    ) -> Result<DirectoryRead, GraphError> {
        if self.holds(caller, permission) {
            Ok(DirectoryRead {
                tenant: caller.tenant_id,
            })
        } else {
            Err(GraphError::insufficient_privileges())
        }
    }

    /// A write that needs `permission`.
    pub(crate) fn authorize_write(
        &self,
        caller: &Caller,
        permission: Permission,
    ) -> Result<DirectoryWrite, GraphError> {
        if self.holds(caller, permission) {
            Ok(DirectoryWrite {
                tenant: caller.tenant_id,
            })
        } else {
            Err(GraphError::insufficient_privileges())
        }
    }

    /// Whether `principal` is one of azlite's directory administrators. Their service
    /// principals and applications cannot be deleted through Graph: azlite's own start-up
    /// and `connection.json` depend on them.
    pub(crate) fn is_administrator(&self, principal: azlite_types::ObjectId) -> bool {
        self.config.administrators.contains(&principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_roles_do_not_write() {
        for role in [APPLICATION_READ_ALL, DIRECTORY_READ_ALL] {
            assert!(Permission::ReadApplications.granted_by().contains(&role));
            assert!(!Permission::WriteApplications.granted_by().contains(&role));
            assert!(
                !Permission::WriteAppRoleAssignments
                    .granted_by()
                    .contains(&role)
            );
        }
        assert!(
            !Permission::ReadDirectory
                .granted_by()
                .contains(&APPLICATION_READ_ALL),
            "getByIds reads any directory object: Directory.Read.All"
        );
    }
}
