//! Reading the tree: an item's status, a folder's children (paged), a content summary,
//! and a file's bytes.

use axum::body::Body;
use azlite_posix_acl::Perm;
use azlite_store::datalake::ItemKind;

use super::{Entry, FileSystem, TreeError};
use crate::content::ExtentRange;

/// A page of a listing.
#[derive(Debug)]
pub struct Listing {
    /// The items, by name.
    pub entries: Vec<Entry>,
    /// The name to continue after, or `None` when this page ends the folder.
    pub continuation: Option<String>,
    /// Whether the path was a file (listed as itself).
    pub of_file: bool,
}

/// What GETCONTENTSUMMARY counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentSummary {
    /// Folders, the summarized one included.
    pub directory_count: u64,
    /// Files.
    pub file_count: u64,
    /// Bytes of every file.
    pub length: u64,
}

/// The largest page a listing returns (what the Python client asks for, and Gen1's cap).
pub const MAX_LIST_SIZE: usize = 4000;

impl FileSystem<'_> {
    /// GETFILESTATUS: the ancestors traversable.
    pub async fn status(&self, path: &str) -> Result<Entry, TreeError> {
        let resolved = self.resolve(path).await?;
        self.existing(&resolved).cloned()
    }

    /// LISTSTATUS: R+X on the folder; a file lists as itself.
    pub async fn list(
        &self,
        path: &str,
        after: Option<&str>,
        size: usize,
    ) -> Result<Listing, TreeError> {
        let resolved = self.resolve(path).await?;
        let item = self.existing(&resolved)?;
        if !item.is_dir() {
            return Ok(Listing {
                entries: vec![item.clone()],
                continuation: None,
                of_file: true,
            });
        }
        if !self.has(item, Perm::RX) {
            return Err(TreeError::Forbidden);
        }
        let size = size.clamp(1, MAX_LIST_SIZE);
        // One more than asked tells whether the folder goes on.
        let mut children = self
            .store
            .dls_list_children(
                self.account,
                path,
                after.filter(|a| !a.is_empty()),
                size + 1,
            )
            .await?;
        let more = children.len() > size;
        children.truncate(size);
        let continuation = more
            .then(|| children.last().map(|c| c.name().to_owned()))
            .flatten();
        Ok(Listing {
            entries: children
                .into_iter()
                .map(Entry::new)
                .collect::<Result<_, _>>()?,
            continuation,
            of_file: false,
        })
    }

    /// GETCONTENTSUMMARY: R+X on the folder and on every folder below it.
    pub async fn content_summary(&self, path: &str) -> Result<ContentSummary, TreeError> {
        let resolved = self.resolve(path).await?;
        let item = self.existing(&resolved)?;
        if !item.is_dir() {
            return Ok(ContentSummary {
                directory_count: 0,
                file_count: 1,
                length: item.item.length,
            });
        }
        if !self.has(item, Perm::RX) {
            return Err(TreeError::Forbidden);
        }
        let mut summary = ContentSummary {
            directory_count: 1,
            file_count: 0,
            length: 0,
        };
        for below in self
            .store
            .dls_list_descendants(self.account, path, false)
            .await?
        {
            match below.kind {
                ItemKind::Directory => {
                    if !self.has(&Entry::new(below)?, Perm::RX) {
                        return Err(TreeError::Forbidden);
                    }
                    summary.directory_count += 1;
                }
                ItemKind::File => {
                    summary.file_count += 1;
                    summary.length += below.length;
                }
            }
        }
        Ok(summary)
    }

    /// OPEN: R on the file; `length` bytes from `offset` (to the end when `None`), as a
    /// stream. Returns the number of bytes it will send.
    pub async fn open(
        &self,
        path: &str,
        offset: u64,
        length: Option<u64>,
    ) -> Result<(u64, Body), TreeError> {
        let resolved = self.resolve(path).await?;
        let item = self.existing(&resolved)?;
        if item.is_dir() {
            return Err(TreeError::NotAFile(path.to_owned()));
        }
        if !self.has(item, Perm::R) {
            return Err(TreeError::Forbidden);
        }
        let file_length = item.item.length;
        if offset > file_length {
            return Err(TreeError::InvalidArgument(format!(
                "the offset {offset} is beyond the end of the file ({file_length} bytes)"
            )));
        }
        let end = length.map_or(file_length, |l| offset.saturating_add(l).min(file_length));
        let mut ranges = Vec::new();
        for extent in self.store.dls_extents(self.account, item.item.id).await? {
            let extent_end = extent.offset + extent.length;
            if extent_end <= offset || extent.offset >= end {
                continue;
            }
            let start = offset.max(extent.offset);
            let stop = end.min(extent_end);
            ranges.push(ExtentRange {
                extent_id: extent.extent_id,
                start: start - extent.offset,
                length: stop - start,
            });
        }
        Ok((end - offset, self.extents.read(ranges).await?))
    }
}
