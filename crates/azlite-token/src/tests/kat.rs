//! Known-answer tests against fixtures made with Python `cryptography`
//! (`testdata/generate.py`), so thumbprints, JWK numbers and signatures are checked against
//! an implementation other than the one under test.

use serde_json::Value;

use crate::{
    AccessTokenClaims, ClientCertificate, HeaderStyle, IssuerPolicy, JwkSet, KeyError, KeyRing,
    SigningKey, Validation, verify, verify_client_assertion,
};

const CERT_PEM: &str = include_str!("../../testdata/rsa2048.cert.pem");
const KEY_PEM: &str = include_str!("../../testdata/rsa2048.key.pem");
const PKCS1_KEY_PEM: &str = include_str!("../../testdata/rsa2048.pkcs1.key.pem");
const RSA1024_CERT_PEM: &str = include_str!("../../testdata/rsa1024.cert.pem");
const EC_CERT_PEM: &str = include_str!("../../testdata/ec-p256.cert.pem");
const EXPECTED: &str = include_str!("../../testdata/expected.json");

fn expected() -> Value {
    serde_json::from_str(EXPECTED).unwrap()
}

fn text(name: &str) -> String {
    expected()[name].as_str().unwrap().to_owned()
}

fn fixture_claims() -> AccessTokenClaims {
    serde_json::from_value(expected()["claims"].clone()).unwrap()
}

#[test]
fn fixture_key_thumbprints_and_jwk() {
    let key = SigningKey::from_pem(CERT_PEM, KEY_PEM).unwrap();
    assert_eq!(key.kid(), text("x5t"));
    assert_eq!(key.x5t_s256(), text("x5t_s256"));
    assert_eq!(key.not_before(), expected()["not_before"].as_i64().unwrap());
    assert_eq!(key.not_after(), expected()["not_after"].as_i64().unwrap());
    let jwk = key.jwk();
    assert_eq!(
        (jwk.kid.as_str(), jwk.x5t.as_str()),
        (text("x5t").as_str(), text("x5t").as_str())
    );
    assert_eq!(jwk.n, text("n"));
    assert_eq!(jwk.e, text("e"));
    assert_eq!(jwk.x5c, [text("x5c")]);
}

#[test]
fn pkcs1_private_key_loads_as_the_same_key() {
    let pkcs8 = SigningKey::from_pem(CERT_PEM, KEY_PEM).unwrap();
    let pkcs1 = SigningKey::from_pem(CERT_PEM, PKCS1_KEY_PEM).unwrap();
    assert_eq!(pkcs1.kid(), pkcs8.kid());
    assert!(
        pkcs1
            .private_key_pem()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert_eq!(pkcs1.sign_raw(b"m").unwrap(), pkcs8.sign_raw(b"m").unwrap());
}

#[test]
fn sign_reproduces_independently_made_tokens() {
    // RS256 is deterministic: same key, header and claims JSON give the same bytes.
    let key = SigningKey::from_pem(CERT_PEM, KEY_PEM).unwrap();
    assert_eq!(
        key.sign(&fixture_claims(), HeaderStyle::V1).unwrap(),
        text("v1_token")
    );
    assert_eq!(
        key.sign(&fixture_claims(), HeaderStyle::V2).unwrap(),
        text("v2_token")
    );
}

#[test]
fn verify_accepts_independently_made_tokens() {
    let key = SigningKey::from_pem(CERT_PEM, KEY_PEM).unwrap();
    let ring = KeyRing::from_jwks(&JwkSet {
        keys: vec![key.jwk()],
    })
    .unwrap();
    let validation = Validation::new(
        vec!["https://management.azure.com/".into()],
        IssuerPolicy::AnyEntraTenant,
    );
    let now = fixture_claims().iat + 60;
    for name in ["v1_token", "v2_token"] {
        let verified = verify(&text(name), &ring, &validation, now).unwrap();
        assert_eq!(verified.claims, fixture_claims(), "{name}");
        assert_eq!(verified.kid, text("x5t"));
    }
}

#[test]
fn client_certificate_fixture() {
    let certificate = ClientCertificate::from_pem(CERT_PEM).unwrap();
    assert_eq!(certificate.x5t(), text("x5t"));
    assert_eq!(certificate.x5t_s256(), text("x5t_s256"));
    assert_eq!(certificate.thumbprint_hex(), text("sha1_hex"));
    assert_eq!(
        certificate.not_before(),
        expected()["not_before"].as_i64().unwrap()
    );
    assert_eq!(
        certificate.not_after(),
        expected()["not_after"].as_i64().unwrap()
    );
    let again = ClientCertificate::from_der(certificate.der()).unwrap();
    assert_eq!(again.x5t(), certificate.x5t());
}

#[test]
fn client_certificate_rejects_small_and_non_rsa_keys() {
    let error = ClientCertificate::from_pem(RSA1024_CERT_PEM).unwrap_err();
    assert!(
        matches!(error, KeyError::UnsupportedKeySize { bits: 1024 }),
        "{error:?}"
    );
    let error = ClientCertificate::from_pem(EC_CERT_PEM).unwrap_err();
    assert!(matches!(error, KeyError::NotRsa), "{error:?}");
    let error = ClientCertificate::from_pem(KEY_PEM).unwrap_err();
    assert!(matches!(error, KeyError::Pem(_)), "{error:?}");
    let error = ClientCertificate::from_der(b"\x30\x03\x02\x01\x01").unwrap_err();
    assert!(matches!(error, KeyError::Certificate(_)), "{error:?}");
}

#[test]
fn independently_made_client_assertions_verify() {
    let certificates = [ClientCertificate::from_pem(CERT_PEM).unwrap()];
    let claims = &expected()["assertion_claims"];
    let now = claims["iat"].as_i64().unwrap() + 5;
    for name in [
        "assertion_ps256_x5t_s256",
        "assertion_rs256_x5t",
        "assertion_rs256_kid_hex",
    ] {
        let verified = verify_client_assertion(&text(name), &certificates, now, 300).unwrap();
        assert_eq!(verified.iss, claims["iss"].as_str().unwrap(), "{name}");
        assert_eq!(verified.aud, claims["aud"].as_str().unwrap(), "{name}");
        assert_eq!(verified.thumbprint_sha1, text("x5t"), "{name}");
    }
}
