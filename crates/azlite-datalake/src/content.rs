//! File content through the content boundary (`azlite-content`): every CREATE or APPEND
//! body becomes one immutable extent, durable before the store is told about it, so an
//! acknowledged APPEND survives `kill -9`. Reads stream the extents a range covers; no file
//! is ever whole in memory. Extent ids are kept in the store as text.

use std::sync::Arc;

use axum::body::Body;
use azlite_content::segments::Segment;
use azlite_content::{ContentError, ExtentId, ExtentStore, PutOptions, read_segments};
use futures_util::StreamExt;

/// A part of an extent to read: its id (as stored), where to start in it, how many bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtentRange {
    /// The extent.
    pub extent_id: String,
    /// The first byte, relative to the extent.
    pub start: u64,
    /// How many bytes.
    pub length: u64,
}

/// Data Lake's view of the extent store.
#[derive(Clone)]
pub struct Extents {
    store: Arc<dyn ExtentStore>,
}

impl std::fmt::Debug for Extents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extents").finish_non_exhaustive()
    }
}

fn parse_id(id: &str) -> Result<ExtentId, ContentError> {
    id.parse()
}

impl Extents {
    /// Over `store`.
    pub fn new(store: Arc<dyn ExtentStore>) -> Self {
        Self { store }
    }

    /// Writes `body` as a new extent, durably; `None` (and nothing kept) when it was
    /// empty. At most `limit` bytes are accepted.
    pub async fn put(&self, body: Body, limit: u64) -> Result<Option<(String, u64)>, ContentError> {
        let stream = body
            .into_data_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other));
        let info = self
            .store
            .put(Box::pin(stream), PutOptions::up_to(limit))
            .await?;
        if info.len == 0 {
            self.store.delete(info.id).await?;
            return Ok(None);
        }
        Ok(Some((info.id.to_string(), info.len)))
    }

    /// Streams `ranges`, in order, as a response body (the first extent is opened before
    /// this returns, so a missing one fails before the answer starts).
    pub async fn read(&self, ranges: Vec<ExtentRange>) -> Result<Body, ContentError> {
        let segments = ranges
            .into_iter()
            .map(|r| {
                Ok(Segment {
                    extent: parse_id(&r.extent_id)?,
                    offset: r.start,
                    len: r.length,
                })
            })
            .collect::<Result<Vec<_>, ContentError>>()?;
        let stream = read_segments(Arc::clone(&self.store), segments).await?;
        Ok(Body::from_stream(stream))
    }

    /// Removes extents no file refers to any more (best effort: a failure is logged, and
    /// the next start's sweep finds the extent again).
    pub async fn remove(&self, ids: &[String]) {
        for id in ids {
            let removed = match parse_id(id) {
                Ok(id) => self.store.delete(id).await,
                Err(e) => Err(e),
            };
            if let Err(e) = removed {
                tracing::warn!(extent = %id, error = %e, "could not remove a Data Lake extent");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn extents_are_written_read_by_range_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = azlite_content::LocalExtentStore::open(dir.path().join("x")).unwrap();
        let extents = Extents::new(Arc::new(store));
        let (a, la) = extents
            .put(Body::from("hello "), 100)
            .await
            .unwrap()
            .unwrap();
        let (b, lb) = extents
            .put(Body::from("world"), 100)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((la, lb), (6, 5));
        assert!(extents.put(Body::from(""), 100).await.unwrap().is_none());
        assert!(extents.put(Body::from("too long"), 3).await.is_err());
        let body = extents
            .read(vec![
                ExtentRange {
                    extent_id: a.clone(),
                    start: 2,
                    length: 4,
                },
                ExtentRange {
                    extent_id: b.clone(),
                    start: 0,
                    length: 3,
                },
            ])
            .await
            .unwrap();
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"llo wor");
        extents.remove(std::slice::from_ref(&a)).await;
        assert!(
            extents
                .read(vec![ExtentRange {
                    extent_id: a,
                    start: 0,
                    length: 1
                }])
                .await
                .is_err()
        );
    }
}
