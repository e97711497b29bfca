//! The local-filesystem backend: one file per extent under `<data dir>/content/`.
//!
//! Layout: `tmp/<uuid>` while a put streams, `extents/<first two hex digits>/<uuid>` once it
//! is durable (256 shard directories, so no directory grows past a few thousand entries
//! at 100,000 blobs). Directories are 0700 and files 0600: content is as private as the
//! database beside it.
//!
//! A put whose whole body arrives within [`WRITE_CHUNK`] bytes (every 4 KiB blob, every
//! typical block) is written in one trip to a blocking thread straight to its final name,
//! hashed, fsync'd, and its shard directory fsync'd. A larger put writes a temporary file
//! in chunks of up to [`WRITE_CHUNK`] bytes (hashing on the way), fsyncs it, renames it
//! into its shard and fsyncs the shard directory; memory per put stays at one chunk
//! whatever the body's size, and the running sweep, which lists only `extents/`, never
//! sees a slow upload. Either way a returned put survives `kill -9` and a power cut, and
//! nothing references the extent before its put returned, so no reader sees it half
//! written. A put that fails or is dropped (its client went away) removes its file; one
//! cut short by a crash leaves a temporary file for
//! [`crate::ExtentStore::remove_incomplete`] or an unreferenced extent for the start-up
//! sweep ([`crate::sweep::sweep_orphans`]).

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use md5::{Digest, Md5};

use crate::{
    ByteStream, ContentError, Crc64, ExtentEntry, ExtentId, ExtentInfo, ExtentStore, PutOptions,
};

/// Bytes gathered from the body before one blocking write (bounds memory per put).
const WRITE_CHUNK: usize = 1 << 20;
/// Bytes per blocking read when streaming an extent out.
const READ_CHUNK: u64 = 256 * 1024;

/// Extents as files under one directory.
#[derive(Clone, Debug)]
pub struct LocalExtentStore {
    root: Arc<Path>,
}

impl LocalExtentStore {
    /// Opens (creating when missing, 0700) the content directory `root`, its `tmp/` and
    /// its 256 shard directories.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, ContentError> {
        let root = root.as_ref().to_path_buf();
        // Directories are fsync'd only when one was made: a restart, which finds them all,
        // then costs no journal commit (start-up time, issue 14).
        let mut created = create_private_dir(&root)?;
        created |= create_private_dir(&root.join("tmp"))?;
        let extents = root.join("extents");
        created |= create_private_dir(&extents)?;
        for shard in 0..=255u8 {
            created |= create_private_dir(&extents.join(format!("{shard:02x}")))?;
        }
        if created {
            for dir in [&extents, &root] {
                sync_dir(dir)?;
            }
            if let Some(parent) = root.parent() {
                sync_dir(parent)?;
            }
        }
        Ok(Self { root: root.into() })
    }

    /// The directory this store keeps its files under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn temp_path(&self, id: ExtentId) -> PathBuf {
        self.root.join("tmp").join(id.to_string())
    }

    fn shard_dir(&self, id: ExtentId) -> PathBuf {
        let name = id.to_string();
        self.root.join("extents").join(&name[..2])
    }

    fn extent_path(&self, id: ExtentId) -> PathBuf {
        self.shard_dir(id).join(id.to_string())
    }
}

/// Makes `path` a 0700 directory; whether it had to be created.
fn create_private_dir(path: &Path) -> Result<bool, ContentError> {
    match DirBuilder::new().mode(0o700).create(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            // Changed only when it is not 0700 already: a chmod dirties the inode even when
            // the mode stays the same.
            let mode = std::fs::metadata(path)
                .map_err(|e| ContentError::io(format!("reading {}", path.display()), e))?
                .permissions()
                .mode();
            if mode & 0o7777 != 0o700 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(
                    |e| ContentError::io(format!("setting 0700 on {}", path.display()), e),
                )?;
            }
            Ok(false)
        }
        Err(error) => Err(ContentError::io(
            format!("creating {}", path.display()),
            error,
        )),
    }
}

fn sync_dir(path: &Path) -> Result<(), ContentError> {
    File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| ContentError::io(format!("fsync of directory {}", path.display()), e))
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ContentError> + Send + 'static,
) -> Result<T, ContentError> {
    tokio::task::spawn_blocking(work).await.map_err(|join| {
        ContentError::io(
            "a content task panicked or was cancelled",
            std::io::Error::other(join),
        )
    })?
}

