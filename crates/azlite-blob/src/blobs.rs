//! Blob operations on whole blobs: Put Blob, Get Blob (whole or a range) and its
//! properties and metadata, Set Blob Properties and Metadata, Delete Blob, Copy Blob
//! (within the service: the copy points at the source's extents), Lease Blob.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_content::{ExtentId, PutOptions, segments};
use azlite_store::{BlobContent, BlobKind, BlobRecord, Block, ContentHeaders, Expect};
use base64::Engine;
use md5::{Digest, Md5};

use crate::conditions::{self, Current, ReadCondition};
use crate::containers::{load, metadata_headers, stamp};
use crate::inline::{INLINE_MAX, SmallPut, created_response, put_small_blob};
use crate::lease::{self, Target};
use crate::wire::{self, header, http_date, new_etag};
use crate::{BlobError, Context, Retry, body_stream, retrying};

/// The largest Put Blob (version 2019-12-12 and later).
pub(crate) const MAX_PUT_BLOB: u64 = 5000 * 1024 * 1024;
/// The largest range `x-ms-range-get-content-md5` may cover.
const MAX_MD5_RANGE: u64 = 4 * 1024 * 1024;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn invalid_name() -> BlobError {
    BlobError::new(
        StatusCode::BAD_REQUEST,
        "InvalidResourceName",
        "The specified resource name contains invalid characters.",
    )
}

/// A blob name is 1–1024 characters.
pub(crate) fn check_name(name: &str) -> Result<(), BlobError> {
    if name.is_empty() || name.chars().count() > 1024 {
        return Err(invalid_name());
    }
    Ok(())
}

/// The current state of a blob as conditions see it.
pub(crate) fn current(blob: Option<&BlobRecord>) -> Option<Current<'_>> {
    blob.map(|b| Current {
        etag: &b.etag,
        last_modified: b.last_modified,
    })
}

/// 409 `BlobAlreadyExists`: `If-None-Match: *` on an existing blob.
pub(crate) fn already_exists() -> BlobError {
    BlobError::new(
        StatusCode::CONFLICT,
        "BlobAlreadyExists",
        "The specified blob already exists.",
    )
}

/// A 16-byte MD5 header (`Content-MD5`, `x-ms-blob-content-md5`).
pub(crate) fn md5_header(headers: &HeaderMap, name: &str) -> Result<Option<Vec<u8>>, BlobError> {
    match header(headers, name) {
        None => Ok(None),
        Some(text) => match B64.decode(text.trim()) {
            Ok(bytes) if bytes.len() == 16 => Ok(Some(bytes)),
            _ => Err(BlobError::new(StatusCode::BAD_REQUEST, "InvalidMd5", "The MD5 value specified in the request is invalid. MD5 value must be 128 bits and base64 encoded.")
                .with_detail("HeaderName", name)
                .with_detail("HeaderValue", text)),
        },
    }
}

/// An `x-ms-content-crc64` header.
pub(crate) fn crc64_header(headers: &HeaderMap) -> Result<Option<u64>, BlobError> {
    match header(headers, "x-ms-content-crc64") {
        None => Ok(None),
        Some(text) => match B64.decode(text.trim()) {
            Ok(bytes) if bytes.len() == 8 => Ok(Some(u64::from_le_bytes(
                bytes.try_into().unwrap_or_default(),
            ))),
            _ => Err(BlobError::invalid_header("x-ms-content-crc64", text)),
        },
    }
}

