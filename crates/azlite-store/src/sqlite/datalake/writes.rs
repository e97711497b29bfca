//! The transactions that change a tree. Each checks its preconditions inside its own
//! savepoint of a group transaction (`SqliteStore::write_grouped`: writes run one after the
//! other on the one writer connection), so two writers cannot both pass a check only one may.

use azlite_types::ResourceId;
use rusqlite::{Connection, OptionalExtension, params};

use super::{descendants, get_item, parent_of, subtree};
use crate::datalake::{
    AppendOutcome, ConcatOutcome, CreateOutcome, DataLakeItem, DeleteOutcome, ItemKind, NewItem,
    RenameOutcome,
};
use crate::sqlite::arm::rows::folded_id;
use crate::sqlite::convert::backend;
use crate::{StoreError, StoreResult};

fn to_i64(value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::Backend("a length beyond 2^63".into()))
}

/// The extent ids of the file `file_id`, then removes them from it.
fn release_extents(tx: &Connection, file_id: i64) -> StoreResult<Vec<String>> {
    let ids = tx
        .prepare_cached("SELECT extent_id FROM datalake_extents WHERE file_id = ?1")
        .and_then(|mut stmt| {
            stmt.query_map([file_id], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()
        })
        .map_err(backend)?;
    tx.prepare_cached("DELETE FROM datalake_extents WHERE file_id = ?1")
        .and_then(|mut stmt| stmt.execute([file_id]))
        .map_err(backend)?;
    Ok(ids)
}

fn insert_item(
    tx: &Connection,
    account: &ResourceId,
    item: &NewItem,
    now_ms: i64,
) -> StoreResult<i64> {
    tx.prepare_cached(
        "INSERT INTO datalake_items (account_id, account_id_folded, path, parent, is_dir, \
         owner, grp, acl, sticky, length, access_time, modification_time) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?10)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            account.as_str(),
            folded_id(account),
            item.path,
            parent_of(&item.path),
            item.kind == ItemKind::Directory,
            item.owner,
            item.group,
            item.acl,
            item.sticky,
            now_ms,
        ])
    })
    .map_err(backend)?;
    Ok(tx.last_insert_rowid())
}

fn delete_item(tx: &Connection, id: i64) -> StoreResult<()> {
    tx.prepare_cached("DELETE FROM datalake_items WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute([id]))
        .map_err(backend)?;
    Ok(())
}

pub(super) fn create(
    conn: &Connection,
    account: &ResourceId,
    items: &[NewItem],
    overwrite: bool,
    now_ms: i64,
) -> StoreResult<CreateOutcome> {
    let folded = folded_id(account);
    let tx = conn;
    let Some(first) = items.first() else {
        return Err(StoreError::Backend("dls_create without items".into()));
    };
    // The folder the first item goes in must (still) exist: the root always does.
    if let Some(parent) = parent_of(&first.path) {
        match get_item(tx, &folded, parent)? {
            Some(p) if p.kind == ItemKind::Directory => {}
            Some(_) | None => return Ok(CreateOutcome::ParentIsFile(parent.to_owned())),
        }
    }
    let mut last = None;
    let mut released = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let is_last = index + 1 == items.len();
        match get_item(tx, &folded, &item.path)? {
            Some(existing) if !is_last => {
                if existing.kind != ItemKind::Directory {
                    return Ok(CreateOutcome::ParentIsFile(item.path.clone()));
                }
            }
            Some(existing) => match (existing.kind, item.kind) {
                (ItemKind::Directory, ItemKind::Directory) => last = Some(existing.id),
                (ItemKind::File, ItemKind::File) if overwrite => {
                    released = release_extents(tx, existing.id)?;
                    delete_item(tx, existing.id)?;
                    last = Some(insert_item(tx, account, item, now_ms)?);
                }
                _ => return Ok(CreateOutcome::AlreadyExists),
            },
            None => last = Some(insert_item(tx, account, item, now_ms)?),
        }
    }
    Ok(CreateOutcome::Created {
        id: last.unwrap_or_default(),
        released,
    })
}

pub(super) fn append(
    conn: &Connection,
    account: &str,
    file_id: i64,
    offset: u64,
    extent: Option<(String, u64)>,
    now_ms: i64,
) -> StoreResult<AppendOutcome> {
    let tx = conn;
    let length: Option<i64> = tx
        .prepare_cached(
            "SELECT length FROM datalake_items WHERE id = ?1 AND account_id_folded = ?2 \
             AND is_dir = 0",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![file_id, account], |r| r.get(0))
                .optional()
        })
        .map_err(backend)?;
    let Some(length) = length else {
        return Ok(AppendOutcome::NotFound);
    };
    let length = u64::try_from(length).unwrap_or_default();
    if length != offset {
        return Ok(AppendOutcome::BadOffset(length));
    }
    let Some((extent_id, extent_length)) = extent.filter(|(_, l)| *l > 0) else {
        return Ok(AppendOutcome::Appended(length));
    };
    let new_length = length + extent_length;
    let (at, extent_length, new_length) =
        (to_i64(length)?, to_i64(extent_length)?, to_i64(new_length)?);
    tx.prepare_cached(
        "INSERT INTO datalake_extents (file_id, account_id_folded, offset, extent_id, length) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| stmt.execute(params![file_id, account, at, extent_id, extent_length]))
    .map_err(backend)?;
    tx.prepare_cached(
        "UPDATE datalake_items SET length = ?2, modification_time = ?3 WHERE id = ?1",
    )
    .and_then(|mut stmt| stmt.execute(params![file_id, new_length, now_ms]))
    .map_err(backend)?;
    Ok(AppendOutcome::Appended(
        u64::try_from(new_length).unwrap_or_default(),
    ))
}

