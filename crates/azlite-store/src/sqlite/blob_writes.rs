//! The writes of [`crate::BlobStore`] for SQLite, each run in a savepoint of a group
//! transaction (`SqliteStore::write_grouped`) that checks the generation its caller read
//! before writing anything, and the cascade an
//! account's deletion runs inside a [`crate::WriteBatch`].

use std::collections::BTreeSet;

use azlite_types::ResourceId;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use uuid::Uuid;

use super::arm::rows::{below, folded_id, to_json};
use super::blobs::{changed, folded_account, kind_text};
use super::convert::{backend, conflict_or_backend, guid, uuid_at};
use crate::{
    BlobRecord, Block, ContainerRecord, Expect, StoreResult, UncommittedBlock, UnixMillis,
};

/// A blob's key as statement parameters.
pub(super) struct BlobKey {
    pub(super) account: String,
    pub(super) container: String,
    pub(super) name: String,
}

impl BlobKey {
    pub(super) fn new(account: &ResourceId, container: &str, name: &str) -> Self {
        Self {
            account: folded_account(account),
            container: container.to_owned(),
            name: name.to_owned(),
        }
    }

    fn of(blob: &BlobRecord) -> Self {
        Self::new(&blob.account, &blob.container, &blob.name)
    }
}

fn lease_json(lease: Option<&crate::StoredLease>) -> StoreResult<Option<String>> {
    lease.map(to_json).transpose()
}

fn container_exists(tx: &Connection, account: &str, name: &str) -> StoreResult<bool> {
    tx.prepare_cached("SELECT 1 FROM blob_containers WHERE account_id_folded = ?1 AND name = ?2")
        .and_then(|mut stmt| stmt.exists([account, name]))
        .map_err(backend)
}

/// The blob's row id and generation.
fn current(tx: &Connection, key: &BlobKey) -> StoreResult<Option<(i64, i64)>> {
    tx.prepare_cached(
        "SELECT seq, generation FROM blobs \
         WHERE account_id_folded = ?1 AND container = ?2 AND name = ?3",
    )
    .and_then(|mut stmt| {
        stmt.query_row(params![key.account, key.container, key.name], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()
    })
    .map_err(backend)
}

fn extents_of(tx: &Connection, sql: &str, params: impl rusqlite::Params) -> StoreResult<Vec<Uuid>> {
    tx.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_map(params, |row| uuid_at(row, 0))?.collect())
        .map_err(backend)
}

fn is_referenced(tx: &Connection, extent: &str) -> StoreResult<bool> {
    for sql in [
        "SELECT 1 FROM blob_blocks WHERE extent = ?1",
        "SELECT 1 FROM blob_uncommitted_blocks WHERE extent = ?1",
    ] {
        if tx
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.exists([extent]))
            .map_err(backend)?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Those of `candidates` no row references any more (after the transaction's deletions).
fn unreferenced(tx: &Connection, candidates: Vec<Uuid>) -> StoreResult<Vec<Uuid>> {
    let mut freed = Vec::new();
    for extent in candidates.into_iter().collect::<BTreeSet<_>>() {
        if !is_referenced(tx, &guid(&extent))? {
            freed.push(extent);
        }
    }
    Ok(freed)
}

const BLOCKS_OF_BLOB: &str = "SELECT extent FROM blob_blocks WHERE blob_seq = ?1";
const UNCOMMITTED_OF_BLOB: &str = "SELECT extent FROM blob_uncommitted_blocks \
     WHERE account_id_folded = ?1 AND container = ?2 AND name = ?3";
const DELETE_UNCOMMITTED_OF_BLOB: &str = "DELETE FROM blob_uncommitted_blocks \
     WHERE account_id_folded = ?1 AND container = ?2 AND name = ?3";

pub(super) fn create_container(conn: &Connection, c: &ContainerRecord) -> StoreResult<()> {
    let tx = conn;
    tx.prepare_cached(
        "INSERT INTO blob_containers (account_id, account_id_folded, name, metadata, \
         public_access, etag, created_at, last_modified, lease, generation) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            c.account.as_str(),
            folded_id(&c.account),
            c.name,
            to_json(&c.metadata)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            c.public_access,
            c.etag,
            c.created_at,
            c.last_modified,
            lease_json(c.lease.as_ref())
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
        ])
    })
    .map_err(|e| conflict_or_backend(e, |_| format!("container {} already exists", c.name)))?;
    Ok(())
}

