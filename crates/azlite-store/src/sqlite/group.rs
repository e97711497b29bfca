//! Group commit: concurrent writes share one transaction and one WAL fsync.
//!
//! With `synchronous=FULL` every commit waits for an fsync of the WAL, a fraction of a
//! millisecond to several milliseconds; one commit per write caps a store at the disk's
//! fsyncs per second, whatever the cores. A grouped write ([`SqliteStore::write_grouped`])
//! instead puts its work in a queue and waits for the writer connection; whoever gets the
//! connection first runs *every* queued job in one `BEGIN IMMEDIATE` transaction (each job
//! inside a savepoint of its own, so a job that fails leaves nothing behind and does not
//! fail the others), commits once, and only then answers each job. A job that finds its
//! work already done by an earlier holder has nothing left to do but read its answer.
//!
//! Durability is unchanged: a job's `Ok` is sent only after the `COMMIT` that holds its
//! writes returned, i.e. after the WAL fsync; if the commit fails, every job of the group
//! gets the error and none of their writes is kept. Isolation is unchanged: jobs run one
//! after the other on the one writer connection, each seeing the writes of those before it,
//! and they check what they read inside their own savepoint, as single transactions did.
//!
//! After every group, before any job is answered, the read cache is told what the group
//! wrote: after a `COMMIT`, [`ReadCache::group_committed`] drops the blob entries the jobs
//! name ([`Touched`]) and keeps the rest (the accounts, keys and tenants that the next
//! requests look up), so a read that starts after a 201 sees the blob and a stream of puts
//! does not empty the cache; after a failed group, [`ReadCache::written`] as after any
//! other write.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::SqliteStore;
use super::convert::backend;
use super::pool::run_blocking;
use super::read_cache::{ReadCache, Touched};
use crate::{StoreError, StoreResult};

/// What a job does once its group's commit is known: `Ok` if it committed.
type Done = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A queued write: runs on the writer connection inside the group's transaction (`None`
/// when the transaction could not begin), and returns how to answer after the commit.
type Run = Box<dyn FnOnce(Option<&mut Connection>) -> Done + Send>;

/// A queued write and the cached lookups it may change.
struct Job {
    run: Run,
    touched: Touched,
}

/// The most jobs one transaction holds (bounds the time a group keeps the writer).
const MAX_GROUP: usize = 512;

/// How long the writer waits, once writes have been seen arriving together, for the
/// writers it just answered to send their next write before it begins a group
/// ([`GroupQueue::linger`]).
const LINGER: Duration = Duration::from_micros(300);

/// The queue of writes waiting for the writer connection.
#[derive(Default)]
pub(super) struct GroupQueue {
    jobs: Mutex<Vec<Job>>,
    /// Signalled by every push (what [`GroupQueue::linger`] waits on).
    arrived: Condvar,
    /// The sizes of the last two groups, newest first.
    recent: Mutex<[usize; 2]>,
}

impl GroupQueue {
    fn push(&self, job: Job) {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(job);
        self.arrived.notify_one();
    }

    /// Before a group begins: when the last group held several writes (writers are
    /// concurrent), waits up to [`LINGER`] for the queue to hold as many as the last two
    /// groups did together. Without it, writers answered together split into two halves
    /// that commit in turn, each half waiting for the other's fsync: the queue holds only
    /// the writes that arrived during the last commit, while those just answered are still
    /// on their way back. One writer alone never waits.
    fn linger(&self) {
        let [last, before] = *self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if last <= 1 {
            return;
        }
        let want = (last + before).min(MAX_GROUP);
        let jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = self
            .arrived
            .wait_timeout_while(jobs, LINGER, |jobs| jobs.len() < want)
            .unwrap_or_else(PoisonError::into_inner);
    }

