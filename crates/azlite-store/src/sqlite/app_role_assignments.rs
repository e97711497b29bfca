//! [`AppRoleAssignmentStore`] for [`SqliteStore`], the insert a [`crate::WriteBatch`] runs
//! for each assignment, and the cascade of a service principal's deletion (schema: the app
//! role assignments migration).

use async_trait::async_trait;
use azlite_types::{ObjectId, TenantId};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::SqliteStore;
use super::convert::{backend, conflict_or_backend, guid, uuid_at};
use crate::{AppRoleAssignment, AppRoleAssignmentStore, StoreResult};

macro_rules! columns {
    () => {
        "id, tenant_id, principal_id, principal_type, resource_id, app_role_id, created_at"
    };
}

const GET: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM app_role_assignments WHERE id = ?1"
);

const BY_PRINCIPAL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM app_role_assignments WHERE principal_id = ?1 ORDER BY seq"
);

const BY_RESOURCE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM app_role_assignments WHERE resource_id = ?1 ORDER BY seq"
);

const INSERT: &str = "INSERT INTO app_role_assignments \
     (id, tenant_id, principal_id, principal_type, resource_id, app_role_id, created_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

const DELETE: &str = "DELETE FROM app_role_assignments WHERE id = ?1";

/// Both sides of a principal: what it holds and what was granted on it.
const DELETE_OF_PRINCIPAL: [&str; 2] = [
    "DELETE FROM app_role_assignments WHERE principal_id = ?1",
    "DELETE FROM app_role_assignments WHERE resource_id = ?1",
];

fn assignment(row: &Row<'_>) -> rusqlite::Result<AppRoleAssignment> {
    Ok(AppRoleAssignment {
        id: row.get(0)?,
        tenant_id: TenantId::from_uuid(uuid_at(row, 1)?),
        principal_id: ObjectId::from_uuid(uuid_at(row, 2)?),
        principal_type: row.get(3)?,
        resource_id: ObjectId::from_uuid(uuid_at(row, 4)?),
        app_role_id: uuid_at(row, 5)?,
        created_at: row.get(6)?,
    })
}

/// Inserts one assignment of a batch, inside the batch's transaction.
pub(super) fn insert(tx: &Transaction<'_>, a: &AppRoleAssignment) -> StoreResult<()> {
    tx.prepare_cached(INSERT)
        .and_then(|mut stmt| {
            stmt.execute(params![
                a.id,
                guid(a.tenant_id.as_uuid()),
                guid(a.principal_id.as_uuid()),
                a.principal_type,
                guid(a.resource_id.as_uuid()),
                guid(&a.app_role_id),
                a.created_at,
            ])
        })
        .map_err(|e| {
            conflict_or_backend(e, |columns| {
                if columns.contains("principal_id") {
                    format!(
                        "principal {} already holds app role {} of {}",
                        a.principal_id, a.app_role_id, a.resource_id
                    )
                } else {
                    format!("app role assignment {} already exists", a.id)
                }
            })
        })?;
    Ok(())
}

/// Deletes one assignment by id, inside a batch's transaction.
pub(super) fn delete(tx: &Transaction<'_>, id: &str) -> StoreResult<()> {
    tx.prepare_cached(DELETE)
        .and_then(|mut stmt| stmt.execute([id]))
        .map_err(backend)?;
    Ok(())
}

/// Deletes the assignments a principal holds and those granted on it, inside the
/// transaction that deletes the principal (`object_id` in its stored form).
pub(super) fn delete_of_principal(tx: &Transaction<'_>, object_id: &str) -> StoreResult<()> {
    for sql in DELETE_OF_PRINCIPAL {
        tx.prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute([object_id]))
            .map_err(backend)?;
    }
    Ok(())
}

#[async_trait]
impl AppRoleAssignmentStore for SqliteStore {
    async fn get_app_role_assignment(&self, id: &str) -> StoreResult<Option<AppRoleAssignment>> {
        let id = id.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(GET)
                .and_then(|mut stmt| stmt.query_row([&id], assignment).optional())
                .map_err(backend)
        })
        .await
    }

    async fn list_app_role_assignments_for_principal(
        &self,
        principal: ObjectId,
    ) -> StoreResult<Vec<AppRoleAssignment>> {
        self.read(move |conn| {
            conn.prepare_cached(BY_PRINCIPAL)
                .and_then(|mut stmt| {
                    stmt.query_map([guid(principal.as_uuid())], assignment)?
                        .collect()
                })
                .map_err(backend)
        })
        .await
    }

    async fn list_app_role_assignments_for_resource(
        &self,
        resource: ObjectId,
    ) -> StoreResult<Vec<AppRoleAssignment>> {
        self.read(move |conn| {
            conn.prepare_cached(BY_RESOURCE)
                .and_then(|mut stmt| {
                    stmt.query_map([guid(resource.as_uuid())], assignment)?
                        .collect()
                })
                .map_err(backend)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads and cascades are index lookups, never a scan of the table.
    #[test]
    fn lookups_use_an_index() {
        let mut statements = vec![GET, BY_PRINCIPAL, BY_RESOURCE, DELETE];
        statements.extend(DELETE_OF_PRINCIPAL);
        super::super::arm::assert_index_only(&statements);
    }
}
