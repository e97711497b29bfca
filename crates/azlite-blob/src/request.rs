//! The parts of a request every operation reads: its query and whom it addresses.

/// A request's query parameters, names compared case-insensitively (the service does),
/// values percent-decoded; the first of a repeated name wins.
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a query string.
    pub fn parse(query: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is present (with any value).
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Whom a request addresses: put on the request by the server's routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobHost {
    /// The account's name (from the host name, or the first path segment).
    pub account: String,
    /// Whether the account was the first path segment (path-style addressing on an IP
    /// listener), rather than the host's first label.
    pub path_style: bool,
    /// Whether the request came over TLS.
    pub secure: bool,
}

/// The container and blob of a request path (after the account segment when path-style),
/// percent-decoded.
pub fn split_path(path: &str, path_style: bool) -> (Option<String>, Option<String>) {
    let mut rest = path.strip_prefix('/').unwrap_or(path);
    if path_style {
        rest = rest.split_once('/').map_or("", |(_, rest)| rest);
    }
    let (container, blob) = match rest.split_once('/') {
        Some((container, blob)) => (container, Some(blob)),
        None => (rest, None),
    };
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    };
    let container = (!container.is_empty()).then(|| decode(container));
    let blob = blob.filter(|b| !b.is_empty()).map(decode);
    (container, blob)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_container_and_blob() {
        assert_eq!(split_path("/", false), (None, None));
        assert_eq!(split_path("/c", false), (Some("c".into()), None));
        assert_eq!(split_path("/c/", false), (Some("c".into()), None));
        assert_eq!(
            split_path("/c/a/b%20c.txt", false),
            (Some("c".into()), Some("a/b c.txt".into()))
        );
        assert_eq!(split_path("/acct", true), (None, None));
        assert_eq!(
            split_path("/acct/c/d/e", true),
            (Some("c".into()), Some("d/e".into()))
        );
    }

    #[test]
    fn query_names_ignore_case() {
        let q = Query::parse(Some("restype=container&COMP=list&prefix=a%2Fb"));
        assert_eq!(q.get("comp"), Some("list"));
        assert_eq!(q.get("prefix"), Some("a/b"));
        assert!(!q.has("marker"));
    }
}