/// Checks an uploaded extent against the digests the client sent.
pub(crate) fn check_digests(
    info: &azlite_content::ExtentInfo,
    md5: Option<&[u8]>,
    crc64: Option<u64>,
) -> Result<(), BlobError> {
    if let Some(sent) = md5
        && sent != info.md5
    {
        return Err(BlobError::new(StatusCode::BAD_REQUEST, "Md5Mismatch", "The MD5 value specified in the request did not match with the MD5 value calculated by the server.")
                .with_detail("UserSpecifiedMd5", B64.encode(sent))
                .with_detail("ServerCalculatedMd5", B64.encode(info.md5)));
    }
    if let Some(sent) = crc64
        && Some(sent) != info.crc64
    {
        return Err(BlobError::new(StatusCode::BAD_REQUEST, "Crc64Mismatch", "The CRC64 value specified in the request did not match with the CRC64 value calculated by the server.")
                .with_detail("UserSpecifiedCrc64", B64.encode(sent.to_le_bytes()))
                .with_detail("ServerCalculatedCrc64", B64.encode(info.crc64.unwrap_or_default().to_le_bytes())));
    }
    Ok(())
}

/// The announced body length, if any.
pub(crate) fn content_length(headers: &HeaderMap) -> Result<Option<u64>, BlobError> {
    match header(headers, "content-length") {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| BlobError::invalid_header("Content-Length", text)),
    }
}

/// The content headers a Put Blob or Put Block List sets (`x-ms-blob-content-*`; for the
/// type, the request's own `Content-Type` when the blob's is not given).
pub(crate) fn content_headers(
    headers: &HeaderMap,
    request_type_counts: bool,
) -> Result<ContentHeaders, BlobError> {
    let get = |name: &str| header(headers, name).map(str::to_owned);
    Ok(ContentHeaders {
        content_type: get("x-ms-blob-content-type")
            .or_else(|| {
                if request_type_counts {
                    get("content-type")
                } else {
                    None
                }
            })
            .or_else(|| Some("application/octet-stream".to_owned())),
        content_encoding: get("x-ms-blob-content-encoding"),
        content_language: get("x-ms-blob-content-language"),
        content_disposition: get("x-ms-blob-content-disposition"),
        cache_control: get("x-ms-blob-cache-control"),
        content_md5: md5_header(headers, "x-ms-blob-content-md5")?,
    })
}

/// A fresh blob record for a create or replace (its creation time kept by the store).
pub(crate) fn new_record(
    context: &Context<'_>,
    container: &str,
    name: &str,
    kind: BlobKind,
    length: u64,
    headers: ContentHeaders,
    metadata: Vec<(String, String)>,
) -> BlobRecord {
    BlobRecord {
        account: context.account.id.clone(),
        container: container.to_owned(),
        name: name.to_owned(),
        kind,
        content_length: length,
        headers,
        metadata,
        etag: new_etag(context.now),
        created_at: context.now,
        last_modified: context.now,
        lease: None,
        generation: 0,
    }
}

/// Checks conditions and the lease before a write that replaces `existing`.
pub(crate) fn check_replace(
    context: &Context<'_>,
    existing: Option<&BlobRecord>,
) -> Result<(), BlobError> {
    conditions::check_write(context.headers, current(existing), Some(already_exists()))?;
    lease::check_write(
        context.headers,
        existing.and_then(|b| b.lease.as_ref()),
        context.now,
        Target::Blob,
    )
}