pub(super) fn delete(
    conn: &Connection,
    account: &str,
    path: &str,
    recursive: bool,
) -> StoreResult<DeleteOutcome> {
    let tx = conn;
    let Some(item) = get_item(tx, account, path)?.filter(|i| i.path != "/") else {
        return Ok(DeleteOutcome::NotFound);
    };
    let below = if item.kind == ItemKind::Directory {
        descendants(tx, account, path, false)?
    } else {
        Vec::new()
    };
    if !below.is_empty() && !recursive {
        return Ok(DeleteOutcome::NotEmpty);
    }
    let mut released = Vec::new();
    for gone in below.iter().chain([&item]) {
        if gone.kind == ItemKind::File {
            released.extend(release_extents(tx, gone.id)?);
        }
        delete_item(tx, gone.id)?;
    }
    Ok(DeleteOutcome::Deleted { released })
}

pub(super) fn rename(
    conn: &Connection,
    account: &str,
    from: &str,
    to: &str,
    now_ms: i64,
) -> StoreResult<RenameOutcome> {
    if from == "/" || to == from || to.starts_with(&format!("{from}/")) {
        return Ok(RenameOutcome::IntoItself);
    }
    let tx = conn;
    if get_item(tx, account, from)?.is_none() {
        return Ok(RenameOutcome::SourceMissing);
    }
    let to_parent = parent_of(to).unwrap_or("/");
    match get_item(tx, account, to_parent)? {
        Some(p) if p.kind == ItemKind::Directory => {}
        _ => return Ok(RenameOutcome::DestinationParentMissing),
    }
    if get_item(tx, account, to)?.is_some() {
        return Ok(RenameOutcome::DestinationExists);
    }
    let (lower, upper) = subtree(from);
    // Characters, not bytes: SQLite's substr and length count characters in TEXT.
    let chars = i64::try_from(from.chars().count()).unwrap_or(i64::MAX);
    tx.prepare_cached(
        "UPDATE datalake_items SET \
         path = ?4 || substr(path, ?5 + 1), \
         parent = CASE WHEN path = ?2 THEN ?6 ELSE ?4 || substr(parent, ?5 + 1) END \
         WHERE account_id_folded = ?1 AND (path = ?2 OR (path >= ?3 AND path < ?7))",
    )
    .and_then(|mut stmt| stmt.execute(params![account, from, lower, to, chars, to_parent, upper]))
    .map_err(backend)?;
    tx.prepare_cached(
        "UPDATE datalake_items SET modification_time = ?3 \
         WHERE account_id_folded = ?1 AND path IN (?2, ?4)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            account,
            to_parent,
            now_ms,
            parent_of(from).unwrap_or("/")
        ])
    })
    .map_err(backend)?;
    Ok(RenameOutcome::Renamed)
}

pub(super) fn concat(
    conn: &Connection,
    account: &str,
    target: &str,
    sources: &[String],
    now_ms: i64,
) -> StoreResult<ConcatOutcome> {
    let tx = conn;
    let file = |path: &str| -> StoreResult<Option<DataLakeItem>> {
        Ok(get_item(tx, account, path)?.filter(|i| i.kind == ItemKind::File))
    };
    let Some(target_item) = file(target)? else {
        return Ok(ConcatOutcome::NotAFile(target.to_owned()));
    };
    let mut length = target_item.length;
    for source in sources {
        let Some(item) = file(source)?.filter(|i| i.id != target_item.id) else {
            return Ok(ConcatOutcome::NotAFile(source.clone()));
        };
        let shift = to_i64(length)?;
        tx.prepare_cached(
            "UPDATE datalake_extents SET file_id = ?2, offset = offset + ?3 WHERE file_id = ?1",
        )
        .and_then(|mut stmt| stmt.execute(params![item.id, target_item.id, shift]))
        .map_err(backend)?;
        length += item.length;
        delete_item(tx, item.id)?;
    }
    let total = to_i64(length)?;
    tx.prepare_cached(
        "UPDATE datalake_items SET length = ?2, modification_time = ?3 WHERE id = ?1",
    )
    .and_then(|mut stmt| stmt.execute(params![target_item.id, total, now_ms]))
    .map_err(backend)?;
    Ok(ConcatOutcome::Concatenated(length))
}
