//! Block blobs built from blocks: Put Block (each block one extent, uncommitted), Put Block
//! List (a commit that only points at extents), Get Block List.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_content::PutOptions;
use azlite_store::{BlobKind, Block, Expect, StoreError, UncommittedBlock};
use base64::Engine;

use crate::blobs::{
    check_digests, check_name, check_replace, content_headers, content_length, crc64_header,
    md5_header, new_record,
};
use crate::containers::{load, stamp};
use crate::lease::{self, Target};
use crate::service::xml_response;
use crate::wire::{self, header, xml_escape};
use crate::{BlobError, Context, Retry, body_stream, retrying};

/// The largest block (version 2019-12-12 and later).
const MAX_BLOCK: u64 = 4000 * 1024 * 1024;
/// The most committed blocks a blob has.
const MAX_COMMITTED_BLOCKS: usize = 50_000;
/// The most uncommitted blocks a blob has.
const MAX_UNCOMMITTED_BLOCKS: usize = 100_000;
/// The largest block list body taken (50,000 entries of the longest id).
const MAX_BLOCK_LIST_BYTES: usize = 8 * 1024 * 1024;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn block_id(context: &Context<'_>) -> Result<String, BlobError> {
    let text = context
        .query
        .get("blockid")
        .ok_or_else(|| BlobError::invalid_query("blockid", ""))?;
    match B64.decode(text) {
        Ok(bytes) if !bytes.is_empty() && bytes.len() <= 64 => Ok(text.to_owned()),
        _ => Err(BlobError::invalid_query("blockid", text)),
    }
}

fn invalid_blob_type() -> BlobError {
    BlobError::new(
        StatusCode::CONFLICT,
        "InvalidBlobType",
        "The blob type is invalid for this operation.",
    )
}

pub(crate) async fn put_block(
    context: &Context<'_>,
    container: &str,
    name: &str,
    body: Body,
) -> Result<Response, BlobError> {
    check_name(name)?;
    let id = block_id(context)?;
    context.blob.expire_uncommitted_blocks_if_due().await;
    load(context, container).await?;
    let store = &context.blob.store;
    let length = content_length(context.headers)?;
    if length.is_some_and(|n| n > MAX_BLOCK) {
        return Err(BlobError::from(azlite_content::ContentError::TooLarge {
            max: MAX_BLOCK,
        }));
    }
    let sent_md5 = md5_header(context.headers, "content-md5")?;
    let sent_crc = crc64_header(context.headers)?;
    if let Some(existing) = store.get_blob(&context.account.id, container, name).await? {
        if existing.kind != BlobKind::Block {
            return Err(invalid_blob_type());
        }
        lease::check_write(
            context.headers,
            existing.lease.as_ref(),
            context.now,
            Target::Blob,
        )?;
    }
    let staged = store
        .list_uncommitted_blocks(&context.account.id, container, name)
        .await?;
    if staged.len() >= MAX_UNCOMMITTED_BLOCKS && !staged.iter().any(|b| b.block_id == id) {
        return Err(BlobError::new(
            StatusCode::CONFLICT,
            "BlockCountExceedsLimit",
            "The uncommitted block count cannot exceed the maximum limit of 100,000 blocks.",
        ));
    }
    let options = PutOptions {
        max_len: MAX_BLOCK,
        expected_len: length,
        crc64: sent_crc.is_some(),
    };
    let info = context.blob.content.put(body_stream(body), options).await?;
    let extent = info.id.as_uuid();
    if let Err(error) = check_digests(&info, sent_md5.as_deref(), sent_crc) {
        context.blob.release(vec![extent]);
        return Err(error);
    }
    let block = UncommittedBlock {
        block_id: id,
        extent,
        len: info.len,
        uploaded_at: context.now,
    };
    match store
        .put_uncommitted_block(&context.account.id, container, name, &block)
        .await
    {
        Ok(freed) => context.blob.release(freed),
        Err(error) => {
            context.blob.release(vec![extent]);
            return Err(match error {
                StoreError::Changed(_) => BlobError::container_not_found(),
                other => other.into(),
            });
        }
    }
    let mut response = StatusCode::CREATED.into_response();
    let out = response.headers_mut();
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
    out.insert(
        "x-ms-request-server-encrypted",
        HeaderValue::from_static("true"),
    );
    Ok(response)
}

