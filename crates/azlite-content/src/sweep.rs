//! Garbage collection of extents: what no committed metadata references is removed.
//!
//! The metadata store knows which extents are referenced; the content store only knows
//! which exist. The composition root calls [`sweep_orphans`] at start (when no put is in
//! flight, so `min_age` can be zero) and may call it later with an age that no upload in
//! flight can reach (an extent is referenced right after its put returns).

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use crate::{ContentError, ExtentId, ExtentStore};

/// What a sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Temporary files of puts that never finished (only when asked to remove them).
    pub incomplete: usize,
    /// Extents nothing referenced.
    pub orphans: usize,
    /// Their bytes.
    pub orphan_bytes: u64,
}

/// Removes every extent not in `referenced` and stored at least `min_age` ago, and, when
/// `at_start`, every temporary file.
pub async fn sweep_orphans(
    store: &dyn ExtentStore,
    referenced: &HashSet<ExtentId>,
    min_age: Duration,
    at_start: bool,
) -> Result<SweepReport, ContentError> {
    let mut report = SweepReport::default();
    if at_start {
        report.incomplete = store.remove_incomplete().await?;
    }
    let now = SystemTime::now();
    for entry in store.list().await? {
        let old_enough = now.duration_since(entry.stored_at).unwrap_or_default() >= min_age;
        if old_enough && !referenced.contains(&entry.id) {
            store.delete(entry.id).await?;
            report.orphans += 1;
            report.orphan_bytes += entry.len;
        }
    }
    Ok(report)
}
