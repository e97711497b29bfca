//! [`SigningKey`]: generation, PEM round trip, thumbprints, headers and raw signatures.

use aws_lc_rs::digest;
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::support::{NOW, key, key_ring, mi_claims, other_key, validation};
use crate::{HeaderStyle, KeyError, SigningKey, TokenError, verify};

fn header_json(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    String::from_utf8(URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

#[test]
fn generate_sets_common_name_and_validity() {
    let (_, certificate) = x509_parser::parse_x509_certificate(key().certificate_der()).unwrap();
    assert_eq!(certificate.subject().to_string(), "CN=azlite test key");
    assert_eq!(certificate.issuer().to_string(), "CN=azlite test key");
    assert_eq!(certificate.validity().not_before.timestamp(), NOW - 86_400);
    assert_eq!(
        certificate.validity().not_after.timestamp(),
        NOW + 86_400 * 365
    );
    assert_eq!(key().not_before(), NOW - 86_400);
    assert_eq!(key().not_after(), NOW + 86_400 * 365);
    assert_eq!(certificate.public_key().parsed().unwrap().key_size(), 2048);
}

#[test]
fn generate_rejects_an_empty_validity_period() {
    for (not_before, not_after) in [(NOW, NOW), (NOW, NOW - 1), (NOW, i64::MAX)] {
        let error = SigningKey::generate("x", not_before, not_after).unwrap_err();
        assert!(
            matches!(error, KeyError::InvalidValidity { .. }),
            "{error:?}"
        );
    }
}

#[test]
fn pem_round_trip_keeps_kid_and_key() {
    let original = key();
    let loaded =
        SigningKey::from_pem(&original.certificate_pem(), &original.private_key_pem()).unwrap();
    assert_eq!(loaded.kid(), original.kid());
    assert_eq!(loaded.x5t_s256(), original.x5t_s256());
    assert_eq!(loaded.certificate_der(), original.certificate_der());
    assert_eq!(loaded.certificate_pem(), original.certificate_pem());
    assert_eq!(loaded.private_key_pem(), original.private_key_pem());
    assert_eq!(loaded.jwk(), original.jwk());
    assert_eq!(loaded.not_after(), original.not_after());
    assert!(
        original
            .private_key_pem()
            .starts_with("-----BEGIN PRIVATE KEY-----\n")
    );
    // The reloaded key signs tokens the original's JWKS verifies.
    let token = loaded.sign(&mi_claims(), HeaderStyle::V1).unwrap();
    assert!(verify(&token, &key_ring(), &validation(), NOW).is_ok());
}

#[test]
fn kid_is_base64url_sha1_of_the_certificate_der() {
    // Recover the DER from the PEM text by hand rather than through the key's own accessor.
    let pem = key().certificate_pem();
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(body).unwrap();
    assert_eq!(der, key().certificate_der());

    let sha1 = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
    assert_eq!(key().kid(), URL_SAFE_NO_PAD.encode(sha1));
    assert_eq!(key().kid().len(), 27);
    let sha256 = digest::digest(&digest::SHA256, &der);
    assert_eq!(key().x5t_s256(), URL_SAFE_NO_PAD.encode(sha256));
    assert_ne!(key().kid(), other_key().kid());
}

#[test]
fn thumbprint_encoding_known_answer() {
    // SHA-1("abc") = a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d (FIPS 180-2, appendix A.1).
    assert_eq!(
        crate::encoding::thumbprint_sha1(b"abc"),
        "qZk-NkcGgWq6PiVxeFDCbJzQ2J0"
    );
    assert_eq!(
        crate::encoding::thumbprint_sha1_hex(b"abc"),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
}

#[test]
fn from_pem_rejects_a_key_that_does_not_match_the_certificate() {
    let error =
        SigningKey::from_pem(&key().certificate_pem(), &other_key().private_key_pem()).unwrap_err();
    assert!(matches!(error, KeyError::KeyMismatch), "{error:?}");
}

#[test]
fn from_pem_rejects_garbage_and_swapped_blocks() {
    let error = SigningKey::from_pem("not pem", &key().private_key_pem()).unwrap_err();
    assert!(matches!(error, KeyError::Pem(_)), "{error:?}");
    let error =
        SigningKey::from_pem(&key().private_key_pem(), &key().certificate_pem()).unwrap_err();
    assert!(matches!(error, KeyError::Pem(_)), "{error:?}");
    let error =
        SigningKey::from_pem(&key().certificate_pem(), &key().certificate_pem()).unwrap_err();
    assert!(matches!(error, KeyError::Pem(_)), "{error:?}");
    let broken_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    let error = SigningKey::from_pem(&key().certificate_pem(), broken_key).unwrap_err();
    assert!(matches!(error, KeyError::PrivateKey(_)), "{error:?}");
}

#[test]
fn debug_redacts_the_private_key() {
    let debug = format!("{:?}", key());
    assert!(debug.contains(key().kid()));
    assert!(debug.contains("[redacted]"));
    let key_pem = key().private_key_pem();
    let key_body_line = key_pem.lines().nth(1).unwrap();
    assert!(!debug.contains(key_body_line));
    assert!(!debug.contains("PRIVATE KEY"));
}

#[test]
fn header_styles_match_entra() {
    let kid = key().kid();
    let v1 = key().sign(&mi_claims(), HeaderStyle::V1).unwrap();
    assert_eq!(
        header_json(&v1),
        format!(r#"{{"typ":"JWT","alg":"RS256","x5t":"{kid}","kid":"{kid}"}}"#)
    );
    let v2 = key().sign(&mi_claims(), HeaderStyle::V2).unwrap();
    assert_eq!(
        header_json(&v2),
        format!(r#"{{"typ":"JWT","alg":"RS256","kid":"{kid}"}}"#)
    );
}

#[test]
fn sign_writes_claims_in_declared_order_without_empty_options() {
    let token = key().sign(&mi_claims(), HeaderStyle::V1).unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let json = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(
        json.starts_with(r#"{"aud":"https://management.azure.com/","iss":"#),
        "{json}"
    );
    assert!(json.ends_with(r#","ver":"1.0","xms_mirid":"/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1","xms_tcdt":1289241547}"#), "{json}");
    for absent in [
        "azp",
        "azpacr",
        "name",
        "roles",
        "scp",
        "unique_name",
        "upn",
    ] {
        assert!(
            !json.contains(&format!("\"{absent}\"")),
            "{absent} in {json}"
        );
    }
}

#[test]
fn sign_signature_equals_raw_rs256_of_the_signing_input() {
    // PKCS#1 v1.5 is deterministic, so the JWT path and the raw path must agree exactly.
    let token = key().sign(&mi_claims(), HeaderStyle::V2).unwrap();
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let raw = key().sign_raw(signing_input.as_bytes()).unwrap();
    assert_eq!(URL_SAFE_NO_PAD.encode(&raw), signature);

    let (_, certificate) = x509_parser::parse_x509_certificate(key().certificate_der()).unwrap();
    let public_key =
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, certificate.public_key().raw);
    assert!(public_key.verify(signing_input.as_bytes(), &raw).is_ok());
    assert!(public_key.verify(b"something else", &raw).is_err());
}

#[test]
fn sign_refuses_claims_that_are_not_a_json_object() {
    let error = key().sign(&"just a string", HeaderStyle::V1).unwrap_err();
    assert!(matches!(error, TokenError::Signing { .. }), "{error:?}");
    let error = key().sign(&[1, 2, 3], HeaderStyle::V1).unwrap_err();
    assert!(matches!(error, TokenError::Signing { .. }), "{error:?}");
}

#[test]
fn clones_share_the_key() {
    let clone = key().clone();
    assert_eq!(clone.kid(), key().kid());
    assert_eq!(clone.sign_raw(b"m").unwrap(), key().sign_raw(b"m").unwrap());
}
