//! [`Jwk`], [`JwkSet`] and [`KeyRing`].

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::support::key;
use crate::{Jwk, JwkSet, KeyRing, TokenError};

#[test]
fn jwk_has_entras_shape() {
    let jwk = key().jwk();
    let json = serde_json::to_string(&jwk).unwrap();
    let kid = key().kid();
    assert!(
        json.starts_with(&format!(
            r#"{{"kty":"RSA","use":"sig","kid":"{kid}","x5t":"{kid}","n":""#
        )),
        "{json}"
    );
    assert!(json.contains(r#","e":"AQAB","x5c":[""#), "{json}");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["e", "kid", "kty", "n", "use", "x5c", "x5t"]);

    let n = URL_SAFE_NO_PAD.decode(&jwk.n).unwrap();
    assert_eq!(n.len(), 256, "2048-bit modulus without a leading zero byte");
    assert_ne!(n[0], 0);
    assert!(!jwk.n.contains('='));
    assert_eq!(jwk.x5c.len(), 1);
    assert_eq!(
        STANDARD.decode(&jwk.x5c[0]).unwrap(),
        key().certificate_der()
    );
}

#[test]
fn jwks_serializes_as_keys_array_and_issuer_only_when_set() {
    let mut with_issuer = key().jwk();
    with_issuer.issuer = Some("https://login.microsoftonline.com/{tenantid}/v2.0".into());
    let set = JwkSet {
        keys: vec![key().jwk(), with_issuer],
    };
    let value = serde_json::to_value(&set).unwrap();
    let object = value.as_object().unwrap();
    assert_eq!(object.keys().collect::<Vec<_>>(), ["keys"]);
    let keys = object["keys"].as_array().unwrap();
    assert!(keys[0].get("issuer").is_none());
    assert_eq!(
        keys[1]["issuer"],
        "https://login.microsoftonline.com/{tenantid}/v2.0"
    );
    let back: JwkSet = serde_json::from_value(value).unwrap();
    assert_eq!(back, set);
    assert_eq!(
        serde_json::to_string(&JwkSet::default()).unwrap(),
        r#"{"keys":[]}"#
    );
}

#[test]
fn jwk_reads_entras_published_form() {
    // Entra's keys document (reference §3.5), with an extra member we do not model.
    let json = r#"{"kty":"RSA","use":"sig","kid":"k","x5t":"k","n":"AQAB","e":"AQAB",
                   "x5c":["MIIB"],"cloud_instance_name":"microsoftonline.com"}"#;
    let jwk: Jwk = serde_json::from_str(json).unwrap();
    assert_eq!(jwk.use_, "sig");
    assert_eq!(jwk.issuer, None);
}

#[test]
fn key_ring_indexes_rsa_signing_keys_by_kid() {
    let mut encryption_key = key().jwk();
    encryption_key.use_ = "enc".into();
    encryption_key.kid = "enc".into();
    let mut ec_key = key().jwk();
    ec_key.kty = "EC".into();
    ec_key.kid = "ec".into();
    let ring = KeyRing::from_jwks(&JwkSet {
        keys: vec![encryption_key, key().jwk(), ec_key],
    })
    .unwrap();
    assert_eq!(ring.len(), 1);
    assert!(!ring.is_empty());
    assert!(ring.contains(key().kid()));
    assert!(!ring.contains("enc"));
    assert!(!ring.contains("ec"));
    assert!(KeyRing::from_jwks(&JwkSet::default()).unwrap().is_empty());
}

#[test]
fn key_ring_rejects_broken_keys() {
    let duplicate = JwkSet {
        keys: vec![key().jwk(), key().jwk()],
    };
    let mut bad_n = key().jwk();
    bad_n.n = "not base64!".into();
    let mut small_n = key().jwk();
    small_n.n = URL_SAFE_NO_PAD.encode([0xff; 128]);
    let mut zero_e = key().jwk();
    zero_e.e = "AA".into();
    for set in [
        duplicate,
        JwkSet { keys: vec![bad_n] },
        JwkSet {
            keys: vec![small_n],
        },
        JwkSet { keys: vec![zero_e] },
    ] {
        let error = KeyRing::from_jwks(&set).unwrap_err();
        assert!(matches!(error, TokenError::InvalidJwk(_)), "{error:?}");
    }
}
