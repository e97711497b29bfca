//! Signing and verification cost of an Entra-style access token.
//!
//! * `rs256_raw`: one RSASSA-PKCS1-v1_5/SHA-256 signature over a ~500-byte JWT signing input
//!   with the key already parsed: the floor for anything that signs tokens.
//! * `sign_v1_token`: [`SigningKey::sign`] of a fully populated v1 managed-identity token
//!   (JSON, base64url, RS256 through `jsonwebtoken`).
//! * `verify_v1_token`: [`verify`] of that token against a one-key [`KeyRing`].
//!
//! Three more lines break the cost down: `jsonwebtoken_rs256_sign` (the signature step of
//! `sign_v1_token` alone, `EncodingKey` built once), `aws_lc_parse_private_key` (what
//! `jsonwebtoken` 11's aws-lc signer redoes on every call: it parses and checks the RSA key
//! from DER each time) and `rs256_raw_verify` (aws-lc verification with a parsed public key).
//!
//! Run with `cargo bench -p azlite-token --bench signing`.

use std::hint::black_box;
use std::time::Duration;

use azlite_token::{
    AccessTokenClaims, HeaderStyle, IssuerPolicy, JwkSet, KeyRing, SigningKey, Validation, verify,
};
use base64::Engine as _;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey};

const NOW: i64 = 1_767_225_600;
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// Every claim a managed-identity token for ARM carries (reference §3.2).
fn managed_identity_claims() -> AccessTokenClaims {
    let issuer = format!("https://sts.windows.net/{TENANT}/");
    AccessTokenClaims {
        aud: "https://management.azure.com/".into(),
        iss: issuer.clone(),
        iat: NOW - 300,
        nbf: NOW - 300,
        exp: NOW + 86_100,
        aio: Some("k2BgYDhZ9vT/mLq8+K0r2b5yZ1sGAA==".into()),
        appid: Some("be5947ed-3560-4afe-9504-59967a63f810".into()),
        appidacr: Some("2".into()),
        azp: None,
        azpacr: None,
        idp: Some(issuer),
        idtyp: Some("app".into()),
        name: None,
        oid: "11111111-2222-3333-4444-555555555555".into(),
        rh: Some("0.AVEAv4j5cvGGr0GRqy180BHbR0ZIf3kAutdPukPawfj2MBPxAAA.".into()),
        roles: None,
        scp: None,
        sub: "11111111-2222-3333-4444-555555555555".into(),
        tid: TENANT.into(),
        unique_name: None,
        upn: None,
        uti: "cRZ8-NDqNECeq2PmIKW8Ag".into(),
        ver: "1.0".into(),
        xms_mirid: Some(
            "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg1/providers/\
             Microsoft.ManagedIdentity/userAssignedIdentities/id1"
                .into(),
        ),
        xms_tcdt: Some(1_289_241_547),
    }
}

fn signing(c: &mut Criterion) {
    let key = SigningKey::generate("azlite bench", NOW - 3600, NOW + 86_400 * 365)
        .expect("generate signing key");
    let claims = managed_identity_claims();
    let token = key.sign(&claims, HeaderStyle::V1).expect("sign");
    let signing_input = token.rsplit_once('.').expect("three segments").0.to_owned();
    let ring = KeyRing::from_jwks(&JwkSet {
        keys: vec![key.jwk()],
    })
    .expect("key ring");
    let validation = Validation::new(
        vec!["https://management.azure.com/".into()],
        IssuerPolicy::Exact(vec![format!("https://sts.windows.net/{TENANT}/")]),
    );
    verify(&token, &ring, &validation, NOW).expect("the benchmark token verifies");
    println!(
        "signing input: {} bytes, token: {} bytes",
        signing_input.len(),
        token.len()
    );

    // (a) is specified over a ~500-byte signing input; the hash of a few hundred more bytes
    // is noise next to the RSA private-key operation.
    let raw_input = &signing_input.as_bytes()[..500];

    let mut group = c.benchmark_group("access_token");
    group.throughput(Throughput::Elements(1));
    group.bench_function("rs256_raw", |b| {
        b.iter(|| key.sign_raw(black_box(raw_input)).expect("sign_raw"));
    });
    group.bench_function("sign_v1_token", |b| {
        b.iter(|| key.sign(black_box(&claims), HeaderStyle::V1).expect("sign"));
    });
    group.bench_function("verify_v1_token", |b| {
        b.iter(|| verify(black_box(&token), &ring, &validation, NOW).expect("verify"));
    });
    group.finish();

    let encoding_key = EncodingKey::from_rsa_pem(key.private_key_pem().as_bytes()).expect("pem");
    let pkcs8 = pem_body(&key.private_key_pem());
    let (_, certificate) =
        x509_parser::parse_x509_certificate(key.certificate_der()).expect("certificate");
    let public_key = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        certificate.public_key().raw.to_vec(),
    );
    let (_, signature) = token.rsplit_once('.').expect("three segments");
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .expect("b64");

    let mut group = c.benchmark_group("breakdown");
    group.throughput(Throughput::Elements(1));
    group.bench_function("jsonwebtoken_rs256_sign", |b| {
        b.iter(|| {
            jsonwebtoken::crypto::sign(
                black_box(signing_input.as_bytes()),
                &encoding_key,
                Algorithm::RS256,
            )
            .expect("sign")
        });
    });
    group.bench_function("aws_lc_parse_private_key", |b| {
        b.iter(|| aws_lc_rs::rsa::KeyPair::from_pkcs8(black_box(&pkcs8)).expect("parse"));
    });
    group.bench_function("rs256_raw_verify", |b| {
        b.iter(|| {
            public_key
                .verify(black_box(signing_input.as_bytes()), &signature)
                .expect("verify")
        });
    });
    group.finish();
}

fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("pem base64")
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = signing
}
criterion_main!(benches);