pub(crate) async fn put_blob(
    context: &Context<'_>,
    container: &str,
    name: &str,
    body: Body,
) -> Result<Response, BlobError> {
    check_name(name)?;
    if let Ok(Some(length)) = content_length(context.headers)
        && length <= INLINE_MAX
    {
        let parsed = (|| {
            Ok::<_, BlobError>(SmallPut {
                length,
                sent_md5: md5_header(context.headers, "content-md5")?,
                sent_crc: crc64_header(context.headers)?,
                headers: content_headers(context.headers, true)?,
                metadata: wire::metadata(context.headers)?,
            })
        })();
        return match parsed {
            Ok(put) => put_small_blob(context, container, name, body, put).await,
            Err(error) => {
                load(context, container).await?;
                Err(error)
            }
        };
    }
    load(context, container).await?;
    let store = &context.blob.store;
    let length = content_length(context.headers)?;
    if length.is_some_and(|n| n > MAX_PUT_BLOB) {
        return Err(BlobError::from(azlite_content::ContentError::TooLarge {
            max: MAX_PUT_BLOB,
        }));
    }
    let sent_md5 = md5_header(context.headers, "content-md5")?;
    let sent_crc = crc64_header(context.headers)?;
    let mut headers = content_headers(context.headers, true)?;
    let metadata = wire::metadata(context.headers)?;
    // Conditions before the body: a refused upload costs no bytes.
    check_replace(
        context,
        store
            .get_blob(&context.account.id, container, name)
            .await?
            .as_ref(),
    )?;

    let options = PutOptions {
        max_len: MAX_PUT_BLOB,
        expected_len: length,
        crc64: sent_crc.is_some(),
    };
    let info = context.blob.content.put(body_stream(body), options).await?;
    let extent = info.id.as_uuid();
    if let Err(error) = check_digests(&info, sent_md5.as_deref(), sent_crc) {
        context.blob.release(vec![extent]);
        return Err(error);
    }
    if headers.content_md5.is_none() {
        headers.content_md5 = Some(info.md5.to_vec());
    }
    let result = retrying(|| async {
        let existing = store.get_blob(&context.account.id, container, name).await?;
        check_replace(context, existing.as_ref())?;
        let mut record = new_record(
            context,
            container,
            name,
            BlobKind::Block,
            info.len,
            headers.clone(),
            metadata.clone(),
        );
        record.lease = existing.as_ref().and_then(|b| b.lease.clone());
        let expect = existing
            .as_ref()
            .map_or(Expect::Absent, |b| Expect::Generation(b.generation));
        let block = Block {
            block_id: None,
            extent,
            len: info.len,
        };
        let freed = store
            .put_blob(&record, &[block], &[extent], expect)
            .await
            .map_err(|e| match e {
                azlite_store::StoreError::Changed(what) if what == "container" => {
                    Retry::Fail(BlobError::container_not_found())
                }
                other => other.into(),
            })?;
        context.blob.release(freed);
        Ok::<_, Retry>(record)
    })
    .await;
    let record = match result {
        Ok(record) => record,
        Err(error) => {
            context.blob.release(vec![extent]);
            return Err(error);
        }
    };
    created_response(&record.etag, record.last_modified, info.md5, info.crc64)
}

/// The headers of Get Blob and Get Blob Properties.
fn blob_headers(blob: &BlobRecord, now: i64, out: &mut HeaderMap) {
    stamp(out, &blob.etag, blob.last_modified);
    metadata_headers(out, &blob.metadata);
    lease::headers(blob.lease.as_ref(), now, out);
    let h = &blob.headers;
    for (name, value) in [
        ("content-type", h.content_type.as_deref()),
        ("content-encoding", h.content_encoding.as_deref()),
        ("content-language", h.content_language.as_deref()),
        ("content-disposition", h.content_disposition.as_deref()),
        ("cache-control", h.cache_control.as_deref()),
    ] {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            out.insert(name, value);
        }
    }
    if let Ok(created) = HeaderValue::from_str(&http_date(blob.created_at)) {
        out.insert("x-ms-creation-time", created);
    }
    out.insert(
        "x-ms-blob-type",
        HeaderValue::from_static(match blob.kind {
            BlobKind::Block => "BlockBlob",
            BlobKind::Append => "AppendBlob",
        }),
    );
    out.insert("accept-ranges", HeaderValue::from_static("bytes"));
    out.insert("x-ms-server-encrypted", HeaderValue::from_static("true"));
}

