//! [`verify_client_assertion`] and [`UnverifiedAssertion`] with assertions built by
//! `jsonwebtoken`, as MSAL and the Rust SDK build them (reference §4.2).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::support::{NOW, TENANT, craft, key, other_key, with_payload};
use crate::{
    AssertionError, ClientCertificate, SigningKey, UnverifiedAssertion, verify_client_assertion,
};

const CLIENT_ID: &str = "be5947ed-3560-4afe-9504-59967a63f810";

fn token_endpoint() -> String {
    format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token")
}

fn claims() -> Value {
    json!({
        "aud": token_endpoint(), "iss": CLIENT_ID, "sub": CLIENT_ID,
        "jti": "4f6b3c39-0000-4000-8000-000000000001", "nbf": NOW - 10, "exp": NOW + 600, "iat": NOW - 10,
    })
}

fn certificate(key: &SigningKey) -> ClientCertificate {
    ClientCertificate::from_der(key.certificate_der()).unwrap()
}

/// MSAL Python's preferred form: PS256 with `x5t#S256`.
fn ps256(key: &SigningKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::PS256);
    header.x5t_s256 = Some(key.x5t_s256().into());
    encode(key, &header, claims)
}

/// The Rust SDK's form: RS256 with `x5t`.
fn rs256(key: &SigningKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.x5t = Some(key.kid().into());
    encode(key, &header, claims)
}

fn encode(key: &SigningKey, header: &Header, claims: &Value) -> String {
    let encoding_key = EncodingKey::from_rsa_pem(key.private_key_pem().as_bytes()).unwrap();
    jsonwebtoken::encode(header, claims, &encoding_key).unwrap()
}

fn check(jwt: &str) -> Result<crate::VerifiedAssertion, AssertionError> {
    verify_client_assertion(
        jwt,
        &[certificate(other_key()), certificate(key())],
        NOW,
        300,
    )
}

#[test]
fn rs256_with_x5t_and_ps256_with_x5t_s256_verify() {
    for jwt in [rs256(key(), &claims()), ps256(key(), &claims())] {
        let verified = check(&jwt).unwrap();
        assert_eq!(verified.iss, CLIENT_ID);
        assert_eq!(verified.sub, CLIENT_ID);
        assert_eq!(verified.aud, token_endpoint());
        assert_eq!(verified.exp, NOW + 600);
        assert_eq!(verified.nbf, Some(NOW - 10));
        assert_eq!(
            verified.jti.as_deref(),
            Some("4f6b3c39-0000-4000-8000-000000000001")
        );
        assert_eq!(verified.thumbprint_sha1, key().kid());
    }
}

#[test]
fn kid_may_carry_the_hex_thumbprint() {
    let hex = certificate(key()).thumbprint_hex().to_owned();
    assert_eq!(hex.len(), 40);
    for kid in [hex.clone(), hex.to_uppercase(), key().kid().to_owned()] {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.clone());
        let verified = check(&encode(key(), &header, &claims())).unwrap();
        assert_eq!(verified.thumbprint_sha1, key().kid(), "{kid}");
    }
}

#[test]
fn no_matching_certificate() {
    let only_other = [certificate(other_key())];
    for jwt in [rs256(key(), &claims()), ps256(key(), &claims())] {
        let error = verify_client_assertion(&jwt, &only_other, NOW, 300).unwrap_err();
        assert!(
            matches!(error, AssertionError::NoMatchingCertificate),
            "{error:?}"
        );
    }
    let error = verify_client_assertion(&rs256(key(), &claims()), &[], NOW, 300).unwrap_err();
    assert!(
        matches!(error, AssertionError::NoMatchingCertificate),
        "{error:?}"
    );
    // No thumbprint at all.
    let error = check(&encode(key(), &Header::new(Algorithm::RS256), &claims())).unwrap_err();
    assert!(
        matches!(error, AssertionError::NoMatchingCertificate),
        "{error:?}"
    );
    // The strongest thumbprint decides: a wrong x5t#S256 is not rescued by a right x5t.
    let mut header = Header::new(Algorithm::PS256);
    header.x5t_s256 = Some(other_key().kid().into());
    header.x5t = Some(key().kid().into());
    let error = check(&encode(key(), &header, &claims())).unwrap_err();
    assert!(
        matches!(error, AssertionError::NoMatchingCertificate),
        "{error:?}"
    );
}

#[test]
fn tampered_or_foreign_signatures_fail() {
    let mut forged = claims();
    forged["sub"] = json!("someone-else");
    for jwt in [rs256(key(), &claims()), ps256(key(), &claims())] {
        let error = check(&with_payload(&jwt, &forged)).unwrap_err();
        assert!(
            matches!(error, AssertionError::InvalidSignature),
            "{error:?}"
        );
    }
    // Signed by the other key while naming ours.
    let mut header = Header::new(Algorithm::RS256);
    header.x5t = Some(key().kid().into());
    let error = check(&encode(other_key(), &header, &claims())).unwrap_err();
    assert!(
        matches!(error, AssertionError::InvalidSignature),
        "{error:?}"
    );
    // An RS256 signature relabelled PS256.
    let jwt = rs256(key(), &claims());
    let signature = jwt.rsplit('.').next().unwrap();
    let relabelled = craft(
        &json!({"alg": "PS256", "x5t": key().kid()}),
        &claims(),
        |_| Vec::new(),
    );
    let relabelled = format!("{}{signature}", relabelled);
    let error = check(&relabelled).unwrap_err();
    assert!(
        matches!(error, AssertionError::InvalidSignature),
        "{error:?}"
    );
}

