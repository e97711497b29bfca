//! The content directory at start: opened at once, swept in the background.
//!
//! What a crash can leave there (files of puts cut short, extents that no committed metadata
//! references, uncommitted blocks older than a week) is removed at every start. The sweep
//! walks every shard of the directory, so it runs after the listeners serve (start-up time,
//! issue 14), and the invariant that it never races a write is kept by [`SweptFirst`]: every
//! put waits until the sweep has finished. Reads, deletions and listings need not wait: the
//! sweep removes only extents that no metadata referenced after the expiry (nothing reads
//! them, and no later write can come to reference them: writes reference only extents they
//! put, or extents already referenced).

use std::path::Path;
use std::sync::Arc;

use azlite_content::{
    ByteStream, ContentError, ExtentEntry, ExtentId, ExtentInfo, ExtentStore, PutOptions,
};
use azlite_store::Store;
use tokio::sync::watch;

use crate::StartError;

/// Opens `<dir>/content` and starts its sweep; the store to use, and what tells when the
/// sweep has finished.
pub(crate) fn open(
    dir: &Path,
    store: Arc<dyn Store>,
) -> Result<(Arc<dyn ExtentStore>, watch::Receiver<bool>), StartError> {
    let content: Arc<dyn ExtentStore> =
        Arc::new(azlite_content::LocalExtentStore::open(dir.join("content"))?);
    let (done, swept) = watch::channel(false);
    let sweeping = content.clone();
    tokio::spawn(async move {
        if let Err(error) = sweep(sweeping.as_ref(), store.as_ref()).await {
            // Orphans left are garbage, not damage: writes go on, and the next start tries
            // again.
            tracing::error!(%error, "the start-up sweep of the content directory failed");
        }
        let _ = done.send(true);
    });
    let gated = SweptFirst {
        inner: content,
        swept: swept.clone(),
    };
    Ok((Arc::new(gated), swept))
}

/// Removes what a crash left: uncommitted blocks older than a week, temporary files of
/// unfinished puts, and extents that neither Blob nor Data Lake references (one directory
/// holds every service's extents, so the sweep takes the union).
async fn sweep(content: &dyn ExtentStore, store: &dyn Store) -> Result<(), StartError> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    store
        .expire_uncommitted_blocks(now_ms - azlite_blob::UNCOMMITTED_BLOCK_LIFETIME_MS)
        .await?;
    let referenced = crate::content_sweep::referenced(store).await?;
    let report =
        azlite_content::sweep::sweep_orphans(content, &referenced, std::time::Duration::ZERO, true)
            .await?;
    if report != azlite_content::sweep::SweepReport::default() {
        tracing::info!(
            incomplete = report.incomplete,
            orphans = report.orphans,
            orphan_bytes = report.orphan_bytes,
            "removed content that no blob or file references"
        );
    }
    Ok(())
}

/// The content store while the start-up sweep may still run: a put waits for it to finish.
struct SweptFirst {
    inner: Arc<dyn ExtentStore>,
    swept: watch::Receiver<bool>,
}

#[async_trait::async_trait]
impl ExtentStore for SweptFirst {
    async fn put(&self, body: ByteStream, options: PutOptions) -> Result<ExtentInfo, ContentError> {
        if !*self.swept.borrow() {
            let mut swept = self.swept.clone();
            let _ = swept.wait_for(|done| *done).await;
        }
        self.inner.put(body, options).await
    }

    async fn read(&self, id: ExtentId, offset: u64, len: u64) -> Result<ByteStream, ContentError> {
        self.inner.read(id, offset, len).await
    }

    async fn delete(&self, id: ExtentId) -> Result<(), ContentError> {
        self.inner.delete(id).await
    }

    async fn list(&self) -> Result<Vec<ExtentEntry>, ContentError> {
        self.inner.list().await
    }

    async fn remove_incomplete(&self) -> Result<usize, ContentError> {
        // Only safe while no put runs (the trait's rule): after the sweep, puts may.
        self.inner.remove_incomplete().await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Bytes;
    use azlite_content::LocalExtentStore;

    use super::*;

    fn body(text: &'static str) -> ByteStream {
        Box::pin(futures_util::stream::iter([Ok(Bytes::from_static(
            text.as_bytes(),
        ))]))
    }

    #[tokio::test]
    async fn a_put_waits_for_the_sweep_and_reads_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let local = Arc::new(LocalExtentStore::open(dir.path().join("content")).unwrap());
        let before = local
            .put(body("stored before"), PutOptions::up_to(64))
            .await
            .unwrap();
        let (done, swept) = watch::channel(false);
        let gated = Arc::new(SweptFirst {
            inner: local,
            swept,
        });
        // Reads pass while the sweep runs.
        let mut read = gated.read(before.id, 0, 6).await.unwrap();
        let first = futures_util::StreamExt::next(&mut read)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&first[..], b"stored");
        let putting = tokio::spawn({
            let gated = gated.clone();
            async move { gated.put(body("after"), PutOptions::up_to(64)).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !putting.is_finished(),
            "a put ran before the sweep finished"
        );
        assert_eq!(gated.list().await.unwrap().len(), 1);
        done.send(true).unwrap();
        putting.await.unwrap().unwrap();
        assert_eq!(gated.list().await.unwrap().len(), 2);
    }
}