pub(crate) async fn get_blob(
    context: &Context<'_>,
    container: &str,
    name: &str,
    head: bool,
) -> Result<Response, BlobError> {
    let store = &context.blob.store;
    let Some((blob, content)) = store
        .get_blob_content(&context.account.id, container, name)
        .await?
    else {
        load(context, container).await?;
        return Err(BlobError::blob_not_found());
    };
    if header(context.headers, "x-ms-lease-id").is_some() {
        lease::check_write(
            context.headers,
            blob.lease.as_ref(),
            context.now,
            Target::Blob,
        )?;
    }
    if conditions::check_read(
        context.headers,
        Current {
            etag: &blob.etag,
            last_modified: blob.last_modified,
        },
    )? == ReadCondition::NotModified
    {
        return Err(conditions::not_modified());
    }
    let total = blob.content_length;
    let range = if head {
        None
    } else {
        wire::range(context.headers)?
    };
    let (start, len) = match range {
        None => (0, total),
        Some(r) if r.start >= total => {
            let mut error = BlobError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                "The range specified is invalid for the current size of the resource.",
            );
            error
                .headers
                .push(("content-range", format!("bytes */{total}")));
            return Err(error);
        }
        Some(r) => (
            r.start,
            r.end.map_or(total, |end| end.min(total - 1) + 1) - r.start,
        ),
    };
    let mut response = if range.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    }
    .into_response();
    let out = response.headers_mut();
    blob_headers(&blob, context.now, out);
    if blob.kind == BlobKind::Append {
        out.insert(
            "x-ms-blob-committed-block-count",
            HeaderValue::from(content.blocks().len()),
        );
    }
    if head {
        out.insert("x-ms-access-tier", HeaderValue::from_static("Hot"));
        out.insert(
            "x-ms-access-tier-inferred",
            HeaderValue::from_static("true"),
        );
    }
    out.insert("content-length", HeaderValue::from(len));
    let whole_md5 = blob.headers.content_md5.as_ref().map(|m| B64.encode(m));
    if range.is_some() {
        out.insert(
            "content-range",
            HeaderValue::from_str(&format!("bytes {start}-{}/{total}", start + len - 1))
                .map_err(|_| BlobError::internal())?,
        );
        if let Some(md5) = whole_md5
            .as_deref()
            .and_then(|m| HeaderValue::from_str(m).ok())
        {
            out.insert("x-ms-blob-content-md5", md5);
        }
    } else if let Some(md5) = whole_md5
        .as_deref()
        .and_then(|m| HeaderValue::from_str(m).ok())
    {
        out.insert("content-md5", md5);
    }
    if head {
        return Ok(response);
    }
    let range_md5 = range.is_some()
        && header(context.headers, "x-ms-range-get-content-md5")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if range_md5 && len > MAX_MD5_RANGE {
        return Err(BlobError::new(
            StatusCode::BAD_REQUEST,
            "OutOfRangeInput",
            "One of the request inputs is out of range.",
        ));
    }
    let blocks = match content {
        BlobContent::Inline(bytes) => {
            let from = usize::try_from(start).map_err(|_| BlobError::internal())?;
            let to = usize::try_from(start + len).map_err(|_| BlobError::internal())?;
            let slice = bytes.get(from..to).ok_or_else(BlobError::internal)?;
            if range_md5 {
                let md5: [u8; 16] = Md5::digest(slice).into();
                response.headers_mut().insert(
                    "content-md5",
                    HeaderValue::from_str(&B64.encode(md5)).map_err(|_| BlobError::internal())?,
                );
            }
            // The cached row's bytes, not a copy of them.
            *response.body_mut() = Body::from(bytes::Bytes::from_owner(bytes).slice(from..to));
            return Ok(response);
        }
        BlobContent::Blocks(blocks) => blocks,
    };
    let parts: Vec<(ExtentId, u64)> = blocks
        .iter()
        .map(|b| (ExtentId::from_uuid(b.extent), b.len))
        .collect();
    let segments = segments::slice(&parts, start, len);
    if range_md5 {
        // At most 4 MiB: read it, hash it, send it.
        use futures_util::TryStreamExt;
        let stream = segments::read_segments(context.blob.content.clone(), segments).await?;
        let bytes: Vec<bytes::Bytes> = stream.try_collect().await.map_err(|e| {
            tracing::error!(error = %e, "reading a blob failed");
            BlobError::internal()
        })?;
        let mut hasher = Md5::new();
        for chunk in &bytes {
            hasher.update(chunk);
        }
        let md5: [u8; 16] = hasher.finalize().into();
        response.headers_mut().insert(
            "content-md5",
            HeaderValue::from_str(&B64.encode(md5)).map_err(|_| BlobError::internal())?,
        );
        let body = futures_util::stream::iter(bytes.into_iter().map(Ok::<_, std::io::Error>));
        *response.body_mut() = Body::from_stream(body);
        return Ok(response);
    }
    let stream = segments::read_segments(context.blob.content.clone(), segments).await?;
    *response.body_mut() = Body::from_stream(stream);
    Ok(response)
}

