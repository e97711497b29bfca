//! [`verify`]: every [`TokenError`] variant from a crafted token, and the leeway boundaries.

use aws_lc_rs::hmac;
use serde_json::json;

use super::support::{
    AUDIENCE, NOW, TENANT, craft, key, key_ring, mi_claims, other_key, public_key_pem, v1_issuer,
    validation, with_payload,
};
use crate::encoding::{b64url, b64url_decode};
use crate::{
    AccessTokenClaims, HeaderStyle, IssuerPolicy, TokenError, Validation, VerifiedToken, verify,
};

fn sign(claims: &AccessTokenClaims) -> String {
    key().sign(claims, HeaderStyle::V1).unwrap()
}

fn check(token: &str) -> Result<VerifiedToken, TokenError> {
    verify(token, &key_ring(), &validation(), NOW)
}

fn check_claims(claims: &AccessTokenClaims) -> Result<VerifiedToken, TokenError> {
    check(&sign(claims))
}

#[test]
fn signed_tokens_verify_v1_and_v2() {
    for style in [HeaderStyle::V1, HeaderStyle::V2] {
        let token = key().sign(&mi_claims(), style).unwrap();
        let verified = check(&token).unwrap();
        assert_eq!(verified.kid, key().kid());
        assert_eq!(verified.claims, mi_claims());
    }
}

#[test]
fn tampered_payload_fails_the_signature() {
    let token = sign(&mi_claims());
    assert!(check(&token).is_ok());
    // Flip one claim inside the signed JSON, keep header and signature.
    let (header, rest) = token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let json = String::from_utf8(b64url_decode(payload).unwrap()).unwrap();
    let flipped = json.replace(r#""appidacr":"2""#, r#""appidacr":"0""#);
    assert_ne!(flipped, json);
    let tampered = format!("{header}.{}.{signature}", b64url(flipped.as_bytes()));
    let error = check(&tampered).unwrap_err();
    assert!(matches!(error, TokenError::InvalidSignature), "{error:?}");

    let mut claims = mi_claims();
    claims.roles = Some(vec!["Owner".into()]);
    let error = check(&with_payload(&token, &claims)).unwrap_err();
    assert!(matches!(error, TokenError::InvalidSignature), "{error:?}");
}

#[test]
fn alg_none_is_rejected_in_any_case() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"typ": "JWT", "alg": alg, "kid": key().kid()});
        let token = craft(&header, &mi_claims(), |_| Vec::new());
        assert!(token.ends_with('.'), "hand-built unsigned token: {token}");
        assert!(token.starts_with("eyJ"));
        let error = check(&token).unwrap_err();
        assert!(
            matches!(error, TokenError::AlgorithmNone),
            "{alg}: {error:?}"
        );
    }
}

#[test]
fn hs256_signed_with_the_public_key_is_rejected() {
    // The classic key-confusion attack: HMAC keyed with the published RSA public key.
    let kid = key().kid();
    let pem = public_key_pem(key());
    let secrets: [&[u8]; 2] = [pem.as_bytes(), key().certificate_der()];
    for secret in secrets {
        let hmac_key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let mac = |message: &[u8]| hmac::sign(&hmac_key, message).as_ref().to_vec();
        let token = craft(
            &json!({"typ": "JWT", "alg": "HS256", "kid": kid}),
            &mi_claims(),
            mac,
        );
        let error = check(&token).unwrap_err();
        assert!(
            matches!(&error, TokenError::AlgorithmNotAllowed(alg) if alg == "HS256"),
            "{error:?}"
        );
        // Relabelled RS256, the HMAC is just a wrong signature.
        let token = craft(
            &json!({"typ": "JWT", "alg": "RS256", "kid": kid}),
            &mi_claims(),
            mac,
        );
        let error = check(&token).unwrap_err();
        assert!(matches!(error, TokenError::InvalidSignature), "{error:?}");
    }
}

#[test]
fn algorithms_other_than_rs256_are_not_allowed() {
    for alg in ["PS256", "RS512", "ES256", "HS512", "EdDSA", "rs256", ""] {
        let token = craft(
            &json!({"alg": alg, "kid": key().kid()}),
            &mi_claims(),
            |m| key().sign_raw(m).unwrap(),
        );
        let error = check(&token).unwrap_err();
        assert!(
            matches!(&error, TokenError::AlgorithmNotAllowed(a) if a == alg),
            "{alg}: {error:?}"
        );
    }
}

