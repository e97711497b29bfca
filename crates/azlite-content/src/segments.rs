//! Reading a byte range of something made of several extents (a blob's committed blocks,
//! a Data Lake file's appends): which parts of which extents, and one stream over them.

use std::sync::Arc;

use futures_util::StreamExt;

use crate::{ByteStream, ContentError, ExtentId, ExtentStore};

/// A part of one extent: `len` bytes from `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The extent.
    pub extent: ExtentId,
    /// Where the part starts in the extent.
    pub offset: u64,
    /// Its length.
    pub len: u64,
}

/// The segments covering bytes `offset..offset + len` of the concatenation of `parts`
/// (each an extent and the length used from its start), in order. A range running past
/// the end is cut at the end; empty parts are skipped.
pub fn slice(parts: &[(ExtentId, u64)], offset: u64, len: u64) -> Vec<Segment> {
    let end = offset.saturating_add(len);
    let mut segments = Vec::new();
    if len == 0 {
        return segments;
    }
    let mut start_of_part = 0u64;
    for &(extent, part_len) in parts {
        let end_of_part = start_of_part + part_len;
        if end_of_part > offset && start_of_part < end && part_len > 0 {
            let from = offset.max(start_of_part);
            let to = end.min(end_of_part);
            segments.push(Segment {
                extent,
                offset: from - start_of_part,
                len: to - from,
            });
        }
        if end_of_part >= end {
            break;
        }
        start_of_part = end_of_part;
    }
    segments
}

/// One stream over `segments` in order. The first segment is opened before this returns
/// (so a missing extent fails before a response starts); the others when the stream
/// reaches them.
pub async fn read_segments(
    store: Arc<dyn ExtentStore>,
    segments: Vec<Segment>,
) -> Result<ByteStream, ContentError> {
    let mut segments = segments.into_iter();
    let Some(first) = segments.next() else {
        return Ok(Box::pin(futures_util::stream::empty()));
    };
    let first = store.read(first.extent, first.offset, first.len).await?;
    let rest = futures_util::stream::iter(segments)
        .then(move |segment| {
            let store = Arc::clone(&store);
            async move {
                match store
                    .read(segment.extent, segment.offset, segment.len)
                    .await
                {
                    Ok(stream) => stream,
                    Err(error) => Box::pin(futures_util::stream::once(async move {
                        Err(std::io::Error::other(error))
                    })) as ByteStream,
                }
            }
        })
        .flatten();
    Ok(Box::pin(first.chain(rest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> [ExtentId; 3] {
        [
            ExtentId::new_random(),
            ExtentId::new_random(),
            ExtentId::new_random(),
        ]
    }

    #[test]
    fn whole_and_partial_ranges() {
        let [a, b, c] = ids();
        let parts = [(a, 10), (b, 0), (c, 5)];
        assert_eq!(
            slice(&parts, 0, 15),
            vec![
                Segment {
                    extent: a,
                    offset: 0,
                    len: 10
                },
                Segment {
                    extent: c,
                    offset: 0,
                    len: 5
                }
            ]
        );
        assert_eq!(
            slice(&parts, 8, 4),
            vec![
                Segment {
                    extent: a,
                    offset: 8,
                    len: 2
                },
                Segment {
                    extent: c,
                    offset: 0,
                    len: 2
                }
            ]
        );
        assert_eq!(
            slice(&parts, 11, 100),
            vec![Segment {
                extent: c,
                offset: 1,
                len: 4
            }]
        );
        assert_eq!(
            slice(&parts, 3, 2),
            vec![Segment {
                extent: a,
                offset: 3,
                len: 2
            }]
        );
        assert!(slice(&parts, 15, 1).is_empty());
        assert!(slice(&parts, 2, 0).is_empty());
    }
}
