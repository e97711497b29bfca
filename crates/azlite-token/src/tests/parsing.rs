//! Parsing: malformed tokens, the order of checks in [`verify`], claim types and error text.

use serde_json::json;

use super::support::{NOW, craft, key, key_ring, mi_claims, validation, with_payload};
use crate::{AccessTokenClaims, HeaderStyle, TokenError, VerifiedToken, verify};

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
fn malformed_tokens() {
    let token = sign(&mi_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let mut missing_oid = serde_json::to_value(mi_claims()).unwrap();
    missing_oid.as_object_mut().unwrap().remove("oid");
    let mut string_exp = serde_json::to_value(mi_claims()).unwrap();
    string_exp["exp"] = json!("1767229200");
    let header = json!({"alg": "RS256", "kid": key().kid()});
    let rs256 = |m: &[u8]| key().sign_raw(m).unwrap();
    let cases = [
        String::new(),
        parts[..2].join("."),
        format!("{token}.{}", parts[2]),
        format!("{}.{}.sig+nature", parts[0], parts[1]),
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!("e30.{}.{}", parts[1], parts[2]),
        craft(&header, &missing_oid, rs256),
        craft(&header, &string_exp, rs256),
        craft(&header, &json!([1, 2]), rs256),
        craft(&json!(["RS256"]), &mi_claims(), rs256),
        craft(
            &json!({"alg": "RS256", "kid": key().kid(), "crit": ["b64"]}),
            &mi_claims(),
            rs256,
        ),
        craft(
            &json!({"alg": 256, "kid": key().kid()}),
            &mi_claims(),
            rs256,
        ),
        format!("{}.{}.{}", parts[0], "A".repeat(70_000), parts[2]),
    ];
    for (index, case) in cases.iter().enumerate() {
        let error = check(case).unwrap_err();
        assert!(
            matches!(error, TokenError::Malformed(_)),
            "case {index}: {error:?}"
        );
    }
}

#[test]
fn checks_run_in_the_documented_order() {
    // Expired and for another audience and issuer: time is reported first.
    let mut claims = mi_claims();
    claims.exp = NOW - 3600;
    claims.aud = "other".into();
    claims.iss = "other".into();
    assert!(matches!(
        check_claims(&claims),
        Err(TokenError::Expired { .. })
    ));
    // Wrong audience and issuer: audience first.
    claims.exp = NOW + 3600;
    assert!(matches!(
        check_claims(&claims),
        Err(TokenError::InvalidAudience(_))
    ));
    // Unsigned and unknown kid: the algorithm first.
    let token = craft(
        &json!({"alg": "none", "kid": "unknown"}),
        &mi_claims(),
        |_| Vec::new(),
    );
    assert!(matches!(check(&token), Err(TokenError::AlgorithmNone)));
    // Tampered and expired: the signature first.
    let token = with_payload(&sign(&mi_claims()), &claims);
    assert!(matches!(check(&token), Err(TokenError::InvalidSignature)));
}

#[test]
fn xms_tcdt_reads_a_number_or_a_numeric_string() {
    let mut value = serde_json::to_value(mi_claims()).unwrap();
    value["xms_tcdt"] = json!("1289241547");
    let claims: AccessTokenClaims = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(claims.xms_tcdt, Some(1_289_241_547));
    value["xms_tcdt"] = json!("soon");
    assert!(serde_json::from_value::<AccessTokenClaims>(value.clone()).is_err());
    value.as_object_mut().unwrap().remove("xms_tcdt");
    let claims: AccessTokenClaims = serde_json::from_value(value).unwrap();
    assert_eq!(claims.xms_tcdt, None);
}

#[test]
fn error_messages_are_fit_for_a_401_body() {
    let errors = [
        TokenError::Malformed("expected three '.'-separated segments".into()),
        TokenError::AlgorithmNone,
        TokenError::AlgorithmNotAllowed("HS256".into()),
        TokenError::MissingKeyId,
        TokenError::UnknownKey("abc".into()),
        TokenError::InvalidSignature,
        TokenError::Expired { exp: 1, now: 2 },
        TokenError::NotYetValid { nbf: 3, now: 2 },
        TokenError::InvalidAudience("aud".into()),
        TokenError::InvalidIssuer("iss".into()),
    ];
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages[2],
        r#"token algorithm "HS256" is not allowed; only RS256 is accepted"#
    );
    assert_eq!(messages[6], "token expired at 1 (now 2)");
    let unique: std::collections::HashSet<&String> = messages.iter().collect();
    assert_eq!(unique.len(), messages.len());
}
