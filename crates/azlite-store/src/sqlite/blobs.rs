//! [`BlobStore`] for [`SqliteStore`]: the reads here, the writes in [`super::blob_writes`]
//! (schema: migration "blob").

use async_trait::async_trait;
use azlite_types::ResourceId;
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::arm::rows::{fold_arm, folded_id};
use super::blob_writes as writes;
use super::convert::{backend, uuid_at};
use super::read_cache::Touched;
use super::{SqliteStore, read_cache};
use crate::{
    BlobContent, BlobKind, BlobRecord, BlobStore, Block, ContainerRecord, Expect, StoreError,
    StoreResult, StoredLease, UncommittedBlock, UnixMillis,
};

/// The columns [`container_row`] reads.
pub(super) const CONTAINER_COLUMNS: &str = "account_id, name, metadata, public_access, etag, \
     created_at, last_modified, lease, generation";
/// The columns [`blob_row`] reads.
pub(super) const BLOB_COLUMNS: &str = "name, kind, content_length, headers, metadata, etag, \
     created_at, last_modified, lease, generation, container";

fn json<T: serde::de::DeserializeOwned>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

fn lease(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<StoredLease>> {
    let text: Option<String> = row.get(index)?;
    text.map(|text| {
        serde_json::from_str(&text)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
    })
    .transpose()
}

pub(super) fn kind_text(kind: BlobKind) -> &'static str {
    match kind {
        BlobKind::Block => "BlockBlob",
        BlobKind::Append => "AppendBlob",
    }
}

fn container_row(row: &Row<'_>) -> rusqlite::Result<ContainerRecord> {
    let account: String = row.get(0)?;
    Ok(ContainerRecord {
        account: account
            .parse()
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, Type::Text, Box::new(e)))?,
        name: row.get(1)?,
        metadata: json(row, 2)?,
        public_access: row.get(3)?,
        etag: row.get(4)?,
        created_at: row.get(5)?,
        last_modified: row.get(6)?,
        lease: lease(row, 7)?,
        generation: row.get(8)?,
    })
}

fn blob_row(account: &ResourceId, row: &Row<'_>) -> rusqlite::Result<BlobRecord> {
    let kind: String = row.get(1)?;
    let kind = match kind.as_str() {
        "BlockBlob" => BlobKind::Block,
        "AppendBlob" => BlobKind::Append,
        other => {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                1,
                Type::Text,
                format!("unknown blob kind {other:?}").into(),
            ));
        }
    };
    let length: i64 = row.get(2)?;
    Ok(BlobRecord {
        account: account.clone(),
        container: row.get(10)?,
        name: row.get(0)?,
        kind,
        content_length: u64::try_from(length).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(2, Type::Integer, Box::new(e))
        })?,
        headers: json(row, 3)?,
        metadata: json(row, 4)?,
        etag: row.get(5)?,
        created_at: row.get(6)?,
        last_modified: row.get(7)?,
        lease: lease(row, 8)?,
        generation: row.get(9)?,
    })
}

/// The bounds of the names starting with `prefix`: `[prefix, prefix + U+10FFFF)` holds
/// every such name (no character sorts after U+10FFFF in UTF-8), as an index range.
pub(super) fn prefix_upper(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

fn select_blob(
    conn: &Connection,
    account: &ResourceId,
    container: &str,
    name: &str,
) -> StoreResult<Option<(i64, BlobRecord)>> {
    let sql = format!(
        "SELECT {BLOB_COLUMNS}, seq FROM blobs \
         WHERE account_id_folded = ?1 AND container = ?2 AND name = ?3"
    );
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_row(params![folded_id(account), container, name], |row| {
                Ok((row.get(11)?, blob_row(account, row)?))
            })
            .optional()
        })
        .map_err(backend)
}