pub(super) fn update_container(
    conn: &Connection,
    c: &ContainerRecord,
    generation: i64,
) -> StoreResult<()> {
    let tx = conn;
    let updated = tx
        .prepare_cached(
            "UPDATE blob_containers SET metadata = ?1, public_access = ?2, etag = ?3, \
             last_modified = ?4, lease = ?5, generation = generation + 1 \
             WHERE account_id_folded = ?6 AND name = ?7 AND generation = ?8",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                to_json(&c.metadata)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
                c.public_access,
                c.etag,
                c.last_modified,
                lease_json(c.lease.as_ref())
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
                folded_id(&c.account),
                c.name,
                generation,
            ])
        })
        .map_err(backend)?;
    if updated == 0 {
        return Err(changed("container"));
    }
    Ok(())
}

pub(super) fn delete_container(
    conn: &Connection,
    account: &str,
    name: &str,
    generation: i64,
) -> StoreResult<Vec<Uuid>> {
    let tx = conn;
    let candidates = extents_of(
        tx,
        "SELECT k.extent FROM blob_blocks k JOIN blobs b ON k.blob_seq = b.seq \
         WHERE b.account_id_folded = ?1 AND b.container = ?2 \
         UNION SELECT extent FROM blob_uncommitted_blocks \
         WHERE account_id_folded = ?1 AND container = ?2",
        [account, name],
    )?;
    let deleted = tx
        .prepare_cached(
            "DELETE FROM blob_containers WHERE account_id_folded = ?1 AND name = ?2 AND generation = ?3",
        )
        .and_then(|mut stmt| stmt.execute(params![account, name, generation]))
        .map_err(backend)?;
    if deleted == 0 {
        return Err(changed("container"));
    }
    for sql in [
        "DELETE FROM blobs WHERE account_id_folded = ?1 AND container = ?2",
        "DELETE FROM blob_uncommitted_blocks WHERE account_id_folded = ?1 AND container = ?2",
    ] {
        tx.prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute([account, name]))
            .map_err(backend)?;
    }
    let freed = unreferenced(tx, candidates)?;
    Ok(freed)
}

fn insert_blocks(tx: &Connection, seq: i64, first: i64, blocks: &[Block]) -> StoreResult<()> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO blob_blocks (blob_seq, ordinal, block_id, extent, length) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(backend)?;
    for (index, block) in blocks.iter().enumerate() {
        stmt.execute(params![
            seq,
            first + index as i64,
            block.block_id,
            guid(&block.extent),
            block.len as i64
        ])
        .map_err(backend)?;
    }
    Ok(())
}

