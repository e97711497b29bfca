//! Changing the tree: folders, files, appends, deletion, rename and concatenation.

use axum::body::Body;
use azlite_posix_acl::{Mode, Perm};
use azlite_store::datalake::{
    AppendOutcome, ConcatOutcome, DeleteOutcome, ItemKind, RenameOutcome,
};

use super::{FileSystem, TreeError};
use crate::path;

/// The largest body one CREATE or APPEND takes (Gen1's clients send 4 MiB; curl's upload
/// of a whole file goes in one CREATE).
pub const MAX_WRITE_BYTES: u64 = 64 * 1024 * 1024 * 1024;

impl FileSystem<'_> {
    /// MKDIRS: the folder and the missing ones above it; W+X where they are made.
    pub async fn mkdirs(&self, path: &str, permission: Option<Mode>) -> Result<(), TreeError> {
        let resolved = self.resolve(path).await?;
        self.make(&resolved, ItemKind::Directory, permission, false)
            .await
            .map(drop)
    }

    /// CREATE: a new (or, with `overwrite`, emptied) file holding `body`.
    pub async fn create(
        &self,
        path: &str,
        overwrite: bool,
        permission: Option<Mode>,
        body: Body,
    ) -> Result<(), TreeError> {
        if path == "/" {
            return Err(TreeError::AlreadyExists(path.to_owned()));
        }
        let resolved = self.resolve(path).await?;
        let id = self
            .make(&resolved, ItemKind::File, permission, overwrite)
            .await?;
        let Some(extent) = self.extents.put(body, MAX_WRITE_BYTES).await? else {
            return Ok(());
        };
        match self
            .store
            .dls_append(self.account, id, 0, Some(extent.clone()), self.now_ms)
            .await?
        {
            AppendOutcome::Appended(_) => Ok(()),
            // Another writer got there first (or deleted it): this body is not the file's.
            AppendOutcome::BadOffset(_) => {
                self.extents.remove(&[extent.0]).await;
                Err(TreeError::BadOffset)
            }
            AppendOutcome::NotFound => {
                self.extents.remove(&[extent.0]).await;
                Err(TreeError::NotFound(path.to_owned()))
            }
        }
    }

    /// APPEND: W on the file; `body` goes at `offset`, which must be the file's length
    /// (checked before the body is read, and again atomically when it is committed).
    /// Without an offset, at the end. Returns the new length.
    pub async fn append(
        &self,
        path: &str,
        offset: Option<u64>,
        body: Body,
    ) -> Result<u64, TreeError> {
        let resolved = self.resolve(path).await?;
        let item = self.existing(&resolved)?;
        if item.is_dir() {
            return Err(TreeError::NotAFile(path.to_owned()));
        }
        if !self.has(item, Perm::W) {
            return Err(TreeError::Forbidden);
        }
        if offset.is_some_and(|o| o != item.item.length) {
            return Err(TreeError::BadOffset);
        }
        let id = item.item.id;
        let extent = self.extents.put(body, MAX_WRITE_BYTES).await?;
        let mut at = offset.unwrap_or(item.item.length);
        loop {
            let outcome = self
                .store
                .dls_append(self.account, id, at, extent.clone(), self.now_ms)
                .await?;
            match outcome {
                AppendOutcome::Appended(length) => return Ok(length),
                AppendOutcome::BadOffset(length) if offset.is_none() => at = length,
                AppendOutcome::BadOffset(_) | AppendOutcome::NotFound => {
                    if let Some((extent_id, _)) = extent {
                        self.extents.remove(&[extent_id]).await;
                    }
                    return Err(match outcome {
                        AppendOutcome::NotFound => TreeError::NotFound(path.to_owned()),
                        _ => TreeError::BadOffset,
                    });
                }
            }
        }
    }

    /// DELETE: W+X on the parent (and the sticky bit's rule); a folder with children only
    /// when `recursive`, with R+W+X on it and on every folder below it. `false` when
    /// nothing is there.
    pub async fn delete(&self, path: &str, recursive: bool) -> Result<bool, TreeError> {
        if path == "/" {
            return Err(TreeError::Forbidden);
        }
        let resolved = self.resolve(path).await?;
        self.traverse(&resolved)?;
        let Some(item) = &resolved.item else {
            return Ok(false);
        };
        self.may_remove_from_parent(&resolved, item)?;
        if item.is_dir() {
            let below = self
                .store
                .dls_list_descendants(self.account, path, true)
                .await?;
            let has_children = !self
                .store
                .dls_list_children(self.account, path, None, 1)
                .await?
                .is_empty();
            if has_children {
                if !recursive {
                    return Err(TreeError::NotEmpty(path.to_owned()));
                }
                if !self.has(item, Perm::RWX) {
                    return Err(TreeError::Forbidden);
                }
                for folder in below {
                    if !self.has(&super::Entry::new(folder)?, Perm::RWX) {
                        return Err(TreeError::Forbidden);
                    }
                }
            }
        }
        match self.store.dls_delete(self.account, path, recursive).await? {
            DeleteOutcome::Deleted { released } => {
                self.extents.remove(&released).await;
                Ok(true)
            }
            DeleteOutcome::NotFound => Ok(false),
            DeleteOutcome::NotEmpty => Err(TreeError::NotEmpty(path.to_owned())),
        }
    }

    /// RENAME: W+X on both parents (and the sticky bit's rule on the source's); into an
    /// existing folder when the destination is one. `false` where Gen1 answers so: no
    /// source, no destination folder, something at the destination, or a move into itself.
    pub async fn rename(&self, from: &str, to: &str) -> Result<bool, TreeError> {
        if from == "/" {
            return Ok(false);
        }
        let source = self.resolve(from).await?;
        self.traverse(&source)?;
        let Some(item) = &source.item else {
            return Ok(false);
        };
        self.may_remove_from_parent(&source, item)?;
        let mut destination = self.resolve(to).await?;
        if destination.item.as_ref().is_some_and(|d| d.is_dir()) {
            let into = if to == "/" {
                format!("/{}", item.item.name())
            } else {
                format!("{to}/{}", item.item.name())
            };
            destination = self.resolve(&into).await?;
        }
        for ancestor in &destination.ancestors {
            match ancestor {
                None => return Ok(false),
                Some(a) if !a.is_dir() => return Ok(false),
                Some(a) if !self.has(a, Perm::X) => return Err(TreeError::Forbidden),
                Some(_) => {}
            }
        }
        let Some(Some(parent)) = destination.ancestors.last() else {
            return Ok(false);
        };
        if !self.has(parent, Perm::WX) {
            return Err(TreeError::Forbidden);
        }
        let outcome = self
            .store
            .dls_rename(self.account, from, &destination.path, self.now_ms)
            .await?;
        Ok(outcome == RenameOutcome::Renamed)
    }

    /// CONCAT / MSCONCAT: W on the target (made when missing, as MSCONCAT allows), R on
    /// each source and the right to remove it; the sources' bytes end the target and the
    /// sources are gone. With `delete_source_directory`, the sources' folder goes too.
    pub async fn concat(
        &self,
        target: &str,
        sources: &[String],
        delete_source_directory: bool,
    ) -> Result<(), TreeError> {
        if sources.is_empty() {
            return Err(TreeError::InvalidArgument(
                "no sources to concatenate".into(),
            ));
        }
        let resolved = self.resolve(target).await?;
        match &resolved.item {
            Some(item) => {
                self.traverse(&resolved)?;
                if item.is_dir() {
                    return Err(TreeError::NotAFile(target.to_owned()));
                }
                if !self.has(item, Perm::W) {
                    return Err(TreeError::Forbidden);
                }
            }
            None => {
                self.make(&resolved, ItemKind::File, None, false).await?;
            }
        }
        let mut folders = Vec::new();
        for source in sources {
            let resolved = self.resolve(source).await?;
            let item = self.existing(&resolved)?;
            if item.is_dir() || source == target {
                return Err(TreeError::NotAFile(source.clone()));
            }
            if !self.has(item, Perm::R) {
                return Err(TreeError::Forbidden);
            }
            self.may_remove_from_parent(&resolved, item)?;
            folders.push(path::parent(source).unwrap_or("/").to_owned());
        }
        match self
            .store
            .dls_concat(self.account, target, sources, self.now_ms)
            .await?
        {
            ConcatOutcome::Concatenated(_) => {}
            ConcatOutcome::NotAFile(p) => return Err(TreeError::NotAFile(p)),
        }
        folders.dedup();
        if let ([folder], true) = (folders.as_slice(), delete_source_directory)
            && folder != "/"
            && !target.starts_with(&format!("{folder}/"))
        {
            self.delete(folder, true).await?;
        }
        Ok(())
    }
}
