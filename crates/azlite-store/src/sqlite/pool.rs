//! The read-only connection pool and the bridge to tokio's blocking pool.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::Connection;
use tokio::sync::Semaphore;

use super::open_reader;
use crate::{StoreError, StoreResult};

/// Runs blocking SQLite work on tokio's blocking pool and waits for it.
///
/// A panic inside `f` is a bug in this crate; it is resumed in the caller, as if the code had
/// run there. If the caller's future is dropped, `f` still runs to completion: a write then
/// commits, merely unacknowledged.
pub(super) async fn run_blocking<T, F>(f: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> StoreResult<T> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Cancelled: the runtime is shutting down.
        Err(e) => Err(StoreError::Backend(Box::new(e))),
    }
}

/// A fixed number of read-only connections. A semaphore bounds how many reads run at once;
/// the idle list hands each a connection whose statement cache is already warm.
pub(super) struct ReadPool {
    path: PathBuf,
    size: usize,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    /// Opens `size` read-only connections to the store at `path`.
    pub(super) fn open(path: PathBuf, size: usize) -> StoreResult<ReadPool> {
        let idle = (0..size)
            .map(|_| open_reader(&path))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(ReadPool {
            path,
            size,
            permits: Arc::new(Semaphore::new(size)),
            idle: Mutex::new(idle),
        })
    }

    /// How many connections the pool holds.
    pub(super) fn size(&self) -> usize {
        self.size
    }

    /// Runs `f` on an idle connection, waiting for one if all are busy.
    pub(super) async fn run<T, F>(self: &Arc<Self>, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        let pool = Arc::clone(self);
        run_blocking(move || {
            let _permit = permit;
            // The idle list is only empty under a permit if a panic dropped a connection;
            // replace it rather than shrink the pool.
            let mut conn = match pool.take_idle() {
                Some(conn) => conn,
                None => open_reader(&pool.path)?,
            };
            let result = f(&mut conn);
            pool.return_idle(conn);
            result
        })
        .await
    }

    fn take_idle(&self) -> Option<Connection> {
        // A panic while the lock is held cannot leave the Vec half-updated (push and pop
        // are the only operations), so a poisoned lock is safe to use.
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn return_idle(&self, conn: Connection) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
    }
}
