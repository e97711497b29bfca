//! Checks of [`crate::BlobStore`]'s inline content (small blobs kept in their row) and of
//! many blob writes at once (which a backend may group into shared transactions: each must
//! still succeed or fail on its own).

use std::sync::Arc;

use super::blobs::{account, assert_changed, blob, block, container, set};
use crate::{BlobContent, Expect, Store};

/// Inline content: written with the blob, read back with it, replaced by blocks and back,
/// copied by value, freed extents reported, and the same generation rules as `put_blob`.
pub async fn blob_inline_content(store: &dyn Store) {
    let acct = account(store).await;
    store
        .create_container(&container(&acct, "inline"))
        .await
        .unwrap();
    let bytes: Arc<[u8]> = Arc::from(&b"hello, inline world"[..]);
    let small = blob(&acct, "inline", "small", bytes.len() as u64);
    let freed = store
        .put_inline_blob(&small, bytes.clone(), Expect::Absent)
        .await
        .unwrap();
    assert!(freed.is_empty());
    let (read, content) = store
        .get_blob_content(&acct.id, "inline", "small")
        .await
        .unwrap()
        .expect("the inline blob");
    assert_eq!(read.content_length, bytes.len() as u64);
    assert_eq!(read.generation, 1);
    assert_eq!(content, BlobContent::Inline(bytes.clone()));
    assert!(content.blocks().is_empty());
    // The block view of an inline blob has no blocks; the metadata view has the record.
    let (_, blocks) = store
        .get_blob_with_blocks(&acct.id, "inline", "small")
        .await
        .unwrap()
        .unwrap();
    assert!(blocks.is_empty());
    assert_eq!(
        store
            .get_blob(&acct.id, "inline", "small")
            .await
            .unwrap()
            .unwrap()
            .content_length,
        bytes.len() as u64
    );
    // A create of an existing name, or a stale generation, is refused and changes nothing.
    assert_changed(
        store
            .put_inline_blob(&small, Arc::from(&b"x"[..]), Expect::Absent)
            .await,
        "inline create over an existing blob",
    );
    assert_changed(
        store
            .put_inline_blob(&small, Arc::from(&b"x"[..]), Expect::Generation(7))
            .await,
        "inline write at a stale generation",
    );
    // Replaced by blocks: the inline bytes are gone; replaced by inline bytes again: the
    // blocks' extents are freed.
    let blocks = vec![block(3), block(4)];
    let extents: Vec<_> = blocks.iter().map(|b| b.extent).collect();
    let big = blob(&acct, "inline", "small", 7);
    store
        .put_blob(&big, &blocks, &extents, Expect::Generation(1))
        .await
        .unwrap();
    let (_, content) = store
        .get_blob_content(&acct.id, "inline", "small")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(content, BlobContent::Blocks(blocks.clone()));
    let again: Arc<[u8]> = Arc::from(&b"tiny"[..]);
    let freed = store
        .put_inline_blob(
            &blob(&acct, "inline", "small", 4),
            again.clone(),
            Expect::Generation(2),
        )
        .await
        .unwrap();
    assert_eq!(set(&freed), set(&extents));
    let (read, content) = store
        .get_blob_content(&acct.id, "inline", "small")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((read.generation, content), (3, BlobContent::Inline(again)));
    // An empty blob is inline content of no bytes, not a blob of no blocks.
    store
        .put_inline_blob(
            &blob(&acct, "inline", "empty", 0),
            Arc::from(&[][..]),
            Expect::Any,
        )
        .await
        .unwrap();
    let (_, content) = store
        .get_blob_content(&acct.id, "inline", "empty")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(content, BlobContent::Inline(Arc::from(&[][..])));
    // A missing container, and a missing blob.
    assert_changed(
        store
            .put_inline_blob(
                &blob(&acct, "nope", "x", 1),
                Arc::from(&b"x"[..]),
                Expect::Any,
            )
            .await,
        "inline write into a missing container",
    );
    assert!(
        store
            .get_blob_content(&acct.id, "inline", "missing")
            .await
            .unwrap()
            .is_none()
    );
    // Deleting the container deletes its inline blobs.
    let c = store
        .get_container(&acct.id, "inline")
        .await
        .unwrap()
        .unwrap();
    store
        .delete_container(&acct.id, "inline", c.generation)
        .await
        .unwrap();
    assert!(
        store
            .get_blob_content(&acct.id, "inline", "empty")
            .await
            .unwrap()
            .is_none()
    );
}

/// Many writes at once: every create of a new name succeeds, every second create of a
/// name fails alone (its group's other writes are kept), and all are read back.
pub async fn blob_concurrent_writes(store: &dyn Store) {
    let acct = account(store).await;
    store
        .create_container(&container(&acct, "many"))
        .await
        .unwrap();
    let writes = (0..64).map(|i| {
        let record = blob(&acct, "many", &format!("b{}", i % 48), 1);
        async move {
            store
                .put_inline_blob(&record, Arc::from(vec![i as u8]), Expect::Absent)
                .await
        }
    });
    let results = futures_join_all(writes).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let changed = results
        .iter()
        .filter(|r| matches!(r, Err(crate::StoreError::Changed(_))))
        .count();
    assert_eq!((ok, changed), (48, 16), "{results:?}");
    let listed = store
        .list_blobs(&acct.id, "many", "", None, 100)
        .await
        .unwrap();
    assert_eq!(listed.len(), 48);
}

/// Polls every future to completion, concurrently, in order of their results.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *slot = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