pub(super) fn put_blob(
    conn: &Connection,
    blob: &BlobRecord,
    blocks: &[Block],
    fresh: &[Uuid],
    expect: Expect,
    inline: Option<&[u8]>,
) -> StoreResult<Vec<Uuid>> {
    let key = BlobKey::of(blob);
    let tx = conn;
    if !container_exists(tx, &key.account, &key.container)? {
        return Err(changed("container"));
    }
    let existing = current(tx, &key)?;
    match (expect, existing) {
        (Expect::Any, _) | (Expect::Absent, None) => {}
        (Expect::Generation(want), Some((_, have))) if want == have => {}
        _ => return Err(changed("blob")),
    }
    for block in blocks {
        if !fresh.contains(&block.extent) && !is_referenced(tx, &guid(&block.extent))? {
            return Err(changed("a block's extent is no longer referenced"));
        }
    }
    let mut candidates = extents_of(
        tx,
        UNCOMMITTED_OF_BLOB,
        params![key.account, key.container, key.name],
    )?;
    let headers = to_json(&blob.headers)?;
    let metadata = to_json(&blob.metadata)?;
    let lease = lease_json(blob.lease.as_ref())?;
    let seq = match existing {
        Some((seq, _)) => {
            candidates.extend(extents_of(tx, BLOCKS_OF_BLOB, [seq])?);
            tx.prepare_cached(
                "UPDATE blobs SET kind = ?1, content_length = ?2, headers = ?3, metadata = ?4, \
                 etag = ?5, last_modified = ?6, lease = ?7, generation = generation + 1, \
                 content = ?9 WHERE seq = ?8",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    kind_text(blob.kind),
                    blob.content_length as i64,
                    headers,
                    metadata,
                    blob.etag,
                    blob.last_modified,
                    lease,
                    seq,
                    inline
                ])
            })
            .map_err(backend)?;
            tx.prepare_cached("DELETE FROM blob_blocks WHERE blob_seq = ?1")
                .and_then(|mut stmt| stmt.execute([seq]))
                .map_err(backend)?;
            seq
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO blobs (account_id_folded, container, name, kind, content_length, \
                 headers, metadata, etag, created_at, last_modified, lease, generation, content) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    key.account,
                    key.container,
                    key.name,
                    kind_text(blob.kind),
                    blob.content_length as i64,
                    headers,
                    metadata,
                    blob.etag,
                    blob.created_at,
                    blob.last_modified,
                    lease,
                    inline
                ])
            })
            .map_err(backend)?;
            tx.last_insert_rowid()
        }
    };
    insert_blocks(tx, seq, 0, blocks)?;
    tx.prepare_cached(DELETE_UNCOMMITTED_OF_BLOB)
        .and_then(|mut stmt| stmt.execute(params![key.account, key.container, key.name]))
        .map_err(backend)?;
    let freed = unreferenced(tx, candidates)?;
    Ok(freed)
}

pub(super) fn append_block(
    conn: &Connection,
    blob: &BlobRecord,
    block: &Block,
    generation: i64,
) -> StoreResult<()> {
    let key = BlobKey::of(blob);
    let tx = conn;
    let Some((seq, have)) = current(tx, &key)? else {
        return Err(changed("blob"));
    };
    if have != generation {
        return Err(changed("blob"));
    }
    tx.prepare_cached(
        "UPDATE blobs SET content_length = ?1, etag = ?2, last_modified = ?3, \
         generation = generation + 1 WHERE seq = ?4",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            blob.content_length as i64,
            blob.etag,
            blob.last_modified,
            seq
        ])
    })
    .map_err(backend)?;
    let next: i64 = tx
        .prepare_cached("SELECT coalesce(max(ordinal) + 1, 0) FROM blob_blocks WHERE blob_seq = ?1")
        .and_then(|mut stmt| stmt.query_row([seq], |row| row.get(0)))
        .map_err(backend)?;
    insert_blocks(tx, seq, next, std::slice::from_ref(block))?;
    Ok(())
}

pub(super) fn update_blob(
    conn: &Connection,
    blob: &BlobRecord,
    generation: i64,
) -> StoreResult<()> {
    let key = BlobKey::of(blob);
    let tx = conn;
    let updated = tx
        .prepare_cached(
            "UPDATE blobs SET headers = ?1, metadata = ?2, etag = ?3, last_modified = ?4, \
             lease = ?5, generation = generation + 1 \
             WHERE account_id_folded = ?6 AND container = ?7 AND name = ?8 AND generation = ?9",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                to_json(&blob.headers)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
                to_json(&blob.metadata)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
                blob.etag,
                blob.last_modified,
                lease_json(blob.lease.as_ref())
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
                key.account,
                key.container,
                key.name,
                generation
            ])
        })
        .map_err(backend)?;
    if updated == 0 {
        return Err(changed("blob"));
    }
    Ok(())
}

