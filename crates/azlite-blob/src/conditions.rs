//! Conditional headers (`If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since`), evaluated against the state an operation read.

use axum::http::{HeaderMap, StatusCode};
use azlite_store::UnixMillis;

use crate::BlobError;
use crate::wire::{header, parse_http_date};

/// What the conditions are checked against: the resource's ETag and last change, or
/// nothing when it does not exist.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Current<'a> {
    /// The ETag, quoted.
    pub etag: &'a str,
    /// When it last changed.
    pub last_modified: UnixMillis,
}

fn etag_listed(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag == etag || tag.trim_matches('"') == etag.trim_matches('"'))
}

fn date(headers: &HeaderMap, name: &str) -> Result<Option<i64>, BlobError> {
    match header(headers, name) {
        None => Ok(None),
        // Azure ignores a date it cannot parse, as HTTP says to.
        Some(text) => Ok(parse_http_date(text)),
    }
}

/// Checks the conditions of a write: any failure is 412 `ConditionNotMet`; `If-None-Match:
/// *` on an existing blob is 409 `BlobAlreadyExists` when `exists_code` says so (Put Blob
/// and Put Block List, as the SDKs' `overwrite=False` expects).
pub(crate) fn check_write(
    headers: &HeaderMap,
    current: Option<Current<'_>>,
    exists_conflict: Option<BlobError>,
) -> Result<(), BlobError> {
    let failed = BlobError::condition_not_met;
    if let Some(list) = header(headers, "if-match") {
        match current {
            Some(c) if etag_listed(list, c.etag) => {}
            _ => return Err(failed()),
        }
    }
    if let Some(list) = header(headers, "if-none-match")
        && let Some(c) = current
    {
        if list.trim() == "*" {
            return Err(exists_conflict.unwrap_or_else(failed));
        }
        if etag_listed(list, c.etag) {
            return Err(failed());
        }
    }
    if let Some(since) = date(headers, "if-modified-since")?
        && current.is_none_or(|c| c.last_modified / 1000 <= since)
    {
        return Err(failed());
    }
    if let Some(since) = date(headers, "if-unmodified-since")?
        && current.is_some_and(|c| c.last_modified / 1000 > since)
    {
        return Err(failed());
    }
    Ok(())
}

/// The outcome of a read's conditions.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadCondition {
    /// Answer the read.
    Proceed,
    /// Answer 304 Not Modified.
    NotModified,
}

/// Checks the conditions of a read of an existing resource: `If-None-Match` matching and
/// `If-Modified-Since` not passed are 304; `If-Match` not matching and
/// `If-Unmodified-Since` passed are 412.
pub(crate) fn check_read(
    headers: &HeaderMap,
    current: Current<'_>,
) -> Result<ReadCondition, BlobError> {
    if let Some(list) = header(headers, "if-match")
        && !etag_listed(list, current.etag)
    {
        return Err(BlobError::condition_not_met());
    }
    if let Some(since) = date(headers, "if-unmodified-since")?
        && current.last_modified / 1000 > since
    {
        return Err(BlobError::condition_not_met());
    }
    if let Some(list) = header(headers, "if-none-match") {
        if etag_listed(list, current.etag) {
            return Ok(ReadCondition::NotModified);
        }
    } else if let Some(since) = date(headers, "if-modified-since")?
        && current.last_modified / 1000 <= since
    {
        return Ok(ReadCondition::NotModified);
    }
    Ok(ReadCondition::Proceed)
}

/// 304 for a read whose conditions say not modified.
pub(crate) fn not_modified() -> BlobError {
    BlobError::new(
        StatusCode::NOT_MODIFIED,
        "ConditionNotMet",
        "The condition specified using HTTP conditional header(s) is not met.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    const NOW: i64 = 1_764_781_200_000; // Wed, 03 Dec 2025 17:00:00 GMT

    #[test]
    fn writes() {
        let c = Some(Current {
            etag: "\"0x1\"",
            last_modified: NOW,
        });
        assert!(check_write(&headers(&[("if-match", "\"0x1\"")]), c, None).is_ok());
        assert_eq!(
            check_write(&headers(&[("if-match", "\"0x2\"")]), c, None)
                .unwrap_err()
                .code,
            "ConditionNotMet"
        );
        assert_eq!(
            check_write(&headers(&[("if-match", "*")]), None, None)
                .unwrap_err()
                .code,
            "ConditionNotMet"
        );
        let exists = BlobError::new(StatusCode::CONFLICT, "BlobAlreadyExists", "x");
        assert_eq!(
            check_write(&headers(&[("if-none-match", "*")]), c, Some(exists.clone()))
                .unwrap_err()
                .code,
            "BlobAlreadyExists"
        );
        assert!(check_write(&headers(&[("if-none-match", "*")]), None, Some(exists)).is_ok());
        let later = headers(&[("if-modified-since", "Wed, 03 Dec 2025 17:00:01 GMT")]);
        assert!(check_write(&later, c, None).is_err());
        let earlier = headers(&[("if-unmodified-since", "Wed, 03 Dec 2025 16:59:59 GMT")]);
        assert!(check_write(&earlier, c, None).is_err());
        assert!(
            check_write(
                &headers(&[("if-unmodified-since", "Wed, 03 Dec 2025 17:00:00 GMT")]),
                c,
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn reads() {
        let c = Current {
            etag: "\"0x1\"",
            last_modified: NOW,
        };
        assert_eq!(
            check_read(&headers(&[("if-none-match", "\"0x1\"")]), c).unwrap(),
            ReadCondition::NotModified
        );
        assert_eq!(
            check_read(&headers(&[("if-none-match", "\"0x2\"")]), c).unwrap(),
            ReadCondition::Proceed
        );
        assert_eq!(
            check_read(
                &headers(&[("if-modified-since", "Wed, 03 Dec 2025 17:00:00 GMT")]),
                c
            )
            .unwrap(),
            ReadCondition::NotModified
        );
        assert!(check_read(&headers(&[("if-match", "\"0x2\"")]), c).is_err());
    }
}
