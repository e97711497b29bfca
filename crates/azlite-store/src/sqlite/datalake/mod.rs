//! [`DataLakeStore`] for [`SqliteStore`] (schema: migration 8): reads here, the
//! transactions that change a tree in [`writes`], and the cascade of an account's deletion.

mod writes;

use async_trait::async_trait;
use azlite_types::ResourceId;
use rusqlite::types::Type;
use rusqlite::{Connection, Row, Transaction, params};

use super::SqliteStore;
use super::arm::rows::{below, folded_id};
use super::convert::backend;
use super::read_cache::Touched;
use crate::StoreResult;
use crate::datalake::{
    AppendOutcome, ConcatOutcome, CreateOutcome, DataLakeItem, DataLakeStore, DeleteOutcome,
    FileExtent, ItemKind, NewItem, RenameOutcome,
};

/// The columns [`item_row`] reads.
const ITEM_COLUMNS: &str = "id, account_id, path, is_dir, owner, grp, acl, sticky, length, \
     access_time, modification_time";

fn item_row(row: &Row<'_>) -> rusqlite::Result<DataLakeItem> {
    let account: String = row.get(1)?;
    let account_id = account
        .parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, Type::Text, Box::new(e)))?;
    let length: i64 = row.get(8)?;
    Ok(DataLakeItem {
        id: row.get(0)?,
        account_id,
        path: row.get(2)?,
        kind: if row.get::<_, bool>(3)? {
            ItemKind::Directory
        } else {
            ItemKind::File
        },
        owner: row.get(4)?,
        group: row.get(5)?,
        acl: row.get(6)?,
        sticky: row.get(7)?,
        length: u64::try_from(length).unwrap_or_default(),
        access_time_ms: row.get(9)?,
        modification_time_ms: row.get(10)?,
    })
}

/// The parent path of `path` (`None` for the root).
pub(super) fn parent_of(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(i) => Some(&path[..i]),
        None => None,
    }
}

/// The bounds of the paths strictly below `path` (see [`below`]).
pub(super) fn subtree(path: &str) -> (String, String) {
    below(path)
}

/// The item at `path`.
pub(super) fn get_item(
    conn: &Connection,
    account: &str,
    path: &str,
) -> StoreResult<Option<DataLakeItem>> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(&format!(
        "SELECT {ITEM_COLUMNS} FROM datalake_items WHERE account_id_folded = ?1 AND path = ?2"
    ))
    .and_then(|mut stmt| stmt.query_row([account, path], item_row).optional())
    .map_err(backend)
}