/// Where a block list entry is looked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListKind {
    Committed,
    Uncommitted,
    Latest,
}

/// Parses `<BlockList><Latest>id</Latest>…</BlockList>`.
pub(crate) fn parse_block_list(text: &str) -> Result<Vec<(ListKind, String)>, BlobError> {
    let text = text.trim_start_matches('\u{feff}').trim();
    let text = match text.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .ok_or_else(BlobError::invalid_xml)?
            .1
            .trim(),
        None => text,
    };
    let inner = text
        .strip_prefix("<BlockList>")
        .and_then(|t| t.strip_suffix("</BlockList>"))
        .ok_or_else(BlobError::invalid_xml)?;
    let mut rest = inner.trim();
    let mut entries = Vec::new();
    while !rest.is_empty() {
        let (kind, tag) = if rest.starts_with("<Latest>") {
            (ListKind::Latest, "Latest")
        } else if rest.starts_with("<Committed>") {
            (ListKind::Committed, "Committed")
        } else if rest.starts_with("<Uncommitted>") {
            (ListKind::Uncommitted, "Uncommitted")
        } else {
            return Err(BlobError::invalid_xml());
        };
        let after_open = &rest[tag.len() + 2..];
        let close = format!("</{tag}>");
        let end = after_open.find(&close).ok_or_else(BlobError::invalid_xml)?;
        let id = after_open[..end].trim();
        if id.contains('<') {
            return Err(BlobError::invalid_xml());
        }
        entries.push((kind, id.to_owned()));
        rest = after_open[end + close.len()..].trim_start();
    }
    Ok(entries)
}

fn invalid_block_list() -> BlobError {
    BlobError::new(
        StatusCode::BAD_REQUEST,
        "InvalidBlockList",
        "The specified block list is invalid.",
    )
}

