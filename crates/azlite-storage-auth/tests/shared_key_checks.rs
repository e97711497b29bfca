//! Shared Key and Shared Key Lite: the string-to-sign's details by version, the date window,
//! the header parser.

use azlite_storage_auth::shared_key::{
    self, SharedKeyScheme, SignedRequest, UnverifiedSharedKey, string_to_sign,
};
use azlite_storage_auth::{AccountKey, AuthError, parse_query, parse_sas_time};

fn request<'a>(
    headers: &'a [(&'a str, &'a str)],
    query: &'a [(String, String)],
) -> SignedRequest<'a> {
    SignedRequest {
        method: "PUT",
        account: "acct",
        path: "/photos/a%20b.txt",
        query,
        headers,
    }
}

#[test]
fn content_length_zero_is_empty_from_2015_02_21() {
    let query = parse_query("comp=metadata&timeout=20");
    let new = [("x-ms-version", "2015-02-21"), ("Content-Length", "0")];
    let old = [("x-ms-version", "2014-02-14"), ("Content-Length", "0")];
    let new_sts = string_to_sign(SharedKeyScheme::SharedKey, &request(&new, &query));
    let old_sts = string_to_sign(SharedKeyScheme::SharedKey, &request(&old, &query));
    assert_eq!(
        new_sts,
        "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-version:2015-02-21\n/acct/photos/a%20b.txt\ncomp:metadata\ntimeout:20"
    );
    assert_eq!(
        old_sts,
        "PUT\n\n\n0\n\n\n\n\n\n\n\n\nx-ms-version:2014-02-14\n/acct/photos/a%20b.txt\ncomp:metadata\ntimeout:20"
    );
}

#[test]
fn canonicalized_headers_and_resource() {
    let query = parse_query("restype=container&COMP=list&include=metadata&include=snapshots");
    let headers = [
        ("X-MS-Meta-B", "  two  "),
        ("x-ms-meta-a", "one"),
        ("x-ms-meta-a", "again"),
        ("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT"),
        ("Range", "bytes=0-9"),
        ("If-Match", "\"0x1\""),
        ("User-Agent", "not signed"),
    ];
    let sts = string_to_sign(SharedKeyScheme::SharedKey, &request(&headers, &query));
    assert_eq!(
        sts,
        "PUT\n\n\n\n\n\n\n\n\"0x1\"\n\n\nbytes=0-9\n\
         x-ms-date:Thu, 01 Jan 2026 00:00:00 GMT\nx-ms-meta-a:one,again\nx-ms-meta-b:two\n\
         /acct/photos/a%20b.txt\ncomp:list\ninclude:metadata,snapshots\nrestype:container"
    );
}

#[test]
fn shared_key_lite_and_the_pre_2009_form() {
    let query = parse_query("comp=metadata&timeout=20");
    let headers = [
        ("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT"),
        ("Content-Type", "text/plain"),
        ("Content-MD5", "md5"),
        ("Content-Length", "3"),
    ];
    let lite = string_to_sign(SharedKeyScheme::SharedKeyLite, &request(&headers, &query));
    assert_eq!(
        lite,
        "PUT\nmd5\ntext/plain\n\nx-ms-date:Thu, 01 Jan 2026 00:00:00 GMT\n/acct/photos/a%20b.txt?comp=metadata"
    );
    let old = [("x-ms-version", "2009-07-17")];
    assert!(
        string_to_sign(SharedKeyScheme::SharedKey, &request(&old, &query))
            .ends_with("\n/acct/photos/a%20b.txt?comp=metadata")
    );
    // Lite round trip.
    let key = AccountKey::from_bytes(b"k".to_vec());
    let r = request(&headers, &query);
    let header = shared_key::sign(SharedKeyScheme::SharedKeyLite, &r, &key);
    assert!(header.starts_with("SharedKeyLite acct:"));
    let cred = UnverifiedSharedKey::parse(&header).unwrap();
    let now = parse_sas_time("2026-01-01T00:00:00Z").unwrap();
    shared_key::verify(&cred, &r, &[key], now).unwrap();
}

#[test]
fn the_date_must_be_present_and_within_fifteen_minutes() {
    let key = AccountKey::from_bytes(b"k".to_vec());
    let query = Vec::new();
    let at = |t: &str| parse_sas_time(t).unwrap();
    let check = |headers: &[(&str, &str)], now: &str| {
        let r = request(headers, &query);
        let cred =
            UnverifiedSharedKey::parse(&shared_key::sign(SharedKeyScheme::SharedKey, &r, &key))
                .unwrap();
        shared_key::verify(&cred, &r, std::slice::from_ref(&key), at(now))
    };
    let dated = [("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT")];
    check(&dated, "2026-01-01T00:15:00Z").unwrap();
    check(&dated, "2025-12-31T23:45:00Z").unwrap();
    assert_eq!(
        check(&dated, "2026-01-01T00:15:01Z").unwrap_err(),
        AuthError::authentication_failed(
            "Request date header too old: 'Thu, 01 Jan 2026 00:00:00 GMT'"
        )
    );
    assert!(check(&dated, "2025-12-31T23:44:59Z").is_err());
    // `Date` is used when there is no x-ms-date.
    check(
        &[("Date", "Thu, 01 Jan 2026 00:00:00 GMT")],
        "2026-01-01T00:01:00Z",
    )
    .unwrap();
    assert_eq!(
        check(&[], "2026-01-01T00:00:00Z").unwrap_err(),
        AuthError::authentication_failed("Request date header not specified")
    );
    assert!(check(&[("x-ms-date", "yesterday")], "2026-01-01T00:00:00Z").is_err());
}

#[test]
fn authorization_header_parsing() {
    let parsed = UnverifiedSharedKey::parse("SharedKey acct:c2lnbmF0dXJl").unwrap();
    assert_eq!(parsed.scheme, SharedKeyScheme::SharedKey);
    assert_eq!(parsed.account, "acct");
    assert_eq!(parsed.signature, "c2lnbmF0dXJl");
    for bad in [
        "Bearer x",
        "SharedKey",
        "SharedKey acct",
        "SharedKey :sig",
        "SharedKey acct:",
        "sharedkey acct:sig",
        "",
    ] {
        assert_eq!(UnverifiedSharedKey::parse(bad), None, "{bad}");
    }
}

#[test]
fn a_header_naming_another_account_fails_with_the_mac_detail() {
    let key = AccountKey::from_bytes(b"k".to_vec());
    let headers = [("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT")];
    let query = Vec::new();
    let r = request(&headers, &query);
    let cred = UnverifiedSharedKey::parse(&shared_key::sign(SharedKeyScheme::SharedKey, &r, &key))
        .unwrap();
    let other = SignedRequest {
        account: "other",
        ..r
    };
    let e = shared_key::verify(
        &cred,
        &other,
        &[key],
        parse_sas_time("2026-01-01T00:00:00Z").unwrap(),
    )
    .unwrap_err();
    assert!(
        e.authentication_error_detail()
            .unwrap()
            .starts_with("The MAC signature found in the HTTP request")
    );
}