#[test]
fn key_selection_errors() {
    let sign_with = |kid: Option<&str>| {
        let header = match kid {
            Some(kid) => json!({"typ": "JWT", "alg": "RS256", "kid": kid}),
            None => json!({"typ": "JWT", "alg": "RS256", "x5t": key().kid()}),
        };
        craft(&header, &mi_claims(), |m| key().sign_raw(m).unwrap())
    };
    let error = check(&sign_with(None)).unwrap_err();
    assert!(matches!(error, TokenError::MissingKeyId), "{error:?}");
    let error = check(&sign_with(Some("nope"))).unwrap_err();
    assert!(
        matches!(&error, TokenError::UnknownKey(kid) if kid == "nope"),
        "{error:?}"
    );
    assert!(check(&sign_with(Some(key().kid()))).is_ok());

    // A token from a key the resource does not know.
    let foreign = other_key().sign(&mi_claims(), HeaderStyle::V1).unwrap();
    let error = check(&foreign).unwrap_err();
    assert!(
        matches!(&error, TokenError::UnknownKey(kid) if kid == other_key().kid()),
        "{error:?}"
    );
    // The other key claiming our kid: a wrong signature.
    let forged = craft(
        &json!({"alg": "RS256", "kid": key().kid()}),
        &mi_claims(),
        |m| other_key().sign_raw(m).unwrap(),
    );
    let error = check(&forged).unwrap_err();
    assert!(matches!(error, TokenError::InvalidSignature), "{error:?}");
}

#[test]
fn expired_and_not_yet_valid() {
    let mut claims = mi_claims();
    claims.exp = NOW - 3600;
    let error = check_claims(&claims).unwrap_err();
    assert!(
        matches!(error, TokenError::Expired { exp, now } if exp == NOW - 3600 && now == NOW),
        "{error:?}"
    );

    let mut claims = mi_claims();
    claims.nbf = NOW + 3600;
    let error = check_claims(&claims).unwrap_err();
    assert!(
        matches!(error, TokenError::NotYetValid { nbf, now } if nbf == NOW + 3600 && now == NOW),
        "{error:?}"
    );
}

#[test]
fn leeway_boundaries() {
    let with_times = |exp, nbf| {
        let mut claims = mi_claims();
        claims.exp = exp;
        claims.nbf = nbf;
        claims
    };
    assert_eq!(validation().leeway_seconds, 300);
    // exp <= now - leeway is expired; one second later is not.
    assert!(matches!(
        check_claims(&with_times(NOW - 300, NOW - 600)),
        Err(TokenError::Expired { .. })
    ));
    assert!(check_claims(&with_times(NOW - 299, NOW - 600)).is_ok());
    // nbf > now + leeway is not yet valid; exactly now + leeway is.
    assert!(check_claims(&with_times(NOW + 900, NOW + 300)).is_ok());
    assert!(matches!(
        check_claims(&with_times(NOW + 900, NOW + 301)),
        Err(TokenError::NotYetValid { .. })
    ));

    let strict = Validation {
        leeway_seconds: 0,
        ..validation()
    };
    let at = |claims: &AccessTokenClaims| verify(&sign(claims), &key_ring(), &strict, NOW);
    assert!(matches!(
        at(&with_times(NOW, NOW - 1)),
        Err(TokenError::Expired { .. })
    ));
    assert!(at(&with_times(NOW + 1, NOW)).is_ok());
    assert!(matches!(
        at(&with_times(NOW + 2, NOW + 1)),
        Err(TokenError::NotYetValid { .. })
    ));
}

#[test]
fn audience_must_match_exactly() {
    for aud in [
        "https://management.azure.com",
        "HTTPS://MANAGEMENT.AZURE.COM/",
        "https://vault.azure.net",
    ] {
        let mut claims = mi_claims();
        claims.aud = aud.into();
        let error = check_claims(&claims).unwrap_err();
        assert!(
            matches!(&error, TokenError::InvalidAudience(a) if a == aud),
            "{error:?}"
        );
    }
    let both = Validation::new(
        vec![AUDIENCE.into(), AUDIENCE.trim_end_matches('/').into()],
        IssuerPolicy::Exact(vec![v1_issuer(TENANT)]),
    );
    let mut claims = mi_claims();
    claims.aud = "https://management.azure.com".into();
    assert!(verify(&sign(&claims), &key_ring(), &both, NOW).is_ok());
}