pub(crate) async fn put_block_list(
    context: &Context<'_>,
    container: &str,
    name: &str,
    body: Body,
) -> Result<Response, BlobError> {
    check_name(name)?;
    load(context, container).await?;
    let bytes = axum::body::to_bytes(body, MAX_BLOCK_LIST_BYTES)
        .await
        .map_err(|_| {
            BlobError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestBodyTooLarge",
                "The request body is too large and exceeds the maximum permissible limit.",
            )
        })?;
    let entries =
        parse_block_list(std::str::from_utf8(&bytes).map_err(|_| BlobError::invalid_xml())?)?;
    if entries.len() > MAX_COMMITTED_BLOCKS {
        return Err(BlobError::new(
            StatusCode::BAD_REQUEST,
            "BlockListTooLong",
            "The block list may not contain more than 50,000 blocks.",
        ));
    }
    let headers = content_headers(context.headers, false)?;
    let metadata = wire::metadata(context.headers)?;
    let store = &context.blob.store;
    let record = retrying(|| async {
        let existing = store
            .get_blob_with_blocks(&context.account.id, container, name)
            .await?;
        if existing
            .as_ref()
            .is_some_and(|(b, _)| b.kind != BlobKind::Block)
        {
            return Err(invalid_blob_type().into());
        }
        check_replace(context, existing.as_ref().map(|(b, _)| b))?;
        let staged = store
            .list_uncommitted_blocks(&context.account.id, container, name)
            .await?;
        let committed = existing
            .as_ref()
            .map(|(_, blocks)| blocks.as_slice())
            .unwrap_or_default();
        let find_committed = |id: &str| {
            committed
                .iter()
                .find(|b| b.block_id.as_deref() == Some(id))
                .cloned()
        };
        let find_staged = |id: &str| {
            staged.iter().find(|b| b.block_id == id).map(|b| Block {
                block_id: Some(b.block_id.clone()),
                extent: b.extent,
                len: b.len,
            })
        };
        let mut blocks = Vec::with_capacity(entries.len());
        for (kind, id) in &entries {
            let found = match kind {
                ListKind::Committed => find_committed(id),
                ListKind::Uncommitted => find_staged(id),
                ListKind::Latest => find_staged(id).or_else(|| find_committed(id)),
            };
            blocks.push(found.ok_or_else(invalid_block_list)?);
        }
        let length = blocks.iter().map(|b| b.len).sum();
        let mut record = new_record(
            context,
            container,
            name,
            BlobKind::Block,
            length,
            headers.clone(),
            metadata.clone(),
        );
        record.lease = existing.as_ref().and_then(|(b, _)| b.lease.clone());
        let expect = existing
            .as_ref()
            .map_or(Expect::Absent, |(b, _)| Expect::Generation(b.generation));
        let freed = store.put_blob(&record, &blocks, &[], expect).await?;
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

pub(crate) async fn get_block_list(
    context: &Context<'_>,
    container: &str,
    name: &str,
) -> Result<Response, BlobError> {
    let which = context
        .query
        .get("blocklisttype")
        .unwrap_or("committed")
        .to_ascii_lowercase();
    let (with_committed, with_uncommitted) = match which.as_str() {
        "committed" => (true, false),
        "uncommitted" => (false, true),
        "all" => (true, true),
        _ => return Err(BlobError::invalid_query("blocklisttype", &which)),
    };
    let store = &context.blob.store;
    let existing = store
        .get_blob_with_blocks(&context.account.id, container, name)
        .await?;
    let staged = store
        .list_uncommitted_blocks(&context.account.id, container, name)
        .await?;
    if existing.is_none() && staged.is_empty() {
        load(context, container).await?;
        return Err(BlobError::blob_not_found());
    }
    if let Some((blob, _)) = &existing
        && header(context.headers, "x-ms-lease-id").is_some()
    {
        lease::check_write(
            context.headers,
            blob.lease.as_ref(),
            context.now,
            Target::Blob,
        )?;
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    if with_committed {
        out.push_str("<CommittedBlocks>");
        for block in existing.iter().flat_map(|(_, blocks)| blocks) {
            if let Some(id) = &block.block_id {
                out.push_str(&format!(
                    "<Block><Name>{}</Name><Size>{}</Size></Block>",
                    xml_escape(id),
                    block.len
                ));
            }
        }
        out.push_str("</CommittedBlocks>");
    }
    if with_uncommitted {
        out.push_str("<UncommittedBlocks>");
        for block in &staged {
            out.push_str(&format!(
                "<Block><Name>{}</Name><Size>{}</Size></Block>",
                xml_escape(&block.block_id),
                block.len
            ));
        }
        out.push_str("</UncommittedBlocks>");
    }
    out.push_str("</BlockList>");
    let mut response = xml_response(StatusCode::OK, out);
    if let Some((blob, _)) = &existing {
        stamp(response.headers_mut(), &blob.etag, blob.last_modified);
        response.headers_mut().insert(
            "x-ms-blob-content-length",
            HeaderValue::from(blob.content_length),
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_lists_parse() {
        let list = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<BlockList>\n  <Latest>QUE=</Latest><Committed>QkI=</Committed>\n<Uncommitted>Q0M=</Uncommitted></BlockList>";
        assert_eq!(
            parse_block_list(list).unwrap(),
            vec![
                (ListKind::Latest, "QUE=".to_owned()),
                (ListKind::Committed, "QkI=".to_owned()),
                (ListKind::Uncommitted, "Q0M=".to_owned()),
            ]
        );
        assert!(
            parse_block_list("<BlockList></BlockList>")
                .unwrap()
                .is_empty()
        );
        for bad in [
            "<BlockList><Other>x</Other></BlockList>",
            "<BlockList><Latest>x</BlockList>",
            "nope",
        ] {
            assert_eq!(
                parse_block_list(bad).unwrap_err().code,
                "InvalidXmlDocument",
                "{bad}"
            );
        }
    }
}
