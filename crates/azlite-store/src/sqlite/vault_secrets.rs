//! [`SecretStore`] for [`SqliteStore`], and the cascade a vault's deletion runs inside a
//! [`crate::WriteBatch`] (schema: migration 4).

use async_trait::async_trait;
use azlite_types::ResourceId;
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use super::SqliteStore;
use super::arm::rows::{below, fold_arm, folded_id, to_json};
use super::convert::{backend, conflict_or_backend};
use super::read_cache::{Key, Value};
use crate::{DeletedSecret, SecretDeletion, SecretStore, SecretVersion, StoreError, StoreResult};

/// The columns [`version_row`] reads, from `keyvault_secrets s` joined with
/// `keyvault_secret_versions v`.
macro_rules! version_columns {
    () => {
        "s.vault_id, s.name, v.version, v.sealed_value, v.content_type, v.tags, v.enabled, \
         v.not_before, v.expires, v.created_at, v.updated_at, s.deleted_at, \
         s.scheduled_purge_at"
    };
}

/// The join of a secret with its versions.
const JOIN: &str = " FROM keyvault_secrets s JOIN keyvault_secret_versions v \
     ON v.vault_id_folded = s.vault_id_folded AND v.name_folded = s.name_folded ";

/// The join of a secret with its newest version only.
const JOIN_NEWEST: &str = " FROM keyvault_secrets s JOIN keyvault_secret_versions v \
     ON v.seq = (SELECT max(seq) FROM keyvault_secret_versions n \
     WHERE n.vault_id_folded = s.vault_id_folded AND n.name_folded = s.name_folded) ";

fn sql(parts: &[&str]) -> String {
    parts.concat()
}

fn newest_sql(deleted: bool) -> String {
    let state = if deleted { "NOT NULL" } else { "NULL" };
    sql(&[
        "SELECT ",
        version_columns!(),
        JOIN_NEWEST,
        "WHERE s.vault_id_folded = ?1 AND s.name_folded = ?2 AND s.deleted_at IS ",
        state,
    ])
}

fn list_newest_sql(deleted: bool) -> String {
    let state = if deleted { "NOT NULL" } else { "NULL" };
    sql(&[
        "SELECT ",
        version_columns!(),
        JOIN_NEWEST,
        "WHERE s.vault_id_folded = ?1 AND s.deleted_at IS ",
        state,
        " ORDER BY s.name_folded",
    ])
}

fn one_version_sql() -> String {
    sql(&[
        "SELECT ",
        version_columns!(),
        JOIN,
        "WHERE s.vault_id_folded = ?1 AND s.name_folded = ?2 AND v.version = ?3 \
         AND s.deleted_at IS NULL",
    ])
}

fn versions_sql() -> String {
    sql(&[
        "SELECT ",
        version_columns!(),
        JOIN,
        "WHERE s.vault_id_folded = ?1 AND s.name_folded = ?2 AND s.deleted_at IS NULL \
         ORDER BY v.seq",
    ])
}

/// A row selected with `version_columns!()`, with its deletion if the secret is deleted.
fn version_row(row: &Row<'_>) -> rusqlite::Result<(SecretVersion, Option<SecretDeletion>)> {
    let vault_text: String = row.get(0)?;
    let vault_id = vault_text
        .parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, Type::Text, Box::new(e)))?;
    let tags_text: String = row.get(5)?;
    let tags = serde_json::from_str(&tags_text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(5, Type::Text, Box::new(e)))?;
    let deleted_at: Option<i64> = row.get(11)?;
    let scheduled_purge_at: Option<i64> = row.get(12)?;
    let version = SecretVersion {
        vault_id,
        name: row.get(1)?,
        version: row.get(2)?,
        sealed_value: row.get(3)?,
        content_type: row.get(4)?,
        tags,
        enabled: row.get(6)?,
        not_before: row.get(7)?,
        expires: row.get(8)?,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
    };
    let deletion = deleted_at.map(|deleted_at| SecretDeletion {
        deleted_at,
        scheduled_purge_at: scheduled_purge_at.unwrap_or(deleted_at),
    });
    Ok((version, deletion))
}

