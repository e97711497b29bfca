//! The permanent attack suite (issue 10): every plane that takes a bearer token is shown the
//! full set of forged tokens and must answer with its own rejection, never with data, and
//! stay up. The set: `alg: none`, HS256 keyed with the public key, a tampered payload under
//! the original signature, another instance's key (under its own `kid` and under ours), the
//! wrong audience, the wrong tenant, expired, not yet valid, no `kid`, an unknown `kid`, a
//! truncated token and a huge one. Each plane's table also holds the genuine token, which must
//! pass, so a plane that refused everything would fail here too.

#[path = "support/forge.rs"]
mod forge;

use std::collections::BTreeMap;

use azlite_store::{Resource, ResourceGroup, WriteBatch};
use azlite_token::SigningKey;
use forge::{Attack, forged, parts, rs256};
use serde_json::{Value, json};

async fn get(http: &reqwest::Client, url: &str, token: &str) -> (u16, String) {
    match http.get(url).bearer_auth(token).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    }
}

/// Presents the forged-token set, built from the owner's token for `audience`, on a GET of
/// `path` of the IP listener, and expects one of `refused` for each.
async fn get_refuses_every_forged_token(plane: &str, audience: &str, path: &str, refused: &[u16]) {
    let a = Attack::new().await;
    let token = a.cloud.owner_v1_token(audience).await.unwrap();
    let url = a.cloud.url(path);
    let http = a.cloud.http.clone();
    a.run(
        plane,
        &token,
        |t| {
            let (http, url) = (http.clone(), url.clone());
            async move { get(&http, &url, &t).await }
        },
        refused,
    )
    .await;
}

// 431: the huge token is refused by the HTTP layer before the plane, which is a refusal too.

#[tokio::test]
async fn arm_refuses_every_forged_token() {
    get_refuses_every_forged_token(
        "ARM",
        "https://management.azure.com/",
        "/subscriptions?api-version=2022-12-01",
        &[401, 431],
    )
    .await;
}

#[tokio::test]
async fn graph_refuses_every_forged_token() {
    get_refuses_every_forged_token(
        "Graph",
        "https://graph.microsoft.com",
        "/v1.0/applications",
        &[401, 431],
    )
    .await;
}

#[tokio::test]
async fn admin_routes_refuse_every_forged_token() {
    get_refuses_every_forged_token(
        "admin",
        "https://management.azure.com/",
        "/azlite/admin/whoami",
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