/// A blob with its content, in one read transaction (one snapshot).
fn select_blob_content(
    conn: &mut Connection,
    account: &ResourceId,
    container: &str,
    name: &str,
) -> StoreResult<Option<(BlobRecord, BlobContent)>> {
    let tx = conn.transaction().map_err(backend)?;
    let sql = format!(
        "SELECT {BLOB_COLUMNS}, seq, content FROM blobs \
         WHERE account_id_folded = ?1 AND container = ?2 AND name = ?3"
    );
    let found = tx
        .prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_row(params![folded_id(account), container, name], |row| {
                let inline: Option<Vec<u8>> = row.get(12)?;
                Ok((row.get::<_, i64>(11)?, blob_row(account, row)?, inline))
            })
            .optional()
        })
        .map_err(backend)?;
    let Some((seq, blob, inline)) = found else {
        return Ok(None);
    };
    let content = match inline {
        Some(bytes) => BlobContent::Inline(bytes.into()),
        None => BlobContent::Blocks(blocks_of(&tx, seq)?),
    };
    Ok(Some((blob, content)))
}

fn blocks_of(conn: &Connection, seq: i64) -> StoreResult<Vec<Block>> {
    conn.prepare_cached(
        "SELECT block_id, extent, length FROM blob_blocks WHERE blob_seq = ?1 ORDER BY ordinal",
    )
    .and_then(|mut stmt| {
        stmt.query_map([seq], |row| {
            let len: i64 = row.get(2)?;
            Ok(Block {
                block_id: row.get(0)?,
                extent: uuid_at(row, 1)?,
                len: len as u64,
            })
        })?
        .collect()
    })
    .map_err(backend)
}

#[async_trait]
impl BlobStore for SqliteStore {
    async fn create_container(&self, container: &ContainerRecord) -> StoreResult<()> {
        let container = container.clone();
        self.write_grouped(Touched::Nothing, move |conn| {
            writes::create_container(conn, &container)
        })
        .await
    }

    async fn get_container(
        &self,
        account: &ResourceId,
        name: &str,
    ) -> StoreResult<Option<ContainerRecord>> {
        let (folded, name) = (folded_id(account), name.to_owned());
        self.read(move |conn| {
            let sql = format!(
                "SELECT {CONTAINER_COLUMNS} FROM blob_containers \
                 WHERE account_id_folded = ?1 AND name = ?2"
            );
            conn.prepare_cached(&sql)
                .and_then(|mut stmt| stmt.query_row([&folded, &name], container_row).optional())
                .map_err(backend)
        })
        .await
    }

