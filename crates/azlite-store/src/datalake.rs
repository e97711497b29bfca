//! Data Lake Store Gen1's file tree as stored, and the [`DataLakeStore`] trait.
//!
//! An item (folder or file) lives in an account, keyed by the account's ARM id (compared as
//! ARM compares ids) and its absolute path (`/` for the root, `/a/b` below it; compared
//! exactly: Data Lake paths are case-sensitive). Each item has a stable id that survives
//! renames; a file's content is a list of extents (immutable byte runs kept by the content
//! store, named by an opaque id) at increasing offsets, keyed by that id. The store never
//! sees bytes.
//!
//! Owner, group, ACL and sticky bit are kept as the service gives them: the ACL as the text
//! of its entries (`user::rwx,group::r-x,...`), which the service's ACL model parses; the
//! store does not interpret it.
//!
//! Each mutating method is one transaction, and every precondition it reports (an APPEND's
//! offset, an existing name, a missing parent) is checked inside it, so concurrent callers
//! cannot both succeed where only one may.

use async_trait::async_trait;
use azlite_types::ResourceId;

use crate::StoreResult;

/// Folder or file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// A folder.
    Directory,
    /// A file.
    File,
}

/// One item of the tree, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLakeItem {
    /// The account's ARM id.
    pub account_id: ResourceId,
    /// The item's id: stable across renames, the key of a file's extents.
    pub id: i64,
    /// The absolute path: `/` or `/a/b` (no trailing slash).
    pub path: String,
    /// Folder or file.
    pub kind: ItemKind,
    /// The owning user (an object id).
    pub owner: String,
    /// The owning group (an object id).
    pub group: String,
    /// The ACL entries, access then default, as a spec.
    pub acl: String,
    /// The sticky bit.
    pub sticky: bool,
    /// A file's length in bytes (0 for a folder).
    pub length: u64,
    /// Last access, epoch milliseconds.
    pub access_time_ms: i64,
    /// Last modification, epoch milliseconds.
    pub modification_time_ms: i64,
}

impl DataLakeItem {
    /// The last segment of the path (`""` for the root).
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or_default()
    }
}

/// An item to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    /// The absolute path.
    pub path: String,
    /// Folder or file.
    pub kind: ItemKind,
    /// The owning user.
    pub owner: String,
    /// The owning group.
    pub group: String,
    /// The ACL entries as a spec.
    pub acl: String,
    /// The sticky bit.
    pub sticky: bool,
}

/// One extent of a file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileExtent {
    /// The content store's id of the extent.
    pub extent_id: String,
    /// Where it starts in the file.
    pub offset: u64,
    /// Its length.
    pub length: u64,
}

/// What [`DataLakeStore::dls_create`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// The last item was created (or, for a folder, already existed); a file that it
    /// replaced (overwrite) leaves these extents, no longer referenced.
    Created {
        /// The id of the last item.
        id: i64,
        /// The extents of the file it replaced.
        released: Vec<String>,
    },
    /// Something exists at the last path and may not be replaced (a file without
    /// overwrite, or a folder where a file was asked for).
    AlreadyExists,
    /// A folder on the way is a file.
    ParentIsFile(String),
}

/// What [`DataLakeStore::dls_append`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Appended: the file's new length.
    Appended(u64),
    /// The offset was not the file's length (given here); nothing changed.
    BadOffset(u64),
    /// No such file (deleted meanwhile).
    NotFound,
}

/// What [`DataLakeStore::dls_delete`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// Deleted, with its descendants; their extents are no longer referenced.
    Deleted {
        /// Extents to drop from the content store.
        released: Vec<String>,
    },
    /// Nothing at that path.
    NotFound,
    /// A folder with children, and the deletion was not recursive.
    NotEmpty,
}

/// What [`DataLakeStore::dls_rename`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenameOutcome {
    /// Moved (with its descendants).
    Renamed,
    /// Nothing at the source.
    SourceMissing,
    /// The destination's parent is missing or a file.
    DestinationParentMissing,
    /// Something is at the destination.
    DestinationExists,
    /// The destination is the source or lies below it.
    IntoItself,
}

/// What [`DataLakeStore::dls_concat`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConcatOutcome {
    /// The sources' extents now end the target, whose new length this is; the sources are
    /// gone.
    Concatenated(u64),
    /// This path (the target or a source) is missing or not a file.
    NotAFile(String),
}

/// The Data Lake Store Gen1 file trees of every account.
#[async_trait]
pub trait DataLakeStore: Send + Sync {
    /// The items at `paths` that exist, in no particular order (an item's ancestors, for
    /// the access checks along a path).
    async fn dls_get_items(
        &self,
        account: &ResourceId,
        paths: &[String],
    ) -> StoreResult<Vec<DataLakeItem>>;

    /// The children of the folder `dir`, by name (byte order), after `after` when given,
    /// at most `limit`.
    async fn dls_list_children(
        &self,
        account: &ResourceId,
        dir: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<DataLakeItem>>;

    /// Every item strictly below `dir`, by path (only folders when `folders_only`).
    async fn dls_list_descendants(
        &self,
        account: &ResourceId,
        dir: &str,
        folders_only: bool,
    ) -> StoreResult<Vec<DataLakeItem>>;

    /// Creates `items` in order at time `now_ms`: folders that already exist are kept as
    /// they are (MKDIRS of an existing path), the last item is the target. A file target
    /// replaces an existing file only when `overwrite`.
    async fn dls_create(
        &self,
        account: &ResourceId,
        items: &[NewItem],
        overwrite: bool,
        now_ms: i64,
    ) -> StoreResult<CreateOutcome>;

    /// Appends `extent` (id, length; `None` for an empty append) to the file `file_id` if
    /// its length is `offset`.
    async fn dls_append(
        &self,
        account: &ResourceId,
        file_id: i64,
        offset: u64,
        extent: Option<(String, u64)>,
        now_ms: i64,
    ) -> StoreResult<AppendOutcome>;

    /// The extents of the file `file_id`, by offset.
    async fn dls_extents(&self, account: &ResourceId, file_id: i64)
    -> StoreResult<Vec<FileExtent>>;

    /// Deletes the item at `path` (never the root), with everything below it when
    /// `recursive`.
    async fn dls_delete(
        &self,
        account: &ResourceId,
        path: &str,
        recursive: bool,
    ) -> StoreResult<DeleteOutcome>;

    /// Moves the item at `from` (with everything below it) to `to`.
    async fn dls_rename(
        &self,
        account: &ResourceId,
        from: &str,
        to: &str,
        now_ms: i64,
    ) -> StoreResult<RenameOutcome>;

    /// Appends the content of the files `sources`, in order, to the file `target`, then
    /// deletes the sources.
    async fn dls_concat(
        &self,
        account: &ResourceId,
        target: &str,
        sources: &[String],
        now_ms: i64,
    ) -> StoreResult<ConcatOutcome>;

    /// Sets owner, group, ACL and sticky bit of the item at `path`. Returns whether it
    /// exists.
    async fn dls_set_access(
        &self,
        account: &ResourceId,
        path: &str,
        owner: &str,
        group: &str,
        acl: &str,
        sticky: bool,
    ) -> StoreResult<bool>;

    /// Every extent id any file of any account refers to (what the content store keeps
    /// when it collects garbage).
    async fn dls_referenced_extents(&self) -> StoreResult<Vec<String>>;
}