/// The keys of a secret: folded vault id and folded name.
fn keys(vault: &ResourceId, name: &str) -> [String; 2] {
    [folded_id(vault), fold_arm(name)]
}

/// The keys as statement parameters `?1`, `?2`.
fn p(keys: &[String; 2]) -> [&str; 2] {
    [&keys[0], &keys[1]]
}

fn newest(
    conn: &Connection,
    keys: &[String; 2],
    deleted: bool,
) -> StoreResult<Option<(SecretVersion, Option<SecretDeletion>)>> {
    conn.prepare_cached(&newest_sql(deleted))
        .and_then(|mut stmt| stmt.query_row(p(keys), version_row).optional())
        .map_err(backend)
}

fn begin(conn: &mut Connection) -> StoreResult<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)
}

/// Removes a secret's row and versions inside `tx`.
fn remove(tx: &Transaction<'_>, keys: &[String; 2]) -> StoreResult<()> {
    for statement in [
        "DELETE FROM keyvault_secret_versions WHERE vault_id_folded = ?1 AND name_folded = ?2",
        "DELETE FROM keyvault_secrets WHERE vault_id_folded = ?1 AND name_folded = ?2",
    ] {
        tx.prepare_cached(statement)
            .and_then(|mut stmt| stmt.execute(p(keys)))
            .map_err(backend)?;
    }
    Ok(())
}

/// Secrets (and their versions) of the vaults whose folded id is `?1` or lies below it.
const DELETE_SECRETS_AT_OR_BELOW: &str = "DELETE FROM keyvault_secrets \
     WHERE vault_id_folded = ?1 OR (vault_id_folded >= ?2 AND vault_id_folded < ?3)";
const DELETE_VERSIONS_AT_OR_BELOW: &str = "DELETE FROM keyvault_secret_versions \
     WHERE vault_id_folded = ?1 OR (vault_id_folded >= ?2 AND vault_id_folded < ?3)";

/// Deletes the secrets of every vault at or below the folded ARM id `folded`, inside a
/// batch's transaction: the cascade of a resource's or a group's deletion.
pub(super) fn delete_secrets_at_or_below(tx: &Transaction<'_>, folded: &str) -> StoreResult<()> {
    let (lower, upper) = below(folded);
    for statement in [DELETE_VERSIONS_AT_OR_BELOW, DELETE_SECRETS_AT_OR_BELOW] {
        tx.prepare_cached(statement)
            .and_then(|mut stmt| stmt.execute([folded, &lower, &upper]))
            .map_err(backend)?;
    }
    Ok(())
}

fn insert_version(conn: &mut Connection, version: &SecretVersion) -> StoreResult<()> {
    let [vault, name] = keys(&version.vault_id, &version.name);
    let tags = to_json(&version.tags)?;
    let tx = begin(conn)?;
    let state: Option<Option<i64>> = tx
        .prepare_cached(
            "SELECT deleted_at FROM keyvault_secrets \
             WHERE vault_id_folded = ?1 AND name_folded = ?2",
        )
        .and_then(|mut stmt| stmt.query_row([&vault, &name], |row| row.get(0)).optional())
        .map_err(backend)?;
    if let Some(Some(_)) = state {
        return Err(StoreError::Conflict(format!(
            "secret {} is deleted: it can only be recovered or purged",
            version.name
        )));
    }
    tx.prepare_cached(
        "INSERT INTO keyvault_secrets (vault_id, vault_id_folded, name, name_folded) \
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (vault_id_folded, name_folded) DO UPDATE SET \
         vault_id = excluded.vault_id, name = excluded.name",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            version.vault_id.as_str(),
            vault,
            version.name,
            name
        ])
    })
    .map_err(backend)?;
    tx.prepare_cached(
        "INSERT INTO keyvault_secret_versions (vault_id_folded, name_folded, version, \
         sealed_value, content_type, tags, enabled, not_before, expires, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            vault,
            name,
            fold_arm(&version.version),
            version.sealed_value,
            version.content_type,
            tags,
            version.enabled,
            version.not_before,
            version.expires,
            version.created_at,
            version.updated_at,
        ])
    })
    .map_err(|e| {
        conflict_or_backend(e, |_| {
            format!(
                "secret {} already has version {}",
                version.name, version.version
            )
        })
    })?;
    tx.commit().map_err(backend)
}

