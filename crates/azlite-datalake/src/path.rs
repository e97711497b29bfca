//! Paths as clients send them: `/webhdfs/v1/<path>`, percent-encoded, the root as ``, `.`
//! or `/` (reference §4.1), into the tree's absolute form (`/` or `/a/b`).

/// Why a path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path: {0}")]
pub struct InvalidPath(pub String);

/// Decodes `%XX` escapes (not `+`: a path is not a form).
pub fn percent_decode(text: &str) -> Result<String, InvalidPath> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| InvalidPath(text.to_owned()))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| InvalidPath(text.to_owned()))
}

/// The absolute form of a decoded path: segments joined by `/`, empty and `.` segments
/// dropped; `..` and control characters refused.
pub fn normalize(decoded: &str) -> Result<String, InvalidPath> {
    let mut out = String::with_capacity(decoded.len() + 1);
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(InvalidPath(decoded.to_owned())),
            s if s.chars().any(char::is_control) => return Err(InvalidPath(decoded.to_owned())),
            s => {
                out.push('/');
                out.push_str(s);
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// The tree path of a request path under `/webhdfs/v1` (`None` when it is not under it).
pub fn from_request(path: &str) -> Option<Result<String, InvalidPath>> {
    let rest = strip_prefix_ignore_case(path, "/webhdfs/v1")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    Some(percent_decode(rest).and_then(|d| normalize(&d)))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The ancestors of an absolute path, root first, without the path itself.
pub fn ancestors(path: &str) -> Vec<String> {
    let mut out = vec!["/".to_owned()];
    if path == "/" {
        return Vec::new();
    }
    let mut current = String::new();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    for segment in &segments[..segments.len().saturating_sub(1)] {
        current.push('/');
        current.push_str(segment);
        out.push(current.clone());
    }
    out
}

/// The parent of an absolute path (`None` for the root).
pub fn parent(path: &str) -> Option<&str> {
    match path.rfind('/') {
        _ if path == "/" => None,
        Some(0) => Some("/"),
        Some(i) => Some(&path[..i]),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_has_three_spellings_and_paths_decode() {
        for root in [
            "/webhdfs/v1",
            "/webhdfs/v1/",
            "/webhdfs/v1/.",
            "/WEBHDFS/V1//",
        ] {
            assert_eq!(from_request(root).unwrap().unwrap(), "/");
        }
        assert_eq!(
            from_request("/webhdfs/v1/dir%2Ffoo/a%20b")
                .unwrap()
                .unwrap(),
            "/dir/foo/a b"
        );
        assert!(from_request("/webhdfs/v1/a/../b").unwrap().is_err());
        assert!(from_request("/webhdfs/v1/%zz").unwrap().is_err());
        assert!(from_request("/webhdfsext/x").is_none());
        assert!(from_request("/other").is_none());
    }

    #[test]
    fn ancestors_and_parents() {
        assert_eq!(ancestors("/a/b/c"), ["/", "/a", "/a/b"]);
        assert_eq!(ancestors("/a"), ["/"]);
        assert!(ancestors("/").is_empty());
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/"), None);
    }
}
