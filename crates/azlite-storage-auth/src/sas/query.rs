//! Query strings in and out: decoding a request's query the way the storage service does,
//! and percent-encoding SAS values.

/// Decodes a raw query string (without `?`) into name/value pairs, in order: `%XX` decoded,
/// `+` read as a space (as the service and Azurite do), invalid UTF-8 replaced. Shared Key's
/// canonicalized resource and SAS fields both use these decoded values.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect()
}

/// Appends `value` percent-encoded: everything but RFC 3986's unreserved characters and `,`
/// (kept so that `spr=https,http` reads as Azure writes it).
pub(crate) fn percent_encode(value: &str, out: &mut String) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b',') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_encodes() {
        let pairs = parse_query("sv=2015-04-05&sig=a%2Fb%2Bc%3D&prefix=a+b&empty=&flag");
        assert_eq!(pairs[1], ("sig".into(), "a/b+c=".into()));
        assert_eq!(pairs[2], ("prefix".into(), "a b".into()));
        assert_eq!(pairs[3], ("empty".into(), "".into()));
        assert_eq!(pairs[4], ("flag".into(), "".into()));
        let mut out = String::new();
        percent_encode("2017-09-22T00:10:00Z https,http é", &mut out);
        assert_eq!(out, "2017-09-22T00%3A10%3A00Z%20https,http%20%C3%A9");
    }
}