fn update_version(conn: &mut Connection, version: &SecretVersion) -> StoreResult<bool> {
    let [vault, name] = keys(&version.vault_id, &version.name);
    let tags = to_json(&version.tags)?;
    let changed = conn
        .prepare_cached(
            "UPDATE keyvault_secret_versions SET content_type = ?4, tags = ?5, enabled = ?6, \
             not_before = ?7, expires = ?8, updated_at = ?9 \
             WHERE vault_id_folded = ?1 AND name_folded = ?2 AND version = ?3 \
             AND EXISTS (SELECT 1 FROM keyvault_secrets s WHERE s.vault_id_folded = ?1 \
             AND s.name_folded = ?2 AND s.deleted_at IS NULL)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                vault,
                name,
                fold_arm(&version.version),
                version.content_type,
                tags,
                version.enabled,
                version.not_before,
                version.expires,
                version.updated_at,
            ])
        })
        .map_err(backend)?;
    Ok(changed > 0)
}

fn delete(
    conn: &mut Connection,
    keys: &[String; 2],
    soft: Option<SecretDeletion>,
) -> StoreResult<Option<SecretVersion>> {
    let tx = begin(conn)?;
    let Some((latest, _)) = newest(&tx, keys, false)? else {
        return Ok(None);
    };
    match soft {
        Some(deletion) => {
            tx.prepare_cached(
                "UPDATE keyvault_secrets SET deleted_at = ?3, scheduled_purge_at = ?4 \
                 WHERE vault_id_folded = ?1 AND name_folded = ?2",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    keys[0],
                    keys[1],
                    deletion.deleted_at,
                    deletion.scheduled_purge_at
                ])
            })
            .map_err(backend)?;
        }
        None => remove(&tx, keys)?,
    }
    tx.commit().map_err(backend)?;
    Ok(Some(latest))
}

fn recover(conn: &mut Connection, keys: &[String; 2]) -> StoreResult<Option<SecretVersion>> {
    let tx = begin(conn)?;
    let Some((latest, _)) = newest(&tx, keys, true)? else {
        return Ok(None);
    };
    tx.prepare_cached(
        "UPDATE keyvault_secrets SET deleted_at = NULL, scheduled_purge_at = NULL \
         WHERE vault_id_folded = ?1 AND name_folded = ?2",
    )
    .and_then(|mut stmt| stmt.execute(p(keys)))
    .map_err(backend)?;
    tx.commit().map_err(backend)?;
    Ok(Some(latest))
}

fn purge(conn: &mut Connection, keys: &[String; 2]) -> StoreResult<bool> {
    let tx = begin(conn)?;
    let deleted: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM keyvault_secrets WHERE vault_id_folded = ?1 \
             AND name_folded = ?2 AND deleted_at IS NOT NULL)",
        )
        .and_then(|mut stmt| stmt.query_row(p(keys), |row| row.get(0)))
        .map_err(backend)?;
    if deleted {
        remove(&tx, keys)?;
    }
    tx.commit().map_err(backend)?;
    Ok(deleted)
}

fn into_deleted(
    (latest, deletion): (SecretVersion, Option<SecretDeletion>),
) -> Option<DeletedSecret> {
    deletion.map(|deletion| DeletedSecret { latest, deletion })
}

#[async_trait]
impl SecretStore for SqliteStore {
    async fn insert_secret_version(&self, version: &SecretVersion) -> StoreResult<()> {
        let version = version.clone();
        self.write(move |conn| insert_version(conn, &version)).await
    }

