//! The file tree of one account, independent of any wire format (WebHDFS today, Gen2's
//! `dfs` endpoint later): each operation resolves its path, checks Gen1's ACL rules
//! (`azlite_posix_acl`) for the caller along it, then changes the store in one transaction
//! and the content in extents. Split by kind: [`read`] (status, listing, summary, reading
//! a file), [`write`] (folders, files, appends, deletion, rename, concatenation) and
//! [`access`] (permissions, owner, ACLs, CHECKACCESS).
//!
//! The order of checks is the 403/404 policy of `error.rs`: ancestors root first, each
//! must exist (else 404) and be traversable (else 403), so a caller learns nothing below a
//! folder it may not traverse.

pub mod access;
pub mod read;
pub mod write;

use std::collections::HashMap;

use azlite_posix_acl::inherit::{GEN1_UMASK, new_child};
use azlite_posix_acl::spec::{parse_spec, print_spec};
use azlite_posix_acl::{Acl, Caller, Mode, Perm, check, permitted};
use azlite_store::datalake::{CreateOutcome, DataLakeItem, ItemKind, NewItem};
use azlite_store::{Store, StoreError};
use azlite_types::ResourceId;

use crate::content::Extents;
use crate::path::ancestors;

/// The owning group of a new account's root (Gen1, accounts made after September 2018),
/// and its owner here: azlite does not record who created an account (superusers, its
/// RBAC Owners, have every right on it anyway).
pub const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// Why a tree operation failed; the wire format maps each to its answer.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// An ACL check failed somewhere on the path.
    #[error("forbidden")]
    Forbidden,
    /// Nothing at this path (and the caller may know it).
    #[error("not found: {0}")]
    NotFound(String),
    /// Something is at this path already.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// An APPEND's offset was not the file's length.
    #[error("bad offset")]
    BadOffset,
    /// A non-recursive deletion of a folder with children.
    #[error("not empty: {0}")]
    NotEmpty(String),
    /// A file where a folder is needed.
    #[error("not a folder: {0}")]
    NotADirectory(String),
    /// A folder where a file is needed.
    #[error("not a file: {0}")]
    NotAFile(String),
    /// A parameter the operation cannot take.
    #[error("{0}")]
    InvalidArgument(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The content store failed (or refused the body).
    #[error(transparent)]
    Content(#[from] azlite_content::ContentError),
}

/// An item with its parsed ACL.
#[derive(Debug, Clone)]
pub struct Entry {
    /// As stored.
    pub item: DataLakeItem,
    /// Owner, group, ACL and sticky bit as the ACL model sees them.
    pub acl: Acl,
}

impl Entry {
    fn new(item: DataLakeItem) -> Result<Entry, TreeError> {
        let entries = parse_spec(&item.acl).map_err(|e| {
            StoreError::Backend(format!("stored ACL of {} unreadable: {e}", item.path).into())
        })?;
        let mut acl = Acl::new(item.owner.clone(), item.group.clone(), Mode::from_bits(0));
        acl.set_acl(&entries, item.kind == ItemKind::Directory)
            .map_err(|e| StoreError::Backend(format!("stored ACL of {}: {e}", item.path).into()))?;
        acl.sticky = item.sticky;
        Ok(Entry { item, acl })
    }

    /// Whether it is a folder.
    pub fn is_dir(&self) -> bool {
        self.item.kind == ItemKind::Directory
    }
}

/// A path looked up: its ancestors (root first; `None` from the first missing one on) and
/// the item itself.
#[derive(Debug)]
pub struct Resolved {
    /// The path.
    pub path: String,
    /// The ancestors, root first.
    pub ancestors: Vec<Option<Entry>>,
    /// The item, if it exists.
    pub item: Option<Entry>,
}

/// One account's tree, for one caller.
pub struct FileSystem<'a> {
    /// Items and extents' ids.
    pub store: &'a dyn Store,
    /// Bytes.
    pub extents: &'a Extents,
    /// The account's ARM id.
    pub account: &'a ResourceId,
    /// Who asks.
    pub caller: Caller<'a>,
    /// Now, epoch milliseconds.
    pub now_ms: i64,
}