/// Items strictly below `path`, by path.
pub(super) fn descendants(
    conn: &Connection,
    account: &str,
    path: &str,
    folders_only: bool,
) -> StoreResult<Vec<DataLakeItem>> {
    let (lower, upper) = subtree(path);
    let only = if folders_only { " AND is_dir = 1" } else { "" };
    conn.prepare_cached(&format!(
        "SELECT {ITEM_COLUMNS} FROM datalake_items WHERE account_id_folded = ?1 \
         AND path >= ?2 AND path < ?3 AND path <> '/'{only} ORDER BY path"
    ))
    .and_then(|mut stmt| {
        stmt.query_map([account, &lower, &upper], item_row)?
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(backend)
}

/// Deletes every Data Lake item and extent of the accounts whose folded id is `folded` or
/// lies below it, inside a batch's transaction: the cascade of a resource's or a group's
/// deletion. Their extents stay in the content store until its garbage collection.
pub(in crate::sqlite) fn delete_datalake_at_or_below(
    tx: &Transaction<'_>,
    folded: &str,
) -> StoreResult<()> {
    let (lower, upper) = below(folded);
    for table in ["datalake_extents", "datalake_items"] {
        tx.prepare_cached(&format!(
            "DELETE FROM {table} WHERE account_id_folded = ?1 \
             OR (account_id_folded >= ?2 AND account_id_folded < ?3)"
        ))
        .and_then(|mut stmt| stmt.execute([folded, &lower, &upper]))
        .map_err(backend)?;
    }
    Ok(())
}

#[async_trait]
impl DataLakeStore for SqliteStore {
    async fn dls_get_items(
        &self,
        account: &ResourceId,
        paths: &[String],
    ) -> StoreResult<Vec<DataLakeItem>> {
        let account = folded_id(account);
        let paths = paths.to_vec();
        self.read(move |conn| {
            let mut out = Vec::with_capacity(paths.len());
            for path in &paths {
                out.extend(get_item(conn, &account, path)?);
            }
            Ok(out)
        })
        .await
    }

    async fn dls_list_children(
        &self,
        account: &ResourceId,
        dir: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<DataLakeItem>> {
        let account = folded_id(account);
        let dir = dir.to_owned();
        // Children's paths share the prefix `dir/`, so path order is name order.
        let prefix = if dir == "/" {
            "/".to_owned()
        } else {
            format!("{dir}/")
        };
        let after = after.map(|a| format!("{prefix}{a}")).unwrap_or_default();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM datalake_items WHERE account_id_folded = ?1 \
                 AND parent = ?2 AND path > ?3 ORDER BY path LIMIT ?4"
            ))
            .and_then(|mut stmt| {
                stmt.query_map(params![account, dir, after, limit], item_row)?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(backend)
        })
        .await
    }

    async fn dls_list_descendants(
        &self,
        account: &ResourceId,
        dir: &str,
        folders_only: bool,
    ) -> StoreResult<Vec<DataLakeItem>> {
        let account = folded_id(account);
        let dir = dir.to_owned();
        self.read(move |conn| descendants(conn, &account, &dir, folders_only))
            .await
    }

    async fn dls_create(
        &self,
        account: &ResourceId,
        items: &[NewItem],
        overwrite: bool,
        now_ms: i64,
    ) -> StoreResult<CreateOutcome> {
        let account = account.clone();
        let items = items.to_vec();
        self.write_grouped(Touched::Nothing, move |conn| {
            writes::create(conn, &account, &items, overwrite, now_ms)
        })
        .await
    }

    async fn dls_append(
        &self,
        account: &ResourceId,
        file_id: i64,
        offset: u64,
        extent: Option<(String, u64)>,
        now_ms: i64,
    ) -> StoreResult<AppendOutcome> {
        let account = folded_id(account);
        self.write_grouped(Touched::Nothing, move |conn| {
            writes::append(conn, &account, file_id, offset, extent, now_ms)
        })
        .await
    }

    async fn dls_extents(
        &self,
        account: &ResourceId,
        file_id: i64,
    ) -> StoreResult<Vec<FileExtent>> {
        let account = folded_id(account);
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT extent_id, offset, length FROM datalake_extents \
                 WHERE file_id = ?1 AND account_id_folded = ?2 ORDER BY offset",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![file_id, account], |row| {
                    Ok(FileExtent {
                        extent_id: row.get(0)?,
                        offset: u64::try_from(row.get::<_, i64>(1)?).unwrap_or_default(),
                        length: u64::try_from(row.get::<_, i64>(2)?).unwrap_or_default(),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(backend)
        })
        .await
    }

    async fn dls_delete(
        &self,
        account: &ResourceId,
        path: &str,
        recursive: bool,
    ) -> StoreResult<DeleteOutcome> {
        let account = folded_id(account);
        let path = path.to_owned();
        self.write_grouped(Touched::Nothing, move |conn| {
            writes::delete(conn, &account, &path, recursive)
        })
        .await
    }

    async fn dls_rename(
        &self,
        account: &ResourceId,
        from: &str,
        to: &str,
        now_ms: i64,
    ) -> StoreResult<RenameOutcome> {
        let account = folded_id(account);
        let (from, to) = (from.to_owned(), to.to_owned());
        self.write_grouped(Touched::Nothing, move |conn| {
            writes::rename(conn, &account, &from, &to, now_ms)
        })
        .await
    }

    async fn dls_concat(
        &self,
        account: &ResourceId,
        target: &str,
        sources: &[String],
        now_ms: i64,
    ) -> StoreResult<ConcatOutcome> {
        let account = folded_id(account);
        let target = target.to_owned();
        let sources = sources.to_vec();
        self.write_grouped(Touched::Nothing, move |conn| {
            writes::concat(conn, &account, &target, &sources, now_ms)
        })
        .await
    }

    async fn dls_set_access(
        &self,
        account: &ResourceId,
        path: &str,
        owner: &str,
        group: &str,
        acl: &str,
        sticky: bool,
    ) -> StoreResult<bool> {
        let account = folded_id(account);
        let values = [path, owner, group, acl].map(str::to_owned);
        self.write_grouped(Touched::Nothing, move |conn| {
            let [path, owner, group, acl] = &values;
            let changed = conn
                .prepare_cached(
                    "UPDATE datalake_items SET owner = ?3, grp = ?4, acl = ?5, sticky = ?6 \
                     WHERE account_id_folded = ?1 AND path = ?2",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![account, path, owner, group, acl, sticky])
                })
                .map_err(backend)?;
            Ok(changed > 0)
        })
        .await
    }

    async fn dls_referenced_extents(&self) -> StoreResult<Vec<String>> {
        self.read(|conn| {
            conn.prepare_cached("SELECT extent_id FROM datalake_extents")
                .and_then(|mut stmt| {
                    stmt.query_map([], |row| row.get(0))?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(backend)
        })
        .await
    }
}
