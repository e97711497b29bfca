//! Property tests: whatever the fields, sign → verify succeeds, and changing any one signed
//! field (or the resource, or the key) makes verification fail.

use azlite_storage_auth::sas::{self, SasFields, SasRequest};
use azlite_storage_auth::shared_key::{self, SharedKeyScheme, SignedRequest, UnverifiedSharedKey};
use azlite_storage_auth::udk::{UserDelegationKeyFields, UserDelegationKeyIssuer};
use azlite_storage_auth::{AccountKey, parse_query, parse_sas_time};
use proptest::prelude::*;

const VERSIONS: &[&str] = &[
    "2015-04-05",
    "2017-04-17",
    "2018-11-09",
    "2019-02-02",
    "2020-02-10",
    "2020-12-06",
    "2025-07-05",
    "2026-04-06",
    "2026-10-06",
];

fn now() -> time::OffsetDateTime {
    parse_sas_time("2026-01-01T12:00:00Z").unwrap()
}

fn text() -> impl Strategy<Value = String> {
    // Printable text, including characters that need percent-encoding.
    "[a-zA-Z0-9 /+=&%,:._~-]{1,12}"
}

#[derive(Debug, Clone)]
struct Case {
    kind: u8,
    fields: SasFields,
    container: String,
    blob: String,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0u8..3,
        prop::sample::select(VERSIONS),
        "[racwdxyltfmeopi]{1,6}",
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        "[a-z0-9]{3,10}",
        "[a-zA-Z0-9 /._-]{1,20}",
    )
        .prop_map(|(kind, sv, sp, rscc, rsct, ses, scid, container, blob)| {
            let mut f = SasFields {
                version: Some(sv.to_string()),
                permissions: Some(sp),
                start: Some("2026-01-01T00:00:00Z".into()),
                expiry: Some("2026-01-02T00:00:00Z".into()),
                protocol: Some("https,http".into()),
                ip: Some("127.0.0.1".into()),
                encryption_scope: ses,
                ..Default::default()
            };
            match kind {
                0 => {
                    f.resource = Some("b".into());
                    f.cache_control = rscc;
                    f.content_type = rsct;
                }
                1 => {
                    f.services = Some("bfqt".into());
                    f.resource_types = Some("sco".into());
                }
                _ => {
                    if f.signed_version().unwrap()
                        < azlite_storage_auth::ServiceVersion::V2018_11_09
                    {
                        f.version = Some("2018-11-09".into());
                    }
                    f.resource = Some("b".into());
                    f.cache_control = rscc;
                    f.correlation_id = scid;
                    f.key_object_id = Some("oid".into());
                    f.key_tenant_id = Some("tid".into());
                    f.key_start = Some("2026-01-01T00:00:00Z".into());
                    f.key_expiry = Some("2026-01-03T00:00:00Z".into());
                    f.key_service = Some("b".into());
                    f.key_version = Some("2026-10-06".into());
                }
            }
            Case {
                kind,
                fields: f,
                container,
                blob,
            }
        })
}

fn issuer() -> UserDelegationKeyIssuer {
    UserDelegationKeyIssuer::new(b"property test secret")
}

fn sign(c: &Case, key: &AccountKey) -> SasFields {
    let mut f = c.fields.clone();
    let resource = format!("/blob/acct/{}/{}", c.container, c.blob);
    match c.kind {
        0 => f.sign_service(key, &resource, "").unwrap(),
        1 => f.sign_account(key, "acct").unwrap(),
        _ => {
            let udk = issuer().derive(&UserDelegationKeyFields {
                account: "acct",
                object_id: "oid",
                tenant_id: "tid",
                start: "2026-01-01T00:00:00Z",
                expiry: "2026-01-03T00:00:00Z",
                service: "b",
                version: "2026-10-06",
                delegated_user_tenant_id: None,
            });
            f.sign_user_delegation(&udk, &resource, "", &[], &[])
                .unwrap()
        }
    }
    f
}

fn verify(f: &SasFields, c: &Case, key: &AccountKey) -> bool {
    let query = parse_query(&f.to_query_string());
    let Some(parsed) = SasFields::from_query(&query).unwrap() else {
        return false;
    };
    let request = SasRequest {
        service: 'b',
        account: "acct",
        container: Some(&c.container),
        blob: Some(&c.blob),
        snapshot_time: None,
        https: true,
        client_ip: "127.0.0.1".parse().unwrap(),
        headers: &[],
        query: &query,
    };
    sas::verify(
        &parsed,
        &request,
        std::slice::from_ref(key),
        Some(&issuer()),
        now(),
    )
    .is_ok()
}