impl FileSystem<'_> {
    /// The item a new account's root starts as: `770`, owner and group the zero GUID.
    fn root_item() -> NewItem {
        let acl = Acl::new(ZERO_GUID, ZERO_GUID, Mode::from_bits(0o770));
        NewItem {
            path: "/".to_owned(),
            kind: ItemKind::Directory,
            owner: acl.owner.clone(),
            group: acl.group.clone(),
            acl: print_spec(&acl.entries()),
            sticky: false,
        }
    }

    /// Looks `path` up with its ancestors (making the root on first use).
    pub async fn resolve(&self, path: &str) -> Result<Resolved, TreeError> {
        let mut paths = ancestors(path);
        paths.push(path.to_owned());
        let mut found: HashMap<String, DataLakeItem> = self
            .store
            .dls_get_items(self.account, &paths)
            .await?
            .into_iter()
            .map(|i| (i.path.clone(), i))
            .collect();
        if !found.contains_key("/") {
            self.store
                .dls_create(self.account, &[Self::root_item()], false, self.now_ms)
                .await?;
            let root = self
                .store
                .dls_get_items(self.account, &["/".to_owned()])
                .await?;
            found.extend(root.into_iter().map(|i| (i.path.clone(), i)));
        }
        let mut entries = Vec::with_capacity(paths.len());
        let mut missing = false;
        for p in &paths {
            let entry = match found.remove(p) {
                Some(item) if !missing => Some(Entry::new(item)?),
                _ => {
                    missing = true;
                    None
                }
            };
            entries.push(entry);
        }
        let item = entries.pop().flatten();
        Ok(Resolved {
            path: path.to_owned(),
            ancestors: entries,
            item,
        })
    }

    /// Whether the caller has `want` on `entry`.
    pub fn has(&self, entry: &Entry, want: Perm) -> bool {
        permitted(&entry.acl, &self.caller, want)
    }

    /// Every ancestor exists and is traversable, and the item exists: the item.
    pub fn existing<'r>(&self, resolved: &'r Resolved) -> Result<&'r Entry, TreeError> {
        self.traverse(resolved)?;
        resolved
            .item
            .as_ref()
            .ok_or_else(|| TreeError::NotFound(resolved.path.clone()))
    }

    /// Every ancestor exists and is traversable.
    pub fn traverse(&self, resolved: &Resolved) -> Result<(), TreeError> {
        for ancestor in &resolved.ancestors {
            let Some(ancestor) = ancestor else {
                return Err(TreeError::NotFound(resolved.path.clone()));
            };
            if !ancestor.is_dir() {
                return Err(TreeError::NotFound(resolved.path.clone()));
            }
            if !self.has(ancestor, Perm::X) {
                return Err(TreeError::Forbidden);
            }
        }
        Ok(())
    }

    /// The parent of an existing item, which the caller may write in (W+X), with the
    /// sticky bit honoured for `child`.
    fn may_remove_from_parent(&self, resolved: &Resolved, child: &Entry) -> Result<(), TreeError> {
        let Some(Some(parent)) = resolved.ancestors.last() else {
            return Err(TreeError::Forbidden); // the root has no parent: never removed
        };
        if !self.has(parent, Perm::WX)
            || !check::sticky_allows(&parent.acl, &child.acl, &self.caller)
        {
            return Err(TreeError::Forbidden);
        }
        Ok(())
    }

    /// Makes the missing folders on the way to `path` and then `path` (a folder, or a file
    /// when `file`), checking X on existing ancestors and W+X on the deepest existing one.
    async fn make(
        &self,
        resolved: &Resolved,
        kind: ItemKind,
        permission: Option<Mode>,
        overwrite: bool,
    ) -> Result<i64, TreeError> {
        let existing: Vec<&Entry> = resolved
            .ancestors
            .iter()
            .map_while(Option::as_ref)
            .collect();
        for ancestor in &existing {
            if !ancestor.is_dir() {
                return Err(TreeError::NotADirectory(ancestor.item.path.clone()));
            }
            if !self.has(ancestor, Perm::X) {
                return Err(TreeError::Forbidden);
            }
        }
        let all_ancestors_exist = existing.len() == resolved.ancestors.len();
        if let (true, Some(item)) = (all_ancestors_exist, &resolved.item) {
            match (kind, item.item.kind) {
                (ItemKind::Directory, ItemKind::Directory) => return Ok(item.item.id),
                (ItemKind::File, ItemKind::File) if overwrite => {}
                _ => return Err(TreeError::AlreadyExists(resolved.path.clone())),
            }
        }
        let Some(deepest) = existing.last() else {
            return Err(TreeError::Forbidden);
        };
        if !self.has(deepest, Perm::WX) {
            return Err(TreeError::Forbidden);
        }
        if let (true, Some(item)) = (all_ancestors_exist, &resolved.item) {
            // Overwriting a file also needs W on it.
            if !self.has(item, Perm::W) {
                return Err(TreeError::Forbidden);
            }
        }
        // The new items, each inheriting from the one above it.
        let mut parent = deepest.acl.clone();
        let mut items = Vec::new();
        let missing_dirs = resolved.ancestors.iter().skip(existing.len()).count();
        let mut dir_paths: Vec<String> = crate::path::ancestors(&resolved.path);
        dir_paths.push(resolved.path.clone());
        let new_paths = &dir_paths[existing.len()..];
        debug_assert_eq!(new_paths.len(), missing_dirs + 1);
        for (index, path) in new_paths.iter().enumerate() {
            let is_last = index + 1 == new_paths.len();
            let this_kind = if is_last { kind } else { ItemKind::Directory };
            let requested = if is_last { permission } else { None };
            let acl = new_child(
                &parent,
                self.caller.id,
                this_kind == ItemKind::Directory,
                requested,
                GEN1_UMASK,
            );
            items.push(NewItem {
                path: path.clone(),
                kind: this_kind,
                owner: acl.owner.clone(),
                group: acl.group.clone(),
                acl: print_spec(&acl.entries()),
                sticky: acl.sticky,
            });
            parent = acl;
        }
        match self
            .store
            .dls_create(self.account, &items, overwrite, self.now_ms)
            .await?
        {
            CreateOutcome::Created { id, released } => {
                self.extents.remove(&released).await;
                Ok(id)
            }
            CreateOutcome::AlreadyExists => Err(TreeError::AlreadyExists(resolved.path.clone())),
            CreateOutcome::ParentIsFile(p) => Err(TreeError::NotADirectory(p)),
        }
    }
}
