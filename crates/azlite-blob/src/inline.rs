//! Small blobs kept in their metadata row: a Put Blob of at most [`INLINE_MAX`] bytes with
//! a `Content-Length` reads its body into memory, checks it, and stores blob and bytes in
//! one store write ([`azlite_store::BlobStore::put_inline_blob`]), which the store commits
//! together with the writes queued beside it. No extent file is created, fsync'd or
//! renamed, so a small put costs one share of one WAL fsync; a larger body (or one of
//! unknown length) is streamed into an extent as before, and is never whole in memory.
//!
//! The common case, a new name with no conditions, writes without reading first: the store
//! refuses a create of a blob that exists (`Expect::Absent`), and only then does the put
//! read the blob, check Azure's conditions and lease on it, and write at its generation.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_content::{ContentError, Crc64};
use azlite_store::{BlobKind, ContentHeaders, Expect, StoreError, StoredLease};
use base64::Engine;
use std::sync::Arc;

use futures_util::StreamExt;
use md5::{Digest, Md5};

use crate::blobs::{check_digests, check_replace, new_record};
use crate::containers::{load, stamp};
use crate::{BlobError, Context, Retry, retrying};

/// The largest blob whose content is kept in its row.
pub(crate) const INLINE_MAX: u64 = 64 * 1024;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A small body, read whole, with its digests.
struct SmallBody {
    bytes: Arc<[u8]>,
    md5: [u8; 16],
    crc64: Option<u64>,
}

/// Reads a body announced as `expected` bytes (at most [`INLINE_MAX`]).
async fn read_small(body: Body, expected: u64, crc64: bool) -> Result<SmallBody, BlobError> {
    let mut stream = body.into_data_stream();
    let mut buffer = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ContentError::Body(std::io::Error::other(e)))?;
        if (buffer.len() + chunk.len()) as u64 > expected {
            return Err(ContentError::LengthMismatch {
                expected,
                actual: (buffer.len() + chunk.len()) as u64,
            }
            .into());
        }
        buffer.extend_from_slice(&chunk);
    }
    if buffer.len() as u64 != expected {
        return Err(ContentError::LengthMismatch {
            expected,
            actual: buffer.len() as u64,
        }
        .into());
    }
    let md5: [u8; 16] = Md5::digest(&buffer).into();
    let crc64 = crc64.then(|| {
        let mut crc = Crc64::new();
        crc.update(&buffer);
        crc.finish()
    });
    Ok(SmallBody {
        bytes: Arc::from(buffer),
        md5,
        crc64,
    })
}

/// What a small Put Blob was told besides its body.
pub(crate) struct SmallPut {
    pub(crate) length: u64,
    pub(crate) sent_md5: Option<Vec<u8>>,
    pub(crate) sent_crc: Option<u64>,
    pub(crate) headers: ContentHeaders,
    pub(crate) metadata: Vec<(String, String)>,
}

/// Put Blob of a small body with a known length (name and headers already checked).
pub(crate) async fn put_small_blob(
    context: &Context<'_>,
    container: &str,
    name: &str,
    body: Body,
    put: SmallPut,
) -> Result<Response, BlobError> {
    let SmallPut {
        length,
        sent_md5,
        sent_crc,
        mut headers,
        metadata,
    } = put;
    let small = match read_small(body, length, sent_crc.is_some()).await {
        Ok(small) => small,
        Err(error) => {
            // A missing container is reported before anything about the body.
            load(context, container).await?;
            return Err(error);
        }
    };
    let info = azlite_content::ExtentInfo {
        id: azlite_content::ExtentId::from_uuid(uuid::Uuid::nil()),
        len: length,
        md5: small.md5,
        crc64: small.crc64,
    };
    if let Err(error) = check_digests(&info, sent_md5.as_deref(), sent_crc) {
        load(context, container).await?;
        return Err(error);
    }
    if headers.content_md5.is_none() {
        headers.content_md5 = Some(small.md5.to_vec());
    }
    let store = &context.blob.store;
    let record = |lease: Option<StoredLease>| {
        let mut record = new_record(
            context,
            container,
            name,
            BlobKind::Block,
            length,
            headers.clone(),
            metadata.clone(),
        );
        record.lease = lease;
        record
    };
    // A create without reading first, when nothing asked of an existing blob is refused
    // by its absence (a condition on a blob that is not there goes the long way, which
    // reports a missing container first).
    let mut created = None;
    if check_replace(context, None).is_ok() {
        let fresh = record(None);
        match store
            .put_inline_blob(&fresh, small.bytes.clone(), Expect::Absent)
            .await
        {
            Ok(freed) => {
                context.blob.release(freed);
                created = Some(fresh);
            }
            Err(StoreError::Changed(what)) if what == "container" => {
                return Err(BlobError::container_not_found());
            }
            Err(StoreError::Changed(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let record = match created {
        Some(record) => record,
        None => {
            load(context, container).await?;
            retrying(|| async {
                let existing = store.get_blob(&context.account.id, container, name).await?;
                check_replace(context, existing.as_ref())?;
                let next = record(existing.as_ref().and_then(|b| b.lease.clone()));
                let expect = existing
                    .as_ref()
                    .map_or(Expect::Absent, |b| Expect::Generation(b.generation));
                let freed = store
                    .put_inline_blob(&next, small.bytes.clone(), expect)
                    .await
                    .map_err(|e| match e {
                        StoreError::Changed(what) if what == "container" => {
                            Retry::Fail(BlobError::container_not_found())
                        }
                        other => other.into(),
                    })?;
                context.blob.release(freed);
                Ok::<_, Retry>(next)
            })
            .await?
        }
    };
    created_response(&record.etag, record.last_modified, small.md5, small.crc64)
}

/// The answer of a Put Blob that stored its blob.
pub(crate) fn created_response(
    etag: &str,
    last_modified: i64,
    md5: [u8; 16],
    crc64: Option<u64>,
) -> Result<Response, BlobError> {
    let mut response = StatusCode::CREATED.into_response();
    let out = response.headers_mut();
    stamp(out, etag, last_modified);
    out.insert(
        "content-md5",
        HeaderValue::from_str(&B64.encode(md5)).map_err(|_| BlobError::internal())?,
    );
    if let Some(crc) = crc64 {
        out.insert(
            "x-ms-content-crc64",
            HeaderValue::from_str(&B64.encode(crc.to_le_bytes()))
                .map_err(|_| BlobError::internal())?,
        );
    }
    out.insert(
        "x-ms-request-server-encrypted",
        HeaderValue::from_static("true"),
    );
    Ok(response)
}
