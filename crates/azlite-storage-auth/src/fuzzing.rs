//! Harnesses for the fuzz targets `storage_sas` and `storage_shared_key` (`fuzz/` at the
//! repository root), kept here so that the crate's tests replay the committed corpus on
//! every run. Each takes arbitrary bytes, must never panic, and asserts the invariants that
//! hold for any input.

use std::net::{IpAddr, Ipv4Addr};

use crate::keys::AccountKey;
use crate::sas::{self, SasFields, SasRequest};
use crate::shared_key::{self, SharedKeyScheme, SignedRequest, UnverifiedSharedKey};
use crate::times::parse_sas_time;
use crate::udk::UserDelegationKeyIssuer;

fn now() -> time::OffsetDateTime {
    parse_sas_time("2026-01-01T12:00:00Z").unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Input: line 1 a query string, line 2 the container, line 3 the blob.
pub fn sas(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let raw_query = lines.next().unwrap_or("");
    let container = lines.next().filter(|s| !s.is_empty());
    let blob = lines.next().filter(|s| !s.is_empty());
    let query = sas::parse_query(raw_query);
    let Ok(Some(fields)) = SasFields::from_query(&query) else {
        return;
    };
    // What we write, we read back the same (empty values are dropped when writing).
    let reparsed = SasFields::from_query(&sas::parse_query(&fields.to_query_string()));
    if let Ok(Some(reparsed)) = reparsed {
        let non_empty = |f: &SasFields| {
            let mut f = f.clone();
            for slot in f.slots_mut() {
                if slot.as_deref() == Some("") {
                    *slot = None;
                }
            }
            f
        };
        assert_eq!(non_empty(&reparsed), non_empty(&fields));
    }
    let keys = [AccountKey::from_bytes(b"fuzz key".to_vec())];
    let issuer = UserDelegationKeyIssuer::new(b"fuzz secret");
    let request = SasRequest {
        service: 'b',
        account: "acct",
        container,
        blob,
        snapshot_time: None,
        https: data.len().is_multiple_of(2),
        client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        headers: &[],
        query: &query,
    };
    if let Ok(verified) = sas::verify(&fields, &request, &keys, Some(&issuer), now()) {
        // Only a correctly signed token verifies, and fuzzing cannot forge HMAC-SHA256: a
        // success here means the input reproduced a signature, which is a bug.
        panic!("a fuzzed SAS verified: {verified:?}");
    }
    // Signing the fields as each kind, then verifying, succeeds or fails without panicking.
    let mut signed = fields.clone();
    let resource = match (container, blob) {
        (Some(c), Some(b)) => format!("/blob/acct/{c}/{b}"),
        (Some(c), None) => format!("/blob/acct/{c}"),
        _ => "/blob/acct".to_owned(),
    };
    if signed.sign_service(&keys[0], &resource, "").is_ok() {
        let _ = sas::verify(&signed, &request, &keys, Some(&issuer), now());
    }
    if signed.sign_account(&keys[0], "acct").is_ok() {
        let _ = sas::verify(&signed, &request, &keys, Some(&issuer), now());
    }
}

/// Input: line 1 the `Authorization` value, line 2 the method, line 3 the path, line 4 the
/// query, then `name: value` header lines.
pub fn shared_key(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let authorization = lines.next().unwrap_or("");
    let method = lines.next().unwrap_or("GET");
    let path = lines.next().unwrap_or("/");
    let query = sas::parse_query(lines.next().unwrap_or(""));
    let headers: Vec<(&str, &str)> = lines.filter_map(|l| l.split_once(':')).collect();
    let request = SignedRequest {
        method,
        account: "acct",
        path,
        query: &query,
        headers: &headers,
    };
    let key = AccountKey::from_bytes(b"fuzz key".to_vec());
    for scheme in [SharedKeyScheme::SharedKey, SharedKeyScheme::SharedKeyLite] {
        let _ = shared_key::string_to_sign(scheme, &request);
    }
    if let Some(credential) = UnverifiedSharedKey::parse(authorization) {
        assert!(
            shared_key::verify(&credential, &request, std::slice::from_ref(&key), now()).is_err(),
            "a fuzzed Shared Key header verified"
        );
    }
    // Our own signature over the same request verifies, unless the date is out of bounds.
    let header = shared_key::sign(SharedKeyScheme::SharedKey, &request, &key);
    let credential = UnverifiedSharedKey::parse(&header);
    if let Some(credential) = credential {
        match shared_key::verify(&credential, &request, std::slice::from_ref(&key), now()) {
            Ok(()) => {}
            Err(e) => assert!(
                !e.authentication_error_detail()
                    .unwrap_or("")
                    .starts_with("The MAC signature"),
                "our own signature did not verify: {e:?}"
            ),
        }
    }
}
