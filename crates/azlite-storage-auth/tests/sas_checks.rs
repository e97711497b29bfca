//! Every SAS check, one at a time, with Azure's error code and detail.

use std::net::IpAddr;

use azlite_storage_auth::sas::{self, BlobOperation, SasFields, SasRequest, SignedScope};
use azlite_storage_auth::udk::{UserDelegationKeyFields, UserDelegationKeyIssuer};
use azlite_storage_auth::{AccountKey, AuthError, parse_query, parse_sas_time};

const ACCOUNT: &str = "acct";

fn key1() -> AccountKey {
    AccountKey::from_bytes(b"key one, 64 bytes in Azure but any length works".to_vec())
}
fn key2() -> AccountKey {
    AccountKey::from_bytes(b"key two".to_vec())
}
fn at(t: &str) -> time::OffsetDateTime {
    parse_sas_time(t).unwrap()
}
fn now() -> time::OffsetDateTime {
    at("2026-01-01T12:00:00Z")
}

fn container_sas(edit: impl FnOnce(&mut SasFields)) -> SasFields {
    let mut f = SasFields {
        version: Some("2015-04-05".into()),
        resource: Some("c".into()),
        permissions: Some("rcw".into()),
        start: Some("2026-01-01T00:00:00Z".into()),
        expiry: Some("2026-01-02T00:00:00Z".into()),
        protocol: Some("https".into()),
        ..Default::default()
    };
    edit(&mut f);
    f.sign_service(&key2(), "/blob/acct/photos", "").unwrap();
    f
}

struct Req {
    container: Option<&'static str>,
    blob: Option<&'static str>,
    https: bool,
    ip: IpAddr,
    service: char,
}

impl Default for Req {
    fn default() -> Self {
        Req {
            container: Some("photos"),
            blob: Some("a.txt"),
            https: true,
            ip: "127.0.0.1".parse().unwrap(),
            service: 'b',
        }
    }
}

fn check(f: &SasFields, r: Req, now: time::OffsetDateTime) -> Result<sas::VerifiedSas, AuthError> {
    // Through the query string and back, as a request would carry it.
    let query = parse_query(&f.to_query_string());
    let fields = SasFields::from_query(&query).unwrap().unwrap();
    assert_eq!(&fields, f);
    let request = SasRequest {
        service: r.service,
        account: ACCOUNT,
        container: r.container,
        blob: r.blob,
        snapshot_time: None,
        https: r.https,
        client_ip: r.ip,
        headers: &[],
        query: &query,
    };
    sas::verify(&fields, &request, &[key1(), key2()], None, now)
}

fn detail(e: AuthError) -> String {
    assert_eq!(e.code(), "AuthenticationFailed");
    e.authentication_error_detail().unwrap().to_owned()
}

#[test]
fn a_container_sas_works_for_its_container_with_either_key() {
    let v = check(&container_sas(|_| {}), Req::default(), now()).unwrap();
    assert_eq!(v.scope, SignedScope::Container);
    assert_eq!(v.authorize(BlobOperation::ReadBlob), Ok(()));
    assert_eq!(
        v.authorize(BlobOperation::WriteBlob { exists: false }),
        Ok(())
    );
    assert_eq!(
        v.authorize(BlobOperation::DeleteBlob),
        Err(AuthError::AuthorizationPermissionMismatch)
    );
    assert_eq!(
        v.authorize(BlobOperation::ListBlobs),
        Err(AuthError::AuthorizationPermissionMismatch)
    );
    assert_eq!(
        v.authorize(BlobOperation::CreateContainer),
        Err(AuthError::AuthorizationFailure)
    );
}

#[test]
fn a_container_sas_on_another_container_does_not_verify() {
    let e = check(
        &container_sas(|_| {}),
        Req {
            container: Some("other"),
            ..Req::default()
        },
        now(),
    )
    .unwrap_err();
    let d = detail(e);
    assert!(d.starts_with("Signature did not match. String to sign used was rcw\n"));
    assert!(d.contains("\n/blob/acct/other\n"), "{d}");
    // Nor at the service level (list containers).
    let e = check(
        &container_sas(|_| {}),
        Req {
            container: None,
            blob: None,
            ..Req::default()
        },
        now(),
    )
    .unwrap_err();
    assert!(detail(e).contains("\n/blob/acct\n"));
}