#[test]
fn issuer_exact_policy() {
    let mut claims = mi_claims();
    claims.iss = v1_issuer("00000000-0000-0000-0000-000000000000");
    let error = check_claims(&claims).unwrap_err();
    assert!(
        matches!(&error, TokenError::InvalidIssuer(iss) if *iss == claims.iss),
        "{error:?}"
    );
}

#[test]
fn issuer_any_entra_tenant_policy() {
    let any = Validation::new(vec![AUDIENCE.into()], IssuerPolicy::AnyEntraTenant);
    let with = |iss: String, tid: &str| {
        let mut claims = mi_claims();
        claims.iss = iss;
        claims.tid = tid.into();
        verify(&sign(&claims), &key_ring(), &any, NOW)
    };
    let upper = TENANT.to_uppercase();
    assert!(with(v1_issuer(TENANT), TENANT).is_ok());
    assert!(
        with(
            format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
            TENANT
        )
        .is_ok()
    );
    assert!(with(v1_issuer(&upper), &upper).is_ok());
    let other = "00000000-0000-0000-0000-000000000000";
    let rejected = [
        (v1_issuer(other), TENANT.to_owned()),
        (
            format!("https://login.microsoftonline.com/{other}/v2.0"),
            TENANT.to_owned(),
        ),
        (v1_issuer("common"), "common".to_owned()),
        (
            v1_issuer(&TENANT.replace('-', "x")),
            TENANT.replace('-', "x"),
        ),
        (
            format!("https://sts.windows.net/{TENANT}"),
            TENANT.to_owned(),
        ),
        (
            format!("https://login.microsoftonline.com/{TENANT}/v2.0/"),
            TENANT.to_owned(),
        ),
        (
            format!("http://sts.windows.net/{TENANT}/"),
            TENANT.to_owned(),
        ),
        (format!("https://evil.example/{TENANT}/"), TENANT.to_owned()),
    ];
    for (iss, tid) in rejected {
        let error = with(iss.clone(), &tid).unwrap_err();
        assert!(
            matches!(&error, TokenError::InvalidIssuer(i) if *i == iss),
            "{iss}: {error:?}"
        );
    }
}

/// The signature cache skips only the RSA operation, for the exact bytes it saw verified:
/// a tampered token, a key gone from the ring, a lapsed lifetime or another audience fail as
/// without the cache, and a token is never cached before its signature verified.
#[test]
fn the_signature_cache_changes_no_answer() {
    use crate::{KeyRing, SignatureCache, verify_with_cache};

    let cache = SignatureCache::default();
    let cached = |token: &str, keys: &KeyRing, validation: &Validation, now| {
        verify_with_cache(token, keys, validation, now, &cache)
    };
    let token = sign(&mi_claims());
    for _ in 0..3 {
        let verified = cached(&token, &key_ring(), &validation(), NOW).unwrap();
        assert_eq!(verified, check(&token).unwrap());
    }

    // Same header and signature, another payload: other bytes, so verified again (and refused).
    let mut claims = mi_claims();
    claims.roles = Some(vec!["Owner".into()]);
    let tampered = with_payload(&token, &claims);
    for _ in 0..2 {
        let error = cached(&tampered, &key_ring(), &validation(), NOW).unwrap_err();
        assert!(matches!(error, TokenError::InvalidSignature), "{error:?}");
    }
    // A forged token is not remembered as verified after it failed.
    let forged = craft(
        &json!({"alg": "RS256", "kid": key().kid()}),
        &mi_claims(),
        |m| other_key().sign_raw(m).unwrap(),
    );
    for _ in 0..2 {
        let error = cached(&forged, &key_ring(), &validation(), NOW).unwrap_err();
        assert!(matches!(error, TokenError::InvalidSignature), "{error:?}");
    }

    // The cached token's key retired from the ring: unknown, as without the cache.
    let error = cached(&token, &KeyRing::default(), &validation(), NOW).unwrap_err();
    assert!(matches!(error, TokenError::UnknownKey(_)), "{error:?}");
    // Later than its lifetime: expired.
    let later = mi_claims().exp + 3600;
    let error = cached(&token, &key_ring(), &validation(), later).unwrap_err();
    assert!(matches!(error, TokenError::Expired { .. }), "{error:?}");
    // Another resource's audience.
    let other = Validation::new(vec!["https://other".into()], IssuerPolicy::AnyEntraTenant);
    let error = cached(&token, &key_ring(), &other, NOW).unwrap_err();
    assert!(matches!(error, TokenError::InvalidAudience(_)), "{error:?}");
}