/// The file of a put in progress (its temporary file, or its final name when written in
/// one trip); removed when the put does not finish (an error, or its future dropped
/// because the client went away).
struct Unfinished {
    path: PathBuf,
    kept: bool,
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if !self.kept {
            // One unlink; a failure leaves a file `remove_incomplete` takes at next start.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A put's writing state, moved into each blocking write and back.
struct Writer {
    file: File,
    md5: Md5,
    crc64: Option<Crc64>,
    len: u64,
}

impl Writer {
    /// Creates `path` (0600; it must not exist).
    fn create(path: &Path, crc64: bool) -> Result<Self, ContentError> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| ContentError::io(format!("creating {}", path.display()), e))?;
        Ok(Self {
            file,
            md5: Md5::new(),
            crc64: crc64.then(Crc64::new),
            len: 0,
        })
    }

    fn sync(&self, path: &Path) -> Result<(), ContentError> {
        self.file
            .sync_all()
            .map_err(|e| ContentError::io(format!("fsync of {}", path.display()), e))
    }

    fn info(self, id: ExtentId) -> ExtentInfo {
        ExtentInfo {
            id,
            len: self.len,
            md5: self.md5.finalize().into(),
            crc64: self.crc64.map(Crc64::finish),
        }
    }

    /// Makes the file at its final name `path` durable: the file, then the entry in its
    /// directory `shard`.
    fn finish(self, path: &Path, shard: &Path, id: ExtentId) -> Result<ExtentInfo, ContentError> {
        self.sync(path)?;
        sync_dir(shard)?;
        Ok(self.info(id))
    }

    fn write(&mut self, chunks: &[Bytes], path: &Path) -> Result<(), ContentError> {
        for chunk in chunks {
            self.file
                .write_all(chunk)
                .map_err(|e| ContentError::io(format!("writing {}", path.display()), e))?;
            self.md5.update(chunk);
            if let Some(crc) = &mut self.crc64 {
                crc.update(chunk);
            }
            self.len += chunk.len() as u64;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ExtentStore for LocalExtentStore {
    async fn put(
        &self,
        mut body: ByteStream,
        options: PutOptions,
    ) -> Result<ExtentInfo, ContentError> {
        let id = ExtentId::new_random();
        let temp_path = self.temp_path(id);
        let final_path = self.extent_path(id);
        let shard = self.shard_dir(id);
        let limit = options
            .expected_len
            .map_or(options.max_len, |n| n.min(options.max_len));
        let mut guard = Unfinished {
            path: temp_path.clone(),
            kept: false,
        };

        let mut writer: Option<Writer> = None;
        let mut pending: Vec<Bytes> = Vec::new();
        let mut pending_len = 0usize;
        let mut received = 0u64;
        loop {
            let next = body.next().await;
            let finished = next.is_none();
            if let Some(chunk) = next {
                let chunk = chunk.map_err(ContentError::Body)?;
                received += chunk.len() as u64;
                if received > limit {
                    return Err(match options.expected_len {
                        Some(expected) if expected <= options.max_len => {
                            ContentError::LengthMismatch {
                                expected,
                                actual: received,
                            }
                        }
                        _ => ContentError::TooLarge {
                            max: options.max_len,
                        },
                    });
                }
                pending_len += chunk.len();
                pending.push(chunk);
                if pending_len < WRITE_CHUNK {
                    continue;
                }
            }
            if let Some(expected) = options.expected_len.filter(|_| finished)
                && received != expected
            {
                return Err(ContentError::LengthMismatch {
                    expected,
                    actual: received,
                });
            }
            let chunks = std::mem::take(&mut pending);
            pending_len = 0;
            let crc = options.crc64;
            if finished && writer.is_none() {
                // The whole body arrived before the first write (up to WRITE_CHUNK bytes):
                // one trip writes it straight to its final name, with no temporary file and
                // no rename, so the put costs one journal commit instead of two. Until the
                // metadata references it the extent is unreachable, as after a rename; one
                // cut short by a crash is an orphan that the start-up sweep removes.
                guard.path = final_path.clone();
                let info = blocking(move || {
                    let mut state = Writer::create(&final_path, crc)?;
                    state.write(&chunks, &final_path)?;
                    state.finish(&final_path, &shard, id)
                })
                .await?;
                guard.kept = true;
                return Ok(info);
            }
            let path = temp_path.clone();
            let state = writer.take();
            let state = blocking(move || {
                let mut state = match state {
                    Some(state) => state,
                    None => Writer::create(&path, crc)?,
                };
                state.write(&chunks, &path)?;
                Ok(state)
            })
            .await?;
            if !finished {
                writer = Some(state);
                continue;
            }
            let (temp, target) = (temp_path.clone(), final_path.clone());
            let info = blocking(move || {
                state.sync(&temp)?;
                std::fs::rename(&temp, &target).map_err(|e| {
                    ContentError::io(format!("renaming {} into place", temp.display()), e)
                })?;
                sync_dir(&shard)?;
                Ok(state.info(id))
            })
            .await?;
            guard.kept = true;
            return Ok(info);
        }
    }

    async fn read(&self, id: ExtentId, offset: u64, len: u64) -> Result<ByteStream, ContentError> {
        let path = self.extent_path(id);
        // Open, check the range and read the first chunk in one trip to a blocking thread:
        // a small blob's whole GET is one trip.
        let (file, first) = blocking(move || {
            let file = match File::open(&path) {
                Ok(file) => file,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    return Err(ContentError::NotFound(id));
                }
                Err(error) => {
                    return Err(ContentError::io(
                        format!("opening {}", path.display()),
                        error,
                    ));
                }
            };
            let extent_len = file
                .metadata()
                .map_err(|e| ContentError::io(format!("stat of {}", path.display()), e))?
                .len();
            if offset.checked_add(len).is_none_or(|end| end > extent_len) {
                return Err(ContentError::OutOfRange {
                    id,
                    offset,
                    len,
                    extent_len,
                });
            }
            let first = read_at(&file, offset, len.min(READ_CHUNK))?;
            Ok((Arc::new(file), first))
        })
        .await?;
        let first_len = first.len() as u64;
        let rest = futures_util::stream::unfold(
            (file, offset + first_len, len - first_len),
            |(file, at, remaining)| async move {
                if remaining == 0 {
                    return None;
                }
                let want = remaining.min(READ_CHUNK);
                let reader = Arc::clone(&file);
                let chunk = tokio::task::spawn_blocking(move || read_at(&reader, at, want))
                    .await
                    .map_err(std::io::Error::other)
                    .and_then(|read| read.map_err(std::io::Error::other));
                match chunk {
                    Ok(bytes) => Some((Ok(bytes), (file, at + want, remaining - want))),
                    Err(error) => Some((Err(error), (file, at, 0))),
                }
            },
        );
        let first = (first_len > 0).then_some(Ok(first));
        Ok(Box::pin(futures_util::stream::iter(first).chain(rest)))
    }

    async fn delete(&self, id: ExtentId) -> Result<(), ContentError> {
        let path = self.extent_path(id);
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(ContentError::io(
                format!("removing {}", path.display()),
                error,
            )),
        })
        .await
    }

