//! List Containers and List Blobs (flat and hierarchical), with prefix, marker,
//! maxresults, delimiter and include, in Azure's `EnumerationResults` XML.
//!
//! Markers are opaque to clients: base64url of the name listing resumes after. A
//! hierarchical listing folds every name below a `BlobPrefix` into it and resumes past the
//! whole prefix, so a million blobs under one "directory" cost one page, not a million rows.

use axum::http::StatusCode;
use axum::response::Response;
use azlite_store::{BlobKind, BlobRecord, ContainerRecord};
use base64::Engine;

use crate::containers::load;
use crate::lease::status_and_state;
use crate::service::xml_response;
use crate::wire::{http_date, xml_escape};
use crate::{BlobError, Context};

const MAX_RESULTS: usize = 5000;
const INCLUDES: &[&str] = &[
    "snapshots",
    "metadata",
    "uncommittedblobs",
    "copy",
    "deleted",
    "tags",
    "versions",
    "deletedwithversions",
    "immutabilitypolicy",
    "legalhold",
    "permissions",
    "system",
];

fn max_results(context: &Context<'_>) -> Result<usize, BlobError> {
    match context.query.get("maxresults") {
        None => Ok(MAX_RESULTS),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n.min(MAX_RESULTS)),
            _ => Err(BlobError::invalid_query("maxresults", text)),
        },
    }
}

fn decode_marker(context: &Context<'_>) -> Result<Option<String>, BlobError> {
    let Some(marker) = context.query.get("marker").filter(|m| !m.is_empty()) else {
        return Ok(None);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(marker)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(Some)
        .ok_or_else(|| BlobError::invalid_query("marker", marker))
}

fn encode_marker(after: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(after)
}

fn includes(context: &Context<'_>) -> Result<Vec<String>, BlobError> {
    let Some(text) = context.query.get("include") else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for item in text
        .split(',')
        .map(|i| i.trim().to_ascii_lowercase())
        .filter(|i| !i.is_empty())
    {
        if !INCLUDES.contains(&item.as_str()) {
            return Err(BlobError::invalid_query("include", text));
        }
        found.push(item);
    }
    Ok(found)
}

fn element(out: &mut String, name: &str, value: Option<&str>) {
    match value {
        Some(value) => out.push_str(&format!("<{name}>{}</{name}>", xml_escape(value))),
        None => out.push_str(&format!("<{name} />")),
    }
}

fn metadata_xml(out: &mut String, metadata: &[(String, String)]) {
    out.push_str("<Metadata>");
    for (name, value) in metadata {
        out.push_str(&format!("<{name}>{}</{name}>", xml_escape(value)));
    }
    out.push_str("</Metadata>");
}

fn header(
    out: &mut String,
    context: &Context<'_>,
    container: Option<&str>,
    prefix: &str,
    max: usize,
) {
    out.push_str(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"",
    );
    out.push_str(&xml_escape(&context.endpoint()));
    out.push('"');
    if let Some(container) = container {
        out.push_str(&format!(" ContainerName=\"{}\"", xml_escape(container)));
    }
    out.push('>');
    if !prefix.is_empty() {
        element(out, "Prefix", Some(prefix));
    }
    if let Some(marker) = context.query.get("marker").filter(|m| !m.is_empty()) {
        element(out, "Marker", Some(marker));
    }
    if context.query.has("maxresults") {
        element(out, "MaxResults", Some(&max.to_string()));
    }
}

pub(crate) async fn list_containers(context: &Context<'_>) -> Result<Response, BlobError> {
    let prefix = context.query.get("prefix").unwrap_or_default();
    let max = max_results(context)?;
    let with_metadata = includes(context)?.iter().any(|i| i == "metadata");
    let after = decode_marker(context)?;
    let mut page = context
        .blob
        .store
        .list_containers(&context.account.id, prefix, after.as_deref(), max + 1)
        .await?;
    let more = page.len() > max;
    page.truncate(max);
    let mut out = String::new();
    header(&mut out, context, None, prefix, max);
    out.push_str("<Containers>");
    for container in &page {
        container_xml(&mut out, container, context.now, with_metadata);
    }
    out.push_str("</Containers>");
    let next = more
        .then(|| page.last().map(|c| encode_marker(&c.name)))
        .flatten();
    element(&mut out, "NextMarker", next.as_deref());
    out.push_str("</EnumerationResults>");
    Ok(xml_response(StatusCode::OK, out))
}

fn container_xml(out: &mut String, c: &ContainerRecord, now: i64, with_metadata: bool) {
    let (status, state) = status_and_state(c.lease.as_ref(), now);
    out.push_str("<Container>");
    element(out, "Name", Some(&c.name));
    out.push_str("<Properties>");
    element(out, "Last-Modified", Some(&http_date(c.last_modified)));
    element(out, "Etag", Some(&c.etag));
    element(out, "LeaseStatus", Some(status));
    element(out, "LeaseState", Some(state));
    if state == "leased" {
        let infinite = c.lease.as_ref().is_some_and(|l| l.duration < 0);
        element(
            out,
            "LeaseDuration",
            Some(if infinite { "infinite" } else { "fixed" }),
        );
    }
    if let Some(level) = &c.public_access {
        element(out, "PublicAccess", Some(level));
    }
    out.push_str(
        "<DefaultEncryptionScope>$account-encryption-key</DefaultEncryptionScope>\
<DenyEncryptionScopeOverride>false</DenyEncryptionScopeOverride>\
<HasImmutabilityPolicy>false</HasImmutabilityPolicy><HasLegalHold>false</HasLegalHold>\
<ImmutableStorageWithVersioningEnabled>false</ImmutableStorageWithVersioningEnabled>",
    );
    out.push_str("</Properties>");
    if with_metadata {
        metadata_xml(out, &c.metadata);
    }
    out.push_str("</Container>");
}

/// One page of a container's listing: blobs and (with a delimiter) prefixes, in order.
enum Item {
    Blob(Box<BlobRecord>),
    Prefix(String),
}

pub(crate) async fn list_blobs(
    context: &Context<'_>,
    container: &str,
) -> Result<Response, BlobError> {
    load(context, container).await?;
    let prefix = context.query.get("prefix").unwrap_or_default();
    let delimiter = context.query.get("delimiter").filter(|d| !d.is_empty());
    let max = max_results(context)?;
    let with_metadata = includes(context)?.iter().any(|i| i == "metadata");
    let mut after = decode_marker(context)?;
    let mut items = Vec::new();
    let mut more = false;
    'pages: loop {
        let page = context
            .blob
            .store
            .list_blobs(
                &context.account.id,
                container,
                prefix,
                after.as_deref(),
                max + 1,
            )
            .await?;
        let exhausted = page.len() <= max;
        for blob in page {
            if items.len() == max {
                more = true;
                break 'pages;
            }
            let folded = delimiter.and_then(|d| {
                blob.name[prefix.len()..]
                    .find(d)
                    .map(|at| blob.name[..prefix.len() + at + d.len()].to_owned())
            });
            match folded {
                Some(folded) => {
                    // Resume past everything under this prefix.
                    after = Some(format!("{folded}\u{10FFFF}"));
                    items.push(Item::Prefix(folded));
                    continue 'pages;
                }
                None => {
                    after = Some(blob.name.clone());
                    items.push(Item::Blob(Box::new(blob)));
                }
            }
        }
        if exhausted {
            break;
        }
    }
    let mut out = String::new();
    header(&mut out, context, Some(container), prefix, max);
    if let Some(delimiter) = delimiter {
        element(&mut out, "Delimiter", Some(delimiter));
    }
    out.push_str("<Blobs>");
    for item in &items {
        match item {
            Item::Blob(blob) => blob_xml(&mut out, blob, context.now, with_metadata),
            Item::Prefix(name) => {
                out.push_str("<BlobPrefix>");
                element(&mut out, "Name", Some(name));
                out.push_str("</BlobPrefix>");
            }
        }
    }
    out.push_str("</Blobs>");
    let next = more.then(|| after.as_deref().map(encode_marker)).flatten();
    element(&mut out, "NextMarker", next.as_deref());
    out.push_str("</EnumerationResults>");
    Ok(xml_response(StatusCode::OK, out))
}

