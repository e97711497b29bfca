//! Group commit: concurrent writes share one transaction and one WAL fsync.
//!
//! With `synchronous=FULL` every commit waits for an fsync of the WAL, a fraction of a
//! millisecond to several milliseconds; one commit per write caps a store at the disk's
//! fsyncs per second, whatever the cores. A grouped write ([`SqliteStore::write_grouped`])
//! instead puts its work in a queue and waits for its answer. One runner task at a time
//! (started by the write that finds none at work) takes the writer connection, runs
//! *every* queued job in one `BEGIN IMMEDIATE` transaction (each job inside a savepoint of
//! its own, so a job that fails leaves nothing behind and does not fail the others),
//! commits once, answers each job, and goes on with the jobs that arrived meanwhile until
//! the queue is empty. A writer never waits for the connection itself: with one waiter
//! per write, answered writers would wait their turn at the connection only to find their
//! work done, while their clients' next requests waited on them.
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

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::SqliteStore;
use super::convert::backend;
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
    /// A runner task is on its way or at work ([`GroupQueue::claim`]): at most one at a
    /// time, so writers never queue on the writer connection only to find their work done.
    active: AtomicBool,
    /// Signalled by every push (what [`GroupQueue::linger`] waits on).
    arrived: Condvar,
    /// The writers seen in the last round ([`GroupQueue::linger`]).
    recent: Mutex<Recent>,
    /// Plain writes ([`SqliteStore::write`]) waiting for the writer connection: a runner
    /// lets go of it between two groups when one is.
    plain_waiting: AtomicUsize,
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
    /// concurrent), waits up to [`LINGER`] for the queue to hold as many writes as there
    /// were writers in the last round: those of the last group, which its answers sent
    /// back to their clients, and those that arrived while it ran. Without it, writers
    /// split into two halves that commit in turn, each half waiting for the other's fsync:
    /// the queue holds only the writes that arrived during the last commit, while those
    /// just answered are still on their way back. One writer alone never waits.
    fn linger(&self) {
        let Recent { last, arrived } = *self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if last <= 1 {
            return;
        }
        let want = (last + arrived).min(MAX_GROUP);
        let jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = self
            .arrived
            .wait_timeout_while(jobs, LINGER, |jobs| jobs.len() < want)
            .unwrap_or_else(PoisonError::into_inner);
    }

    fn len(&self) -> usize {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
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

    /// Whether the caller becomes the runner: true when no runner was active.
    fn claim(&self) -> bool {
        !self.active.swap(true, Ordering::SeqCst)
    }

    /// The runner is done: whether it must go on, because jobs arrived after its last
    /// group and no writer claimed the queue since. (A writer pushes, then claims; the
    /// runner releases, then looks: one of the two sees the other's job.)
    fn release(&self) -> bool {
        self.active.store(false, Ordering::SeqCst);
        !self.is_empty() && self.claim()
    }

    /// Runs groups of the queued jobs, one transaction each, until the queue is empty or
    /// a plain write waits for the connection. Called with the writer connection held.
    fn run(&self, conn: &mut Connection, cache: &ReadCache) {
        loop {
            self.linger();
            let jobs = self.take();
            if jobs.is_empty() {
                return;
            }
            let last = jobs.len();
            run_group(conn, cache, jobs);
            let arrived = self.len();
            *self.recent.lock().unwrap_or_else(PoisonError::into_inner) = Recent { last, arrived };
            if arrived == 0 || self.plain_waiting.load(Ordering::SeqCst) > 0 {
                return;
            }
        }
    }

    /// Marks a plain write as waiting for the writer connection until the mark is dropped.
    pub(super) fn plain_write(&self) -> PlainWrite<'_> {
        self.plain_waiting.fetch_add(1, Ordering::SeqCst);
        PlainWrite(self)
    }
}

/// The size of the last group, and the writes that arrived while it ran.
#[derive(Clone, Copy, Default)]
struct Recent {
    last: usize,
    arrived: usize,
}

/// A plain write waiting for the writer connection ([`GroupQueue::plain_write`]).
pub(super) struct PlainWrite<'a>(&'a GroupQueue);

