use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use md5::{Digest, Md5};

use super::*;
use crate::segments::{read_segments, slice};
use crate::sweep::sweep_orphans;
use crate::{ContentError, ExtentStore, PutOptions, azure_crc64};

fn body_of(chunks: Vec<Vec<u8>>) -> ByteStream {
    Box::pin(futures_util::stream::iter(
        chunks.into_iter().map(|c| Ok(Bytes::from(c))),
    ))
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len)
        .map(|n| ((n as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 24) as u8)
        .collect()
}

async fn collect(stream: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stream = stream;
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

fn store() -> (tempfile::TempDir, LocalExtentStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalExtentStore::open(dir.path().join("content")).unwrap();
    (dir, store)
}

#[tokio::test]
async fn put_then_read_whole_and_ranges_with_digests() {
    let (_dir, store) = store();
    let data = pattern(3 * WRITE_CHUNK + 12_345, 7);
    let chunks: Vec<Vec<u8>> = data.chunks(64 * 1024 + 3).map(<[u8]>::to_vec).collect();
    let options = PutOptions {
        max_len: 1 << 30,
        expected_len: Some(data.len() as u64),
        crc64: true,
    };
    let info = store.put(body_of(chunks), options).await.unwrap();
    assert_eq!(info.len, data.len() as u64);
    assert_eq!(info.md5, <[u8; 16]>::from(Md5::digest(&data)));
    assert_eq!(info.crc64, Some(azure_crc64(&data)));

    let whole = collect(store.read(info.id, 0, info.len).await.unwrap()).await;
    assert_eq!(whole, data);
    let middle = collect(store.read(info.id, 1_000_001, 700_000).await.unwrap()).await;
    assert_eq!(middle, &data[1_000_001..1_700_001]);
    let empty = collect(store.read(info.id, 5, 0).await.unwrap()).await;
    assert!(empty.is_empty());
    assert!(matches!(
        store.read(info.id, info.len - 1, 2).await,
        Err(ContentError::OutOfRange { .. })
    ));
    assert!(matches!(
        store.read(ExtentId::new_random(), 0, 0).await,
        Err(ContentError::NotFound(_))
    ));
}

#[tokio::test]
async fn files_are_private_and_nothing_is_left_in_tmp() {
    let (_dir, store) = store();
    let info = store
        .put(body_of(vec![b"hello".to_vec()]), PutOptions::up_to(100))
        .await
        .unwrap();
    assert_eq!(info.crc64, None);
    let path = store.extent_path(info.id);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    for dir in [
        store.root().to_path_buf(),
        store.root().join("tmp"),
        store.shard_dir(info.id),
    ] {
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
    assert_eq!(files_under(&store.root().join("tmp")), 0);
    assert_eq!(std::fs::read(path).unwrap(), b"hello");
}

#[tokio::test]
async fn an_empty_body_is_an_empty_extent() {
    let (_dir, store) = store();
    let info = store
        .put(body_of(vec![]), PutOptions::up_to(0))
        .await
        .unwrap();
    assert_eq!(info.len, 0);
    assert_eq!(info.md5, <[u8; 16]>::from(Md5::digest(b"")));
    assert!(
        collect(store.read(info.id, 0, 0).await.unwrap())
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn failed_puts_store_nothing() {
    let (_dir, store) = store();
    let big = vec![vec![0u8; WRITE_CHUNK], vec![1u8; WRITE_CHUNK]];
    assert!(matches!(
        store
            .put(
                body_of(big.clone()),
                PutOptions::up_to(WRITE_CHUNK as u64 + 1)
            )
            .await,
        Err(ContentError::TooLarge { .. })
    ));
    let short = PutOptions {
        max_len: 1 << 30,
        expected_len: Some(3 * WRITE_CHUNK as u64),
        crc64: false,
    };
    assert!(matches!(
        store.put(body_of(big.clone()), short).await,
        Err(ContentError::LengthMismatch { expected, actual }) if expected == 3 * WRITE_CHUNK as u64 && actual == 2 * WRITE_CHUNK as u64
    ));
    let long = PutOptions {
        max_len: 1 << 30,
        expected_len: Some(10),
        crc64: false,
    };
    assert!(matches!(
        store.put(body_of(big), long).await,
        Err(ContentError::LengthMismatch { .. })
    ));
    let broken: ByteStream = Box::pin(futures_util::stream::iter(vec![
        Ok(Bytes::from(vec![0u8; 2 * WRITE_CHUNK])),
        Err(std::io::Error::other("connection reset")),
    ]));
    assert!(matches!(
        store.put(broken, PutOptions::up_to(1 << 30)).await,
        Err(ContentError::Body(_))
    ));
    assert_eq!(files_under(&store.root().join("tmp")), 0);
    assert!(store.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_put_dropped_midway_removes_its_temporary_file() {
    let (_dir, store) = store();
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let body: ByteStream = Box::pin(futures_util::stream::unfold(
        receiver,
        |mut rx| async move { rx.recv().await.map(|item| (item, rx)) },
    ));
    let task = {
        let store = store.clone();
        tokio::spawn(async move { store.put(body, PutOptions::up_to(1 << 30)).await })
    };
    sender
        .send(Ok(Bytes::from(vec![9u8; 2 * WRITE_CHUNK])))
        .await
        .unwrap();
    // Wait until the first chunk reached the temporary file, then drop the put.
    for _ in 0..200 {
        if files_under(&store.root().join("tmp")) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(files_under(&store.root().join("tmp")), 1);
    task.abort();
    let _ = task.await;
    assert_eq!(files_under(&store.root().join("tmp")), 0);
    assert!(store.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn delete_list_and_sweep() {
    let (_dir, store) = store();
    let mut ids = Vec::new();
    for n in 0..5u32 {
        ids.push(
            store
                .put(body_of(vec![pattern(100, n)]), PutOptions::up_to(100))
                .await
                .unwrap()
                .id,
        );
    }
    let listed: HashSet<ExtentId> = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(listed, ids.iter().copied().collect());

    store.delete(ids[0]).await.unwrap();
    store.delete(ids[0]).await.unwrap();
    assert_eq!(store.list().await.unwrap().len(), 4);

    // A leftover temporary file, as a crash mid-put leaves it, and a file that is not ours.
    std::fs::write(
        store
            .root()
            .join("tmp")
            .join(ExtentId::new_random().to_string()),
        b"half",
    )
    .unwrap();
    std::fs::write(
        store.root().join("extents").join("00").join("README"),
        b"not an extent",
    )
    .unwrap();

    let keep: HashSet<ExtentId> = [ids[1], ids[2]].into_iter().collect();
    let report = sweep_orphans(&store, &keep, Duration::from_secs(3600), true)
        .await
        .unwrap();
    assert_eq!(
        (report.incomplete, report.orphans),
        (1, 0),
        "young extents are kept"
    );
    let report = sweep_orphans(&store, &keep, Duration::ZERO, true)
        .await
        .unwrap();
    assert_eq!(
        (report.incomplete, report.orphans, report.orphan_bytes),
        (0, 2, 200)
    );
    let left: HashSet<ExtentId> = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(left, keep);
    assert!(
        store
            .root()
            .join("extents")
            .join("00")
            .join("README")
            .exists()
    );
}

#[tokio::test]
async fn reopening_keeps_extents() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("content");
    let id = {
        let store = LocalExtentStore::open(&root).unwrap();
        store
            .put(body_of(vec![b"kept".to_vec()]), PutOptions::up_to(10))
            .await
            .unwrap()
            .id
    };
    let store = LocalExtentStore::open(&root).unwrap();
    assert_eq!(collect(store.read(id, 0, 4).await.unwrap()).await, b"kept");
}

#[tokio::test]
async fn segments_read_across_extents() {
    let (_dir, store) = store();
    let parts_data = [
        pattern(300_000, 1),
        pattern(10, 2),
        pattern(0, 3),
        pattern(500_000, 4),
    ];
    let mut parts = Vec::new();
    let mut all = Vec::new();
    for data in &parts_data {
        let info = store
            .put(body_of(vec![data.clone()]), PutOptions::up_to(1 << 20))
            .await
            .unwrap();
        parts.push((info.id, info.len));
        all.extend_from_slice(data);
    }
    let store: Arc<dyn ExtentStore> = Arc::new(store);
    for (offset, len) in [
        (0u64, all.len() as u64),
        (299_995, 20),
        (300_010, 1),
        (12, 600_000),
    ] {
        let segments = slice(&parts, offset, len);
        let read = collect(read_segments(Arc::clone(&store), segments).await.unwrap()).await;
        let end = (offset + len).min(all.len() as u64) as usize;
        assert_eq!(read, &all[offset as usize..end], "range {offset}+{len}");
    }
    assert!(
        collect(read_segments(store, Vec::new()).await.unwrap())
            .await
            .is_empty()
    );
}

#[test]
fn ids_parse_only_in_canonical_form() {
    let id = ExtentId::new_random();
    assert_eq!(id.to_string().parse::<ExtentId>().unwrap(), id);
    assert!(id.to_string().to_uppercase().parse::<ExtentId>().is_err());
    assert!("README".parse::<ExtentId>().is_err());
}
