//! [`StorageAccountKeyStore`] for [`SqliteStore`], the upsert a [`crate::WriteBatch`] runs
//! for each key, and the cascade an account's deletion runs (schema: the storage account
//! keys migration).
//!
//! The key's value is a secret column: sealed under the store key ([`crate::seal`]) with
//! its place (`storage_account_keys.value`, the folded account id and key name) as the
//! associated data, so the database file alone reveals no key and a sealed value moved to
//! another account's row does not open.

use async_trait::async_trait;
use azlite_types::ResourceId;
use rusqlite::types::Type;
use rusqlite::{Row, Transaction, params};

use super::SqliteStore;
use super::arm::rows::{below, fold_arm, folded_id};
use super::convert::backend;
use super::read_cache::{Key, Value};
use crate::seal::StoreKey;
use crate::{StorageAccountKey, StorageAccountKeyStore, StoreResult};

/// An account's keys, by folded key name.
const LIST: &str = "SELECT account_id, key_name, value, created_at FROM storage_account_keys \
     WHERE account_id_folded = ?1 ORDER BY key_name_folded";

/// Inserts or replaces a key (same folded account id and key name): the new value, casing
/// and creation time win.
const UPSERT: &str = "INSERT INTO storage_account_keys \
     (account_id, account_id_folded, key_name, key_name_folded, value, created_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
     ON CONFLICT (account_id_folded, key_name_folded) DO UPDATE SET \
     account_id = excluded.account_id, key_name = excluded.key_name, \
     value = excluded.value, created_at = excluded.created_at";

/// The keys of the accounts whose folded id is `?1` or lies below it (`?2`, `?3` from
/// [`below`]).
const DELETE_AT_OR_BELOW: &str = "DELETE FROM storage_account_keys \
     WHERE account_id_folded = ?1 OR (account_id_folded >= ?2 AND account_id_folded < ?3)";

/// The associated data of a sealed key: its column, folded account id and folded name.
fn place(account_folded: &str, name_folded: &str) -> Vec<u8> {
    format!("storage_account_keys.value\0{account_folded}\0{name_folded}").into_bytes()
}

/// A row as read: the key with its value still sealed.
fn key_row(row: &Row<'_>) -> rusqlite::Result<StorageAccountKey> {
    let id: String = row.get(0)?;
    let account_id = id
        .parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, Type::Text, Box::new(e)))?;
    Ok(StorageAccountKey {
        account_id,
        key_name: row.get(1)?,
        value: row.get(2)?,
        created_at: row.get(3)?,
    })
}

/// Opens the sealed value of a key read by [`key_row`].
fn unseal(key: &StoreKey, mut row: StorageAccountKey) -> StoreResult<StorageAccountKey> {
    let place = place(&folded_id(&row.account_id), &fold_arm(&row.key_name));
    row.value = key.open_text(&place, &row.value)?;
    Ok(row)
}

/// Writes one key of a batch, inside the batch's transaction.
pub(super) fn upsert_key(
    tx: &Transaction<'_>,
    store_key: &StoreKey,
    key: &StorageAccountKey,
) -> StoreResult<()> {
    let (account, name) = (folded_id(&key.account_id), fold_arm(&key.key_name));
    let sealed = store_key.seal_text(&place(&account, &name), &key.value);
    tx.prepare_cached(UPSERT)
        .and_then(|mut stmt| {
            stmt.execute(params![
                key.account_id.as_str(),
                account,
                key.key_name,
                name,
                sealed,
                key.created_at,
            ])
        })
        .map_err(backend)?;
    Ok(())
}

/// Deletes the keys of the accounts at or below the folded id `folded`, inside a batch's
/// transaction (an account's, or its group's, deletion).
pub(super) fn delete_keys_at_or_below(tx: &Transaction<'_>, folded: &str) -> StoreResult<()> {
    let (lower, upper) = below(folded);
    tx.prepare_cached(DELETE_AT_OR_BELOW)
        .and_then(|mut stmt| stmt.execute([folded, &lower, &upper]))
        .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl StorageAccountKeyStore for SqliteStore {
    async fn list_storage_account_keys(
        &self,
        account: &ResourceId,
    ) -> StoreResult<Vec<StorageAccountKey>> {
        let folded = folded_id(account);
        let cache_key = Key::StorageAccountKeys(folded.clone());
        let store_key = std::sync::Arc::clone(&self.key);
        self.read_cached(
            cache_key,
            Value::StorageAccountKeys,
            into_keys,
            move |conn| {
                let mut stmt = conn.prepare_cached(LIST).map_err(backend)?;
                let rows = stmt.query_map([&folded], key_row).map_err(backend)?;
                let sealed = rows.collect::<Result<Vec<_>, _>>().map_err(backend)?;
                sealed
                    .into_iter()
                    .map(|row| unseal(&store_key, row))
                    .collect()
            },
        )
        .await
    }
}

fn into_keys(value: Value) -> Option<Vec<StorageAccountKey>> {
    match value {
        Value::StorageAccountKeys(keys) => Some(keys),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads and cascades are index lookups or ranges, never a scan of the table.
    #[test]
    fn lookups_use_an_index() {
        super::super::arm::assert_index_only(&[LIST, DELETE_AT_OR_BELOW]);
    }
}
