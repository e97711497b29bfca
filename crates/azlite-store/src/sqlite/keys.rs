//! [`SigningKeyStore`] for [`SqliteStore`], with the private keys sealed under the store
//! key ([`crate::seal`]): the plaintext PEM is never written to the file.

use std::path::Path;

use async_trait::async_trait;
use azlite_types::UnixTime;
use rusqlite::{Connection, params};

use super::SqliteStore;
use super::convert::{self, backend, conflict_or_backend, signing_key_columns};
use crate::seal::{StoreKey, is_sealed_text};
use crate::{SigningKeyStore, StoreError, StoreResult, StoredSigningKey};

/// The associated data of a sealed private key: its column and its `kid`.
fn place(kid: &str) -> Vec<u8> {
    format!("signing_keys.private_key_pem\0{kid}").into_bytes()
}

/// Loads the store key at `path`, or makes it when the store holds nothing sealed yet. A
/// store with sealed keys and no key file is refused: a new key could not open them.
pub(super) fn open_store_key(conn: &Connection, path: &Path) -> StoreResult<StoreKey> {
    if let Some(key) = StoreKey::load(path)? {
        return Ok(key);
    }
    let sealed: i64 = conn
        .query_row(
            "SELECT count(*) FROM signing_keys WHERE private_key_pem LIKE 'sealed:%'",
            [],
            |row| row.get(0),
        )
        .map_err(backend)?;
    if sealed > 0 {
        return Err(StoreError::Corrupt(format!(
            "{} is missing: the store's sealed signing keys cannot be opened without it (restore it from where the database came from)",
            path.display()
        )));
    }
    StoreKey::create(path)
}

/// Seals the private keys a store from before sealing holds in plain text, in one
/// transaction; then checkpoints and truncates the WAL so the plaintext is in no file
/// (`secure_delete` zeroes what the update replaced).
pub(super) fn seal_plaintext_keys(conn: &mut Connection, key: &StoreKey) -> StoreResult<()> {
    let plain: Vec<(String, String)> = conn
        .prepare("SELECT kid, private_key_pem FROM signing_keys")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<Vec<(String, String)>>>()
        })
        .map_err(backend)?
        .into_iter()
        .filter(|(_, pem)| !is_sealed_text(pem))
        .collect();
    if plain.is_empty() {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(backend)?;
    for (kid, pem) in &plain {
        tx.execute(
            "UPDATE signing_keys SET private_key_pem = ?2 WHERE kid = ?1",
            params![kid, key.seal_text(&place(kid), pem)],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(backend)?;
    tracing::info!(
        keys = plain.len(),
        "sealed the signing keys a store from before sealing held in plain text"
    );
    Ok(())
}

#[async_trait]
impl SigningKeyStore for SqliteStore {
    async fn list_signing_keys(&self) -> StoreResult<Vec<StoredSigningKey>> {
        let sealed: Vec<StoredSigningKey> = self
            .read(|conn| {
                conn.prepare_cached(concat!(
                    "SELECT ",
                    signing_key_columns!(),
                    " FROM signing_keys ORDER BY created_at, seq"
                ))
                .and_then(|mut stmt| stmt.query_map([], convert::signing_key)?.collect())
                .map_err(backend)
            })
            .await?;
        sealed
            .into_iter()
            .map(|mut stored| {
                stored.private_key_pem = self
                    .key
                    .open_text(&place(&stored.kid), &stored.private_key_pem)?;
                Ok(stored)
            })
            .collect()
    }

    async fn insert_signing_key(&self, key: &StoredSigningKey) -> StoreResult<()> {
        let mut key = key.clone();
        key.private_key_pem = self.key.seal_text(&place(&key.kid), &key.private_key_pem);
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO signing_keys \
                 (kid, certificate_pem, private_key_pem, created_at, retired_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    key.kid,
                    key.certificate_pem,
                    key.private_key_pem,
                    key.created_at,
                    key.retired_at,
                ])
            })
            .map_err(|e| {
                conflict_or_backend(e, |_| format!("signing key '{}' already exists", key.kid))
            })?;
            Ok(())
        })
        .await
    }

    async fn retire_signing_key(&self, kid: &str, at: UnixTime) -> StoreResult<bool> {
        let kid = kid.to_owned();
        self.write(move |conn| {
            // A key retired twice keeps its first retirement time: moving it later would
            // keep a key published longer than needed, moving it earlier could let it be
            // deleted while tokens it signed are still valid.
            let changed = conn
                .prepare_cached(
                    "UPDATE signing_keys SET retired_at = coalesce(retired_at, ?2) WHERE kid = ?1",
                )
                .and_then(|mut stmt| stmt.execute(params![kid, at]))
                .map_err(backend)?;
            Ok(changed > 0)
        })
        .await
    }

    async fn delete_signing_key(&self, kid: &str) -> StoreResult<bool> {
        let kid = kid.to_owned();
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM signing_keys WHERE kid = ?1")
                .and_then(|mut stmt| stmt.execute([kid]))
                .map_err(backend)?;
            Ok(deleted > 0)
        })
        .await
    }
}
