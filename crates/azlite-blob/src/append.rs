//! Append blobs: Put Blob with `x-ms-blob-type: AppendBlob` creates an empty one; Append
//! Block adds one extent at the end, checked against `x-ms-blob-condition-appendpos` and
//! `x-ms-blob-condition-maxsize` in the same optimistic transaction that commits it.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_content::PutOptions;
use azlite_store::{BlobKind, Block, Expect};
use base64::Engine;

use crate::blobs::{
    check_digests, check_name, check_replace, content_headers, content_length, crc64_header,
    current, md5_header, new_record,
};
use crate::conditions;
use crate::containers::{load, stamp};
use crate::lease::{self, Target};
use crate::wire::{self, header};
use crate::{BlobError, Context, Retry, body_stream, retrying};

/// The largest Append Block (version 2022-11-02 and later).
const MAX_APPEND_BLOCK: u64 = 100 * 1024 * 1024;
/// The most blocks an append blob has.
const MAX_APPEND_BLOCKS: usize = 50_000;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub(crate) async fn create_append_blob(
    context: &Context<'_>,
    container: &str,
    name: &str,
) -> Result<Response, BlobError> {
    check_name(name)?;
    load(context, container).await?;
    if content_length(context.headers)?.is_some_and(|n| n != 0) {
        return Err(BlobError::invalid_header(
            "Content-Length",
            header(context.headers, "content-length").unwrap_or_default(),
        ));
    }
    let headers = content_headers(context.headers, true)?;
    let metadata = wire::metadata(context.headers)?;
    let store = &context.blob.store;
    let record = retrying(|| async {
        let existing = store.get_blob(&context.account.id, container, name).await?;
        check_replace(context, existing.as_ref())?;
        let mut record = new_record(
            context,
            container,
            name,
            BlobKind::Append,
            0,
            headers.clone(),
            metadata.clone(),
        );
        record.lease = existing.as_ref().and_then(|b| b.lease.clone());
        let expect = existing
            .as_ref()
            .map_or(Expect::Absent, |b| Expect::Generation(b.generation));
        let freed = store.put_blob(&record, &[], &[], expect).await?;
        context.blob.release(freed);
        Ok::<_, Retry>(record)
    })
    .await?;
    let mut response = StatusCode::CREATED.into_response();
    stamp(response.headers_mut(), &record.etag, record.last_modified);
    response.headers_mut().insert(
        "x-ms-request-server-encrypted",
        HeaderValue::from_static("true"),
    );
    Ok(response)
}

fn number_header(context: &Context<'_>, name: &str) -> Result<Option<u64>, BlobError> {
    match header(context.headers, name) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| BlobError::invalid_header(name, text)),
    }
}

pub(crate) async fn append_block(
    context: &Context<'_>,
    container: &str,
    name: &str,
    body: Body,
) -> Result<Response, BlobError> {
    let store = &context.blob.store;
    let length = content_length(context.headers)?;
    if length.is_some_and(|n| n > MAX_APPEND_BLOCK) {
        return Err(BlobError::from(azlite_content::ContentError::TooLarge {
            max: MAX_APPEND_BLOCK,
        }));
    }
    let append_position = number_header(context, "x-ms-blob-condition-appendpos")?;
    let max_size = number_header(context, "x-ms-blob-condition-maxsize")?;
    let sent_md5 = md5_header(context.headers, "content-md5")?;
    let sent_crc = crc64_header(context.headers)?;
    // Everything that can be refused before the body, is.
    let check =
        |blob: &azlite_store::BlobRecord, blocks: usize, adding: u64| -> Result<(), BlobError> {
            if blob.kind != BlobKind::Append {
                return Err(BlobError::new(
                    StatusCode::CONFLICT,
                    "InvalidBlobType",
                    "The blob type is invalid for this operation.",
                ));
            }
            conditions::check_write(context.headers, current(Some(blob)), None)?;
            lease::check_write(
                context.headers,
                blob.lease.as_ref(),
                context.now,
                Target::Blob,
            )?;
            if append_position.is_some_and(|p| p != blob.content_length) {
                return Err(BlobError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "AppendPositionConditionNotMet",
                    "The append position condition specified was not met.",
                ));
            }
            if max_size.is_some_and(|m| blob.content_length + adding > m) {
                return Err(BlobError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "MaxBlobSizeConditionNotMet",
                    "The max blob size condition specified was not met.",
                ));
            }
            if blocks >= MAX_APPEND_BLOCKS {
                return Err(BlobError::new(
                    StatusCode::CONFLICT,
                    "BlockCountExceedsLimit",
                    "The committed block count cannot exceed the maximum limit of 50,000 blocks.",
                ));
            }
            Ok(())
        };
    let Some((blob, blocks)) = store
        .get_blob_with_blocks(&context.account.id, container, name)
        .await?
    else {
        load(context, container).await?;
        return Err(BlobError::blob_not_found());
    };
    check(&blob, blocks.len(), length.unwrap_or(0))?;

    let options = PutOptions {
        max_len: MAX_APPEND_BLOCK,
        expected_len: length,
        crc64: sent_crc.is_some(),
    };
    let info = context.blob.content.put(body_stream(body), options).await?;
    let extent = info.id.as_uuid();
    if let Err(error) = check_digests(&info, sent_md5.as_deref(), sent_crc) {
        context.blob.release(vec![extent]);
        return Err(error);
    }
    let result = retrying(|| async {
        let Some((mut blob, blocks)) = store
            .get_blob_with_blocks(&context.account.id, container, name)
            .await?
        else {
            return Err(BlobError::blob_not_found().into());
        };
        check(&blob, blocks.len(), info.len)?;
        let generation = blob.generation;
        let offset = blob.content_length;
        blob.content_length += info.len;
        blob.etag = crate::wire::new_etag(context.now);
        blob.last_modified = context.now;
        store
            .append_block(
                &blob,
                &Block {
                    block_id: None,
                    extent,
                    len: info.len,
                },
                generation,
            )
            .await?;
        Ok::<_, Retry>((blob, offset, blocks.len() + 1))
    })
    .await;
    let (blob, offset, count) = match result {
        Ok(done) => done,
        Err(error) => {
            context.blob.release(vec![extent]);
            return Err(error);
        }
    };
    let mut response = StatusCode::CREATED.into_response();
    let out = response.headers_mut();
    stamp(out, &blob.etag, blob.last_modified);
    out.insert(
        "content-md5",
        HeaderValue::from_str(&B64.encode(info.md5)).map_err(|_| BlobError::internal())?,
    );
    if let Some(crc) = info.crc64 {
        out.insert(
            "x-ms-content-crc64",
            HeaderValue::from_str(&B64.encode(crc.to_le_bytes()))
                .map_err(|_| BlobError::internal())?,
        );
    }
    out.insert("x-ms-blob-append-offset", HeaderValue::from(offset));
    out.insert("x-ms-blob-committed-block-count", HeaderValue::from(count));
    out.insert(
        "x-ms-request-server-encrypted",
        HeaderValue::from_static("true"),
    );
    Ok(response)
}
