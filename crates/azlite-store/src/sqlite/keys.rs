//! [`SigningKeyStore`] for [`SqliteStore`].

use async_trait::async_trait;
use azlite_types::UnixTime;
use rusqlite::params;

use super::SqliteStore;
use super::convert::{self, backend, conflict_or_backend, signing_key_columns};
use crate::{SigningKeyStore, StoreResult, StoredSigningKey};

#[async_trait]
impl SigningKeyStore for SqliteStore {
    async fn list_signing_keys(&self) -> StoreResult<Vec<StoredSigningKey>> {
        self.read(|conn| {
            conn.prepare_cached(concat!(
                "SELECT ",
                signing_key_columns!(),
                " FROM signing_keys ORDER BY created_at, seq"
            ))
            .and_then(|mut stmt| stmt.query_map([], convert::signing_key)?.collect())
            .map_err(backend)
        })
        .await
    }

    async fn insert_signing_key(&self, key: &StoredSigningKey) -> StoreResult<()> {
        let key = key.clone();
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