pub(crate) async fn set_blob_properties(
    context: &Context<'_>,
    container: &str,
    name: &str,
    metadata_only: bool,
) -> Result<Response, BlobError> {
    let store = &context.blob.store;
    let metadata = if metadata_only {
        Some(wire::metadata(context.headers)?)
    } else {
        None
    };
    let headers = if metadata_only {
        None
    } else {
        Some(content_headers(context.headers, false)?)
    };
    retrying(|| async {
        let Some(mut blob) = store.get_blob(&context.account.id, container, name).await? else {
            load(context, container).await?;
            return Err(BlobError::blob_not_found().into());
        };
        conditions::check_write(context.headers, current(Some(&blob)), None)?;
        lease::check_write(
            context.headers,
            blob.lease.as_ref(),
            context.now,
            Target::Blob,
        )?;
        let generation = blob.generation;
        if let Some(metadata) = &metadata {
            blob.metadata = metadata.clone();
        }
        if let Some(mut headers) = headers.clone() {
            // Set Blob Properties replaces every HTTP property; one not sent is cleared.
            if header(context.headers, "x-ms-blob-content-type").is_none() {
                headers.content_type = None;
            }
            blob.headers = headers;
        }
        blob.etag = new_etag(context.now);
        blob.last_modified = context.now;
        store.update_blob(&blob, generation).await?;
        let mut response = StatusCode::OK.into_response();
        stamp(response.headers_mut(), &blob.etag, blob.last_modified);
        if metadata_only {
            response.headers_mut().insert(
                "x-ms-request-server-encrypted",
                HeaderValue::from_static("true"),
            );
        }
        Ok::<_, Retry>(response)
    })
    .await
}

pub(crate) async fn delete_blob(
    context: &Context<'_>,
    container: &str,
    name: &str,
) -> Result<Response, BlobError> {
    let store = &context.blob.store;
    retrying(|| async {
        let Some(blob) = store.get_blob(&context.account.id, container, name).await? else {
            load(context, container).await?;
            return Err(BlobError::blob_not_found().into());
        };
        conditions::check_write(context.headers, current(Some(&blob)), None)?;
        lease::check_write(
            context.headers,
            blob.lease.as_ref(),
            context.now,
            Target::Blob,
        )?;
        let freed = store
            .delete_blob(&context.account.id, container, name, blob.generation)
            .await?;
        context.blob.release(freed);
        let mut response = StatusCode::ACCEPTED.into_response();
        response.headers_mut().insert(
            "x-ms-delete-type-permanent",
            HeaderValue::from_static("true"),
        );
        Ok::<_, Retry>(response)
    })
    .await
}

pub(crate) async fn lease_blob(
    context: &Context<'_>,
    container: &str,
    name: &str,
) -> Result<Response, BlobError> {
    let store = &context.blob.store;
    retrying(|| async {
        let Some(mut blob) = store.get_blob(&context.account.id, container, name).await? else {
            load(context, container).await?;
            return Err(BlobError::blob_not_found().into());
        };
        conditions::check_write(context.headers, current(Some(&blob)), None)?;
        let outcome = lease::act(context.headers, blob.lease.as_ref(), context.now)?;
        let generation = blob.generation;
        blob.lease = outcome.lease;
        store.update_blob(&blob, generation).await?;
        let mut response = outcome.response;
        stamp(response.headers_mut(), &blob.etag, blob.last_modified);
        Ok::<_, Retry>(response)
    })
    .await
}

pub(crate) use crate::copy::copy_blob;
