//! Who may do what in the directory, decided once per request. The checks return proofs
//! ([`DirectoryRead`], [`DirectoryWrite`]) that the operations take as arguments, so an
//! operation cannot run unauthorized, and that carry the tenant the operation acts in.
//!
//! Policy: any authenticated principal of a tenant reads that tenant's directory (Graph's
//! default for members, "read directory data"); only azlite's directory administrators (the
//! owner service principal, named by the composition root) create or delete applications,
//! service principals and passwords. Everyone else gets 403 `Authorization_RequestDenied`.

use azlite_types::{ObjectId, TenantId};

use crate::{Caller, Graph, GraphError};

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
    /// Every authenticated caller reads its own tenant's directory.
    pub(crate) fn authorize_read(&self, caller: &Caller) -> DirectoryRead {
        DirectoryRead {
            tenant: caller.tenant_id,
        }
    }

    /// Only a directory administrator writes.
    pub(crate) fn authorize_write(&self, caller: &Caller) -> Result<DirectoryWrite, GraphError> {
        if self.is_administrator(caller.object_id) {
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
    pub(crate) fn is_administrator(&self, principal: ObjectId) -> bool {
        self.config.administrators.contains(&principal)
    }
}
