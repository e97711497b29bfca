//! The forged-token set of the permanent attack suite, shared by `attacks.rs` and
//! `attacks_storage.rs`: [`forged`] makes every forgery of a genuine token, and
//! [`Attack::run`] shows them all to one plane.

use azlite_testkit::TestCloud;
use azlite_token::SigningKey;
use azlite_types::Clock as _;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let header = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
    let claims = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
    (
        serde_json::from_slice(&header).unwrap(),
        serde_json::from_slice(&claims).unwrap(),
    )
}

pub(crate) fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

pub(crate) fn rs256(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = signing_input(header, claims);
    let signature = key.sign_raw(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(&signature))
}

/// The forged variants of the genuine `token`, signed where it matters by `real` (the STS's
/// active key) or `other` (a key of another azlite).
pub(crate) fn forged(
    token: &str,
    tenant: &str,
    real: &SigningKey,
    other: &SigningKey,
    now: i64,
) -> Vec<(&'static str, String)> {
    let (header, claims) = parts(token);
    let signature = token.rsplit('.').next().unwrap();
    let with = |changes: &[(&str, Value)]| {
        let mut c = claims.clone();
        for (name, value) in changes {
            c[*name] = value.clone();
        }
        c
    };
    let mut none_header = header.clone();
    none_header["alg"] = json!("none");
    let mut hs_header = header.clone();
    hs_header["alg"] = json!("HS256");
    let hs_input = signing_input(&hs_header, &claims);
    let hmac_key = aws_lc_rs::hmac::Key::new(
        aws_lc_rs::hmac::HMAC_SHA256,
        real.certificate_pem().as_bytes(),
    );
    let hs_signature = aws_lc_rs::hmac::sign(&hmac_key, hs_input.as_bytes());
    let mut no_kid = header.clone();
    if let Some(h) = no_kid.as_object_mut() {
        h.remove("kid");
        h.remove("x5t");
    }
    let mut unknown_kid = header.clone();
    unknown_kid["kid"] = json!("bm90LWEta2V5LW9mLWF6bGl0ZQ");
    if unknown_kid.get("x5t").is_some() {
        unknown_kid["x5t"] = json!("bm90LWEta2V5LW9mLWF6bGl0ZQ");
    }
    let mut other_header = header.clone();
    other_header["kid"] = json!(other.kid());
    if other_header.get("x5t").is_some() {
        other_header["x5t"] = json!(other.kid());
    }
    let tampered = with(&[("oid", json!(uuid::Uuid::new_v4().to_string()))]);
    // Another tenant wherever ours is named: `tid`, `iss` and `idp` of a token, the `aud`
    // (the tenant's token endpoint) of a client assertion.
    let other_tenant = uuid::Uuid::new_v4().to_string();
    let mut wrong_tenant = claims.clone();
    for value in wrong_tenant.as_object_mut().unwrap().values_mut() {
        if let Some(text) = value.as_str()
            && text.contains(tenant)
        {
            *value = json!(text.replace(tenant, &other_tenant));
        }
    }
    assert_ne!(wrong_tenant, claims, "the token names its tenant somewhere");
    let huge = with(&[("padding", json!("A".repeat(64 * 1024)))]);
    vec![
        (
            "alg none",
            format!("{}.", signing_input(&none_header, &claims)),
        ),
        (
            "alg none, signature kept",
            format!("{}.{signature}", signing_input(&none_header, &claims)),
        ),
        (
            "HS256 keyed with the public key",
            format!("{hs_input}.{}", b64(hs_signature.as_ref())),
        ),
        (
            "tampered payload",
            format!("{}.{signature}", signing_input(&header, &tampered)),
        ),
        (
            "another instance's key",
            rs256(other, &other_header, &claims),
        ),
        (
            "another instance's key under our kid",
            rs256(other, &header, &claims),
        ),
        (
            "wrong audience",
            rs256(
                real,
                &header,
                &with(&[("aud", json!("https://evil.example.com/"))]),
            ),
        ),
        ("wrong tenant", rs256(real, &header, &wrong_tenant)),
        (
            "expired",
            rs256(
                real,
                &header,
                &with(&[
                    ("nbf", json!(now - 7200)),
                    ("iat", json!(now - 7200)),
                    ("exp", json!(now - 3600)),
                ]),
            ),
        ),
        (
            "not yet valid",
            rs256(
                real,
                &header,
                &with(&[
                    ("nbf", json!(now + 3600)),
                    ("iat", json!(now + 3600)),
                    ("exp", json!(now + 7200)),
                ]),
            ),
        ),
        ("no kid", rs256(real, &no_kid, &claims)),
        ("unknown kid", rs256(real, &unknown_kid, &claims)),
        ("truncated", token[..token.len() / 2].to_owned()),
        ("truncated signature", token[..token.len() - 8].to_owned()),
        ("huge", rs256(real, &header, &huge)),
        ("not a JWT", "not-a-jwt".to_owned()),
    ]
}

/// A running azlite, its active signing key, another instance's key, and the time.
pub(crate) struct Attack {
    pub(crate) cloud: TestCloud,
    pub(crate) real: SigningKey,
    pub(crate) other: SigningKey,
    pub(crate) now: i64,
}

impl Attack {
    pub(crate) async fn new() -> Self {
        let cloud = TestCloud::start().await.unwrap();
        let real = cloud.sts.keys().active();
        let now = cloud.sts.clock().now();
        let other = SigningKey::generate("another azlite", now - 60, now + 86_400).unwrap();
        Self {
            cloud,
            real,
            other,
            now,
        }
    }

    /// Sends `genuine` (must pass: `ok`) and every forgery (must get `refused` and one of
    /// `codes` from `code_of`) with `send`, then checks the server still answers `genuine`.
    pub(crate) async fn run<F, Fut>(&self, plane: &str, genuine: &str, send: F, refused: &[u16])
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = (u16, String)>,
    {
        let (status, body) = send(genuine.to_owned()).await;
        assert!(
            status < 300,
            "{plane}: the genuine token must pass, got {status} {body}"
        );
        for (name, token) in forged(
            genuine,
            &self.cloud.info.tenant_id,
            &self.real,
            &self.other,
            self.now,
        ) {
            let (status, body) = send(token).await;
            assert!(
                refused.contains(&status),
                "{plane}: '{name}' got {status}: {body}"
            );
            assert!(
                !body.contains("\"value\":[{"),
                "{plane}: '{name}' leaked data: {body}"
            );
        }
        let (status, body) = send(genuine.to_owned()).await;
        assert!(
            status < 300,
            "{plane}: still up after the attacks: {status} {body}"
        );
    }
}
