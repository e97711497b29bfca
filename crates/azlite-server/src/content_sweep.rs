//! Content nothing references any more, removed while azlite runs.
//!
//! Blob and Data Lake release the extents their own deletes free. ARM has no handle on
//! content: deleting a storage or Data Lake account, a group holding one, or a container
//! through `blobServices/default/containers` removes the metadata in one transaction and
//! leaves the extents behind. ARM says so ([`azlite_arm::Arm::content_freed`]); this sweep
//! then waits out the read grace (a download that started before the delete finishes) and
//! removes every extent that neither service references. It also runs once an hour; the
//! sweep at start, with the temporary files a crash left, is [`crate::content`]'s.
//!
//! Architecture Invariant: one content directory holds every service's extents, so an
//! extent is an orphan only when neither Blob nor Data Lake references it.
//!
//! A running sweep spares extents stored less than [`SweepTiming::min_age`] ago: between
//! an extent's write and the metadata commit that references it, the extent is
//! unreferenced, and that window is milliseconds long.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use azlite_content::sweep::{SweepReport, sweep_orphans};
use azlite_content::{ContentError, ExtentId, ExtentStore};
use azlite_store::{Store, StoreError};
use tokio::sync::Notify;

/// When the sweep runs and what it spares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SweepTiming {
    /// How long after ARM's signal the sweep starts (reads in progress finish first).
    pub grace: Duration,
    /// How often it runs without a signal.
    pub period: Duration,
    /// Extents stored more recently than this are never removed by a running sweep.
    pub min_age: Duration,
}

impl Default for SweepTiming {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(60),
            period: Duration::from_secs(3600),
            min_age: Duration::from_secs(600),
        }
    }
}

/// Why a sweep failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SweepError {
    /// The references could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The content directory could not be listed or an extent removed.
    #[error(transparent)]
    Content(#[from] ContentError),
}

/// Every extent Blob or Data Lake references.
pub(crate) async fn referenced(store: &dyn Store) -> Result<HashSet<ExtentId>, StoreError> {
    let mut referenced: HashSet<ExtentId> = store
        .referenced_blob_extents()
        .await?
        .into_iter()
        .map(ExtentId::from_uuid)
        .collect();
    for id in store.dls_referenced_extents().await? {
        match id.parse() {
            Ok(id) => {
                referenced.insert(id);
            }
            Err(_) => tracing::warn!(extent = %id, "the store names an invalid extent id"),
        }
    }
    Ok(referenced)
}

/// One sweep while azlite runs: unreferenced extents older than `min_age`. The references
/// are read before the directory is listed, so an extent written after the read is young
/// and spared.
pub(crate) async fn sweep_running(
    store: &dyn Store,
    content: &dyn ExtentStore,
    min_age: Duration,
) -> Result<SweepReport, SweepError> {
    let referenced = referenced(store).await?;
    Ok(sweep_orphans(content, &referenced, min_age, false).await?)
}

/// Sweeps after ARM's signal (once the grace has passed; however many signals arrive
/// meanwhile, they make one more sweep) and once a `timing.period`.
pub(crate) fn spawn(
    store: Arc<dyn Store>,
    content: Arc<dyn ExtentStore>,
    freed: Arc<Notify>,
    timing: SweepTiming,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = freed.notified() => tokio::time::sleep(timing.grace).await,
                () = tokio::time::sleep(timing.period) => {}
            }
            match sweep_running(store.as_ref(), content.as_ref(), timing.min_age).await {
                Ok(report) if report.orphans > 0 => tracing::info!(
                    orphans = report.orphans,
                    orphan_bytes = report.orphan_bytes,
                    "removed content that no blob or file references any more"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "could not sweep unreferenced content"),
            }
        }
    })
}
