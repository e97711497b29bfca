//! Between ARM rows and models: the folding of ARM keys, the "at or below" range, JSON
//! columns and the row readers.

use std::collections::BTreeMap;

use azlite_types::{ObjectId, ResourceId, SubscriptionId};
use rusqlite::Row;
use rusqlite::types::Type;
use serde::de::DeserializeOwned;

use crate::sqlite::convert::uuid_at;
use crate::{Resource, ResourceGroup, RoleAssignmentRecord, StoreError, StoreResult};

/// The stored form of a case-insensitive ARM key (id, scope, group name, resource type).
///
/// ASCII lower case, not the Unicode folding of the directory's keys: [`ResourceId`]
/// compares ids by ASCII case and `azlite-authz` keys scopes the same way, and the store
/// must never merge (on upsert) or cascade over (on delete) two ids that they hold
/// distinct.
pub(in crate::sqlite) fn fold_arm(text: &str) -> String {
    text.to_ascii_lowercase()
}

/// The folded form of an ARM id.
pub(in crate::sqlite) fn folded_id(id: &ResourceId) -> String {
    fold_arm(id.as_str())
}

/// The bounds `[lower, upper)` of the folded ids strictly below the folded id `folded`:
/// the texts that start with `folded/` (every text, for the root `/`). `'0'` is the byte
/// after `'/'`, so with SQLite's byte-wise BINARY collation `x >= lower AND x < upper`
/// holds exactly for those texts, and runs as an index range scan with no wildcard to
/// escape (unlike `LIKE`: a group may be named `rg_1`).
pub(in crate::sqlite) fn below(folded: &str) -> (String, String) {
    let lower = if folded.ends_with('/') {
        folded.to_owned()
    } else {
        format!("{folded}/")
    };
    let mut upper = lower.clone();
    upper.pop();
    upper.push('0');
    (lower, upper)
}

/// The stored form of a JSON column.
pub(in crate::sqlite) fn to_json(value: &impl serde::Serialize) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(Box::new(e)))
}

fn json_at<T: DeserializeOwned>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    let text = row
        .get_ref(index)?
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))?;
    serde_json::from_str(text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

fn resource_id_at(row: &Row<'_>, index: usize) -> rusqlite::Result<ResourceId> {
    let text = row
        .get_ref(index)?
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))?;
    text.parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

macro_rules! resource_group_columns {
    () => {
        "subscription_id, name, location, tags, managed_by, created_at, updated_at"
    };
}
pub(super) use resource_group_columns;

/// Reads a row selected with `resource_group_columns!()`.
pub(super) fn resource_group(row: &Row<'_>) -> rusqlite::Result<ResourceGroup> {
    Ok(ResourceGroup {
        subscription_id: SubscriptionId::from_uuid(uuid_at(row, 0)?),
        name: row.get(1)?,
        location: row.get(2)?,
        tags: json_at::<BTreeMap<String, String>>(row, 3)?,
        managed_by: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
    })
}

macro_rules! resource_columns {
    () => {
        "id, subscription_id, resource_group, resource_type, name, location, tags, body, \
         created_at, updated_at"
    };
}
pub(super) use resource_columns;

/// Reads a row selected with `resource_columns!()`.
pub(super) fn resource(row: &Row<'_>) -> rusqlite::Result<Resource> {
    Ok(Resource {
        id: resource_id_at(row, 0)?,
        subscription_id: SubscriptionId::from_uuid(uuid_at(row, 1)?),
        resource_group: row.get(2)?,
        resource_type: row.get(3)?,
        name: row.get(4)?,
        location: row.get(5)?,
        tags: json_at(row, 6)?,
        body: json_at(row, 7)?,
        created_at: row.get(8)?,
        updated_at: row.get(9)?,
    })
}

macro_rules! role_assignment_columns {
    () => {
        "id, scope, principal_id, principal_type, role_definition_id, description, \
         created_at, updated_at, created_by"
    };
}
pub(super) use role_assignment_columns;

/// Reads a row selected with `role_assignment_columns!()`.
pub(super) fn role_assignment(row: &Row<'_>) -> rusqlite::Result<RoleAssignmentRecord> {
    let created_by = match row.get_ref(8)?.as_str_or_null() {
        Ok(None) => None,
        Ok(Some(_)) => Some(ObjectId::from_uuid(uuid_at(row, 8)?)),
        Err(e) => {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                8,
                Type::Text,
                Box::new(e),
            ));
        }
    };
    Ok(RoleAssignmentRecord {
        id: uuid_at(row, 0)?,
        scope: resource_id_at(row, 1)?,
        principal_id: ObjectId::from_uuid(uuid_at(row, 2)?),
        principal_type: row.get(3)?,
        role_definition_id: uuid_at(row, 4)?,
        description: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        created_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_the_whole_segment_prefix() {
        assert_eq!(
            below("/s/rg1"),
            ("/s/rg1/".to_owned(), "/s/rg10".to_owned())
        );
        assert_eq!(below("/"), ("/".to_owned(), "0".to_owned()));
        let (lower, upper) = below("/s/rg1");
        let inside = |text: &str| text >= lower.as_str() && text < upper.as_str();
        assert!(inside("/s/rg1/p/t/n"));
        assert!(inside("/s/rg1/"));
        for outside in [
            "/s/rg1",
            "/s/rg10",
            "/s/rg10/p/t/n",
            "/s/rg1-2/x",
            "/s/rg1./x",
        ] {
            assert!(!inside(outside), "{outside}");
        }
    }
}
