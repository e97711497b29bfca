//! Copy Blob within the service: the destination is committed pointing at the source's
//! extents (no byte is copied; a small blob kept inline copies its bytes into the new row),
//! synchronously, so the answer already says `success`.
//!
//! The source is named by URL (`x-ms-copy-source`): host-style
//! `https://<account>.<blob suffix>/<container>/<blob>` or path-style
//! `http(s)://<ip>/<account>/<container>/<blob>`. A Bearer caller needs read permission on
//! the source too; a request authorized by the account's key or SAS may copy only within
//! its own account (another account's blob would need that account's credential in the
//! source URL, which azlite does not take: 403 `CannotVerifyCopySource`).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_store::{BlobContent, Expect};

use crate::blobs::{check_name, check_replace, new_record};
use crate::containers::{load, stamp};
use crate::policy;
use crate::wire::{self, header};
use crate::{BlobError, Context, Retry, retrying};

fn cannot_verify(status: StatusCode, message: &str) -> BlobError {
    BlobError::new(status, "CannotVerifyCopySource", message)
}

/// The account, container and blob a copy source URL names.
fn parse_source(url: &str, suffix: &str) -> Option<(String, String, String)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let (authority, path) = rest.split_once('/')?;
    let path = path.split('?').next()?;
    let host = authority
        .rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        .map_or(authority, |(h, _)| h);
    let host = host.to_ascii_lowercase();
    let label = host.strip_suffix(&format!(".{}", suffix.to_ascii_lowercase()));
    let (account, path) = match label {
        Some(account) if !account.contains('.') => (account.to_owned(), path),
        _ => {
            let (account, rest) = path.split_once('/')?;
            (account.to_owned(), rest)
        }
    };
    let (container, blob) = path.split_once('/')?;
    let decode = |t: &str| {
        percent_encoding::percent_decode_str(t)
            .decode_utf8_lossy()
            .into_owned()
    };
    (!blob.is_empty()).then(|| (account, decode(container), decode(blob)))
}

pub(crate) async fn copy_blob(
    context: &Context<'_>,
    container: &str,
    name: &str,
) -> Result<Response, BlobError> {
    check_name(name)?;
    load(context, container).await?;
    let source_url = header(context.headers, "x-ms-copy-source").unwrap_or_default();
    let Some((account_name, source_container, source_name)) =
        parse_source(source_url, &context.blob.config.blob_suffix)
    else {
        return Err(BlobError::invalid_header("x-ms-copy-source", source_url));
    };
    let source_account = if account_name.eq_ignore_ascii_case(&context.account.name) {
        std::sync::Arc::new(context.account.clone())
    } else {
        match context.blob.find_account(&account_name).await? {
            Some(account) if context.caller.is_some() => account,
            _ => {
                return Err(cannot_verify(
                    StatusCode::FORBIDDEN,
                    "This request is not authorized to perform this operation.",
                ));
            }
        }
    };
    if let Some(caller) = &context.caller {
        let read =
            crate::operation::Operation::GetBlob(source_container.clone(), source_name.clone());
        let scope = policy::scope(&source_account.id, &read);
        policy::authorize(
            context.blob.rbac.as_ref(),
            caller,
            &scope,
            &policy::permission(&read),
        )
        .map_err(|_| {
            cannot_verify(
                StatusCode::FORBIDDEN,
                "This request is not authorized to perform this operation using this permission.",
            )
        })?;
    }
    let metadata = wire::metadata(context.headers)?;
    let store = &context.blob.store;
    let record = retrying(|| async {
        let Some((source, content)) = store
            .get_blob_content(&source_account.id, &source_container, &source_name)
            .await?
        else {
            return Err(
                cannot_verify(StatusCode::NOT_FOUND, "The specified blob does not exist.").into(),
            );
        };
        let existing = store.get_blob(&context.account.id, container, name).await?;
        check_replace(context, existing.as_ref())?;
        let metadata = if metadata.is_empty() {
            source.metadata.clone()
        } else {
            metadata.clone()
        };
        let mut record = new_record(
            context,
            container,
            name,
            source.kind,
            source.content_length,
            source.headers.clone(),
            metadata,
        );
        record.lease = existing.as_ref().and_then(|b| b.lease.clone());
        let expect = existing
            .as_ref()
            .map_or(Expect::Absent, |b| Expect::Generation(b.generation));
        let freed = match content {
            BlobContent::Blocks(blocks) => store.put_blob(&record, &blocks, &[], expect).await?,
            BlobContent::Inline(bytes) => store.put_inline_blob(&record, bytes, expect).await?,
        };
        context.blob.release(freed);
        Ok::<_, Retry>(record)
    })
    .await?;
    let mut response = StatusCode::ACCEPTED.into_response();
    let out = response.headers_mut();
    stamp(out, &record.etag, record.last_modified);
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        out.insert("x-ms-copy-id", id);
    }
    out.insert("x-ms-copy-status", HeaderValue::from_static("success"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_host_and_path_style() {
        let s = |a: &str, c: &str, b: &str| Some((a.to_owned(), c.to_owned(), b.to_owned()));
        assert_eq!(
            parse_source(
                "https://acct.blob.core.windows.net/c/d/e.txt",
                "blob.core.windows.net"
            ),
            s("acct", "c", "d/e.txt")
        );
        assert_eq!(
            parse_source(
                "http://127.0.0.1:10000/devstoreaccount1/c/b%20x?sv=1",
                "blob.core.windows.net"
            ),
            s("devstoreaccount1", "c", "b x")
        );
        assert_eq!(
            parse_source(
                "https://acct.blob.core.windows.net/c",
                "blob.core.windows.net"
            ),
            None
        );
        assert_eq!(parse_source("ftp://x/a/b/c", "blob.core.windows.net"), None);
    }
}