/// The signed fields of each kind that a tamperer could change, as setters.
fn tamper(f: &SasFields, which: usize) -> Option<SasFields> {
    let mut t = f.clone();
    let slot = match which {
        0 => &mut t.permissions,
        1 => &mut t.start,
        2 => &mut t.expiry,
        3 => &mut t.ip,
        4 => &mut t.protocol,
        5 => &mut t.cache_control,
        6 => &mut t.content_type,
        7 => &mut t.services,
        8 => &mut t.resource_types,
        9 => &mut t.key_object_id,
        10 => &mut t.key_expiry,
        11 => &mut t.correlation_id,
        12 => &mut t.encryption_scope,
        _ => &mut t.version,
    };
    let new = match (which, slot.as_deref()) {
        (1, _) => "2025-12-31T00:00:00Z".to_string(),
        (2, _) => "2026-01-01T23:00:00Z".to_string(),
        (3, _) => "127.0.0.0-127.0.0.2".to_string(),
        (4, Some("https,http")) => "https".to_string(),
        (4, _) => "https,http".to_string(),
        (10, _) => "2026-01-02T00:00:00Z".to_string(),
        (13, _) => "2021-04-10".to_string(),
        (_, Some(v)) => format!("{v}x"),
        (_, None) => return None,
    };
    *slot = Some(new);
    Some(t)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn signed_sas_verifies_and_any_change_fails(c in case(), which in 0usize..14) {
        let key = AccountKey::from_bytes(b"the account key".to_vec());
        let f = sign(&c, &key);
        prop_assert!(verify(&f, &c, &key));
        let other = AccountKey::from_bytes(b"another key".to_vec());
        if c.kind != 2 {
            prop_assert!(!verify(&f, &c, &other));
        }
        if let Some(t) = tamper(&f, which) {
            // Fields outside this kind's layout or version are not signed: adding them to
            // a token must not matter for security, and Azure ignores them too; only fields
            // that were present and are signed must break verification.
            let v = f.signed_version().unwrap();
            let signed = match (c.kind, which) {
                (_, 0..=4) | (_, 13) => true,
                (0 | 2, 5 | 6) => true,
                (1, 7 | 8) => true,
                (2, 9 | 10) => true,
                (2, 11) => v >= azlite_storage_auth::ServiceVersion::V2020_02_10,
                (_, 12) => v >= azlite_storage_auth::ServiceVersion::V2020_12_06,
                _ => false,
            };
            if signed {
                prop_assert!(!verify(&t, &c, &key), "tampered field {} still verified", which);
            }
        }
        // Another blob in the same container is another resource.
        if c.kind != 1 {
            let moved = Case { blob: format!("{}2", c.blob), ..c.clone() };
            prop_assert!(!verify(&f, &moved, &key));
        }
    }

    #[test]
    fn shared_key_sign_then_verify(
        method in prop::sample::select(&["GET", "PUT", "DELETE", "HEAD"][..]),
        path in "/[a-z0-9]{3,8}(/[a-zA-Z0-9%._-]{1,10}){0,3}",
        query in proptest::collection::vec(("[a-zA-Z]{1,6}", "[a-zA-Z0-9 ]{0,6}"), 0..4),
        meta in proptest::collection::vec(("[a-z_-]{1,6}", "[a-zA-Z0-9 ]{0,8}"), 0..4),
        lite in any::<bool>(),
        tamper_with in 0usize..4,
    ) {
        let key = AccountKey::from_bytes(b"k".to_vec());
        let query: Vec<(String, String)> = query;
        let mut headers: Vec<(String, String)> = vec![
            ("x-ms-date".into(), "Thu, 01 Jan 2026 12:00:00 GMT".into()),
            ("x-ms-version".into(), "2026-10-06".into()),
            ("Content-Type".into(), "text/plain".into()),
        ];
        for (k, v) in &meta {
            headers.push((format!("x-ms-meta-{k}"), v.clone()));
        }
        let scheme = if lite { SharedKeyScheme::SharedKeyLite } else { SharedKeyScheme::SharedKey };
        let borrowed: Vec<(&str, &str)> = headers.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let request = SignedRequest { method, account: "acct", path: &path, query: &query, headers: &borrowed };
        let header = shared_key::sign(scheme, &request, &key);
        let credential = UnverifiedSharedKey::parse(&header).unwrap();
        prop_assert!(shared_key::verify(&credential, &request, std::slice::from_ref(&key), now()).is_ok());
        // Change the method, the path, a signed header, or the account addressed.
        let other_path = format!("{path}x");
        let mut changed_headers = borrowed.clone();
        changed_headers[2] = ("Content-Type", "text/html");
        let tampered = match tamper_with {
            0 => SignedRequest { method: if method == "GET" { "PUT" } else { "GET" }, ..request },
            1 => SignedRequest { path: &other_path, ..request },
            2 => SignedRequest { headers: &changed_headers, ..request },
            _ => SignedRequest { account: "other", ..request },
        };
        prop_assert!(shared_key::verify(&credential, &tampered, std::slice::from_ref(&key), now()).is_err());
    }
}
