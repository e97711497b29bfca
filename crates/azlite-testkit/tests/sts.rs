//! The token service through HTTPS, in-process: routing by host, token shapes, the verifier
//! behind the admin routes, key rotation and restarts.

use azlite_testkit::TestCloud;
use azlite_token::{AccessTokenClaims, HeaderStyle};
use serde_json::{Value, json};

fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

async fn whoami(cloud: &TestCloud, token: &str) -> (u16, Value) {
    let response = cloud
        .http
        .get(cloud.url("/azlite/admin/whoami"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn admin(cloud: &TestCloud, path: &str, body: Value) -> Value {
    let token = cloud
        .owner_token("https://management.azure.com/.default")
        .await
        .unwrap();
    let response = cloud
        .http
        .post(cloud.url(&format!("/azlite/admin/{path}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn v1_and_v2_endpoints_answer_in_their_own_types() {
    let cloud = TestCloud::start().await.unwrap();
    let info = &cloud.info;
    let v1 = cloud
        .http
        .post(cloud.url(&format!("/{}/oauth2/token", info.tenant_id)))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", info.client_id.as_str()),
            ("client_secret", info.client_secret.as_str()),
            ("resource", "https://management.core.windows.net/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(v1.status(), 200);
    let v1: Value = v1.json().await.unwrap();
    assert!(
        v1["expires_in"].is_string() && v1["expires_on"].is_string(),
        "{v1}"
    );
    assert_eq!(v1["resource"], "https://management.core.windows.net/");
    let claims = claims_of(v1["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://management.core.windows.net/");
    assert_eq!(claims["ver"], "1.0");

    let (status, v2) = cloud
        .token_request(
            "azlite.onmicrosoft.com",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &info.client_id),
                ("client_secret", &info.client_secret),
                ("scope", "https://management.azure.com//.default"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{v2}");
    assert!(v2["expires_in"].is_i64(), "{v2}");
    assert_eq!(
        claims_of(v2["access_token"].as_str().unwrap())["aud"],
        "https://management.azure.com/"
    );
}

#[tokio::test]
async fn requests_are_routed_by_host_name() {
    let cloud = TestCloud::start().await.unwrap();
    let discovery = |host: &'static str| {
        cloud
            .http
            .get(cloud.url(&format!(
                "/{}/v2.0/.well-known/openid-configuration",
                cloud.info.tenant_id
            )))
            .header("host", host)
            .send()
    };
    let answer = discovery("login.microsoftonline.com").await.unwrap();
    assert_eq!(answer.status(), 200);
    let doc: Value = answer.json().await.unwrap();
    assert!(
        doc["token_endpoint"]
            .as_str()
            .unwrap()
            .starts_with("https://login.microsoftonline.com/"),
        "{doc}"
    );

    let answer = discovery("example.com").await.unwrap();
    assert_eq!(answer.status(), 404);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "HostNotFound");
}

#[tokio::test]
async fn the_verifier_refuses_a_token_from_another_issuer_signed_with_the_real_key() {
    let cloud = TestCloud::start().await.unwrap();
    let token = cloud
        .owner_token("https://management.azure.com/.default")
        .await
        .unwrap();
    let mut claims: AccessTokenClaims = serde_json::from_value(claims_of(&token)).unwrap();
    // Only the signing key can make this token: what is left to catch it is the issuer check.
    claims.iss = "https://sts.windows.net/00000000-0000-0000-0000-000000000000/".to_owned();
    let forged = cloud.sts.keys().sign(&claims, HeaderStyle::V1).unwrap();
    let (status, body) = whoami(&cloud, &forged).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("issuer"),
        "{body}"
    );
    // The untouched token still works.
    assert_eq!(whoami(&cloud, &token).await.0, 200);
}

#[tokio::test]
async fn moving_the_clock_expires_tokens() {
    let cloud = TestCloud::start().await.unwrap();
    let token = cloud
        .owner_token("https://management.azure.com/.default")
        .await
        .unwrap();
    assert_eq!(whoami(&cloud, &token).await.0, 200);
    let moved = admin(&cloud, "clock", json!({ "advanceSeconds": 7200 })).await;
    assert_eq!(moved["offsetSeconds"], 7200);
    let (status, body) = whoami(&cloud, &token).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "ExpiredAuthenticationToken");
}

#[tokio::test]
async fn retired_keys_stay_published_until_their_tokens_expire() {
    let cloud = TestCloud::start().await.unwrap();
    let old = cloud
        .owner_token("https://management.azure.com/.default")
        .await
        .unwrap();
    let rotation = admin(&cloud, "keys/rotate", json!({})).await;
    let (old_kid, new_kid) = (
        rotation["retiredKid"].as_str().unwrap(),
        rotation["activeKid"].as_str().unwrap(),
    );
    let kids: Vec<String> = cloud
        .sts
        .keys()
        .jwks()
        .keys
        .iter()
        .map(|k| k.kid.clone())
        .collect();
    assert_eq!(kids, vec![new_kid.to_owned(), old_kid.to_owned()]);
    assert_eq!(
        whoami(&cloud, &old).await.0,
        200,
        "a token signed before the rotation still verifies"
    );

    // 26 hours later every token the old key signed has expired: the next rotation drops it.
    admin(&cloud, "clock", json!({ "advanceSeconds": 26 * 3600 })).await;
    let rotation = admin(&cloud, "keys/rotate", json!({})).await;
    assert_eq!(rotation["removedKids"], json!([old_kid]));
    let kids: Vec<String> = cloud
        .sts
        .keys()
        .jwks()
        .keys
        .iter()
        .map(|k| k.kid.clone())
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(!kids.contains(&old_kid.to_owned()));
}

#[tokio::test]
async fn a_restart_keeps_the_directory_the_keys_and_the_clock() {
    let cloud = TestCloud::start().await.unwrap();
    let before = cloud.info.clone();
    let kid = cloud.sts.keys().active().kid().to_owned();
    admin(&cloud, "clock", json!({ "offsetSeconds": 600 })).await;
    let dir = cloud.stop().await;

    let cloud = TestCloud::start_in(dir).await.unwrap();
    assert_eq!(cloud.info.tenant_id, before.tenant_id);
    assert_eq!(cloud.info.client_id, before.client_id);
    assert_eq!(
        cloud.info.client_secret, before.client_secret,
        "the owner's secret comes back from connection.json"
    );
    assert_eq!(cloud.sts.keys().active().kid(), kid);
    let token = cloud
        .owner_token("https://management.azure.com/.default")
        .await
        .unwrap();
    let (status, me) = whoami(&cloud, &token).await;
    assert_eq!(status, 200);
    assert_eq!(me["kid"], kid.as_str());
    let clock: Value = cloud
        .http
        .get(cloud.url("/azlite/admin/clock"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["offsetSeconds"], 600);
}

#[tokio::test]
async fn a_lost_connection_file_gives_the_owner_a_new_secret() {
    let cloud = TestCloud::start().await.unwrap();
    let old_secret = cloud.info.client_secret.clone();
    let dir = cloud.stop().await;
    std::fs::remove_file(dir.path().join("connection.json")).unwrap();
    let cloud = TestCloud::start_in(dir).await.unwrap();
    assert_ne!(cloud.info.client_secret, old_secret);
    cloud
        .owner_token("https://management.azure.com/.default")
        .await
        .unwrap();
    // The old secret was never revealed again, but it still works: secrets are revoked only
    // when someone asks (Graph, later).
    let (status, _) = cloud
        .token_request(
            &cloud.info.tenant_id,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &cloud.info.client_id),
                ("client_secret", &old_secret),
                ("scope", "https://management.azure.com/.default"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_admin_routes_refuse_other_principals() {
    let cloud = TestCloud::start().await.unwrap();
    let app = admin(
        &cloud,
        "applications",
        json!({ "displayName": "someone", "password": true }),
    )
    .await;
    let (status, body) = cloud
        .token_request(
            &cloud.info.tenant_id,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", app["appId"].as_str().unwrap()),
                ("client_secret", app["password"].as_str().unwrap()),
                ("scope", "https://management.azure.com/.default"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, body) = whoami(&cloud, body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "AuthorizationFailed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(app["appId"].as_str().unwrap())
    );
}
