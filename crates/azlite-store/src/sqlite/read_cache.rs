//! The answers of the hot point lookups, kept in memory while the database does not change.
//!
//! Every token request on IMDS reads its VM and the VM's identities, every Key Vault request
//! its vault and secret, every ARM request its caller's tenant and the resources it names,
//! every token the STS issues its tenant, client and the client's secrets, every Shared Key
//! or SAS request its account's keys, every Get Blob its blob (with a small blob's inline
//! bytes): small rows, read far more often than written. A read
//! from the pool costs a hop to tokio's blocking pool and back, several times the read
//! itself; a hit here costs one `pread` of 96 bytes and two uncontended mutexes.
//!
//! Coherence: the cache is filed under a *generation* that moves whenever the database may
//! have changed, and empties itself when it moves.
//!
//! - This process's writes bump the generation themselves once they committed, before the
//!   write returns (`SqliteStore::write` calls [`ReadCache::written`]): a notification, no
//!   round trip.
//! - Another process writing the same file (`azlite imds` beside `azlite up`, a `sqlite3`
//!   shell) is noticed through SQLite's WAL-index header, the first 96 bytes of the
//!   `-shm` file (two copies of a header that every commit rewrites: frame count, change
//!   counter, salts; <https://sqlite.org/walformat.html>, "The WAL-Index Header"). Each
//!   lookup reads those bytes with one `pread` (no lock, no SQLite call) and bumps the
//!   generation when they differ from the last seen. A commit that returned in the other
//!   process has rewritten the header, so a lookup started after it sees the change. When
//!   the `-shm` file cannot be read (not WAL, or no shared memory), `PRAGMA data_version`
//!   on a connection of our own does the same job, at the cost of a SQLite read
//!   transaction per lookup.
//!
//! An entry is stored only if the generation read *before* the lookup is still the cache's,
//! so a write that lands between the two can at worst cause a miss, never a stale hit: a
//! read started after a write returned sees that write, cached or not.
//!
//! Group commits ([`super::group`]) are the exception that keeps the cache warm under a
//! stream of blob writes: they do not move the generation, they name what they wrote
//! ([`Touched`]) and [`ReadCache::group_committed`] drops just those blob entries. That is
//! sound because:
//!
//! - A group writes only blob, container and Data Lake rows, and among the cached lookups
//!   only `get_blob_content` reads those: the other entries cannot have changed.
//! - Blob entries carry a second stamp, the count of group commits: a blob lookup that
//!   started before a group committed is not stored after it (its row may be the old one),
//!   and the written keys are removed before any job of the group is answered.
//! - The `-shm` header this process last saw is moved past its own commit only when that
//!   commit is provably the only one: the header read after `BEGIN IMMEDIATE` (SQLite's
//!   write lock held, so no other commit can land until ours) equals the one last seen, and
//!   the header after `COMMIT` has a change counter (`iChange`, incremented once per
//!   committed transaction) exactly one higher. Otherwise the generation moves as for any
//!   foreign commit.
//!
//! One look at the header per request: a request served inside [`crate::request_scope`]
//! (the HTTPS listener serves each request so) reads the header at its first lookup only;
//! its later lookups take the generation as it is (this process's writes still move it).
//! So a request that starts after another process's commit returned sees that commit, as
//! before; one that overlaps the commit may see the state from before it, as if it had run
//! a moment earlier. After the request writes anything (its write may have met that other
//! process's commit), its next lookup reads the header again.

use std::cell::Cell;
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use azlite_types::{ClientId, ObjectId};
use rusqlite::Connection;

use super::convert::backend;
use crate::{
    BlobContent, BlobRecord, PasswordCredential, Resource, ResourceGroup, SecretVersion,
    ServicePrincipal, StorageAccountKey, StoreResult, Subscription, Tenant,
};

/// Entries kept at most; past it the cache starts over (a read-mostly working set is far
/// smaller; this only bounds memory under a scan of many distinct ids).
const MAX_ENTRIES: usize = 8192;
/// Bytes of blob content (inline bytes, block lists) kept at most; past it the cache
/// starts over.
const MAX_CONTENT_BYTES: usize = 32 << 20;