    async fn list(&self) -> Result<Vec<ExtentEntry>, ContentError> {
        let extents = self.root.join("extents");
        blocking(move || {
            let mut found = Vec::new();
            for shard in read_dir(&extents)? {
                let shard = shard.map_err(|e| ContentError::io("listing extents", e))?;
                if !shard.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                for entry in read_dir(&shard.path())? {
                    let entry = entry.map_err(|e| ContentError::io("listing extents", e))?;
                    let Some(id) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                        continue;
                    };
                    let Ok(meta) = entry.metadata() else { continue };
                    found.push(ExtentEntry {
                        id,
                        len: meta.len(),
                        stored_at: meta.modified().unwrap_or(std::time::UNIX_EPOCH),
                    });
                }
            }
            Ok(found)
        })
        .await
    }

    async fn remove_incomplete(&self) -> Result<usize, ContentError> {
        let temp = self.root.join("tmp");
        blocking(move || {
            let mut removed = 0;
            for entry in read_dir(&temp)? {
                let entry = entry.map_err(|e| ContentError::io("listing temporary files", e))?;
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => {
                        return Err(ContentError::io(
                            format!("removing {}", entry.path().display()),
                            error,
                        ));
                    }
                }
            }
            Ok(removed)
        })
        .await
    }
}

fn read_dir(path: &Path) -> Result<std::fs::ReadDir, ContentError> {
    std::fs::read_dir(path).map_err(|e| ContentError::io(format!("listing {}", path.display()), e))
}

fn read_at(file: &File, offset: u64, len: u64) -> Result<Bytes, ContentError> {
    let mut buffer = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
    file.read_exact_at(&mut buffer, offset)
        .map_err(|e| ContentError::io("reading an extent", e))?;
    Ok(Bytes::from(buffer))
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