impl Drop for PlainWrite<'_> {
    fn drop(&mut self) {
        self.0.plain_waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a runner needs: the queue, the writer connection and the read cache.
struct Runner {
    group: Arc<GroupQueue>,
    writer: Arc<tokio::sync::Mutex<Connection>>,
    cache: Arc<ReadCache>,
    /// Set when [`Runner::run`] returns having released the queue; a runner dropped before
    /// (its runtime shut down) releases it in `drop`, so a later runtime can claim it.
    released: bool,
}

impl Drop for Runner {
    fn drop(&mut self) {
        if !self.released {
            self.group.active.store(false, Ordering::SeqCst);
        }
    }
}

impl Runner {
    /// Runs groups, one transaction each, until the queue is empty. The connection is held
    /// across groups, on one blocking thread, unless a plain write waits for it: then it
    /// is let go between two groups, and taken back after the plain write.
    async fn run(mut self) {
        loop {
            let mut conn = Arc::clone(&self.writer).lock_owned().await;
            let (group, cache) = (Arc::clone(&self.group), Arc::clone(&self.cache));
            let ran = tokio::task::spawn_blocking(move || group.run(&mut conn, &cache)).await;
            // A job that panicked, or a runtime shutting down, drops the answers of the
            // group in hand: their writers get an error; the queue goes on.
            if let Err(error) = ran {
                tracing::error!(%error, "a group of writes was lost");
            }
            if !self.group.release() {
                self.released = true;
                return;
            }
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
        if self.group.claim() {
            tokio::spawn(
                Runner {
                    group: Arc::clone(&self.group),
                    writer: Arc::clone(&self.writer),
                    cache: Arc::clone(&self.cache),
                    released: false,
                }
                .run(),
            );
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::sqlite::convert::backend;

    async fn store() -> (tempfile::TempDir, Arc<SqliteStore>) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("azlite.db"))
            .await
            .unwrap();
        store
            .write(|conn| {
                conn.execute_batch("CREATE TABLE scratch (n INTEGER NOT NULL)")
                    .map_err(backend)
            })
            .await
            .unwrap();
        (dir, Arc::new(store))
    }

    async fn insert(store: &SqliteStore, n: i64) -> StoreResult<()> {
        store
            .write_grouped(Touched::Nothing, move |conn| {
                conn.execute("INSERT INTO scratch (n) VALUES (?1)", [n])
                    .map(drop)
                    .map_err(backend)
            })
            .await
    }

    async fn rows(store: &SqliteStore) -> i64 {
        store
            .write(|conn| {
                conn.query_row("SELECT count(*) FROM scratch", [], |row| row.get(0))
                    .map_err(backend)
            })
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_grouped_writes_all_commit() {
        let (_dir, store) = store().await;
        let writes: Vec<_> = (0..200)
            .map(|n| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { insert(&store, n).await })
            })
            .collect();
        for write in writes {
            write.await.unwrap().unwrap();
        }
        assert_eq!(rows(&store).await, 200);
        // The runner lets go of the queue once it is empty (it releases just after its last
        // group hands back the connection, so give it a moment).
        for _ in 0..200 {
            if !store.group.active.load(Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(!store.group.active.load(Ordering::SeqCst));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_plain_write_goes_between_groups_of_a_stream_that_never_pauses() {
        let (_dir, store) = store().await;
        // Each group takes at least 2 ms, and a write arrives every 200 µs whatever the
        // answers: jobs are always waiting when a group ends.
        let stop = Arc::new(AtomicBool::new(false));
        let producer = {
            let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut writes = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let store = Arc::clone(&store);
                    writes.push(tokio::spawn(async move {
                        store
                            .write_grouped(Touched::Nothing, |conn| {
                                std::thread::sleep(Duration::from_millis(2));
                                conn.execute("INSERT INTO scratch (n) VALUES (1)", [])
                                    .map(drop)
                                    .map_err(backend)
                            })
                            .await
                    }));
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
                for write in writes {
                    write.await.unwrap().unwrap();
                }
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let plain = tokio::time::timeout(Duration::from_secs(5), rows(&store)).await;
        stop.store(true, Ordering::SeqCst);
        producer.await.unwrap();
        assert!(plain.expect("the plain write waited behind the stream") > 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_that_panics_fails_its_group_and_later_writes_go_on() {
        let (_dir, store) = store().await;
        let panicking = store
            .write_grouped(Touched::Nothing, |conn| -> StoreResult<()> {
                conn.execute("INSERT INTO scratch (n) VALUES (7)", [])
                    .map_err(backend)?;
                panic!("a bug in a job");
            })
            .await;
        assert!(matches!(panicking, Err(StoreError::Backend(_))));
        insert(&store, 1).await.unwrap();
        // The panicking job's row was rolled back with its transaction.
        assert_eq!(rows(&store).await, 1);
    }
}
