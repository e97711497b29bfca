//! The SQLite backend: one database file in WAL mode, one writer connection and a small pool
//! of read-only connections.
//!
//! rusqlite is synchronous, so every call runs on tokio's blocking pool
//! ([`tokio::task::spawn_blocking`]) and the async methods only wait for it. Writes are
//! serialised on the one writer connection (SQLite allows one writer at a time anyway);
//! reads run concurrently on their own connections. WAL lets the readers and the writer
//! proceed side by side, and a read started after a write returned sees that write.
//!
//! Transactions: a single statement runs in autocommit mode, which is a transaction of its
//! own; a read of several statements (an application and its identifier URIs) runs in one
//! read transaction so it sees one snapshot; a write of several statements runs in one
//! `BEGIN IMMEDIATE` transaction.
//!
//! Secrets at rest: the STS's private signing keys are sealed with AES-256-GCM under
//! `store.key` ([`crate::seal`]), kept beside the database file; a store from before sealing
//! has its plaintext keys sealed on open, the old bytes zeroed (`secure_delete`) and the WAL
//! truncated.
//!
//! Durability: `synchronous=FULL` makes every commit fsync the WAL before `COMMIT` returns,
//! so an `Ok` from a write method means the write survives `kill -9` and power loss. Blob
//! writes are grouped ([`group`]): concurrent ones share one transaction and one fsync, and
//! each is answered after that commit.
//!
//! The schema lives in [`migrations`]; the trait implementations are split by area:
//! [`directory`] (reads), [`batch`] (every [`crate::WriteBatch`]), [`arm`] (the ARM
//! control plane's reads, and its part of a batch), [`keys`] and [`settings`], Key Vault's secrets ([`vault_secrets`]), storage
//! accounts' keys ([`storage_account_keys`]), Graph's app role assignments
//! ([`app_role_assignments`]), Blob Storage's containers, blobs and
//! blocks ([`blobs`], [`blob_writes`]), and Data Lake's file trees ([`datalake`]).

mod app_role_assignments;
mod arm;
mod batch;
mod blob_writes;
mod blobs;
mod convert;
mod datalake;
mod directory;
mod group;
mod keys;
mod migrations;
mod pool;
mod read_cache;
pub use read_cache::request_scope;
mod settings;
mod storage_account_keys;
mod vault_secrets;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::seal::{StoreKey, store_key_path};
use crate::{StoreError, StoreResult};
use convert::backend;
use pool::{ReadPool, run_blocking};

/// How long a connection waits for a lock held by another process (another azlite on the
/// same file, or a `sqlite3` shell) before failing with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection: more than the store has distinct statements,
/// so every statement is compiled once per connection.
const STATEMENT_CACHE_CAPACITY: usize = 64;

/// The store in one SQLite file. Cheap to share behind an `Arc`; every method may be called
/// concurrently.
pub struct SqliteStore {
    path: PathBuf,
    // Declared before `writer` so the read connections close first and the writer, closing
    // last, checkpoints the WAL into the main file.
    readers: Arc<ReadPool>,
    writer: Arc<tokio::sync::Mutex<Connection>>,
    /// Seals the secret columns (the STS's private signing keys): `store.key` beside the
    /// database file.
    key: Arc<StoreKey>,
    /// The hot point lookups, while the database does not change ([`read_cache`]).
    cache: Arc<read_cache::ReadCache>,
    /// Writes waiting to share the next transaction ([`group`]).
    group: Arc<group::GroupQueue>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file if it is missing (its directory must
    /// exist), and brings its schema up to date.
    ///
    /// Fails with [`StoreError::TooNew`] when a newer azlite has migrated the file past
    /// what this build knows, and with [`StoreError::Corrupt`] when the file is not a
    /// SQLite database.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        let path = path.to_path_buf();
        run_blocking(move || Self::open_blocking(path)).await
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open_blocking(path: PathBuf) -> StoreResult<SqliteStore> {
        let began = std::time::Instant::now();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut writer = Connection::open_with_flags(&path, flags).map_err(backend)?;
        writer.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
        writer.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        // Refuse a newer store before changing anything in it, the journal mode included.
        migrations::check_not_too_new(&writer)?;

        let journal_mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(backend)?;
        if !journal_mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(
                format!(
                    "{} cannot use WAL (journal_mode is {journal_mode})",
                    path.display()
                )
                .into(),
            ));
        }
        writer
            .pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        writer
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(backend)?;
        // What a write removes or replaces is overwritten with zeros, not left in free space:
        // a replaced plaintext key or a purged secret must not linger in the file.
        writer
            .pragma_update(None, "secure_delete", "ON")
            .map_err(backend)?;
        let pragmas = began.elapsed();
        migrations::migrate(&mut writer)?;
        let migrated = began.elapsed();
        let key = keys::open_store_key(&writer, &store_key_path(&path))?;
        keys::seal_plaintext_keys(&mut writer, &key)?;
        let keyed = began.elapsed();

        let readers = ReadPool::open(path.clone(), reader_count())?;
        let cache = Arc::new(read_cache::ReadCache::new(&path, open_reader(&path)?));
        let ms = |d: std::time::Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
        tracing::debug!(
            path = %path.display(),
            readers = readers.size(),
            pragmas_ms = ms(pragmas),
            migrated_ms = ms(migrated),
            keyed_ms = ms(keyed),
            total_ms = ms(began.elapsed()),
            "opened sqlite store"
        );
        Ok(SqliteStore {
            path,
            readers: Arc::new(readers),
            writer: Arc::new(tokio::sync::Mutex::new(writer)),
            key: Arc::new(key),
            cache,
            group: Arc::default(),
        })
    }

    /// Runs `f` on a read-only connection from the pool.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        self.readers.run(f).await
    }

    /// [`Self::read`] for a lookup the cache keeps: answered from memory while the database
    /// has not changed since the same lookup was read (`into` and `from` wrap the answer).
    async fn read_cached<T, F>(
        &self,
        key: read_cache::Key,
        into: fn(T) -> read_cache::Value,
        from: fn(read_cache::Value) -> Option<T>,
        f: F,
    ) -> StoreResult<T>
    where
        T: Clone + Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        // The generation first: a write committed after it makes the answer below newer
        // than the generation it is filed under, which `put` then refuses or a later `get`
        // drops.
        let stamp = self.cache.stamp()?;
        if let Some(hit) = self.cache.get(stamp, &key).and_then(from) {
            return Ok(hit);
        }
        let value = self.read(f).await?;
        self.cache.put(stamp, key, into(value.clone()));
        Ok(value)
    }

    /// Runs `f` on the writer connection, after the writes queued before it.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        read_cache::look_again();
        let mut conn = {
            // A runner of grouped writes lets go of the connection after its current group.
            let _waiting = self.group.plain_write();
            Arc::clone(&self.writer).lock_owned().await
        };
        let cache = Arc::clone(&self.cache);
        run_blocking(move || {
            let result = f(&mut conn);
            // Whatever the outcome, what the cache holds may be stale now: readers that
            // start after this returns see a new generation ([`read_cache`]). Done here, not
            // after the await, so that a write whose caller went away still notifies.
            cache.written();
            result
        })
        .await
    }
}

/// Read connections: one per core, at least two and at most four. More would only queue on
/// the blocking pool; fewer would let one slow read hold up the others.
fn reader_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}

/// Opens a read-only connection to an existing store.
fn open_reader(path: &Path) -> StoreResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(backend)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    Ok(conn)
}
