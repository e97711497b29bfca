//! [`SettingsStore`] for [`SqliteStore`], and the upsert that [`super::batch::apply`] shares.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension};

use super::SqliteStore;
use super::convert::backend;
use crate::{SettingsStore, StoreResult};

/// Inserts or replaces a setting.
pub(super) fn put(conn: &Connection, key: &str, value: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .and_then(|mut stmt| stmt.execute([key, value]))
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_owned();
        self.read(move |conn| {
            conn.prepare_cached("SELECT value FROM settings WHERE key = ?1")
                .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
                .map_err(backend)
        })
        .await
    }

    async fn put_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        // A single statement in autocommit mode is its own transaction.
        self.write(move |conn| put(conn, &key, &value)).await
    }
}
