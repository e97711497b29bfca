//! [`ArmStore`] for [`SqliteStore`]: the reads live here, the writes (run by
//! [`super::batch::apply`]) in [`writes`], the row readers and key folding in [`rows`].

pub(super) mod rows;
pub(super) mod writes;

use async_trait::async_trait;
use azlite_types::{ObjectId, ResourceId, SubscriptionId};
use rusqlite::OptionalExtension;
use uuid::Uuid;

use self::rows::{
    fold_arm, folded_id, resource_columns, resource_group_columns, role_assignment_columns,
};
use super::SqliteStore;
use super::convert::{backend, guid};
use super::read_cache::{Key, Value};
use crate::{ArmStore, Resource, ResourceGroup, RoleAssignmentRecord, StoreResult};

/// A group by subscription and folded name: the unique index.
const GET_RESOURCE_GROUP: &str = concat!(
    "SELECT ",
    resource_group_columns!(),
    " FROM resource_groups WHERE subscription_id = ?1 AND name_folded = ?2"
);

const LIST_RESOURCE_GROUPS: &str = concat!(
    "SELECT ",
    resource_group_columns!(),
    " FROM resource_groups WHERE subscription_id = ?1 ORDER BY created_at, seq"
);

/// A resource by folded id: the unique index.
const GET_RESOURCE: &str = concat!(
    "SELECT ",
    resource_columns!(),
    " FROM resources WHERE id_folded = ?1"
);

// One statement per combination of filters, each served in order by one index (a single
// statement with `?2 IS NULL OR ...` would scan the subscription).
const LIST_RESOURCES: &str = concat!(
    "SELECT ",
    resource_columns!(),
    " FROM resources WHERE subscription_id = ?1 ORDER BY created_at, seq"
);
const LIST_RESOURCES_IN_GROUP: &str = concat!(
    "SELECT ",
    resource_columns!(),
    " FROM resources WHERE subscription_id = ?1 AND resource_group_folded = ?2 \
     ORDER BY created_at, seq"
);
const LIST_RESOURCES_OF_TYPE: &str = concat!(
    "SELECT ",
    resource_columns!(),
    " FROM resources WHERE subscription_id = ?1 AND resource_type_folded = ?2 \
     ORDER BY created_at, seq"
);
const LIST_RESOURCES_IN_GROUP_OF_TYPE: &str = concat!(
    "SELECT ",
    resource_columns!(),
    " FROM resources WHERE subscription_id = ?1 AND resource_group_folded = ?2 \
     AND resource_type_folded = ?3 ORDER BY created_at, seq"
);

/// Resources by folded type and name in every subscription: `resources_by_type_name`.
const FIND_RESOURCES_BY_NAME: &str = concat!(
    "SELECT ",
    resource_columns!(),
    " FROM resources WHERE resource_type_folded = ?1 AND lower(name) = ?2 \
     ORDER BY created_at, seq"
);

const GET_ROLE_ASSIGNMENT: &str = concat!(
    "SELECT ",
    role_assignment_columns!(),
    " FROM role_assignments WHERE id = ?1"
);
const LIST_ROLE_ASSIGNMENTS: &str = concat!(
    "SELECT ",
    role_assignment_columns!(),
    " FROM role_assignments ORDER BY created_at, seq"
);
const LIST_ROLE_ASSIGNMENTS_FOR_PRINCIPAL: &str = concat!(
    "SELECT ",
    role_assignment_columns!(),
    " FROM role_assignments WHERE principal_id = ?1 ORDER BY created_at, seq"
);

#[async_trait]
impl ArmStore for SqliteStore {
    async fn get_resource_group(
        &self,
        subscription: SubscriptionId,
        name: &str,
    ) -> StoreResult<Option<ResourceGroup>> {
        let params = [guid(subscription.as_uuid()), fold_arm(name)];
        let key = Key::ResourceGroup(params[0].clone(), params[1].clone());
        let from = |v| match v {
            Value::ResourceGroup(g) => Some(g),
            _ => None,
        };
        self.read_cached(key, Value::ResourceGroup, from, move |conn| {
            conn.prepare_cached(GET_RESOURCE_GROUP)
                .and_then(|mut stmt| stmt.query_row(params, rows::resource_group).optional())
                .map_err(backend)
        })
        .await
    }

    async fn list_resource_groups(
        &self,
        subscription: SubscriptionId,
    ) -> StoreResult<Vec<ResourceGroup>> {
        self.read(move |conn| {
            conn.prepare_cached(LIST_RESOURCE_GROUPS)
                .and_then(|mut stmt| {
                    stmt.query_map([guid(subscription.as_uuid())], rows::resource_group)?
                        .collect()
                })
                .map_err(backend)
        })
        .await
    }

    async fn get_resource(&self, id: &ResourceId) -> StoreResult<Option<Resource>> {
        let folded = folded_id(id);
        let key = Key::Resource(folded.clone());
        let from = |v| match v {
            Value::Resource(r) => Some(r),
            _ => None,
        };
        self.read_cached(key, Value::Resource, from, move |conn| {
            conn.prepare_cached(GET_RESOURCE)
                .and_then(|mut stmt| stmt.query_row([folded], rows::resource).optional())
                .map_err(backend)
        })
        .await
    }

