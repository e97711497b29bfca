//! Harnesses for the fuzz targets `blob_block_list` and `blob_request` (`fuzz/` at the
//! repository root), kept here so that the crate's tests replay the committed corpus on
//! every run. Each takes arbitrary bytes, must never panic, and asserts what holds for any
//! input.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::blocks::{ListKind, parse_block_list};
use crate::operation;
use crate::request::{Query, split_path};

/// Input: a Put Block List body. Whatever parses prints back to a body that parses to the
/// same entries, and no parsed id carries markup.
pub fn block_list(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(entries) = parse_block_list(text) else {
        return;
    };
    let mut printed = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    for (kind, id) in &entries {
        assert!(!id.contains('<'), "an id with markup parsed: {id:?}");
        let tag = match kind {
            ListKind::Committed => "Committed",
            ListKind::Uncommitted => "Uncommitted",
            ListKind::Latest => "Latest",
        };
        printed.push_str(&format!("<{tag}>{id}</{tag}>"));
    }
    printed.push_str("</BlockList>");
    assert_eq!(parse_block_list(&printed).ok().as_ref(), Some(&entries));
}

/// Input: line 1 the method, line 2 the path, line 3 the query, further lines headers as
/// `name: value`. The path splits into a container and blob without a `/` in the container,
/// and the operation parser answers (an operation or an error) for any request.
pub fn request(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let Ok(method) = Method::from_bytes(lines.next().unwrap_or("GET").as_bytes()) else {
        return;
    };
    let path = lines.next().unwrap_or("/");
    let query = lines.next().filter(|q| !q.is_empty());
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.trim().as_bytes()),
                HeaderValue::from_str(value.trim()),
            )
        {
            headers.append(name, value);
        }
    }
    for path_style in [false, true] {
        let (container, blob) = split_path(path, path_style);
        if let Some(container) = &container {
            assert!(!container.is_empty());
        }
        let _ = operation::parse(&method, container, blob, &Query::parse(query), &headers);
    }
}