#[test]
fn lifetime_checks() {
    let mut expired = claims();
    expired["exp"] = json!(NOW - 300);
    let error = check(&ps256(key(), &expired)).unwrap_err();
    assert!(
        matches!(error, AssertionError::Expired { exp, now } if exp == NOW - 300 && now == NOW),
        "{error:?}"
    );
    expired["exp"] = json!(NOW - 299);
    assert!(check(&ps256(key(), &expired)).is_ok());

    let mut early = claims();
    early["nbf"] = json!(NOW + 301);
    let error = check(&rs256(key(), &early)).unwrap_err();
    assert!(
        matches!(error, AssertionError::NotYetValid { nbf, .. } if nbf == NOW + 301),
        "{error:?}"
    );
    early["nbf"] = json!(NOW + 300);
    assert!(check(&rs256(key(), &early)).is_ok());

    let mut no_nbf = claims();
    no_nbf.as_object_mut().unwrap().remove("nbf");
    assert_eq!(check(&rs256(key(), &no_nbf)).unwrap().nbf, None);
}

#[test]
fn required_claims() {
    for claim in ["exp", "iss", "sub", "aud"] {
        let mut partial = claims();
        partial.as_object_mut().unwrap().remove(claim);
        let error = check(&rs256(key(), &partial)).unwrap_err();
        assert!(
            matches!(&error, AssertionError::Malformed(m) if m.contains(claim)),
            "{claim}: {error:?}"
        );
    }
    let mut wrong_type = claims();
    wrong_type["iss"] = json!(42);
    let error = check(&rs256(key(), &wrong_type)).unwrap_err();
    assert!(matches!(error, AssertionError::Malformed(_)), "{error:?}");
}

#[test]
fn algorithm_allow_list() {
    let header = json!({"alg": "none", "x5t": key().kid()});
    let error = check(&craft(&header, &claims(), |_| Vec::new())).unwrap_err();
    assert!(matches!(error, AssertionError::AlgorithmNone), "{error:?}");
    for alg in ["HS256", "RS384", "ES256"] {
        let header = json!({"alg": alg, "x5t": key().kid()});
        let error = check(&craft(&header, &claims(), |m| key().sign_raw(m).unwrap())).unwrap_err();
        assert!(
            matches!(&error, AssertionError::AlgorithmNotAllowed(a) if a == alg),
            "{error:?}"
        );
    }
}

#[test]
fn unverified_assertion_exposes_header_and_claims() {
    let parsed = UnverifiedAssertion::parse(&ps256(key(), &claims())).unwrap();
    assert_eq!(parsed.alg, "PS256");
    assert_eq!(parsed.x5t_s256.as_deref(), Some(key().x5t_s256()));
    assert_eq!((parsed.x5t.as_deref(), parsed.kid.as_deref()), (None, None));
    assert_eq!(parsed.iss.as_deref(), Some(CLIENT_ID));
    assert_eq!(parsed.sub.as_deref(), Some(CLIENT_ID));
    assert_eq!(parsed.aud, Some(token_endpoint()));
    assert_eq!((parsed.exp, parsed.nbf), (Some(NOW + 600), Some(NOW - 10)));

    // A one-element aud array and a fractional NumericDate are read leniently.
    let mut lenient = claims();
    lenient["aud"] = json!([token_endpoint()]);
    lenient["exp"] = json!(1_767_226_200.9);
    let parsed = UnverifiedAssertion::parse(&rs256(key(), &lenient)).unwrap();
    assert_eq!(parsed.aud, Some(token_endpoint()));
    assert_eq!(parsed.exp, Some(1_767_226_200));

    for (claim, value) in [
        ("aud", json!(["a", "b"])),
        ("exp", json!("soon")),
        ("jti", json!({})),
    ] {
        let mut bad = claims();
        bad[claim] = value;
        let error = UnverifiedAssertion::parse(&rs256(key(), &bad)).unwrap_err();
        assert!(
            matches!(error, AssertionError::Malformed(_)),
            "{claim}: {error:?}"
        );
    }
    let error = UnverifiedAssertion::parse("a.b").unwrap_err();
    assert!(matches!(error, AssertionError::Malformed(_)), "{error:?}");
}

#[test]
fn padded_thumbprints_match_as_msal_python_sends_them() {
    // MSAL Python encodes thumbprints with base64 padding: `…O4=` (SHA-1, 28 characters).
    let mut header = Header::new(Algorithm::RS256);
    header.x5t = Some(format!("{}=", key().kid()));
    assert!(check(&encode(key(), &header, &claims())).is_ok());
    let mut header = Header::new(Algorithm::PS256);
    header.x5t_s256 = Some(format!("{}=", key().x5t_s256()));
    assert!(check(&encode(key(), &header, &claims())).is_ok());
}