/// The two copies of the WAL-index header at the start of the `-shm` file.
const WAL_INDEX_HEADER: usize = 96;

/// What is cached, by the lookup's folded arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Key {
    /// `get_resource`: the folded id.
    Resource(String),
    /// `find_resources_by_name`: folded type and name.
    ResourcesByName(String, String),
    /// `get_service_principal`: the object id.
    ServicePrincipal(ObjectId),
    /// `get_service_principal_by_app_id`: tenant and app id.
    ServicePrincipalByAppId(String, ClientId),
    /// `get_secret_version`: folded vault id, folded name, folded version (`None`: newest).
    SecretVersion(String, String, Option<String>),
    /// `list_storage_account_keys`: the folded account id.
    StorageAccountKeys(String),
    /// `get_tenant`: the id.
    Tenant(String),
    /// `find_tenant_by_domain`: the folded domain.
    TenantByDomain(String),
    /// `get_subscription`: the id.
    Subscription(String),
    /// `list_password_credentials`: the app id.
    PasswordCredentials(ClientId),
    /// `get_resource_group`: subscription and folded name.
    ResourceGroup(String, String),
    /// `get_blob_content`: the folded account id, the container, the blob.
    Blob(String, String, String),
}

/// What a grouped write may have changed among the cached lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Touched {
    /// No cached lookup's rows (containers' own rows, Data Lake's items).
    Nothing,
    /// One blob's rows (its record, blocks or inline bytes).
    Blob(Key),
    /// Any blob's rows (a container's deletion, the expiry of old blocks).
    AllBlobs,
}

/// What a lookup read before it looked: the generation, and how many group commits had
/// changed blob rows (for blob entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    generation: u64,
    blob_writes: u64,
}

/// A cached answer.
#[derive(Debug, Clone)]
pub(super) enum Value {
    Resource(Option<Resource>),
    Resources(Vec<Resource>),
    ServicePrincipal(Option<ServicePrincipal>),
    SecretVersion(Option<SecretVersion>),
    StorageAccountKeys(Vec<StorageAccountKey>),
    Tenant(Option<Tenant>),
    Subscription(Option<Subscription>),
    PasswordCredentials(Vec<PasswordCredential>),
    ResourceGroup(Option<ResourceGroup>),
    Blob(Option<(BlobRecord, BlobContent)>),
}

impl Value {
    /// The content bytes this answer holds (what [`MAX_CONTENT_BYTES`] bounds).
    fn weight(&self) -> usize {
        match self {
            Self::Blob(Some((_, BlobContent::Inline(bytes)))) => bytes.len(),
            Self::Blob(Some((_, BlobContent::Blocks(blocks)))) => blocks.len() * 64,
            _ => 0,
        }
    }
}

/// How the cache notices another process's commits.
enum Watch {
    /// The WAL-index header in the `-shm` file, and the bytes last seen there.
    Shm {
        file: File,
        seen: Mutex<[u8; WAL_INDEX_HEADER]>,
    },
    /// `PRAGMA data_version` on a read-only connection of our own, and the value last seen.
    DataVersion {
        conn: Mutex<Connection>,
        seen: Mutex<Option<i64>>,
    },
}

tokio::task_local! {
    /// In a request served inside [`request_scope`]: the [`ReadCache::id`] of the cache
    /// whose header this request has read (0: none yet, or a write since).
    static LOOKED: Cell<u64>;
}

/// Runs `request` (one request of a listener) so that the store reads the WAL-index header
/// at most once for it (module docs).
pub async fn request_scope<F: std::future::Future>(request: F) -> F::Output {
    LOOKED.scope(Cell::new(0), request).await
}

/// Called before this task writes: its next lookup reads the header again.
pub(super) fn look_again() {
    let _ = LOOKED.try_with(|looked| looked.set(0));
}