#[test]
fn time_frame() {
    let f = container_sas(|_| {});
    let e = check(&f, Req::default(), at("2026-01-02T00:00:01Z")).unwrap_err();
    assert_eq!(
        detail(e),
        "Signature not valid in the specified time frame: Start [Thu, 01 Jan 2026 00:00:00 GMT] - Expiry [Fri, 02 Jan 2026 00:00:00 GMT] - Current [Fri, 02 Jan 2026 00:00:01 GMT]"
    );
    let e = check(&f, Req::default(), at("2025-12-31T23:59:59Z")).unwrap_err();
    assert!(detail(e).starts_with("Signature not valid in the specified time frame"));
    // The boundaries themselves are inside.
    check(&f, Req::default(), at("2026-01-02T00:00:00Z")).unwrap();
    check(&f, Req::default(), at("2026-01-01T00:00:00Z")).unwrap();
    let backwards = container_sas(|f| f.start = Some("2026-01-03T00:00:00Z".into()));
    assert_eq!(
        detail(check(&backwards, Req::default(), now()).unwrap_err()),
        "Signed expiry time [Fri, 02 Jan 2026 00:00:00 GMT] must be after signed start time [Sat, 03 Jan 2026 00:00:00 GMT]"
    );
}

#[test]
fn mandatory_and_malformed_fields() {
    let no_expiry = container_sas(|f| f.expiry = None);
    assert_eq!(
        detail(check(&no_expiry, Req::default(), now()).unwrap_err()),
        "se is mandatory. Cannot be empty"
    );
    let no_perm = container_sas(|f| f.permissions = None);
    assert_eq!(
        detail(check(&no_perm, Req::default(), now()).unwrap_err()),
        "sp is mandatory. Cannot be empty"
    );
    let bad_time = container_sas(|f| f.expiry = Some("tomorrow".into()));
    assert_eq!(
        detail(check(&bad_time, Req::default(), now()).unwrap_err()),
        "Signature fields not well formed."
    );
    // Versions before 2015-04-05 cannot be signed here, nor are they accepted.
    let mut old = container_sas(|_| {});
    old.version = Some("2013-08-15".into());
    assert!(detail(check(&old, Req::default(), now()).unwrap_err()).contains("2013-08-15"));
    let policy = container_sas(|f| f.identifier = Some("readers".into()));
    assert_eq!(
        detail(check(&policy, Req::default(), now()).unwrap_err()),
        "The specified signed identifier 'readers' does not exist."
    );
}

#[test]
fn protocol_and_source_ip() {
    let f = container_sas(|_| {});
    let http = Req {
        https: false,
        ..Req::default()
    };
    assert_eq!(
        check(&f, http, now()).unwrap_err(),
        AuthError::AuthorizationProtocolMismatch
    );
    let both = container_sas(|f| f.protocol = Some("https,http".into()));
    check(
        &both,
        Req {
            https: false,
            ..Req::default()
        },
        now(),
    )
    .unwrap();
    let ranged = container_sas(|f| f.ip = Some("10.0.0.5-10.0.0.9".into()));
    for (ip, ok) in [
        ("10.0.0.5", true),
        ("10.0.0.9", true),
        ("::ffff:10.0.0.7", true),
        ("10.0.0.10", false),
        ("10.0.0.4", false),
        ("::1", false),
    ] {
        let r = check(
            &ranged,
            Req {
                ip: ip.parse().unwrap(),
                ..Req::default()
            },
            now(),
        );
        if ok {
            r.unwrap();
        } else {
            let e = r.unwrap_err();
            assert_eq!(e.code(), "AuthorizationSourceIPMismatch");
            assert!(
                e.message().ends_with(&format!("source IP {}.", ip)),
                "{}",
                e.message()
            );
        }
    }
}

fn account_sas(ss: &str, srt: &str, sp: &str, sv: &str) -> SasFields {
    let mut f = SasFields {
        version: Some(sv.into()),
        services: Some(ss.into()),
        resource_types: Some(srt.into()),
        permissions: Some(sp.into()),
        expiry: Some("2026-01-02T00:00:00Z".into()),
        ..Default::default()
    };
    f.sign_account(&key1(), ACCOUNT).unwrap();
    f
}