    async fn list_containers(
        &self,
        account: &ResourceId,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ContainerRecord>> {
        let folded = folded_id(account);
        let (prefix, upper) = (prefix.to_owned(), prefix_upper(prefix));
        let after = after.unwrap_or_default().to_owned();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {CONTAINER_COLUMNS} FROM blob_containers \
                 WHERE account_id_folded = ?1 AND name >= ?2 AND name < ?3 AND name > ?4 \
                 ORDER BY name LIMIT ?5"
            );
            conn.prepare_cached(&sql)
                .and_then(|mut stmt| {
                    stmt.query_map(
                        params![folded, prefix, upper, after, limit as i64],
                        container_row,
                    )?
                    .collect()
                })
                .map_err(backend)
        })
        .await
    }

    async fn update_container(
        &self,
        container: &ContainerRecord,
        generation: i64,
    ) -> StoreResult<()> {
        let container = container.clone();
        self.write_grouped(Touched::Nothing, move |conn| {
            writes::update_container(conn, &container, generation)
        })
        .await
    }

    async fn delete_container(
        &self,
        account: &ResourceId,
        name: &str,
        generation: i64,
    ) -> StoreResult<Vec<Uuid>> {
        let (folded, name) = (folded_id(account), name.to_owned());
        self.write_grouped(Touched::AllBlobs, move |conn| {
            writes::delete_container(conn, &folded, &name, generation)
        })
        .await
    }

    async fn get_blob(
        &self,
        account: &ResourceId,
        container: &str,
        name: &str,
    ) -> StoreResult<Option<BlobRecord>> {
        let (account, container, name) = (account.clone(), container.to_owned(), name.to_owned());
        self.read(move |conn| Ok(select_blob(conn, &account, &container, &name)?.map(|(_, b)| b)))
            .await
    }

    async fn get_blob_with_blocks(
        &self,
        account: &ResourceId,
        container: &str,
        name: &str,
    ) -> StoreResult<Option<(BlobRecord, Vec<Block>)>> {
        let (account, container, name) = (account.clone(), container.to_owned(), name.to_owned());
        self.read(move |conn| {
            // One read transaction: the record and its blocks from the same snapshot.
            let tx = conn.transaction().map_err(backend)?;
            let Some((seq, blob)) = select_blob(&tx, &account, &container, &name)? else {
                return Ok(None);
            };
            let blocks = blocks_of(&tx, seq)?;
            Ok(Some((blob, blocks)))
        })
        .await
    }

    async fn get_blob_content(
        &self,
        account: &ResourceId,
        container: &str,
        name: &str,
    ) -> StoreResult<Option<(BlobRecord, BlobContent)>> {
        let key = cache_key(account, container, name);
        let (account, container, name) = (account.clone(), container.to_owned(), name.to_owned());
        self.read_cached(
            key,
            read_cache::Value::Blob,
            |value| match value {
                read_cache::Value::Blob(found) => Some(found),
                _ => None,
            },
            move |conn| select_blob_content(conn, &account, &container, &name),
        )
        .await
    }

    async fn list_blobs(
        &self,
        account: &ResourceId,
        container: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<BlobRecord>> {
        let (account, container) = (account.clone(), container.to_owned());
        let (prefix, upper) = (prefix.to_owned(), prefix_upper(prefix));
        let after = after.unwrap_or_default().to_owned();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {BLOB_COLUMNS} FROM blobs WHERE account_id_folded = ?1 AND container = ?2 \
                 AND name >= ?3 AND name < ?4 AND name > ?5 ORDER BY name LIMIT ?6"
            );
            let folded = folded_id(&account);
            conn.prepare_cached(&sql)
                .and_then(|mut stmt| {
                    stmt.query_map(
                        params![folded, container, prefix, upper, after, limit as i64],
                        |row| blob_row(&account, row),
                    )?
                    .collect()
                })
                .map_err(backend)
        })
        .await
    }

    async fn put_blob(
        &self,
        blob: &BlobRecord,
        blocks: &[Block],
        fresh: &[Uuid],
        expect: Expect,
    ) -> StoreResult<Vec<Uuid>> {
        let (blob, blocks, fresh) = (blob.clone(), blocks.to_vec(), fresh.to_vec());
        self.write_grouped(touched(&blob), move |conn| {
            writes::put_blob(conn, &blob, &blocks, &fresh, expect, None)
        })
        .await
    }

    async fn put_inline_blob(
        &self,
        blob: &BlobRecord,
        content: std::sync::Arc<[u8]>,
        expect: Expect,
    ) -> StoreResult<Vec<Uuid>> {
        let blob = blob.clone();
        self.write_grouped(touched(&blob), move |conn| {
            writes::put_blob(conn, &blob, &[], &[], expect, Some(&content[..]))
        })
        .await
    }

    async fn append_block(
        &self,
        blob: &BlobRecord,
        block: &Block,
        generation: i64,
    ) -> StoreResult<()> {
        let (blob, block) = (blob.clone(), block.clone());
        self.write_grouped(touched(&blob), move |conn| {
            writes::append_block(conn, &blob, &block, generation)
        })
        .await
    }

    async fn update_blob(&self, blob: &BlobRecord, generation: i64) -> StoreResult<()> {
        let blob = blob.clone();
        self.write_grouped(touched(&blob), move |conn| {
            writes::update_blob(conn, &blob, generation)
        })
        .await
    }

    async fn delete_blob(
        &self,
        account: &ResourceId,
        container: &str,
        name: &str,
        generation: i64,
    ) -> StoreResult<Vec<Uuid>> {
        let key = writes::BlobKey::new(account, container, name);
        let touched = Touched::Blob(cache_key(account, container, name));
        self.write_grouped(touched, move |conn| {
            writes::delete_blob(conn, &key, generation)
        })
        .await
    }

    async fn put_uncommitted_block(
        &self,
        account: &ResourceId,
        container: &str,
        name: &str,
        block: &UncommittedBlock,
    ) -> StoreResult<Vec<Uuid>> {
        let key = writes::BlobKey::new(account, container, name);
        let block = block.clone();
        let touched = Touched::Blob(cache_key(account, container, name));
        self.write_grouped(touched, move |conn| {
            writes::put_uncommitted_block(conn, &key, &block)
        })
        .await
    }

    async fn list_uncommitted_blocks(
        &self,
        account: &ResourceId,
        container: &str,
        name: &str,
    ) -> StoreResult<Vec<UncommittedBlock>> {
        let key = writes::BlobKey::new(account, container, name);
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT block_id, extent, length, uploaded_at FROM blob_uncommitted_blocks \
                 WHERE account_id_folded = ?1 AND container = ?2 AND name = ?3 ORDER BY seq",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![key.account, key.container, key.name], |row| {
                    let len: i64 = row.get(2)?;
                    Ok(UncommittedBlock {
                        block_id: row.get(0)?,
                        extent: uuid_at(row, 1)?,
                        len: len as u64,
                        uploaded_at: row.get(3)?,
                    })
                })?
                .collect()
            })
            .map_err(backend)
        })
        .await
    }

    async fn expire_uncommitted_blocks(&self, before: UnixMillis) -> StoreResult<Vec<Uuid>> {
        self.write_grouped(Touched::AllBlobs, move |conn| {
            writes::expire_uncommitted_blocks(conn, before)
        })
        .await
    }

    async fn referenced_blob_extents(&self) -> StoreResult<Vec<Uuid>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT extent FROM blob_blocks UNION SELECT extent FROM blob_uncommitted_blocks",
            )
            .and_then(|mut stmt| stmt.query_map([], |row| uuid_at(row, 0))?.collect())
            .map_err(backend)
        })
        .await
    }

    async fn get_service_properties(&self, account: &ResourceId) -> StoreResult<Option<String>> {
        let account = folded_id(account);
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT document FROM blob_service_properties WHERE account_id_folded = ?1",
            )
            .and_then(|mut stmt| stmt.query_row([account], |row| row.get(0)).optional())
            .map_err(backend)
        })
        .await
    }

    async fn set_service_properties(
        &self,
        account: &ResourceId,
        document: &str,
    ) -> StoreResult<()> {
        let (account, document) = (folded_id(account), document.to_owned());
        self.write(move |conn| {
            // Only while the account exists: a document written after its deletion would
            // outlive it, and greet an account created anew under its name.
            let written = conn
                .prepare_cached(
                    "INSERT INTO blob_service_properties (account_id_folded, document) \
                     SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM resources WHERE id_folded = ?1) \
                     ON CONFLICT (account_id_folded) DO UPDATE SET document = excluded.document",
                )
                .and_then(|mut stmt| stmt.execute([&account, &document]))
                .map_err(backend)?;
            if written == 0 {
                return Err(changed("account"));
            }
            Ok(())
        })
        .await
    }
}

/// A blob's key in the read cache.
fn cache_key(account: &ResourceId, container: &str, name: &str) -> read_cache::Key {
    read_cache::Key::Blob(folded_id(account), container.to_owned(), name.to_owned())
}

/// What a write of `blob` may change among the cached lookups: its own entry.
fn touched(blob: &BlobRecord) -> Touched {
    Touched::Blob(cache_key(&blob.account, &blob.container, &blob.name))
}

/// A `Changed` error for `what`.
pub(super) fn changed(what: &str) -> StoreError {
    StoreError::Changed(what.to_owned())
}

/// The folded form of a container or blob's account, for statements.
pub(super) fn folded_account(account: &ResourceId) -> String {
    fold_arm(account.as_str())
}