pub(super) fn delete_blob(
    conn: &Connection,
    key: &BlobKey,
    generation: i64,
) -> StoreResult<Vec<Uuid>> {
    let tx = conn;
    let Some((seq, have)) = current(tx, key)? else {
        return Err(changed("blob"));
    };
    if have != generation {
        return Err(changed("blob"));
    }
    let mut candidates = extents_of(tx, BLOCKS_OF_BLOB, [seq])?;
    candidates.extend(extents_of(
        tx,
        UNCOMMITTED_OF_BLOB,
        params![key.account, key.container, key.name],
    )?);
    tx.prepare_cached("DELETE FROM blobs WHERE seq = ?1")
        .and_then(|mut stmt| stmt.execute([seq]))
        .map_err(backend)?;
    tx.prepare_cached(DELETE_UNCOMMITTED_OF_BLOB)
        .and_then(|mut stmt| stmt.execute(params![key.account, key.container, key.name]))
        .map_err(backend)?;
    let freed = unreferenced(tx, candidates)?;
    Ok(freed)
}

pub(super) fn put_uncommitted_block(
    conn: &Connection,
    key: &BlobKey,
    block: &UncommittedBlock,
) -> StoreResult<Vec<Uuid>> {
    let tx = conn;
    if !container_exists(tx, &key.account, &key.container)? {
        return Err(changed("container"));
    }
    let replaced = extents_of(
        tx,
        "SELECT extent FROM blob_uncommitted_blocks \
         WHERE account_id_folded = ?1 AND container = ?2 AND name = ?3 AND block_id = ?4",
        params![key.account, key.container, key.name, block.block_id],
    )?;
    tx.prepare_cached(
        "INSERT INTO blob_uncommitted_blocks (account_id_folded, container, name, block_id, \
         extent, length, uploaded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (account_id_folded, container, name, block_id) DO UPDATE SET \
         extent = excluded.extent, length = excluded.length, uploaded_at = excluded.uploaded_at",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            key.account,
            key.container,
            key.name,
            block.block_id,
            guid(&block.extent),
            block.len as i64,
            block.uploaded_at
        ])
    })
    .map_err(backend)?;
    let freed = unreferenced(tx, replaced)?;
    Ok(freed)
}

pub(super) fn expire_uncommitted_blocks(
    conn: &Connection,
    before: UnixMillis,
) -> StoreResult<Vec<Uuid>> {
    let tx = conn;
    let candidates = extents_of(
        tx,
        "SELECT extent FROM blob_uncommitted_blocks WHERE uploaded_at < ?1",
        [before],
    )?;
    tx.prepare_cached("DELETE FROM blob_uncommitted_blocks WHERE uploaded_at < ?1")
        .and_then(|mut stmt| stmt.execute([before]))
        .map_err(backend)?;
    let freed = unreferenced(tx, candidates)?;
    Ok(freed)
}

/// Deletes the containers, blobs and blocks of every storage account at or below the
/// folded ARM id `folded`, inside a batch's transaction: the cascade of a resource's or a
/// group's deletion. The extents they pointed at are left to the content sweep.
pub(in crate::sqlite) fn delete_blobs_at_or_below(
    tx: &Transaction<'_>,
    folded: &str,
) -> StoreResult<()> {
    let (lower, upper) = below(folded);
    for table in [
        "blobs",
        "blob_uncommitted_blocks",
        "blob_containers",
        "blob_service_properties",
    ] {
        let sql = format!(
            "DELETE FROM {table} WHERE account_id_folded = ?1 \
             OR (account_id_folded >= ?2 AND account_id_folded < ?3)"
        );
        tx.prepare_cached(&sql)
            .and_then(|mut stmt| stmt.execute([folded, &lower, &upper]))
            .map_err(backend)?;
    }
    Ok(())
}