    async fn list_resources(
        &self,
        subscription: SubscriptionId,
        resource_group: Option<&str>,
        resource_type: Option<&str>,
    ) -> StoreResult<Vec<Resource>> {
        let mut params = vec![guid(subscription.as_uuid())];
        params.extend(resource_group.map(fold_arm));
        params.extend(resource_type.map(fold_arm));
        let sql = match (resource_group, resource_type) {
            (None, None) => LIST_RESOURCES,
            (Some(_), None) => LIST_RESOURCES_IN_GROUP,
            (None, Some(_)) => LIST_RESOURCES_OF_TYPE,
            (Some(_), Some(_)) => LIST_RESOURCES_IN_GROUP_OF_TYPE,
        };
        self.read(move |conn| {
            conn.prepare_cached(sql)
                .and_then(|mut stmt| {
                    stmt.query_map(rusqlite::params_from_iter(params), rows::resource)?
                        .collect()
                })
                .map_err(backend)
        })
        .await
    }

    async fn find_resources_by_name(
        &self,
        resource_type: &str,
        name: &str,
    ) -> StoreResult<Vec<Resource>> {
        let params = [fold_arm(resource_type), fold_arm(name)];
        let key = Key::ResourcesByName(params[0].clone(), params[1].clone());
        let from = |v| match v {
            Value::Resources(r) => Some(r),
            _ => None,
        };
        self.read_cached(key, Value::Resources, from, move |conn| {
            conn.prepare_cached(FIND_RESOURCES_BY_NAME)
                .and_then(|mut stmt| stmt.query_map(params, rows::resource)?.collect())
                .map_err(backend)
        })
        .await
    }

    async fn get_role_assignment(&self, id: Uuid) -> StoreResult<Option<RoleAssignmentRecord>> {
        self.read(move |conn| {
            conn.prepare_cached(GET_ROLE_ASSIGNMENT)
                .and_then(|mut stmt| {
                    stmt.query_row([guid(&id)], rows::role_assignment)
                        .optional()
                })
                .map_err(backend)
        })
        .await
    }

    async fn list_role_assignments(&self) -> StoreResult<Vec<RoleAssignmentRecord>> {
        self.read(|conn| {
            conn.prepare_cached(LIST_ROLE_ASSIGNMENTS)
                .and_then(|mut stmt| readable_assignments(&mut stmt, []))
                .map_err(backend)
        })
        .await
    }

    async fn list_role_assignments_for_principal(
        &self,
        principal: ObjectId,
    ) -> StoreResult<Vec<RoleAssignmentRecord>> {
        self.read(move |conn| {
            conn.prepare_cached(LIST_ROLE_ASSIGNMENTS_FOR_PRINCIPAL)
                .and_then(|mut stmt| readable_assignments(&mut stmt, [guid(principal.as_uuid())]))
                .map_err(backend)
        })
        .await
    }
}

/// The rows of a role-assignment list query, skipping with a warning those that do not
/// decode (a scope that no longer parses, a malformed GUID): ARM loads every assignment at
/// start-up, and one bad row must not keep the whole cloud from starting.
fn readable_assignments(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<RoleAssignmentRecord>> {
    let mut out = Vec::new();
    let mut cursor = stmt.query(params)?;
    while let Some(row) = cursor.next()? {
        match rows::role_assignment(row) {
            Ok(record) => out.push(record),
            Err(error) => {
                let id: Option<String> = row.get(0).ok();
                tracing::warn!(
                    id = id.as_deref().unwrap_or("?"),
                    %error,
                    "skipping a stored role assignment that cannot be read"
                );
            }
        }
    }
    Ok(out)
}

/// The steps of the query plan of `sql` on a fresh schema.
#[cfg(test)]
fn query_plan(sql: &str) -> Vec<String> {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    super::migrations::migrate(&mut conn).unwrap();
    let mut plan = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let params = rusqlite::params_from_iter(["x"].repeat(plan.parameter_count()));
    plan.query_map(params, |row| row.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Asserts that each statement runs on indexes alone: no table scan and no sort.
#[cfg(test)]
pub(in crate::sqlite) fn assert_index_only(statements: &[&str]) {
    for sql in statements {
        let steps = query_plan(sql);
        assert!(
            steps.iter().any(|step| step.contains("INDEX")),
            "{sql}: {steps:?}"
        );
        for step in &steps {
            assert!(
                !step.starts_with("SCAN") && !step.contains("TEMP B-TREE"),
                "{sql}: {steps:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lookups and filtered lists are index lookups, in index order. The list of every
    /// role assignment reads the whole table anyway, but in the order of its age index.
    #[test]
    fn reads_use_an_index_and_need_no_sort() {
        assert_index_only(&[
            GET_RESOURCE_GROUP,
            LIST_RESOURCE_GROUPS,
            GET_RESOURCE,
            LIST_RESOURCES,
            LIST_RESOURCES_IN_GROUP,
            LIST_RESOURCES_OF_TYPE,
            LIST_RESOURCES_IN_GROUP_OF_TYPE,
            GET_ROLE_ASSIGNMENT,
            LIST_ROLE_ASSIGNMENTS_FOR_PRINCIPAL,
        ]);
        let steps = query_plan(LIST_ROLE_ASSIGNMENTS);
        assert!(
            steps
                .iter()
                .all(|step| step.contains("role_assignments_by_age") && !step.contains("TEMP")),
            "{steps:?}"
        );
    }
}