/// Numbers caches, so a request that uses two stores looks at each one's header.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The cache, with what watches the database's version.
pub(super) struct ReadCache {
    /// Unique in this process, never 0.
    id: u64,
    generation: AtomicU64,
    /// Group commits that changed blob rows: moved under the entries' lock, after the
    /// commit, before its writes are answered.
    blob_writes: AtomicU64,
    watch: Watch,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    generation: Option<u64>,
    map: HashMap<Key, Value>,
    /// The sum of the entries' [`Value::weight`].
    weight: usize,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section here leaves its data whole (plain assignments and map
    // operations), so a poisoned lock is safe to use.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ReadCache {
    /// A cache for the database at `path`, watching its `-shm` file when it can be read,
    /// else `data_version` through `fallback` (a read-only connection of its own).
    pub(super) fn new(path: &Path, fallback: Connection) -> Self {
        let mut shm = path.as_os_str().to_owned();
        shm.push("-shm");
        let watch = match File::open(&shm) {
            Ok(file) => {
                let mut seen = [0; WAL_INDEX_HEADER];
                match file.read_exact_at(&mut seen, 0) {
                    Ok(()) => Watch::Shm {
                        file,
                        seen: Mutex::new(seen),
                    },
                    Err(_) => Watch::data_version(fallback),
                }
            }
            Err(_) => Watch::data_version(fallback),
        };
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            blob_writes: AtomicU64::new(0),
            watch,
            entries: Mutex::new(Entries::default()),
        }
    }

    /// Called by this process's writer after every write (committed or not), before the
    /// write returns: what was cached may be stale.
    pub(super) fn written(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The database's generation now: moved by every write of this process, and by every
    /// commit of another process seen in the WAL-index header since the last call (in a
    /// [`request_scope`], since the request's first lookup).
    pub(super) fn version(&self) -> StoreResult<u64> {
        if LOOKED
            .try_with(|looked| looked.get() == self.id)
            .unwrap_or(false)
        {
            return Ok(self.generation.load(Ordering::SeqCst));
        }
        let generation = self.look()?;
        let _ = LOOKED.try_with(|looked| looked.set(self.id));
        Ok(generation)
    }

    /// [`Self::version`], reading the header (or `data_version`) now.
    fn look(&self) -> StoreResult<u64> {
        match &self.watch {
            Watch::Shm { file, seen } => {
                let mut now = [0; WAL_INDEX_HEADER];
                file.read_exact_at(&mut now, 0)
                    .map_err(|e| crate::StoreError::Backend(Box::new(e)))?;
                // Compared, recorded and bumped under one lock: a concurrent caller that
                // sees the new header also sees the new generation.
                let mut seen = lock(seen);
                if *seen != now {
                    *seen = now;
                    self.generation.fetch_add(1, Ordering::SeqCst);
                }
                Ok(self.generation.load(Ordering::SeqCst))
            }
            Watch::DataVersion { conn, seen } => {
                let version: i64 = lock(conn)
                    .prepare_cached("PRAGMA data_version")
                    .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
                    .map_err(backend)?;
                let mut seen = lock(seen);
                if *seen != Some(version) {
                    *seen = Some(version);
                    self.generation.fetch_add(1, Ordering::SeqCst);
                }
                Ok(self.generation.load(Ordering::SeqCst))
            }
        }
    }

    /// What a lookup reads before it looks ([`Self::get`], [`Self::put`]).
    pub(super) fn stamp(&self) -> StoreResult<Stamp> {
        let generation = self.version()?;
        Ok(Stamp {
            generation,
            blob_writes: self.blob_writes.load(Ordering::SeqCst),
        })
    }

    /// The answer for `key`, if it was read at `stamp`'s generation (the generation now).
    pub(super) fn get(&self, stamp: Stamp, key: &Key) -> Option<Value> {
        let generation = stamp.generation;
        let mut entries = lock(&self.entries);
        match entries.generation {
            Some(held) if held == generation => entries.map.get(key).cloned(),
            // A reader that looked before the newest commit: it may read the old state, but
            // neither uses nor disturbs what was read since.
            Some(held) if held > generation => None,
            _ => {
                entries.generation = Some(generation);
                entries.map.clear();
                entries.weight = 0;
                None
            }
        }
    }

    /// Keeps `value`, read after the database was at `stamp`, if it still is (for a blob,
    /// if no group commit changed blob rows since either).
    pub(super) fn put(&self, stamp: Stamp, key: Key, value: Value) {
        let mut entries = lock(&self.entries);
        if entries.generation != Some(stamp.generation) {
            return;
        }
        if matches!(key, Key::Blob(..))
            && self.blob_writes.load(Ordering::SeqCst) != stamp.blob_writes
        {
            return;
        }
        let weight = value.weight();
        if weight > MAX_CONTENT_BYTES / 64 {
            return;
        }
        if entries.map.len() >= MAX_ENTRIES || entries.weight + weight > MAX_CONTENT_BYTES {
            entries.map.clear();
            entries.weight = 0;
        }
        entries.weight += weight;
        if let Some(replaced) = entries.map.insert(key, value) {
            entries.weight -= replaced.weight();
        }
    }
}

impl ReadCache {
    /// The WAL-index header now, when the cache watches one (read by the group's writer
    /// right after `BEGIN IMMEDIATE`, for [`Self::group_committed`]).
    pub(super) fn header(&self) -> Option<[u8; WAL_INDEX_HEADER]> {
        let Watch::Shm { file, .. } = &self.watch else {
            return None;
        };
        let mut now = [0; WAL_INDEX_HEADER];
        file.read_exact_at(&mut now, 0).ok().map(|()| now)
    }

