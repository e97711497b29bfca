//! Blob Storage's metadata as stored, and the [`BlobStore`] trait.
//!
//! Containers and blobs live under their storage account's ARM id (compared as ARM
//! compares ids, ASCII case-insensitively) and go with it when it, or its group, is deleted.
//! Container and blob names are compared exactly (Azure's names are case-sensitive; a
//! container name is lowercase by rule) and listed in byte order, as Azure lists them.
//!
//! The bytes are not here: a blob is an ordered list of [`Block`]s, each pointing at an
//! immutable extent of the content store (`azlite-content`) by its id. Every write that
//! drops a reference (an overwrite, a delete, a commit that leaves blocks out) returns the
//! extents no row references any more, so the caller can remove them; one the caller never
//! removes (a crash) is an orphan the content sweep removes at start.
//!
//! Concurrency is optimistic: every record carries a `generation`, which each write of
//! that container or blob increments, and writes take the generation their caller read
//! ([`Expect`]). A write whose expectation no longer holds fails with
//! [`StoreError::Changed`](crate::StoreError::Changed) and writes nothing; the service re-reads, re-checks Azure's
//! conditions (ETags, leases, append positions) and tries again. Azure's rules stay in the
//! service; the store only guarantees that what was checked is what gets written.

use async_trait::async_trait;
use azlite_types::ResourceId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreResult;

/// Milliseconds since the Unix epoch (blob times need finer order than seconds).
pub type UnixMillis = i64;

/// A lease on a container or blob as stored; the service derives its state and status
/// from it and the current time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLease {
    /// The lease id (a GUID the client chose or the service made), as given.
    pub lease_id: String,
    /// The duration in seconds, or -1 for an infinite lease.
    pub duration: i64,
    /// When a finite lease expires.
    pub expires_at: Option<UnixMillis>,
    /// When a lease being broken becomes broken (it is "breaking" until then).
    pub break_at: Option<UnixMillis>,
}

/// What a write expects of the record it replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Nothing: create or replace, whatever is there.
    Any,
    /// That there is none (a create).
    Absent,
    /// That it exists at this generation.
    Generation(i64),
}

/// A container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerRecord {
    /// The storage account's ARM id.
    pub account: ResourceId,
    /// The container's name.
    pub name: String,
    /// `x-ms-meta-*` pairs, names as written, in the order given.
    pub metadata: Vec<(String, String)>,
    /// `x-ms-blob-public-access`: `container`, `blob`, or none.
    pub public_access: Option<String>,
    /// The ETag, quoted as sent on the wire.
    pub etag: String,
    /// When it was created.
    pub created_at: UnixMillis,
    /// When it (its properties or metadata) last changed.
    pub last_modified: UnixMillis,
    /// Its lease, if one was ever acquired and not released.
    pub lease: Option<StoredLease>,
    /// Incremented by every write (set by the store).
    pub generation: i64,
}

/// A blob's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobKind {
    /// A block blob.
    Block,
    /// An append blob.
    Append,
}

/// The standard HTTP properties of a blob (`x-ms-blob-content-*`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentHeaders {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Content-MD5` (16 bytes), as stored with the blob.
    pub content_md5: Option<Vec<u8>>,
}

/// A committed blob (without its block list; see [`BlobStore::get_blob_with_blocks`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobRecord {
    /// The storage account's ARM id.
    pub account: ResourceId,
    /// The container's name.
    pub container: String,
    /// The blob's name.
    pub name: String,
    /// Block or append blob.
    pub kind: BlobKind,
    /// Its length in bytes (the sum of its blocks').
    pub content_length: u64,
    /// Its HTTP properties.
    pub headers: ContentHeaders,
    /// `x-ms-meta-*` pairs.
    pub metadata: Vec<(String, String)>,
    /// The ETag, quoted.
    pub etag: String,
    /// When it was first created (kept by overwrites, as `x-ms-creation-time` is).
    pub created_at: UnixMillis,
    /// When it last changed.
    pub last_modified: UnixMillis,
    /// Its lease.
    pub lease: Option<StoredLease>,
    /// Incremented by every write (set by the store).
    pub generation: i64,
}

/// One block of a blob's content: a whole extent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The block id as the client sent it (base64), or none for a Put Blob's or an Append
    /// Block's extent.
    pub block_id: Option<String>,
    /// The extent holding its bytes.
    pub extent: Uuid,
    /// Its length.
    pub len: u64,
}

/// Where a committed blob's bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobContent {
    /// In extents of the content store, block after block.
    Blocks(Vec<Block>),
    /// In the blob's own row (a small blob written whole: [`BlobStore::put_inline_blob`]).
    Inline(std::sync::Arc<[u8]>),
}

impl BlobContent {
    /// The blocks (none for inline content).
    pub fn blocks(&self) -> &[Block] {
        match self {
            Self::Blocks(blocks) => blocks,
            Self::Inline(_) => &[],
        }
    }
}

/// A block uploaded with Put Block and not (yet) committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UncommittedBlock {
    /// The block id (base64, as sent).
    pub block_id: String,
    /// The extent holding its bytes.
    pub extent: Uuid,
    /// Its length.
    pub len: u64,
    /// When it was uploaded.
    pub uploaded_at: UnixMillis,
}

