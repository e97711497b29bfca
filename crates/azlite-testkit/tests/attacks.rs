//! The permanent attack suite (issue 10): every plane that takes a bearer token is shown the
//! full set of forged tokens and must answer with its own rejection, never with data, and
//! stay up. The set: `alg: none`, HS256 keyed with the public key, a tampered payload under
//! the original signature, another instance's key (under its own `kid` and under ours), the
//! wrong audience, the wrong tenant, expired, not yet valid, no `kid`, an unknown `kid`, a
//! truncated token and a huge one. Each plane's table also holds the genuine token, which must
//! pass, so a plane that refused everything would fail here too.

use std::collections::BTreeMap;

use azlite_store::{Resource, ResourceGroup, WriteBatch};
use azlite_testkit::TestCloud;
use azlite_token::SigningKey;
use azlite_types::Clock as _;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let header = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
    let claims = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
    (
        serde_json::from_slice(&header).unwrap(),
        serde_json::from_slice(&claims).unwrap(),
    )
}

fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

fn rs256(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = signing_input(header, claims);
    let signature = key.sign_raw(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(&signature))
}

/// The forged variants of the genuine `token`, signed where it matters by `real` (the STS's
/// active key) or `other` (a key of another azlite).
fn forged(
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

struct Attack {
    cloud: TestCloud,
    real: SigningKey,
    other: SigningKey,
    now: i64,
}

impl Attack {
    async fn new() -> Self {
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
    async fn run<F, Fut>(&self, plane: &str, genuine: &str, send: F, refused: &[u16])
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

async fn get(http: &reqwest::Client, url: &str, token: &str) -> (u16, String) {
    match http.get(url).bearer_auth(token).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    }
}

#[tokio::test]
async fn arm_refuses_every_forged_token() {
    let a = Attack::new().await;
    let token = a
        .cloud
        .owner_v1_token("https://management.azure.com/")
        .await
        .unwrap();
    let url = a.cloud.url("/subscriptions?api-version=2022-12-01");
    let http = a.cloud.http.clone();
    // 431: the huge token is refused by the HTTP layer before ARM, which is a refusal too.
    a.run(
        "ARM",
        &token,
        |t| {
            let (http, url) = (http.clone(), url.clone());
            async move { get(&http, &url, &t).await }
        },
        &[401, 431],
    )
    .await;
}

#[tokio::test]
async fn graph_refuses_every_forged_token() {
    let a = Attack::new().await;
    let token = a
        .cloud
        .owner_v1_token("https://graph.microsoft.com")
        .await
        .unwrap();
    let url = a.cloud.url("/v1.0/applications");
    let http = a.cloud.http.clone();
    a.run(
        "Graph",
        &token,
        |t| {
            let (http, url) = (http.clone(), url.clone());
            async move { get(&http, &url, &t).await }
        },
        &[401, 431],
    )
    .await;
}

#[tokio::test]
async fn admin_routes_refuse_every_forged_token() {
    let a = Attack::new().await;
    let token = a
        .cloud
        .owner_v1_token("https://management.azure.com/")
        .await
        .unwrap();
    let url = a.cloud.url("/azlite/admin/whoami");
    let http = a.cloud.http.clone();
    a.run(
        "admin",
        &token,
        |t| {
            let (http, url) = (http.clone(), url.clone());
            async move { get(&http, &url, &t).await }
        },
        &[401, 403, 431],
    )
    .await;
}

#[tokio::test]
async fn key_vault_refuses_every_forged_token() {
    let a = Attack::new().await;
    let cloud = &a.cloud;
    let token = cloud
        .owner_v1_token("https://vault.azure.net")
        .await
        .unwrap();
    let (_, claims) = parts(&token);
    let owner = claims["oid"].as_str().unwrap().to_owned();
    let subscription = cloud.info.subscription_id.parse().unwrap();
    let id = format!(
        "/subscriptions/{}/resourceGroups/kv-rg/providers/Microsoft.KeyVault/vaults/kvattack",
        cloud.info.subscription_id
    );
    let properties = json!({
        "tenantId": cloud.info.tenant_id,
        "vaultUri": "https://kvattack.vault.azure.net/",
        "sku": {"family": "A", "name": "standard"},
        "accessPolicies": [{
            "tenantId": cloud.info.tenant_id,
            "objectId": owner,
            "permissions": {"keys": [], "secrets": ["list", "get"], "certificates": [], "storage": []},
        }],
    });
    cloud
        .store
        .apply(WriteBatch {
            resource_groups: vec![ResourceGroup {
                subscription_id: subscription,
                name: "kv-rg".into(),
                location: "eastus".into(),
                tags: BTreeMap::new(),
                managed_by: None,
                created_at: 0,
                updated_at: 0,
            }],
            resources: vec![Resource {
                id: id.parse().unwrap(),
                subscription_id: subscription,
                resource_group: "kv-rg".into(),
                resource_type: "Microsoft.KeyVault/vaults".into(),
                name: "kvattack".into(),
                location: "eastus".into(),
                tags: BTreeMap::new(),
                body: json!({ "properties": properties }),
                created_at: 0,
                updated_at: 0,
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let ca = std::fs::read(&cloud.info.ca_certificate).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .no_proxy()
        .resolve("kvattack.vault.azure.net", cloud.addr)
        .build()
        .unwrap();
    let url = format!(
        "https://kvattack.vault.azure.net:{}/secrets?api-version=7.4",
        cloud.addr.port()
    );
    a.run(
        "Key Vault",
        &token,
        |t| {
            let (http, url) = (http.clone(), url.clone());
            async move { get(&http, &url, &t).await }
        },
        &[401, 403, 431],
    )
    .await;
}

/// The STS takes client assertions, not bearer tokens: the same forgeries, made of an
/// assertion signed by an app's registered certificate, must each get an OAuth error.
#[tokio::test]
async fn the_sts_refuses_every_forged_client_assertion() {
    let a = Attack::new().await;
    let cloud = &a.cloud;
    let certificate = SigningKey::generate("attacked app", a.now - 60, a.now + 86_400).unwrap();
    let owner = cloud.owner_arm_token().await;
    let app: Value = cloud
        .http
        .post(cloud.url("/azlite/admin/applications"))
        .bearer_auth(&owner)
        .json(
            &json!({ "displayName": "attacked", "certificates": [certificate.certificate_pem()] }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let app_id = app["appId"].as_str().unwrap().to_owned();
    let tenant = cloud.info.tenant_id.clone();
    let endpoint = cloud.url(&format!("/{tenant}/oauth2/v2.0/token"));
    let assertion = || {
        let header = json!({"alg": "RS256", "typ": "JWT", "x5t": certificate.kid(), "kid": certificate.kid()});
        let claims = json!({
            "aud": endpoint, "iss": app_id, "sub": app_id, "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": a.now, "iat": a.now, "exp": a.now + 600,
        });
        rs256(&certificate, &header, &claims)
    };
    let present = |assertion: String| {
        let form = [
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", app_id.clone()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion", assertion),
            ("scope", "https://management.azure.com/.default".to_owned()),
        ];
        let http = cloud.http.clone();
        let url = endpoint.clone();
        async move {
            let response = http.post(url).form(&form).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
    };
    let (status, body) = present(assertion()).await;
    assert_eq!(status, 200, "{body}");
    // `real` here is the app's certificate: the forgeries that must fail on the claims are
    // signed with it. `other` is a key the app never registered.
    for (name, forged) in forged(&assertion(), &tenant, &certificate, &a.other, a.now) {
        let (status, body) = present(forged).await;
        assert!(
            [400, 401, 431].contains(&status),
            "STS: '{name}' got {status}: {body}"
        );
        assert!(
            !body.contains("access_token"),
            "STS: '{name}' got a token: {body}"
        );
    }
    let (status, body) = present(assertion()).await;
    assert_eq!(status, 200, "still up: {body}");
}
