//! Small wire formats: XML escaping, HTTP dates, ETags, `x-ms-meta-*` headers, ranges.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use axum::http::HeaderMap;
use azlite_store::UnixMillis;

use crate::BlobError;

/// `text` with XML's five special characters escaped.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// RFC 1123 (`Thu, 03 Dec 2026 17:00:00 GMT`), as `Last-Modified` and `Date` carry it.
pub fn http_date(at: UnixMillis) -> String {
    let secs = u64::try_from(at.div_euclid(1000)).unwrap_or_default();
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs))
}

/// An RFC 1123 date of a request header, in whole seconds since the epoch.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(text.trim()).ok()?;
    Some(at.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64)
}

/// ISO 8601 with seconds (`2026-12-03T17:00:00Z`), as the user delegation key carries it.
pub fn iso8601(at_secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at_secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

static LAST_ETAG: AtomicU64 = AtomicU64::new(0);

/// A new ETag (`"0x8DE…"`): Azure's form, the time in 100 ns ticks since 1601 made unique
/// within this process, so two writes in the same tick still differ.
pub fn new_etag(now: UnixMillis) -> String {
    const TICKS_1601_TO_1970: u64 = 116_444_736_000_000_000;
    let ticks = TICKS_1601_TO_1970 + u64::try_from(now).unwrap_or_default() * 10_000;
    let mut previous = LAST_ETAG.load(Ordering::Relaxed);
    loop {
        let next = ticks.max(previous + 1);
        match LAST_ETAG.compare_exchange_weak(previous, next, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => return format!("\"0x{next:X}\""),
            Err(seen) => previous = seen,
        }
    }
}

/// One header's value as text, if present and visible ASCII.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The `x-ms-meta-*` pairs of a request, names without the prefix and as sent (HTTP/1.1
/// keeps the case on the wire; hyper lower-cases it, as Azure returns it lower-cased too).
/// A name must be a C# identifier (`InvalidMetadata` otherwise).
pub fn metadata(headers: &HeaderMap) -> Result<Vec<(String, String)>, BlobError> {
    let mut pairs = Vec::new();
    for (name, value) in headers {
        let Some(key) = name.as_str().strip_prefix("x-ms-meta-") else {
            continue;
        };
        let valid = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(BlobError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "InvalidMetadata",
                "The metadata specified is invalid. It has characters that are not permitted.",
            ));
        }
        let value = value
            .to_str()
            .map_err(|_| BlobError::invalid_header(name.as_str(), "<binary>"))?;
        pairs.push((key.to_owned(), value.trim().to_owned()));
    }
    Ok(pairs)
}

/// A byte range of a request: `bytes=a-b` or `bytes=a-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    /// The first byte.
    pub start: u64,
    /// The last byte, if given.
    pub end: Option<u64>,
}

/// The range of `x-ms-range` (which wins) or `Range`; `Ok(None)` when neither is given.
pub fn range(headers: &HeaderMap) -> Result<Option<ByteRange>, BlobError> {
    let (name, text) = match (header(headers, "x-ms-range"), header(headers, "range")) {
        (Some(text), _) => ("x-ms-range", text),
        (None, Some(text)) => ("Range", text),
        (None, None) => return Ok(None),
    };
    let invalid = || BlobError::invalid_header(name, text);
    let spec = text.trim().strip_prefix("bytes=").ok_or_else(invalid)?;
    let (start, end) = spec.split_once('-').ok_or_else(invalid)?;
    let start: u64 = start.trim().parse().map_err(|_| invalid())?;
    let end = match end.trim() {
        "" => None,
        end => Some(end.parse::<u64>().map_err(|_| invalid())?),
    };
    if end.is_some_and(|end| end < start) {
        return Err(invalid());
    }
    Ok(Some(ByteRange { start, end }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn etags_are_unique_and_quoted() {
        let a = new_etag(1_700_000_000_000);
        let b = new_etag(1_700_000_000_000);
        assert_ne!(a, b);
        assert!(a.starts_with("\"0x") && a.ends_with('"'));
    }

    #[test]
    fn ranges() {
        let mut headers = HeaderMap::new();
        assert_eq!(range(&headers).unwrap(), None);
        headers.insert("range", HeaderValue::from_static("bytes=5-"));
        assert_eq!(
            range(&headers).unwrap(),
            Some(ByteRange {
                start: 5,
                end: None
            })
        );
        headers.insert("x-ms-range", HeaderValue::from_static("bytes=0-9"));
        assert_eq!(
            range(&headers).unwrap(),
            Some(ByteRange {
                start: 0,
                end: Some(9)
            })
        );
        headers.insert("x-ms-range", HeaderValue::from_static("bytes=9-1"));
        assert!(range(&headers).is_err());
    }

    #[test]
    fn dates_round_trip() {
        let text = http_date(1_764_781_200_123);
        assert_eq!(parse_http_date(&text), Some(1_764_781_200));
        assert!(iso8601(0).starts_with("1970-01-01T00:00:00"));
    }
}
