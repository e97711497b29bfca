//! The ARM part of [`super::super::batch::apply`]: upserts of groups and resources,
//! inserts of role assignments, and the cascading deletions.
//!
//! Every function runs inside the batch's transaction and leaves committing (or rolling
//! back) to it.

use azlite_types::{ResourceId, SubscriptionId};
use rusqlite::{Transaction, params};
use uuid::Uuid;

use super::rows::{below, fold_arm, folded_id, to_json};
use crate::sqlite::convert::{backend, conflict_or_backend, guid};
use crate::{Resource, ResourceGroup, RoleAssignmentRecord, StoreResult};

/// Inserts a group, or replaces the one with the same subscription and folded name: the new
/// casing of the name and every other field win, `seq` and `created_at` stay (ARM keeps
/// the casing most recently given, reference §1.2).
pub(in crate::sqlite) fn upsert_resource_group(
    tx: &Transaction<'_>,
    group: &ResourceGroup,
) -> StoreResult<()> {
    let tags = to_json(&group.tags)?;
    tx.prepare_cached(
        "INSERT INTO resource_groups (subscription_id, name, name_folded, location, tags, \
         managed_by, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (subscription_id, name_folded) DO UPDATE SET \
         name = excluded.name, location = excluded.location, tags = excluded.tags, \
         managed_by = excluded.managed_by, updated_at = excluded.updated_at",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            guid(group.subscription_id.as_uuid()),
            group.name,
            fold_arm(&group.name),
            group.location,
            tags,
            group.managed_by,
            group.created_at,
            group.updated_at,
        ])
    })
    .map_err(backend)?;
    Ok(())
}

/// Inserts a resource, or replaces the one with the same folded id, keeping its `seq` and
/// `created_at` and taking the new casing of everything else.
pub(in crate::sqlite) fn upsert_resource(
    tx: &Transaction<'_>,
    resource: &Resource,
) -> StoreResult<()> {
    let tags = to_json(&resource.tags)?;
    let body = to_json(&resource.body)?;
    tx.prepare_cached(
        "INSERT INTO resources (id, id_folded, subscription_id, resource_group, \
         resource_group_folded, resource_type, resource_type_folded, name, location, tags, \
         body, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
         ON CONFLICT (id_folded) DO UPDATE SET \
         id = excluded.id, subscription_id = excluded.subscription_id, \
         resource_group = excluded.resource_group, \
         resource_group_folded = excluded.resource_group_folded, \
         resource_type = excluded.resource_type, \
         resource_type_folded = excluded.resource_type_folded, name = excluded.name, \
         location = excluded.location, tags = excluded.tags, body = excluded.body, \
         updated_at = excluded.updated_at",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            resource.id.as_str(),
            folded_id(&resource.id),
            guid(resource.subscription_id.as_uuid()),
            resource.resource_group,
            fold_arm(&resource.resource_group),
            resource.resource_type,
            fold_arm(&resource.resource_type),
            resource.name,
            resource.location,
            tags,
            body,
            resource.created_at,
            resource.updated_at,
        ])
    })
    .map_err(backend)?;
    Ok(())
}

/// Inserts a role assignment. A taken id, or a taken (scope, role definition, principal),
/// is a conflict (ARM's `RoleAssignmentExists`, reference §3.6).
pub(in crate::sqlite) fn insert_role_assignment(
    tx: &Transaction<'_>,
    assignment: &RoleAssignmentRecord,
) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO role_assignments (id, scope, scope_folded, principal_id, principal_type, \
         role_definition_id, description, created_at, updated_at, created_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            guid(&assignment.id),
            assignment.scope.as_str(),
            folded_id(&assignment.scope),
            guid(assignment.principal_id.as_uuid()),
            assignment.principal_type,
            guid(&assignment.role_definition_id),
            assignment.description,
            assignment.created_at,
            assignment.updated_at,
            assignment.created_by.map(|id| guid(id.as_uuid())),
        ])
    })
    .map_err(|e| {
        conflict_or_backend(e, |columns| {
            if columns.contains("scope_folded") {
                format!(
                    "principal {} already has role {} at scope '{}'",
                    assignment.principal_id, assignment.role_definition_id, assignment.scope
                )
            } else {
                format!("role assignment {} already exists", assignment.id)
            }
        })
    })?;
    Ok(())
}

