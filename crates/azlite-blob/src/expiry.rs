//! Uncommitted blocks expire a week after their upload, as Azure discards them (a Put Block
//! List or a Delete Blob drops a blob's uncommitted blocks at once; that is the store's
//! part). The check runs at start (the server's content sweep), at most once an hour of
//! the service's clock on a Put Block, and once an hour in the background
//! ([`Blob::spawn_uncommitted_block_expiry`]); the extents it frees are released like any
//! other (after the read grace period).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use azlite_store::StoreError;

use crate::Blob;

/// How long an uncommitted block is kept: a week, as in Azure.
pub const UNCOMMITTED_BLOCK_LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;
/// How often the expiry runs, at most (service clock) and in the background (real time).
const EXPIRY_INTERVAL_MS: i64 = 3600 * 1000;

impl Blob {
    /// Removes the uncommitted blocks uploaded more than a week ago by the service's clock,
    /// releasing the extents nothing else references; answers how many extents were freed.
    pub async fn expire_uncommitted_blocks(&self) -> Result<usize, StoreError> {
        let now = self.now_ms();
        self.last_expiry.store(now, Ordering::Relaxed);
        let freed = self
            .store
            .expire_uncommitted_blocks(now - UNCOMMITTED_BLOCK_LIFETIME_MS)
            .await?;
        let count = freed.len();
        if count > 0 {
            tracing::info!(
                extents = count,
                "expired uncommitted blocks older than a week"
            );
        }
        self.release(freed);
        Ok(count)
    }

    /// Runs [`Self::expire_uncommitted_blocks`] when the last run is an hour old or more
    /// (service clock). A failure is logged: the next run tries again.
    pub(crate) async fn expire_uncommitted_blocks_if_due(&self) {
        let last = self.last_expiry.load(Ordering::Relaxed);
        let now = self.now_ms();
        if now - last < EXPIRY_INTERVAL_MS
            || self
                .last_expiry
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        if let Err(error) = self.expire_uncommitted_blocks().await {
            tracing::warn!(%error, "could not expire uncommitted blocks");
        }
    }

    /// Expires uncommitted blocks once an hour in the background, for as long as the
    /// service lives.
    pub fn spawn_uncommitted_block_expiry(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let blob = Arc::downgrade(self);
        tokio::spawn(async move {
            let period = Duration::from_millis(EXPIRY_INTERVAL_MS.unsigned_abs());
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            loop {
                ticks.tick().await;
                let Some(blob) = blob.upgrade() else { return };
                blob.expire_uncommitted_blocks_if_due().await;
            }
        })
    }
}