    async fn get_secret_version(
        &self,
        vault: &ResourceId,
        name: &str,
        version: Option<&str>,
    ) -> StoreResult<Option<SecretVersion>> {
        let keys = keys(vault, name);
        let version = version.map(fold_arm);
        let key = Key::SecretVersion(keys[0].clone(), keys[1].clone(), version.clone());
        let from = |v| match v {
            Value::SecretVersion(s) => Some(s),
            _ => None,
        };
        self.read_cached(key, Value::SecretVersion, from, move |conn| match version {
            None => Ok(newest(conn, &keys, false)?.map(|(v, _)| v)),
            Some(version) => conn
                .prepare_cached(&one_version_sql())
                .and_then(|mut stmt| {
                    stmt.query_row(params![keys[0], keys[1], version], version_row)
                        .optional()
                })
                .map(|found| found.map(|(v, _)| v))
                .map_err(backend),
        })
        .await
    }

    async fn update_secret_version(&self, version: &SecretVersion) -> StoreResult<bool> {
        let version = version.clone();
        self.write(move |conn| update_version(conn, &version)).await
    }

    async fn list_secrets(&self, vault: &ResourceId) -> StoreResult<Vec<SecretVersion>> {
        let vault = folded_id(vault);
        self.read(move |conn| {
            conn.prepare_cached(&list_newest_sql(false))
                .and_then(|mut stmt| {
                    stmt.query_map([vault], |row| version_row(row).map(|(v, _)| v))?
                        .collect()
                })
                .map_err(backend)
        })
        .await
    }

    async fn list_secret_versions(
        &self,
        vault: &ResourceId,
        name: &str,
    ) -> StoreResult<Vec<SecretVersion>> {
        let keys = keys(vault, name);
        self.read(move |conn| {
            conn.prepare_cached(&versions_sql())
                .and_then(|mut stmt| {
                    stmt.query_map(p(&keys), |row| version_row(row).map(|(v, _)| v))?
                        .collect()
                })
                .map_err(backend)
        })
        .await
    }

    async fn delete_secret(
        &self,
        vault: &ResourceId,
        name: &str,
        soft: Option<SecretDeletion>,
    ) -> StoreResult<Option<SecretVersion>> {
        let keys = keys(vault, name);
        self.write(move |conn| delete(conn, &keys, soft)).await
    }

    async fn get_deleted_secret(
        &self,
        vault: &ResourceId,
        name: &str,
    ) -> StoreResult<Option<DeletedSecret>> {
        let keys = keys(vault, name);
        self.read(move |conn| Ok(newest(conn, &keys, true)?.and_then(into_deleted)))
            .await
    }

    async fn list_deleted_secrets(&self, vault: &ResourceId) -> StoreResult<Vec<DeletedSecret>> {
        let vault = folded_id(vault);
        self.read(move |conn| {
            let rows: Vec<_> = conn
                .prepare_cached(&list_newest_sql(true))
                .and_then(|mut stmt| stmt.query_map([vault], version_row)?.collect())
                .map_err(backend)?;
            Ok(rows.into_iter().filter_map(into_deleted).collect())
        })
        .await
    }

    async fn recover_deleted_secret(
        &self,
        vault: &ResourceId,
        name: &str,
    ) -> StoreResult<Option<SecretVersion>> {
        let keys = keys(vault, name);
        self.write(move |conn| recover(conn, &keys)).await
    }

    async fn purge_deleted_secret(&self, vault: &ResourceId, name: &str) -> StoreResult<bool> {
        let keys = keys(vault, name);
        self.write(move |conn| purge(conn, &keys)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every lookup, list and cascade runs on an index, with no sort.
    #[test]
    fn reads_and_cascades_use_an_index() {
        super::super::arm::assert_index_only(&[
            &newest_sql(false),
            &newest_sql(true),
            &list_newest_sql(false),
            &list_newest_sql(true),
            &one_version_sql(),
            &versions_sql(),
            DELETE_SECRETS_AT_OR_BELOW,
            DELETE_VERSIONS_AT_OR_BELOW,
        ]);
    }
}
