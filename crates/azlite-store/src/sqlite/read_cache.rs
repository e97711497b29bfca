//! The answers of the hot point lookups, kept in memory while the database does not change.
//!
//! Every token request on IMDS reads its VM and the VM's identities, every Key Vault request
//! its vault and secret, every ARM request the resources it names, every Shared Key or SAS request its account's
//! keys, every Get Blob its blob (with a small blob's inline bytes): small rows, read far
//! more often than written. A read from the pool costs a hop to tokio's blocking pool and back,
//! several times the read itself; a hit here costs a mutex and one `PRAGMA data_version`.
//!
//! Coherence: SQLite's `data_version` (on a connection of our own that never writes) changes
//! whenever any other connection commits — this store's writer, or another process on the
//! same file (`azlite imds` beside `azlite up`). The cache holds the version its entries
//! were read at and empties itself when the version moves. An entry is stored only if the
//! version read *before* the lookup is still the cache's, so a write that lands between the
//! two can at worst cause a miss, never a stale hit: a read started after a write returned
//! sees that write, cached or not.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use azlite_types::{ObjectId, SubscriptionId};
use rusqlite::Connection;

use super::convert::backend;
use crate::{
    BlobContent, BlobRecord, Resource, SecretVersion, ServicePrincipal, StorageAccountKey,
    StoreResult, Subscription,
};

/// Entries kept at most; past it the cache starts over (a read-mostly working set is far
/// smaller; this only bounds memory under a scan of many distinct ids).
const MAX_ENTRIES: usize = 8192;
/// Bytes of blob content (inline bytes, block lists) kept at most; past it the cache
/// starts over.
const MAX_CONTENT_BYTES: usize = 32 << 20;

/// What is cached, by the lookup's folded arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Key {
    /// `get_resource`: the folded id.
    Resource(String),
    /// `find_resources_by_name`: folded type and name.
    ResourcesByName(String, String),
    /// `get_service_principal`: the object id.
    ServicePrincipal(ObjectId),
    /// `get_secret_version`: folded vault id, folded name, folded version (`None`: newest).
    SecretVersion(String, String, Option<String>),
    /// `list_storage_account_keys`: the folded account id.
    StorageAccountKeys(String),
    /// `get_subscription`: its id.
    Subscription(SubscriptionId),
    /// `get_blob_content`: the folded account id, the container, the blob.
    Blob(String, String, String),
}

/// A cached answer.
#[derive(Debug, Clone)]
pub(super) enum Value {
    Resource(Option<Resource>),
    Resources(Vec<Resource>),
    ServicePrincipal(Option<ServicePrincipal>),
    SecretVersion(Option<SecretVersion>),
    StorageAccountKeys(Vec<StorageAccountKey>),
    Blob(Option<(BlobRecord, BlobContent)>),
    Subscription(Option<Subscription>),
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

/// The cache, with the connection that watches the database's version.
pub(super) struct ReadCache {
    watch: Mutex<Connection>,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    version: Option<i64>,
    map: HashMap<Key, Value>,
    /// The sum of the entries' [`Value::weight`].
    weight: usize,
}

impl ReadCache {
    /// A cache watching the database through `watch` (a read-only connection of its own).
    pub(super) fn new(watch: Connection) -> Self {
        Self {
            watch: Mutex::new(watch),
            entries: Mutex::new(Entries::default()),
        }
    }

    /// The database's version now. Cheap: the WAL index in shared memory, no disk read.
    pub(super) fn version(&self) -> StoreResult<i64> {
        let conn = self.watch.lock().unwrap_or_else(PoisonError::into_inner);
        conn.prepare_cached("PRAGMA data_version")
            .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
            .map_err(backend)
    }

    /// The answer for `key`, if it was read at `version` (the version now).
    pub(super) fn get(&self, version: i64, key: &Key) -> Option<Value> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.version {
            Some(held) if held == version => entries.map.get(key).cloned(),
            // A reader that looked before the newest commit: it may read the old state, but
            // neither uses nor disturbs what was read since.
            Some(held) if held > version => None,
            _ => {
                entries.version = Some(version);
                entries.map.clear();
                entries.weight = 0;
                None
            }
        }
    }

    /// Moves the entries read at `from` to `to`, dropping every blob entry: for a commit
    /// known to be the only one between the two versions and to have changed no table the
    /// cache keeps but Blob's (a group of grouped writes, [`super::group`]). Entries read at
    /// another version are left to be dropped as usual.
    pub(super) fn advance(&self, from: i64, to: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.version != Some(from) {
            return;
        }
        entries.version = Some(to);
        entries.map.retain(|key, _| !matches!(key, Key::Blob(..)));
        entries.weight = 0;
    }

    /// Keeps `value`, read after the database was at `version`, if it still is.
    pub(super) fn put(&self, version: i64, key: Key, value: Value) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.version != Some(version) {
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