fn blob_xml(out: &mut String, b: &BlobRecord, now: i64, with_metadata: bool) {
    let (status, state) = status_and_state(b.lease.as_ref(), now);
    let h = &b.headers;
    let md5 = h
        .content_md5
        .as_ref()
        .map(|m| base64::engine::general_purpose::STANDARD.encode(m));
    out.push_str("<Blob>");
    element(out, "Name", Some(&b.name));
    out.push_str("<Properties>");
    element(out, "Creation-Time", Some(&http_date(b.created_at)));
    element(out, "Last-Modified", Some(&http_date(b.last_modified)));
    element(out, "Etag", Some(b.etag.trim_matches('"')));
    element(out, "Content-Length", Some(&b.content_length.to_string()));
    element(out, "Content-Type", h.content_type.as_deref());
    element(out, "Content-Encoding", h.content_encoding.as_deref());
    element(out, "Content-Language", h.content_language.as_deref());
    element(out, "Content-CRC64", None);
    element(out, "Content-MD5", md5.as_deref());
    element(out, "Cache-Control", h.cache_control.as_deref());
    element(out, "Content-Disposition", h.content_disposition.as_deref());
    element(
        out,
        "BlobType",
        Some(match b.kind {
            BlobKind::Block => "BlockBlob",
            BlobKind::Append => "AppendBlob",
        }),
    );
    if b.kind == BlobKind::Block {
        element(out, "AccessTier", Some("Hot"));
        element(out, "AccessTierInferred", Some("true"));
    }
    element(out, "LeaseStatus", Some(status));
    element(out, "LeaseState", Some(state));
    if state == "leased" {
        let infinite = b.lease.as_ref().is_some_and(|l| l.duration < 0);
        element(
            out,
            "LeaseDuration",
            Some(if infinite { "infinite" } else { "fixed" }),
        );
    }
    element(out, "ServerEncrypted", Some("true"));
    out.push_str("</Properties>");
    if with_metadata {
        metadata_xml(out, &b.metadata);
    }
    out.push_str("</Blob>");
}
