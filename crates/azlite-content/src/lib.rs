//! The content boundary of Blob and Data Lake: immutable *extents*.
//!
//! Every write a client makes (Put Blob, Put Block, Append Block, WebHDFS CREATE and
//! APPEND) stores exactly one new extent, streamed from the request body and never held
//! whole in memory. An extent is immutable once [`ExtentStore::put`] returned: block lists,
//! committed lengths and append offsets live in the metadata store, and a commit only
//! points at extents (shared/reference/shared-mode.md §2). Reads map a byte range of a
//! blob or file onto the extents it is made of ([`segments`]).
//!
//! [`ExtentStore`] is shaped after an object store (put a new object, ranged get, delete,
//! list) so that an S3-compatible backend can implement it later; [`LocalExtentStore`] is
//! the one-machine backend: files under `<data dir>/content/`.
//!
//! Architecture Invariant: a successful [`ExtentStore::put`] means the extent is durable
//! (its file was fsync'd, renamed into place, and its directory fsync'd). An extent that no
//! committed metadata references is garbage: [`sweep`] removes such orphans, and temporary
//! files of puts that never finished, when the server starts.

mod digest;
mod error;
mod local;
pub mod segments;
pub mod sweep;

use std::fmt;
use std::pin::Pin;
use std::str::FromStr;
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::Stream;

pub use digest::{Crc64, azure_crc64};
pub use error::ContentError;
pub use local::LocalExtentStore;
pub use segments::{Segment, read_segments};

/// A stream of body bytes, as a request body arrives or a response body leaves.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// The name of one extent: a random UUID, so two writers never collide.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtentId(uuid::Uuid);

impl ExtentId {
    /// A fresh random id.
    pub fn new_random() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    /// The extent of this UUID (as metadata stores keep ids).
    pub fn from_uuid(id: uuid::Uuid) -> Self {
        Self(id)
    }

    /// The UUID of this extent.
    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl fmt::Display for ExtentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.hyphenated())
    }
}

impl fmt::Debug for ExtentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExtentId({self})")
    }
}

impl FromStr for ExtentId {
    type Err = ContentError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // Only the canonical hyphenated lowercase form is a name we made: anything else in
        // the content directory is not ours to interpret (or delete).
        let id =
            uuid::Uuid::try_parse(text).map_err(|_| ContentError::InvalidId(text.to_owned()))?;
        if id.hyphenated().to_string() != text {
            return Err(ContentError::InvalidId(text.to_owned()));
        }
        Ok(Self(id))
    }
}

/// What a finished put knows about the extent it stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtentInfo {
    /// The new extent's id.
    pub id: ExtentId,
    /// Its length in bytes.
    pub len: u64,
    /// MD5 of its bytes (what `Content-MD5` is checked against and reported as).
    pub md5: [u8; 16],
    /// Azure Storage's CRC-64 of its bytes, when the put asked for it.
    pub crc64: Option<u64>,
}

/// Bounds and options of one put.
#[derive(Clone, Copy, Debug)]
pub struct PutOptions {
    /// The most bytes the extent may hold; a longer body fails with
    /// [`ContentError::TooLarge`] and stores nothing.
    pub max_len: u64,
    /// The length the client announced (`Content-Length`); a body of another length fails
    /// with [`ContentError::LengthMismatch`] and stores nothing.
    pub expected_len: Option<u64>,
    /// Whether to compute [`ExtentInfo::crc64`] (it costs a second pass over each chunk).
    pub crc64: bool,
}

impl PutOptions {
    /// At most `max_len` bytes, no announced length, no CRC-64.
    pub fn up_to(max_len: u64) -> Self {
        Self {
            max_len,
            expected_len: None,
            crc64: false,
        }
    }
}

/// One extent as a listing sees it (for garbage collection).
#[derive(Clone, Copy, Debug)]
pub struct ExtentEntry {
    /// The extent's id.
    pub id: ExtentId,
    /// Its length in bytes.
    pub len: u64,
    /// When it was stored.
    pub stored_at: SystemTime,
}

/// Where extents live. Implementations: [`LocalExtentStore`] (files); an object store later.
#[async_trait::async_trait]
pub trait ExtentStore: Send + Sync + 'static {
    /// Stores `body` as a new extent and returns it once it is durable. On any failure
    /// (the body's stream failed, it was too long or not the announced length, a disk
    /// error) nothing is stored, and nothing is left behind but, after a crash, a
    /// temporary file that [`ExtentStore::remove_incomplete`] removes.
    async fn put(&self, body: ByteStream, options: PutOptions) -> Result<ExtentInfo, ContentError>;

    /// Streams `len` bytes of extent `id` from `offset`. Fails before streaming when the
    /// extent does not exist ([`ContentError::NotFound`]) or the range ends past it
    /// ([`ContentError::OutOfRange`]).
    async fn read(&self, id: ExtentId, offset: u64, len: u64) -> Result<ByteStream, ContentError>;

    /// Removes extent `id`; removing one that does not exist is not an error.
    async fn delete(&self, id: ExtentId) -> Result<(), ContentError>;

    /// Every stored extent.
    async fn list(&self) -> Result<Vec<ExtentEntry>, ContentError>;

    /// Removes what puts that never finished left behind (after a crash); returns how many.
    /// Only safe while no put runs: the server calls it at start.
    async fn remove_incomplete(&self) -> Result<usize, ContentError>;
}