#[test]
fn account_sas_services_resource_types_and_permissions() {
    let v = check(
        &account_sas("bq", "sc", "rl", "2020-12-06"),
        Req::default(),
        now(),
    )
    .unwrap();
    assert_eq!(v.authorize(BlobOperation::ListContainers), Ok(()));
    assert_eq!(v.authorize(BlobOperation::ListBlobs), Ok(()));
    assert_eq!(
        v.authorize(BlobOperation::ReadBlob),
        Err(AuthError::AuthorizationResourceTypeMismatch)
    );
    assert_eq!(
        v.authorize(BlobOperation::CreateContainer),
        Err(AuthError::AuthorizationPermissionMismatch)
    );
    assert_eq!(
        check(
            &account_sas("qt", "sco", "r", "2015-04-05"),
            Req::default(),
            now()
        )
        .unwrap_err(),
        AuthError::AuthorizationServiceMismatch
    );
    // The signature covers the account: another account's name does not verify.
    let f = account_sas("b", "o", "r", "2015-04-05");
    let query = parse_query(&f.to_query_string());
    let request = SasRequest {
        service: 'b',
        account: "otheracct",
        container: Some("c"),
        blob: Some("b"),
        snapshot_time: None,
        https: true,
        client_ip: "127.0.0.1".parse().unwrap(),
        headers: &[],
        query: &query,
    };
    let e = sas::verify(&f, &request, &[key1()], None, now()).unwrap_err();
    assert!(detail(e).starts_with("Signature did not match. String to sign used was otheracct\n"));
}

#[test]
fn user_delegation_sas_is_checked_against_the_derived_key() {
    let issuer = UserDelegationKeyIssuer::new(b"server secret");
    let mut f = SasFields {
        version: Some("2026-10-06".into()),
        resource: Some("b".into()),
        permissions: Some("r".into()),
        expiry: Some("2026-01-02T00:00:00Z".into()),
        key_object_id: Some("oid".into()),
        key_tenant_id: Some("tid".into()),
        key_start: Some("2026-01-01T00:00:00Z".into()),
        key_expiry: Some("2026-01-01T13:00:00Z".into()),
        key_service: Some("b".into()),
        key_version: Some("2026-10-06".into()),
        ..Default::default()
    };
    let key = issuer.derive(&UserDelegationKeyFields {
        account: ACCOUNT,
        object_id: "oid",
        tenant_id: "tid",
        start: "2026-01-01T00:00:00Z",
        expiry: "2026-01-01T13:00:00Z",
        service: "b",
        version: "2026-10-06",
        delegated_user_tenant_id: None,
    });
    f.sign_user_delegation(&key, "/blob/acct/photos/a.txt", "", &[], &[])
        .unwrap();
    let query = parse_query(&f.to_query_string());
    let request = |t: &'static str| SasRequest {
        service: 'b',
        account: ACCOUNT,
        container: Some("photos"),
        blob: Some(t),
        snapshot_time: None,
        https: true,
        client_ip: "127.0.0.1".parse().unwrap(),
        headers: &[],
        query: &query,
    };
    let v = sas::verify(&f, &request("a.txt"), &[], Some(&issuer), now()).unwrap();
    assert_eq!(v.delegation().unwrap().object_id, "oid");
    assert_eq!(v.authorize(BlobOperation::ReadBlob), Ok(()));
    // Another blob, another issuer secret, or no issuer at all: refused.
    assert!(sas::verify(&f, &request("b.txt"), &[], Some(&issuer), now()).is_err());
    let other = UserDelegationKeyIssuer::new(b"rotated");
    assert!(sas::verify(&f, &request("a.txt"), &[], Some(&other), now()).is_err());
    assert!(sas::verify(&f, &request("a.txt"), &[key1()], None, now()).is_err());
    // The key's own validity ends before the SAS's.
    let e = sas::verify(
        &f,
        &request("a.txt"),
        &[],
        Some(&issuer),
        at("2026-01-01T13:00:01Z"),
    )
    .unwrap_err();
    assert!(detail(e).starts_with("The user delegation key is not valid"));
    // Changing skoid (claiming another signer) breaks the signature.
    let mut forged = f.clone();
    forged.key_object_id = Some("admin".into());
    assert!(sas::verify(&forged, &request("a.txt"), &[], Some(&issuer), now()).is_err());
}