    fn is_empty(&self) -> bool {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    fn take(&self) -> Vec<Job> {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if jobs.len() <= MAX_GROUP {
            std::mem::take(&mut *jobs)
        } else {
            jobs.drain(..MAX_GROUP).collect()
        }
    }

    /// Runs the queued jobs in groups, each one transaction, until the queue is empty.
    /// Called with the writer connection held.
    fn run(&self, conn: &mut Connection, cache: &ReadCache) {
        loop {
            self.linger();
            let jobs = self.take();
            if jobs.is_empty() {
                return;
            }
            {
                let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
                *recent = [jobs.len(), recent[0]];
            }
            run_group(conn, cache, jobs);
        }
    }
}

fn run_group(conn: &mut Connection, cache: &ReadCache, jobs: Vec<Job>) {
    // A transaction left open (a job that panicked in an earlier group) is abandoned first.
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    if let Err(error) = conn.execute_batch("BEGIN IMMEDIATE") {
        let message = error.to_string();
        for job in jobs {
            (job.run)(None)(Err(message.clone()));
        }
        return;
    }
    // SQLite's write lock is held from here to the COMMIT: no other commit lands between.
    let header = cache.header();
    let version = data_version(conn);
    let mut touched = Vec::with_capacity(jobs.len());
    let mut done: Vec<Done> = Vec::with_capacity(jobs.len());
    for job in jobs {
        touched.push(job.touched);
        done.push((job.run)(Some(conn)));
    }
    let outcome = conn.execute_batch("COMMIT").map_err(|error| {
        let _ = conn.execute_batch("ROLLBACK");
        error.to_string()
    });
    // Before any write of the group is answered: drop what the cache holds of it.
    match outcome {
        Ok(()) => cache.group_committed(header, &touched, || {
            version.is_none() || data_version(conn) != version
        }),
        Err(_) => cache.written(),
    }
    for answer in done {
        answer(outcome.clone());
    }
}

impl SqliteStore {
    /// Runs `f` on the writer connection inside a savepoint of a group transaction shared
    /// with the other writes queued at the same time; returns once that transaction
    /// committed (durably) or failed. An `Err` from `f` rolls back `f`'s writes only.
    /// `touched` names the cached lookups `f` may change (see [`Touched`]): it must cover
    /// every row `f` writes.
    pub(super) async fn write_grouped<T, F>(&self, touched: Touched, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        super::read_cache::look_again();
        let (sender, receiver) = oneshot::channel::<StoreResult<T>>();
        let run: Run = Box::new(move |conn: Option<&mut Connection>| {
            let result = match conn {
                None => Err(StoreError::Backend(
                    "the write transaction could not begin".into(),
                )),
                Some(conn) => in_savepoint(conn, f),
            };
            Box::new(move |commit: Result<(), String>| {
                let answer = match (result, commit) {
                    (Err(error), _) => Err(error),
                    (Ok(value), Ok(())) => Ok(value),
                    (Ok(_), Err(message)) => Err(StoreError::Backend(
                        format!("the write transaction did not commit: {message}").into(),
                    )),
                };
                // The caller may have gone away; its write is committed all the same.
                let _ = sender.send(answer);
            })
        });
        self.group.push(Job { run, touched });
        // The group runs in a task of its own: a caller that goes away (its client hung
        // up) neither strands its queued job nor leaves the others waiting for it.
        let (writer, group, cache) = (
            std::sync::Arc::clone(&self.writer),
            std::sync::Arc::clone(&self.group),
            std::sync::Arc::clone(&self.cache),
        );
        let runner = tokio::spawn(async move {
            let mut conn = writer.lock_owned().await;
            // An earlier holder may have run this job already: then there is nothing to do.
            if group.is_empty() {
                return Ok(());
            }
            run_blocking(move || {
                group.run(&mut conn, &cache);
                Ok(())
            })
            .await
        });
        match runner.await {
            Ok(result) => result?,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => return Err(StoreError::Backend(Box::new(error))),
        }
        receiver
            .await
            .map_err(|_| StoreError::Backend("a grouped write was lost (a job panicked)".into()))?
    }
}

/// The connection's `PRAGMA data_version`: it moves when another connection commits.
fn data_version(conn: &Connection) -> Option<i64> {
    conn.query_row("PRAGMA data_version", [], |row| row.get(0))
        .ok()
}

fn in_savepoint<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    let savepoint = conn.savepoint().map_err(backend)?;
    let result = f(&savepoint);
    match result {
        Ok(value) => {
            savepoint.commit().map_err(backend)?;
            Ok(value)
        }
        // Dropping the savepoint rolls its writes back.
        Err(error) => Err(error),
    }
}