/// Blob Storage's metadata: containers, blobs and their blocks.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Creates a container; one of that name in the account fails with
    /// [`StoreError::Conflict`](crate::StoreError::Conflict).
    async fn create_container(&self, container: &ContainerRecord) -> StoreResult<()>;
    /// A container.
    async fn get_container(
        &self,
        account: &ResourceId,
        name: &str,
    ) -> StoreResult<Option<ContainerRecord>>;
    /// Up to `limit` containers of the account whose names start with `prefix` and sort
    /// after `after`, in name order.
    async fn list_containers(
        &self,
        account: &ResourceId,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ContainerRecord>>;
    /// Replaces a container's properties, metadata and lease, if it is at `generation`.
    async fn update_container(
        &self,
        container: &ContainerRecord,
        generation: i64,
    ) -> StoreResult<()>;
    /// Deletes a container at `generation` with its blobs and blocks; returns the extents
    /// nothing references any more.
    async fn delete_container(
        &self,
        account: &ResourceId,
        name: &str,
        generation: i64,
    ) -> StoreResult<Vec<Uuid>>;

    /// A committed blob.
    async fn get_blob(
        &self,
        account: &ResourceId,
        container: &str,
        name: &str,
    ) -> StoreResult<Option<BlobRecord>>;
    /// A committed blob with its blocks in order, read together (one snapshot); a blob with
    /// inline content ([`BlobStore::put_inline_blob`]) has none.
    async fn get_blob_with_blocks(
        &self,
        account: &ResourceId,
        container: &str,
        name: &str,
    ) -> StoreResult<Option<(BlobRecord, Vec<Block>)>>;
    /// A committed blob with its content: its blocks in order, or its inline bytes, read
    /// together (one snapshot).
    async fn get_blob_content(
        &self,
        account: &ResourceId,
        container: &str,
        name: &str,
    ) -> StoreResult<Option<(BlobRecord, BlobContent)>>;
    /// Up to `limit` committed blobs of a container whose names start with `prefix` and
    /// sort after `after` (byte order), in name order.
    async fn list_blobs(
        &self,
        account: &ResourceId,
        container: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<BlobRecord>>;

    /// Creates or replaces a blob with exactly `blocks` (Put Blob, Put Block List, Copy
    /// Blob), if its container exists and the blob meets `expect`. Every uncommitted block
    /// of that name is discarded. A block whose extent is not new must be one some row
    /// references now (else [`StoreError::Changed`](crate::StoreError::Changed)): `fresh` lists the extents just put,
    /// which no row can reference yet. Returns the extents nothing references any more.
    /// `blob.created_at` is kept from the blob replaced.
    async fn put_blob(
        &self,
        blob: &BlobRecord,
        blocks: &[Block],
        fresh: &[Uuid],
        expect: Expect,
    ) -> StoreResult<Vec<Uuid>>;
    /// Creates or replaces a blob whose bytes are `content`, kept in its row instead of
    /// extents (for small blobs written whole), with the same rules as
    /// [`BlobStore::put_blob`]: the container must exist, the blob must meet `expect`, its
    /// uncommitted blocks are discarded, and the extents nothing references any more (the
    /// replaced blob's) are returned. `blob.content_length` must be `content`'s length.
    async fn put_inline_blob(
        &self,
        blob: &BlobRecord,
        content: std::sync::Arc<[u8]>,
        expect: Expect,
    ) -> StoreResult<Vec<Uuid>>;
    /// Adds a block to a blob at `generation` (Append Block), with its new length, ETag and
    /// time from `blob`.
    async fn append_block(
        &self,
        blob: &BlobRecord,
        block: &Block,
        generation: i64,
    ) -> StoreResult<()>;
    /// Replaces a blob's properties, metadata and lease (not its content or length), if it
    /// is at `generation`.
    async fn update_blob(&self, blob: &BlobRecord, generation: i64) -> StoreResult<()>;
    /// Deletes a blob at `generation` with its uncommitted blocks; returns the extents
    /// nothing references any more.
    async fn delete_blob(
        &self,
        account: &ResourceId,
        container: &str,
        name: &str,
        generation: i64,
    ) -> StoreResult<Vec<Uuid>>;

    /// Stores an uncommitted block (Put Block), replacing one of the same id; the
    /// container must exist ([`StoreError::Changed`](crate::StoreError::Changed) if it does not). Returns the extents
    /// nothing references any more (the replaced block's).
    async fn put_uncommitted_block(
        &self,
        account: &ResourceId,
        container: &str,
        name: &str,
        block: &UncommittedBlock,
    ) -> StoreResult<Vec<Uuid>>;
    /// A blob's uncommitted blocks, oldest first.
    async fn list_uncommitted_blocks(
        &self,
        account: &ResourceId,
        container: &str,
        name: &str,
    ) -> StoreResult<Vec<UncommittedBlock>>;
    /// Discards the uncommitted blocks uploaded before `before` (Azure keeps them a week);
    /// returns the extents nothing references any more.
    async fn expire_uncommitted_blocks(&self, before: UnixMillis) -> StoreResult<Vec<Uuid>>;

    /// Every extent a blob or an uncommitted block references: what the content sweep
    /// keeps.
    async fn referenced_blob_extents(&self) -> StoreResult<Vec<Uuid>>;

    /// The document Set Blob Service Properties last stored for the account, if any.
    async fn get_service_properties(&self, account: &ResourceId) -> StoreResult<Option<String>>;
    /// Stores the account's service properties document, replacing the last one. It is
    /// deleted with the account, as its containers are.
    async fn set_service_properties(&self, account: &ResourceId, document: &str)
    -> StoreResult<()>;
}