    /// Called by the group's writer after its `COMMIT` succeeded, before any job of the
    /// group is answered, with the header read after its `BEGIN IMMEDIATE` and what its
    /// jobs wrote: drops those blob entries and keeps the rest, or moves the generation when
    /// it cannot prove the commit was the only one since the header last seen.
    ///
    /// `foreign` is asked after the header was read: whether another connection committed
    /// since `BEGIN IMMEDIATE` (the writer's `PRAGMA data_version` moved). Without it, a
    /// group that wrote nothing (every job refused) followed at once by another process's
    /// commit would take that commit's change counter for its own.
    pub(super) fn group_committed(
        &self,
        before: Option<[u8; WAL_INDEX_HEADER]>,
        touched: &[Touched],
        foreign: impl FnOnce() -> bool,
    ) {
        let (Watch::Shm { seen, .. }, Some(before), Some(after)) =
            (&self.watch, before, self.header())
        else {
            self.written();
            return;
        };
        let foreign = foreign();
        {
            let mut seen = lock(seen);
            if foreign || *seen != before || !only_one_commit_between(&before, &after) {
                self.generation.fetch_add(1, Ordering::SeqCst);
            }
            *seen = after;
        }
        if touched.iter().all(|t| *t == Touched::Nothing) {
            return;
        }
        let mut entries = lock(&self.entries);
        self.blob_writes.fetch_add(1, Ordering::SeqCst);
        let entries = &mut *entries;
        for touched in touched {
            match touched {
                Touched::Nothing => {}
                Touched::Blob(key) => {
                    if let Some(removed) = entries.map.remove(key) {
                        entries.weight -= removed.weight();
                    }
                }
                Touched::AllBlobs => {
                    entries.map.retain(|key, _| !matches!(key, Key::Blob(..)));
                    entries.weight = 0;
                }
            }
        }
    }
}

/// The change counter (`iChange`, bytes 8..12 of each 48-byte copy, native byte order) of a
/// WAL-index header, when its two copies agree (a header being rewritten does not).
fn change_counter(header: &[u8; WAL_INDEX_HEADER]) -> Option<u32> {
    let (first, second) = header.split_at(WAL_INDEX_HEADER / 2);
    (first == second).then(|| u32::from_ne_bytes([first[8], first[9], first[10], first[11]]))
}

/// Whether `after` is `before` plus exactly one committed transaction.
fn only_one_commit_between(
    before: &[u8; WAL_INDEX_HEADER],
    after: &[u8; WAL_INDEX_HEADER],
) -> bool {
    match (change_counter(before), change_counter(after)) {
        (Some(b), Some(a)) => a == b.wrapping_add(1),
        _ => false,
    }
}

impl Watch {
    fn data_version(conn: Connection) -> Self {
        Watch::DataVersion {
            conn: Mutex::new(conn),
            seen: Mutex::new(None),
        }
    }
}