/// Resources whose folded id is `?1` or lies below it (`?2`, `?3` from [`below`]).
const DELETE_RESOURCES_AT_OR_BELOW: &str = "DELETE FROM resources \
     WHERE id_folded = ?1 OR (id_folded >= ?2 AND id_folded < ?3)";

/// Role assignments whose folded scope is `?1` or lies below it (`?2`, `?3` from [`below`]).
const DELETE_ROLE_ASSIGNMENTS_AT_OR_BELOW: &str = "DELETE FROM role_assignments \
     WHERE scope_folded = ?1 OR (scope_folded >= ?2 AND scope_folded < ?3)";

/// A group's resources by their group column.
const DELETE_RESOURCES_IN_GROUP: &str =
    "DELETE FROM resources WHERE subscription_id = ?1 AND resource_group_folded = ?2";

/// Runs one of the `*_AT_OR_BELOW` statements for the folded id `folded`.
fn delete_at_or_below(tx: &Transaction<'_>, sql: &str, folded: &str) -> StoreResult<()> {
    let (lower, upper) = below(folded);
    tx.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([folded, &lower, &upper]))
        .map_err(backend)?;
    Ok(())
}

/// Deletes a resource, the resources below it, the role assignments at or below it, the
/// Key Vault secrets of the vaults, and the keys, containers and blobs of the storage
/// accounts at or below it.
pub(in crate::sqlite) fn delete_resource(tx: &Transaction<'_>, id: &ResourceId) -> StoreResult<()> {
    let folded = folded_id(id);
    delete_at_or_below(tx, DELETE_RESOURCES_AT_OR_BELOW, &folded)?;
    delete_at_or_below(tx, DELETE_ROLE_ASSIGNMENTS_AT_OR_BELOW, &folded)?;
    crate::sqlite::vault_secrets::delete_secrets_at_or_below(tx, &folded)?;
    crate::sqlite::storage_account_keys::delete_keys_at_or_below(tx, &folded)?;
    crate::sqlite::blob_writes::delete_blobs_at_or_below(tx, &folded)
}

/// Deletes a resource group, its resources, the role assignments at or below it, the Key
/// Vault secrets of the vaults and the keys of the storage accounts in it.
///
/// A group's resources are found twice, by their group column (what `list_resources`
/// shows) and by their ids lying below the group's id; the two agree for every resource
/// whose fields agree with its id, and together they leave nothing of the group behind
/// even when a caller wrote one that does not.
pub(in crate::sqlite) fn delete_resource_group(
    tx: &Transaction<'_>,
    subscription: SubscriptionId,
    name: &str,
) -> StoreResult<()> {
    let subscription_id = guid(subscription.as_uuid());
    let name_folded = fold_arm(name);
    for sql in [
        "DELETE FROM resource_groups WHERE subscription_id = ?1 AND name_folded = ?2",
        DELETE_RESOURCES_IN_GROUP,
    ] {
        tx.prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute([&subscription_id, &name_folded]))
            .map_err(backend)?;
    }
    let scope = folded_id(&ResourceId::resource_group(subscription, name));
    delete_at_or_below(tx, DELETE_RESOURCES_AT_OR_BELOW, &scope)?;
    delete_at_or_below(tx, DELETE_ROLE_ASSIGNMENTS_AT_OR_BELOW, &scope)?;
    crate::sqlite::vault_secrets::delete_secrets_at_or_below(tx, &scope)?;
    crate::sqlite::storage_account_keys::delete_keys_at_or_below(tx, &scope)?;
    crate::sqlite::blob_writes::delete_blobs_at_or_below(tx, &scope)
}

/// Deletes a role assignment by id.
pub(in crate::sqlite) fn delete_role_assignment(tx: &Transaction<'_>, id: Uuid) -> StoreResult<()> {
    tx.prepare_cached("DELETE FROM role_assignments WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute([guid(&id)]))
        .map_err(backend)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every cascade is an index lookup or range, never a scan of the table.
    #[test]
    fn cascades_use_an_index() {
        super::super::assert_index_only(&[
            DELETE_RESOURCES_AT_OR_BELOW,
            DELETE_ROLE_ASSIGNMENTS_AT_OR_BELOW,
            DELETE_RESOURCES_IN_GROUP,
        ]);
    }
}
